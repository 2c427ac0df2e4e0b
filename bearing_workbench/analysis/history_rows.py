"""`HistoryRow`: one experiment as the history page lists it, built from its store record (no widgets).

The column keys are the store's CSV column names (`store.exports.EXPERIMENT_COLUMNS` or
``metrics.<key>``), so that the visible columns are what a CSV export holds; the texts come from
`analysis.format`, so an accuracy or a macro-F1 reads the same here as on the results page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bearing_workbench.analysis import format as fmt
from bearing_workbench.analysis.run_texts import is_lost, shown_status
from bearing_workbench.models.registry import UnknownFamilyError, get_family
from bearing_workbench.store import ExperimentRecord, RunAction, allowed_actions

NOTES_SHOWN = 80
# (key, label, descending on the first click)
HISTORY_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("id", "#", True),
    ("name", "name", False),
    ("family", "model", False),
    ("status", "status", False),
    ("metrics.accuracy", fmt.metric_name("accuracy"), True),
    ("metrics.macro_f1", "test " + fmt.metric_name("macro_f1"), True),
    ("metrics.epochs_run", "epochs", True),
    ("duration_s", "run time", True),
    ("created_at", "created (UTC)", True),
    ("campaign_id", "campaign", False),
    ("tags", "tags", False),
    ("notes", "notes", False),
)


@dataclass(frozen=True)
class HistoryRow:
    """One experiment of the history table: its values, and `cells`, the text of each column.

    Args:
        status: as shown (`run_texts.shown_status`): ``"lost"`` for a failed run marked lost.
        epochs: epochs run; None for a family not trained in epochs (it has none, not zero).
        error, hint: why a failed (or lost) run ended and what to do about it.
        retryable: a retry may start a new attempt (failed, lost or stopped).
    """

    id: int
    name: str
    family: str
    status: str
    accuracy: float | None
    macro_f1: float | None
    epochs: int | None
    duration_s: float | None
    created_at: datetime
    campaign_id: int | None
    tags: tuple[str, ...]
    notes: str
    error: str | None = None
    hint: str | None = None
    retryable: bool = False

    @property
    def status_note(self) -> str:
        """The reason and the hint of a failed or lost run ("" otherwise), for the status cell's tooltip."""
        return " \u2014 ".join(text for text in (self.error, self.hint) if text)

    @property
    def cells(self) -> dict[str, str]:
        """The display text of each column (`HISTORY_COLUMNS` keys); long notes are cut with an ellipsis."""
        notes = self.notes if len(self.notes) <= NOTES_SHOWN else self.notes[: NOTES_SHOWN - 1] + "\u2026"
        return {
            "id": str(self.id),
            "name": self.name,
            "family": self.family,
            "status": self.status,
            "metrics.accuracy": fmt.percent(self.accuracy),
            "metrics.macro_f1": fmt.percent(self.macro_f1),
            "metrics.epochs_run": fmt.NO_VALUE if self.epochs is None else str(self.epochs),
            "duration_s": fmt.duration(self.duration_s),
            "created_at": f"{self.created_at:%Y-%m-%d %H:%M}",
            "campaign_id": fmt.NO_VALUE if self.campaign_id is None else f"#{self.campaign_id}",
            "tags": ", ".join(self.tags),
            "notes": notes,
        }


def history_row(record: ExperimentRecord) -> HistoryRow:
    """The `HistoryRow` of a store record."""
    metrics = record.metrics or {}
    epochs = metrics.get("epochs_run")
    try:
        epoch_based = get_family(record.family).epoch_based
    except UnknownFamilyError:
        epoch_based = True  # a family of another version: show what it stored
    counted = isinstance(epochs, int) and not isinstance(epochs, bool) and epochs > 0
    return HistoryRow(
        id=record.id,
        name=record.name,
        family=record.family,
        status=shown_status(record.status, is_lost(record.status, record.error)),
        accuracy=fmt.finite(metrics.get("accuracy")),
        macro_f1=fmt.finite(metrics.get("macro_f1")),
        epochs=epochs if epoch_based and counted else None,
        duration_s=fmt.finite(record.duration_s),
        created_at=record.created_at,
        campaign_id=record.campaign_id,
        tags=tuple(record.tags),
        notes=record.notes or "",
        error=record.error,
        hint=record.hint,
        retryable=RunAction.RETRY in allowed_actions(record.status),
    )
