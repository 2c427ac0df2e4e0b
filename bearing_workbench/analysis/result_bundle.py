"""Everything stored about one completed experiment's results, read once (`load_results`).

Pure reads of the store and the experiment's artifacts (no widgets, no Dask): the results page, the
report and the notices build on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bearing_workbench.analysis.format import finite
from bearing_workbench.analysis.history import history_rows
from bearing_workbench.store import ExperimentRecord, RunStatus, Store
from bearing_workbench.store.artifacts import ExperimentFolder
from bearing_workbench.training.artifacts import Predictions, read_json, read_predictions

RESOURCE_EVENT = "resources"


@dataclass(frozen=True)
class ResultBundle:
    """Everything stored about one completed experiment's results.

    Args:
        record: the store's row; metrics: metrics.json; history: one flat row per epoch (empty for
            families not trained in epochs); predictions: the test predictions (None without the CSV);
        config: the experiment config (as stored); model_summary: model_summary.json (None without it);
        folder: the experiment's artifact folder; resource_samples: resource samples stored as events
            (kind ``resources``), oldest first.
    """

    record: ExperimentRecord
    metrics: dict[str, Any]
    history: list[dict[str, Any]]
    predictions: Predictions | None
    config: dict[str, Any]
    model_summary: dict[str, Any] | None
    folder: Path
    resource_samples: tuple[dict[str, Any], ...] = field(default=())

    @property
    def accuracy(self) -> float | None:
        """Test accuracy (metrics.json)."""
        return finite(self.metrics.get("accuracy"))

    @property
    def class_names(self) -> list[str]:
        """The classes, in the order of the confusion matrix rows."""
        return [str(c) for c in self.metrics.get("class_names") or []]


def _label(record: ExperimentRecord) -> str:
    return f"experiment {record.id} ({record.name!r})"


def load_results(store: Store, experiment_id: int) -> ResultBundle:
    """The stored results of a completed experiment.

    Raises:
        NotFoundError: no experiment has this id.
        ValueError: it is not completed (its status is named), or metrics.json is missing or broken;
            the message names the experiment and the file.
    """
    record = store.get_experiment(experiment_id)
    if record.status != RunStatus.COMPLETED:
        status = RunStatus(record.status).value
        raise ValueError(f"{_label(record)} is {status}, not completed: results exist once it has completed")
    experiment_folder = ExperimentFolder.of(record.id, store.workspace)
    folder = experiment_folder.path
    metrics_file = experiment_folder.metrics
    if not metrics_file.is_file():
        raise ValueError(f"{_label(record)}: {metrics_file.name} is missing from {folder}")
    try:
        metrics = read_json(metrics_file)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{_label(record)}: {metrics_file.name} cannot be read ({exc})") from None
    if not isinstance(metrics, dict):
        raise ValueError(
            f"{_label(record)}: {metrics_file.name} must hold an object, got {type(metrics).__name__}"
        )
    history = history_rows(store.epochs(record.id))
    history_file = experiment_folder.history
    if not history and history_file.is_file():
        try:
            stored = read_json(history_file)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"{_label(record)}: {history_file.name} cannot be read ({exc})") from None
        if not isinstance(stored, list):
            raise ValueError(f"{_label(record)}: {history_file.name} must hold a list of epochs")
        history = history_rows(stored)
    predictions_file = experiment_folder.predictions_test
    predictions = read_predictions(predictions_file) if predictions_file.is_file() else None
    summary_file = experiment_folder.model_summary
    model_summary = None
    if summary_file.is_file():
        try:
            model_summary = read_json(summary_file)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"{_label(record)}: {summary_file.name} cannot be read ({exc})") from None
    samples = tuple(
        dict(e.payload) for e in store.events(record.id) if e.kind == RESOURCE_EVENT and e.payload
    )
    return ResultBundle(
        record=record,
        metrics=metrics,
        history=history,
        predictions=predictions,
        config=dict(record.config),
        model_summary=model_summary if isinstance(model_summary, dict) else None,
        folder=folder,
        resource_samples=samples,
    )


