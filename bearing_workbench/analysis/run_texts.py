"""The texts a live-run view shows, and the stored results of a run: no widgets, no Dask.

Metric cards with their trends, the header, resource lines, the epoch axis of the curves, the result
cards' values of a family not trained in epochs (read from its stored metrics and model summary) and
the headline results of an ended run. Numbers are written by `analysis.format`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bearing_workbench.analysis.format import (
    NO_VALUE,
    duration,
    finite,
    local_time,
    metric_name,
    metric_value,
    percent,
    size,
)
from bearing_workbench.models import UnknownFamilyError, get_family
from bearing_workbench.store import ExperimentRecord, RunStatus
from bearing_workbench.store.artifacts import ExperimentFolder

UP, DOWN, SAME = "up", "down", "same"
TOTAL_TIME_LABEL = "total training time (every attempt, pauses excluded)"
MAX_SUMMARY_BYTES = 4 * 2**20  # a model summary is a few KiB; a bigger file is not read


# A failed run whose worker or scheduler stopped answering: the store keeps it ``failed`` with a reason
# that starts "lost:" (`store.status.lost_reason`); the pages show it apart, in its own colour.
LOST = "lost"
LOST_PREFIX = "lost:"


def is_lost(status: object, error: str | None) -> bool:
    """True for a run marked lost: failed, with the reason `store.status.lost_reason` wrote."""
    return str(getattr(status, "value", status)) == RunStatus.FAILED and (error or "").startswith(LOST_PREFIX)


def shown_status(status: object, lost: bool = False) -> str:
    """The status a page shows: ``"lost"`` for a failed run marked lost, else the run's status."""
    text = str(getattr(status, "value", status))
    return LOST if lost and text == RunStatus.FAILED else text


def lost_words(error: str) -> str:
    """A lost run's reason without its "lost:" mark, for a page that already says lost (a badge, a title)."""
    return error[len(LOST_PREFIX) :].strip() if error.startswith(LOST_PREFIX) else error


def trend(current: float | None, previous: float | None) -> str | None:
    """`UP`, `DOWN` or `SAME` from the previous value to the current one; None when one is missing."""
    current, previous = finite(current), finite(previous)
    if current is None or previous is None:
        return None
    if math.isclose(current, previous, rel_tol=1e-9, abs_tol=1e-12):
        return SAME
    return UP if current > previous else DOWN


@dataclass(frozen=True)
class MetricCard:
    """One metric of the latest epoch, its text and how it moved since the previous epoch."""

    key: str
    label: str
    value: float | None
    text: str
    trend: str | None = None  # UP / DOWN / SAME vs the previous epoch; None without a previous one
    improved: bool | None = None  # the move is good news (a loss down, an accuracy up)
    note: str = ""


def header(record: ExperimentRecord, now: datetime | None = None) -> dict[str, str]:
    """Name, family, id, when it started and for how long it has run (pauses excluded)."""
    now = now or datetime.now(UTC)
    return {
        "name": record.name,
        "family": record.family,
        "id": str(record.id),
        "started": local_time(record.started_at, with_date=True) if record.started_at else "not yet",
        "elapsed": duration(record.elapsed_s(now)),
    }


def epochs_done_text(done: int, total: int) -> str:
    """``"1/3 epochs done"`` (``"1 epoch done"`` when the total is not known): how a view counts the
    epochs between epochs, paused or ended (an epoch in progress is ``"epoch 2/3, batch 5/40"``)."""
    if total:
        return f"{done}/{total} epochs done"
    return f"{done} epoch{'' if done == 1 else 's'} done"


