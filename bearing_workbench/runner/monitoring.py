"""The tail of a run's ``training.log`` for a live view, read incrementally (the file's format and
reader are `runner.logs`'). The rest of a live view's state is `analysis.run_state`."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from bearing_workbench.runner.logs import tail_log
from bearing_workbench.store.artifacts import ExperimentFolder


@dataclass
class LogTail:
    """The last `max_lines` lines of a run's ``training.log``, read incrementally by `read`."""

    path: Path
    max_lines: int = 500
    lines: deque[str] = field(init=False)
    offset: int | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.lines = deque(maxlen=self.max_lines)

    @classmethod
    def of_experiment(cls, experiment_id: int, workspace: str | Path, max_lines: int = 500) -> LogTail:
        """The tail of experiment `experiment_id`'s log (the file may not exist yet)."""
        return cls(ExperimentFolder.of(experiment_id, workspace).log, max_lines)

    def read(self) -> bool:
        """Read what was written since the last call; True when there are new lines."""
        new, self.offset = tail_log(self.path, n_lines=self.max_lines, offset=self.offset)
        self.lines.extend(new)
        return bool(new)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)
