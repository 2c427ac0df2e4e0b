"""An experiment's results page as data: its stored results, training summary, baselines, advice.

Pure functions over the store and the artifacts of a completed experiment (no widgets, no Dask): the
results panel and the PDF report both read them (the report through `analysis.results_info`). This
module holds the training summary and gathers the public names of the modules the results are split
into (`result_bundle`, `class_metrics`, `baselines`), so that callers import from one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bearing_workbench.analysis.baselines import (
    ACCURACY_READY,
    CLASSICAL_FAMILY,
    ENSEMBLE_FAMILY,
    LEVELS,
    MAX_COMPLEMENT_CANDIDATES,
    Baseline,
    Complement,
    Recommendation,
    baseline_scope,
    baselines,
    complementary_model,
    recommendations,
    split_key,
)
from bearing_workbench.analysis.class_metrics import (
    RECALL_READY,
    cell_records,
    confusion_matrix,
    per_class_rows,
    roc_curves,
)
from bearing_workbench.analysis.format import finite
from bearing_workbench.analysis.result_bundle import RESOURCE_EVENT, ResultBundle, load_results
from bearing_workbench.analysis.run_info import best_label, monitor_of
from bearing_workbench.models.registry import UnknownFamilyError, get_family

__all__ = [
    "ACCURACY_READY",
    "CLASSICAL_FAMILY",
    "ENSEMBLE_FAMILY",
    "LEVELS",
    "MAX_COMPLEMENT_CANDIDATES",
    "RECALL_READY",
    "RESOURCE_EVENT",
    "Baseline",
    "Complement",
    "Recommendation",
    "ResultBundle",
    "baseline_scope",
    "baselines",
    "cell_records",
    "complementary_model",
    "confusion_matrix",
    "gpu_utilisation",
    "load_results",
    "per_class_rows",
    "recommendations",
    "roc_curves",
    "split_key",
    "training_summary",
]


# -- training summary --------------------------------------------------------------------------------


def _epoch_based(bundle: ResultBundle) -> bool:
    try:
        return get_family(bundle.record.family).epoch_based
    except UnknownFamilyError:
        return bool(bundle.history)  # a family no longer registered: judge by what it left


def gpu_utilisation(samples: Sequence[Mapping[str, Any]]) -> float | None:
    """Mean GPU utilisation (percent) over resource samples and their GPUs; None when none was read."""
    values = [
        float(gpu["utilization_percent"])
        for sample in samples
        for gpu in sample.get("gpus") or []
        if isinstance(gpu, Mapping) and finite(gpu.get("utilization_percent")) is not None
    ]
    return float(np.mean(values)) if values else None


def training_summary(bundle: ResultBundle) -> dict[str, Any]:
    """How the training went: epochs, early stop, best epoch, final losses, times, GPU utilisation.

    Keys: family, epoch_based, epochs_run, epochs_planned, stopped_early, best_epoch, best_by (what chose
    the best epoch: the config's training.monitor, in words), final_train_loss, final_val_loss,
    final_train_acc, final_val_acc, seconds_per_epoch (mean), total_seconds, val_accuracy,
    gpu_utilisation (percent, None unless resource samples were stored). Values that do not apply to
    the family (epochs for classical models and ensembles) are None.

    total_seconds is the time the run spent running over all its attempts, pauses excluded (the store's
    `duration_s`): after a resume, the training's own clock (``train_seconds``) only counts the resumed
    part. ``train_seconds`` is the fallback for a row without a duration.
    """
    metrics, record = bundle.metrics, bundle.record
    total = finite(record.duration_s)
    summary: dict[str, Any] = {
        "family": record.family,
        "epoch_based": _epoch_based(bundle),
        "epochs_run": None,
        "epochs_planned": None,
        "stopped_early": None,
        "best_epoch": None,
        "best_by": None,
        "final_train_loss": None,
        "final_val_loss": None,
        "final_train_acc": None,
        "final_val_acc": None,
        "seconds_per_epoch": None,
        "total_seconds": total if total is not None else finite(metrics.get("train_seconds")),
        "val_accuracy": finite(metrics.get("val_accuracy")),
        "gpu_utilisation": gpu_utilisation(bundle.resource_samples),
    }
    if not summary["epoch_based"]:
        return summary
    history = bundle.history
    epochs_run = metrics.get("epochs_run")
    summary["epochs_run"] = epochs_run if isinstance(epochs_run, int) else len(history)
    planned = (bundle.config.get("training") or {}).get("epochs")
    summary["epochs_planned"] = planned if isinstance(planned, int) else None
    stopped = metrics.get("stopped_early")
    summary["stopped_early"] = bool(stopped) if stopped is not None else None
    best = metrics.get("best_epoch")
    summary["best_epoch"] = best if isinstance(best, int) else None
    summary["best_by"] = best_label(monitor_of(bundle.config))
    if history:
        last = history[-1]
        for key in ("train_loss", "val_loss", "train_acc", "val_acc"):
            summary[f"final_{key}"] = finite(last.get(key))
        seconds = [s for s in (finite(row.get("seconds")) for row in history) if s is not None]
        summary["seconds_per_epoch"] = float(np.mean(seconds)) if seconds else None
    return summary
