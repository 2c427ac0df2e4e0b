"""One experiment's stored parts as the model-specific views read them (`StoredRun`), and what a view
is (`ModelSection`); a part that is missing raises `MissingArtifact`, which a view turns into a note."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bearing_workbench.analysis.history import history_rows
from bearing_workbench.store import ExperimentRecord, Store
from bearing_workbench.store.artifacts import ExperimentFolder
from bearing_workbench.training.artifacts import read_json

SectionKind = Literal["filters", "filters2d", "attention", "curves", "bars", "matrices", "note"]


@dataclass(frozen=True)
class ModelSection:
    """One model-specific view.

    Args:
        kind: what `data` holds and how to draw it:
            ``filters``: ``weights`` (n, taps), ``spectra`` (n, bins) magnitudes at
            ``frequencies_hz``, ``peak_hz`` (n,), ``fs``, ``layer`` (state-dict key);
            ``filters2d``: ``weights`` (n, rows, columns), ``layer``;
            ``attention``: per layer ``layers`` (tokens, tokens) maps (token 0 = class token, rows
            are queries), ``received`` (patches,) mean attention each patch receives,
            ``cls_attention`` (patches,) the class token's row, ``patch_bounds`` (patches, 2)
            sample ranges, ``signal`` (the window), ``fs``, ``record_id``, ``predicted``;
            ``curves``: ``x`` (epochs), ``x_label``, ``y_label``, ``series`` name -> values (NaN
            where missing);
            ``bars``: ``labels``, ``values``, ``value_label``, optional ``highlight`` (indices);
            ``matrices``: ``labels``, ``matrices`` name -> (n, n) arrays (NaN where undefined),
            optional ``error_rate``;
            ``note``: nothing (the note says why).
        note: one or two sentences for the reader: what is shown, or what is missing.
    """

    title: str
    kind: SectionKind
    data: dict[str, Any] = field(default_factory=dict)
    note: str = ""


class MissingArtifact(LookupError):
    """A section's source is not there (or not readable); the message says which file and why."""


class StoredRun:
    """One experiment's stored parts, each read on first use and kept."""

    def __init__(self, store: Store, record: ExperimentRecord, record_id: str | None):
        self.store = store
        self.record = record
        self.record_id = record_id
        self.folder = ExperimentFolder.of(record.id, store.workspace)
        self.out_dir = self.folder.path

    def where(self, name: str | Path) -> str:
        return self.folder.where(name)

    @functools.cached_property
    def checkpoint(self) -> tuple[Path, dict[str, Any]]:
        from bearing_workbench.training.checkpoint import latest_checkpoint, load_checkpoint
        from bearing_workbench.training.errors import CheckpointError

        path = self.folder.best_checkpoint
        if not path.is_file():
            try:
                path = latest_checkpoint(self.folder)  # a run still going has epoch files first
            except CheckpointError as exc:
                raise MissingArtifact(exc.message) from None
            if path is None:
                raise MissingArtifact(
                    f"no checkpoint: {self.where(self.folder.best_checkpoint)} does not exist "
                    "(the run kept no model weights)"
                )
        try:
            return path, load_checkpoint(path)
        except CheckpointError as exc:
            raise MissingArtifact(exc.message) from None

    @property
    def state_dict(self) -> dict[str, Any]:
        state = self.checkpoint[1].get("model")
        if not isinstance(state, dict):
            raise MissingArtifact(f"{self.where(self.checkpoint[0].name)} holds no model weights")
        return state

    def checkpoint_label(self) -> str:
        path, state = self.checkpoint
        epoch = (state.get("progress") or {}).get("epoch")
        return f"{path.name} (epoch {epoch})" if epoch else path.name

    @functools.cached_property
    def summary(self) -> dict[str, Any]:
        path = self.folder.model_summary
        if not path.is_file():
            raise MissingArtifact(f"no model summary: {self.where(path.name)} does not exist")
        try:
            summary = read_json(path)
        except (OSError, ValueError) as exc:
            raise MissingArtifact(f"{self.where(path.name)} cannot be read ({exc})") from None
        if not isinstance(summary, dict):
            raise MissingArtifact(f"{self.where(path.name)} does not hold a JSON object")
        return summary

    @functools.cached_property
    def history(self) -> list[dict[str, Any]]:
        """Epoch rows from the store (there during a run), else from history.json."""
        rows = history_rows(self.store.epochs(self.record.id))
        if rows:
            return rows
        path = self.folder.history
        if path.is_file():
            try:
                return history_rows(read_json(path))
            except (OSError, ValueError, TypeError) as exc:
                raise MissingArtifact(f"{self.where(path.name)} cannot be read ({exc})") from None
        return []


def summary_value(run: StoredRun, key: str, what: str) -> Any:
    value = run.summary.get(key)
    if value is None:
        raise MissingArtifact(
            f"{run.where(run.folder.model_summary)} has no {key!r} ({what}); the run may predate this view"
        )
    return value