def resource_lines(sample: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(label, text) lines of a resource sample (`runner.resources`): GPUs or "no GPU", CPU, RAM, disk."""
    if not sample:
        return [("resources", "no sample yet: they are sampled every 2 s while the run trains")]
    lines: list[tuple[str, str]] = []
    gpus = sample.get("gpus") or []
    for gpu in gpus:
        used, total = gpu.get("memory_used"), gpu.get("memory_total")
        util = finite(gpu.get("utilization_percent"))
        parts = [f"{util:.0f} % busy" if util is not None else "utilisation n/a"]
        if used is not None and total:
            parts.append(f"memory {size(used)} / {size(total)}")
        name = f" ({gpu['name']})" if gpu.get("name") else ""
        lines.append((f"GPU {gpu.get('index', '?')}{name}", ", ".join(parts)))
    if not gpus:
        lines.append(("GPU", str(sample.get("gpu_status") or "no GPU")))
    cpu = finite(sample.get("cpu_percent"))
    cores = sample.get("cpu_count")
    lines.append(
        ("CPU", (f"{cpu:.0f} %" if cpu is not None else NO_VALUE) + (f" of {cores} cores" if cores else ""))
    )
    ram_pct = finite(sample.get("ram_percent"))
    ram = f"{size(sample.get('ram_used'))} / {size(sample.get('ram_total'))}"
    lines.append(("RAM", ram + (f" ({ram_pct:.0f} %)" if ram_pct is not None else "")))
    read, write = sample.get("disk_read_bytes_per_s"), sample.get("disk_write_bytes_per_s")
    if read is None and write is None:
        lines.append(("disk I/O", "not available here"))
    else:
        lines.append(("disk I/O", f"read {size(read)}/s, write {size(write)}/s"))
    if sample.get("process_rss") is not None:
        where = f" on {sample['hostname']}" if sample.get("hostname") else ""
        lines.append(("training process", f"{size(sample['process_rss'])}{where}"))
    if finite(sample.get("time")) is not None:  # a finished run's last sample stays: say how old it is
        lines.append(("sampled at", local_time(sample["time"])))
    return lines


# -- the family's kind and its stored results -------------------------------------------------------


def trains_by_epoch(family: str) -> bool:
    """True when `family` is trained by the epoch loop (epochs, curves); a family not registered in this
    version is assumed to be, so that whatever epochs it stores are shown."""
    try:
        return bool(get_family(family).epoch_based)
    except UnknownFamilyError:
        return True


def model_summary(experiment_id: int, workspace: str | Path) -> dict[str, Any]:
    """The run's ``model_summary.json`` (what a classical or ensemble model learned); {} when absent,
    unreadable or not a JSON object."""
    path = ExperimentFolder.of(experiment_id, workspace).model_summary
    try:
        if path.stat().st_size > MAX_SUMMARY_BYTES:
            return {}
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return summary if isinstance(summary, dict) else {}


def cross_validation(summary: Mapping[str, Any]) -> dict[str, float | None]:
    """Cross-validation accuracy in a model summary: the classical family's k folds on the training
    split (mean, std, folds), or an ensemble's stacking meta-learner's on the validation split."""
    mean = finite(summary.get("cv_accuracy_mean"))
    if mean is not None:
        return {
            "cv_accuracy": mean,
            "cv_accuracy_std": finite(summary.get("cv_accuracy_std")),
            "cv_folds": finite(summary.get("cv_folds")),
        }
    stacking = finite(summary.get("stacking_cv_val_accuracy"))
    return {"cv_accuracy": stacking} if stacking is not None else {}


def stored_results(record: ExperimentRecord, workspace: str | Path) -> dict[str, float | None]:
    """The result cards' values of an ended run: test accuracy, macro-F1 and validation accuracy from the
    stored metrics, cross-validation accuracy from its model summary (None where not reported)."""
    metrics = record.metrics or {}
    results = {key: finite(metrics.get(key)) for key in ("accuracy", "macro_f1", "val_accuracy")}
    results["cv_accuracy"] = None
    return results | cross_validation(model_summary(record.id, workspace))


@dataclass(frozen=True)
class ResultsSummary:
    """The headline results of a run as stored, and where its metrics file is."""

    lines: list[tuple[str, str]]
    metrics_path: Path
    has_metrics_file: bool


def results_summary(record: ExperimentRecord, workspace: str | Path) -> ResultsSummary:
    """(label, text) lines of the stored metrics (test accuracy, macro-F1, ...) and the metrics.json path."""
    metrics = record.metrics or {}
    lines = [
        (label, metric_value(key, metrics.get(key)))
        for key, label in (
            ("accuracy", metric_name("accuracy")),
            ("macro_f1", "test " + metric_name("macro_f1")),
            ("val_accuracy", metric_name("val_accuracy")),
        )
        if metrics.get(key) is not None
    ]
    cv = cross_validation(model_summary(record.id, workspace))
    if cv:
        std, folds = cv.get("cv_accuracy_std"), cv.get("cv_folds")
        detail = f" ± {percent(std)}" if std is not None else ""
        detail += f" ({int(folds)} folds)" if folds else ""
        lines.append(("cross-validation accuracy", metric_value("cv_accuracy", cv["cv_accuracy"]) + detail))
    if metrics.get("best_epoch") is not None:
        lines.append(("best epoch", f"{metrics['best_epoch']} of {metrics.get('epochs_run', NO_VALUE)} run"))
    # The store's run time counts every attempt; train_seconds only the last (a resumed run's rest).
    total = finite(record.duration_s)
    total = total if total is not None else finite(metrics.get("train_seconds"))
    if total is not None:
        lines.append((TOTAL_TIME_LABEL, duration(total)))
    path = ExperimentFolder.of(record.id, workspace).metrics
    if not lines:
        lines.append(
            ("results", "no test metrics stored" + (f" ({record.status} run)" if record.status else ""))
        )
    return ResultsSummary(lines, path, path.is_file())


def epoch_axis(total_epochs: int, last_epoch: int = 0) -> tuple[list[float], int] | None:
    """(x range, tick step) showing the whole planned run in whole epochs (about ten ticks); None when
    the number of epochs is not known (a non-epoch family)."""
    last = max(int(total_epochs or 0), int(last_epoch or 0))
    if last < 1:
        return None
    step = max(1, math.ceil(last / 10))
    for nice in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if nice >= step:
            step = nice
            break
    return [0.5, last + 0.5], step
