"""One experiment end to end: its store rows, training, evaluation on the test split, artifacts, status.

The same function serves the CLI (in-process) and, later, the Dask runner (on a worker, with its
own progress and control callbacks added).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bearing_workbench.config import ExperimentConfig
from bearing_workbench.data.dataset_file import DatasetFileError, read_info
from bearing_workbench.data.lookup import DatasetRef, resolve_dataset_path
from bearing_workbench.models.registry import get_family
from bearing_workbench.models.validation import (
    ValidatedExperiment,
    ensure_validated,
    facts_for,
    model_params,
)
from bearing_workbench.store import Store
from bearing_workbench.store.artifacts import ExperimentFolder
from bearing_workbench.training.artifacts import write_artifacts, write_json
from bearing_workbench.training.callbacks import Callback, EpochMetrics, FitContext
from bearing_workbench.training.errors import TrainingDataError, TrainingError
from bearing_workbench.training.evaluate import evaluate_split, predict_windows
from bearing_workbench.training.loop import FitResult, fit
from bearing_workbench.training.stored_model import load_loaders

log = logging.getLogger(__name__)

# Metrics copied from metrics.json into the experiments table (what history pages sort and filter by).
SUMMARY_KEYS = ("accuracy", "macro_precision", "macro_recall", "macro_f1", "log_loss", "window_accuracy")


class StoreRecorder(Callback):
    """Writes each epoch and the run's notable events (checkpoints, best model, early stop) to the store."""

    def __init__(self, store: Store, experiment_id: int):
        self.store = store
        self.experiment_id = experiment_id
        # Where a stopped fit ended: (epochs done, batches done, its text), for the "stopped" event.
        self.stopped_at: tuple[int, int, str] | None = None

    def on_epoch_end(self, ctx: FitContext, metrics: EpochMetrics) -> None:
        row = metrics.as_dict()
        epoch = row.pop("epoch")
        extra = row.pop("extra", {}) or {}
        self.store.add_epoch(self.experiment_id, epoch, **row, **extra)

    def on_checkpoint(self, ctx: FitContext, path: Path, is_best: bool) -> None:
        # The checkpoint's own progress (epochs done, batches of the next): a stop mid-epoch 11 saves
        # "during epoch 11" with 10 done, which is where a resume continues (`where_in_training`).
        epochs_done, batches_done = ctx.position
        payload = {"epoch": epochs_done, "batch": batches_done, "path": path.name}
        if is_best:
            self.store.add_event(
                self.experiment_id, "best_model", f"new best model at epoch {epochs_done}", payload
            )
        else:
            self.store.add_event(self.experiment_id, "checkpoint", f"checkpoint saved {ctx.where()}", payload)

    def on_progress(self, ctx: FitContext, fraction: float, message: str) -> None:
        if message:
            self.store.add_event(self.experiment_id, "progress", message, {"fraction": float(fraction)})

    def on_fit_end(self, ctx: FitContext, result: FitResult) -> None:
        if result.stop_requested:
            self.stopped_at = (*ctx.position, ctx.where())
        if result.stopped_early and not result.stop_requested:
            self.store.add_event(
                self.experiment_id,
                "early_stopping",
                f"early stopping: {result.stop_reason}",
                {"best_epoch": result.best_epoch},
            )


@dataclass(frozen=True)
class ExperimentOutcome:
    """What `train_experiment` did: the experiment id, its final status and its metrics."""

    experiment_id: int
    status: str
    metrics: dict[str, Any]
    out_dir: Path


def create_experiment(
    store: Store,
    config: ValidatedExperiment | ExperimentConfig | Mapping[str, Any],
    *,
    parent_id: int | None = None,
    campaign_id: int | None = None,
    tags: Sequence[str] = (),
) -> int:
    """Record a validated experiment as pending; returns its id.

    A config that has not been through `validate_experiment` is validated here first (this is then
    where it enters); nothing is recorded when it is refused.
    """
    checked = ensure_validated(config, store)
    config = checked.config
    name = config.name or f"{config.model.family}-{time.strftime('%Y%m%d-%H%M%S')}"
    return store.create_experiment(
        name,
        config.model.family,
        config.model_dump(mode="json"),
        dataset_id=checked.dataset.dataset_id,  # None: a dataset given by path keeps its path
        parent_id=parent_id,
        campaign_id=campaign_id,
        tags=tags,
    )


def stored_experiment(store: Store, record: Any) -> ValidatedExperiment:
    """The validated experiment a stored row holds, read back typed (it was validated when recorded).

    The dataset is the row's registered dataset (by id); a row without one (a dataset given by path,
    or a row written straight to the store) names its dataset in the config.
    """
    config = ExperimentConfig.model_validate(record.config)
    try:
        if record.dataset_id is not None:
            path = Path(store.get_dataset(record.dataset_id).path).expanduser()
            path = path if path.is_absolute() else Path(store.workspace) / path
        else:
            path = resolve_dataset_path(config.data.dataset, store)
        dataset = DatasetRef(config.data.dataset, path, record.dataset_id, read_info(path))
        facts = facts_for(dataset, config.data.split)
    except (DatasetFileError, LookupError, OSError, ValueError) as exc:
        message = str(exc) if str(exc).startswith("data.") else f"data.dataset: {exc}"
        raise TrainingDataError(message, hint="the dataset file moved or changed") from None
    return ValidatedExperiment(config, model_params(config), dataset, facts)


