"""The immutable snapshot of a live run (`RunInfo`, built by `analysis.run_state.RunState.info`) and the
one definition of a run's best epoch.

The best epoch is the epoch the training loop keeps as the best model, chosen by the config's
``training.monitor`` (``val_loss`` by default, lowest wins; ``val_accuracy``, highest wins; the first
epoch wins ties; the training counterpart when no epoch has a validation value). The monitor, the
results page and the report all name it the same way (`best_label`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bearing_workbench.analysis.format import finite, metric_name
from bearing_workbench.analysis.run_texts import MetricCard

# training.monitor -> (the epoch row's key, lower is better, the training counterpart without a val split)
MONITORS = {
    "val_loss": ("val_loss", True, "train_loss"),
    "val_accuracy": ("val_acc", False, "train_acc"),
}
DEFAULT_MONITOR = "val_loss"  # config.schema.TrainingConfig.monitor's default


def best_epoch(history: Sequence[Mapping[str, Any]], monitor: str = DEFAULT_MONITOR) -> int | None:
    """The epoch the training loop keeps as its best model: by `monitor` (a ``training.monitor``
    value), on the validation split or, when no epoch has a validation value, its training counterpart;
    the first epoch wins ties; None without a value."""
    so_far = best_epochs(history, monitor)
    return so_far[-1] if so_far else None


def best_epochs(history: Sequence[Mapping[str, Any]], monitor: str = DEFAULT_MONITOR) -> list[int | None]:
    """The best epoch (as `best_epoch` defines it) up to each row of `history`, in one pass."""
    if monitor not in MONITORS:
        raise ValueError(f"training.monitor must be one of {', '.join(MONITORS)}, got {monitor!r}")
    key, lower, fallback = MONITORS[monitor]
    if not any(finite(row.get(key)) is not None for row in history):
        key = fallback
    best: tuple[float, int] | None = None
    out: list[int | None] = []
    for row in history:
        value, epoch = finite(row.get(key)), row.get("epoch")
        if value is not None and isinstance(epoch, int):
            if best is None or (value < best[0] if lower else value > best[0]):
                best = (value, epoch)
        out.append(None if best is None else best[1])
    return out


def best_label(monitor: str) -> str:
    """How the best epoch was chosen, for people: ``"best by val loss"``."""
    key = MONITORS.get(monitor, MONITORS[DEFAULT_MONITOR])[0]
    return f"best by {metric_name(key, with_level=False)}"


def monitor_of(config: Mapping[str, Any] | None) -> str:
    """The ``training.monitor`` of a stored config (its default when absent or unknown)."""
    monitor = ((config or {}).get("training") or {}).get("monitor")
    return monitor if monitor in MONITORS else DEFAULT_MONITOR


@dataclass(frozen=True)
class RunInfo:
    """One run as a live view shows it at one moment (see `RunState.info`); `progress_text` in the one
    epoch convention (`RunState.progress_text`); `curves` has one tuple per key (``epoch`` and the card
    metrics); `events` the latest events, oldest first; `batch_loss` the loss of the batch in progress
    (None between epochs and once the run has ended); `lost` once the run was marked lost (its worker or
    scheduler stopped answering; `error` and `hint` say where and what to do); `connection_note` while
    the scheduler is unreachable (``"scheduler unreachable since 14:02; the run will be marked lost at
    14:03"``)."""

    experiment_id: int
    status: str
    finished: bool
    epoch_based: bool
    progress: float
    progress_text: str
    eta_text: str
    epoch: int
    total_epochs: int
    best_epoch: int | None
    best_label: str
    cards: tuple[MetricCard, ...]
    curves: Mapping[str, tuple[Any, ...]]
    events: tuple[Mapping[str, Any], ...]
    resources: Mapping[str, Any] | None
    error: str | None
    hint: str | None
    batch_loss: float | None = None
    lost: bool = False
    connection_note: str | None = None

    @property
    def text(self) -> str:
        """Every card as ``"name: value"`` lines (for logs, notebooks without widgets, tests)."""
        return "\n".join(f"{c.label}: {c.text}" + (f" ({c.note})" if c.note else "") for c in self.cards)