def _predict(result: FitResult, split, batch_size: int, device: Any) -> np.ndarray:
    if hasattr(result.model, "predict_proba"):
        return result.model.predict_proba(split)
    return predict_windows(result.model, split, batch_size=batch_size, device=device or "cpu")


def _model_summary(result: FitResult) -> dict[str, Any] | None:
    summary = getattr(result.model, "summary", None)
    return summary() if callable(summary) else None


def train_experiment(
    store: Store,
    experiment_id: int,
    *,
    callbacks: Sequence[Callback] = (),
    device: Any = None,
    resume_from: str | Path | None = None,
    already_running: bool = False,
) -> ExperimentOutcome:
    """Train, evaluate and store experiment `experiment_id` (pending, or failed/stopped to resume).

    Status goes running -> completed, or failed with the error and its hint, or stopped when a
    callback asked to stop (its last checkpoint allows a resume).

    Args:
        already_running: the caller has put the experiment in ``running`` itself (the runner does,
            and a task retried after its worker died finds it so): no start transition here.
    """
    record = store.get_experiment(experiment_id)
    folder = ExperimentFolder.of(experiment_id, store.workspace).create()
    out_dir = folder.path
    if already_running:
        if record.status != "running":
            raise ValueError(f"experiment {experiment_id} is {record.status}, not running")
    else:
        if record.status in ("failed", "stopped"):
            store.transition(experiment_id, "retry")
        store.transition(experiment_id, "start")
    start = time.perf_counter()
    try:
        checked = stored_experiment(store, record)
        config = checked.config
        recorder = StoreRecorder(store, experiment_id)
        result = fit(
            checked,
            callbacks=[recorder, *callbacks],
            out_dir=out_dir,
            store=store,
            device=device,
            resume_from=resume_from,
        )
        if result.stop_requested:
            store.transition(experiment_id, "stop")
            message = result.stop_reason or "stopped on request"
            payload: dict[str, Any] = {
                "checkpoint": result.last_checkpoint.name if result.last_checkpoint else None
            }
            if recorder.stopped_at is not None:  # the same words as last.pt's checkpoint event
                epochs_done, batches_done, where = recorder.stopped_at
                message = f"{message} {where}"
                payload |= {"epoch": epochs_done, "batch": batches_done}
            store.add_event(experiment_id, "stopped", message, payload)
            return ExperimentOutcome(experiment_id, "stopped", {}, out_dir)
        metrics = _evaluate_and_write(config, result, folder, device, time.perf_counter() - start)
    except TrainingError as exc:
        store.transition(experiment_id, "fail", error=exc.message, hint=exc.hint)
        store.add_event(experiment_id, "failed", exc.message, {"hint": exc.hint})
        raise
    except Exception as exc:
        log.exception("experiment %s failed", experiment_id)
        store.transition(
            experiment_id,
            "fail",
            error=f"{type(exc).__name__}: {exc}",
            hint=f"see {folder.log} and the traceback; the config may need a change",
        )
        store.add_event(experiment_id, "failed", f"{type(exc).__name__}: {exc}")
        raise
    store.set_metrics(
        experiment_id,
        {k: metrics[k] for k in SUMMARY_KEYS if metrics.get(k) is not None}
        | {
            k: metrics[k]
            for k in ("best_epoch", "epochs_run", "train_seconds", "val_accuracy")
            if metrics.get(k) is not None
        },
    )
    store.transition(experiment_id, "complete")
    store.add_event(
        experiment_id,
        "completed",
        f"completed: test accuracy {metrics['accuracy']:.4f}",
        {"accuracy": metrics["accuracy"], "macro_f1": metrics.get("macro_f1")},
    )
    return ExperimentOutcome(experiment_id, "completed", metrics, out_dir)


def _evaluate_and_write(
    config: ExperimentConfig, result: FitResult, folder: ExperimentFolder, device: Any, seconds: float
) -> dict[str, Any]:
    batch = max(config.training.batch_size, 64)
    test_probs = _predict(result, result.test, batch, device)
    metrics, test_predictions = evaluate_split(test_probs, result.test)
    val_predictions = None
    if len(result.val):
        val_metrics, val_predictions = evaluate_split(_predict(result, result.val, batch, device), result.val)
        metrics["val_accuracy"] = val_metrics["accuracy"]
    metrics["best_epoch"] = result.best_epoch
    metrics["epochs_run"] = len(result.history)
    metrics["train_seconds"] = seconds
    metrics["stopped_early"] = result.stopped_early
    load_loaders()  # registers the savers of the families that write their own model files
    family = get_family(config.model.family)
    if family.epoch_based and config.training.export_onnx:
        from bearing_workbench.training.onnx_export import OnnxExportError, export_onnx

        example = result.test.batch(np.arange(min(8, len(result.test))))
        try:
            metrics["onnx"] = export_onnx(result.model, result.spec, folder.onnx, example, family=family.name)
        except OnnxExportError as exc:
            # A model that trained fine is not lost for want of an ONNX file: say so in the metrics.
            metrics["onnx"] = {"verified": False, "error": str(exc)}
    if family.saver is not None:  # model files beyond the loop's checkpoints (classical, ensemble)
        metrics.update(family.saver(result, folder, config))
    write_artifacts(
        folder,
        config=config,
        history=[m.as_dict() for m in result.history],
        metrics=metrics,
        test_predictions=test_predictions,
        val_predictions=val_predictions,
        class_names=result.spec.class_names,
        model_summary=_model_summary(result),
    )
    write_json(folder.input_spec, result.spec.model_dump(mode="json"))
    return metrics
