"""What a live view of a run shows, folded from its progress messages: no widgets, no Dask.

`RunState.apply(message)` takes the messages `follow` delivers (their shapes are in
`runner.progress`) one at a time and says which parts of a view changed (`PARTS`), so that a panel
redraws only those and can coalesce many messages into one redraw. The texts a monitor shows
(durations, sizes, metric cards with their trends, resource lines, the header, the stored results)
and an incremental reader of the run's log file are here too, testable without a browser.

Families not trained by the epoch loop (classical, ensemble: `trains_by_epoch` is False) have no
epochs: their progress is a fraction and a phase message (``"cross-validation fold 2/3"``, live as
``batch`` messages without an epoch, replayed as ``progress`` events), and their cards are results
(cross-validation, validation and test accuracy, macro-F1) that exist once the run has completed.
"""

from __future__ import annotations

import json
import math
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bearing_workbench.models import UnknownFamilyError, get_family
from bearing_workbench.runner.logs import tail_log
from bearing_workbench.runner.progress import best_of
from bearing_workbench.store import ExperimentRecord, RunStatus, is_terminal
from bearing_workbench.store.artifacts import ExperimentFolder

# What `RunState.apply` reports as changed (RESULTS: the result cards of a run not trained in epochs).
STATUS, PROGRESS, HISTORY, EVENTS, RESOURCES, ERROR, RESULTS = (
    "status",
    "progress",
    "history",
    "events",
    "resources",
    "error",
    "results",
)
PARTS = frozenset({STATUS, PROGRESS, HISTORY, EVENTS, RESOURCES, ERROR, RESULTS})

EPOCH_KEYS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")
# (key, label, lower is better)
CARD_METRICS = (
    ("train_loss", "train loss", True),
    ("train_acc", "train accuracy", False),
    ("val_loss", "val loss", True),
    ("val_acc", "val accuracy", False),
)
# The cards of a run not trained in epochs: (key, label, the split it is measured on)
RESULT_CARDS = (
    ("cv_accuracy", "CV accuracy", "training split"),
    ("val_accuracy", "val accuracy", "validation split"),
    ("accuracy", "test accuracy", "test split"),
    ("macro_f1", "test macro-F1", "test split"),
)
UP, DOWN, SAME = "up", "down", "same"
NO_VALUE = "—"
MAX_SUMMARY_BYTES = 4 * 2**20  # a model summary is a few KiB; a bigger file is not read
# A phase message that counts ("cross-validation fold 2/3", "features: 12/15 windows")
_COUNTED = re.compile(r"\b\d+\s*/\s*\d+\b")
_STATUSES = frozenset(s.value for s in RunStatus)


# -- texts ------------------------------------------------------------------------------------------


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def format_duration(seconds: float | None) -> str:
    """``"8.4 s"``, ``"42 s"``, ``"3 min 05 s"``, ``"2 h 07 min"``; a dash for None."""
    seconds = _finite(seconds)
    if seconds is None:
        return NO_VALUE
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    whole = int(round(seconds))
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def format_bytes(n: float | None) -> str:
    """Binary units: ``"512 B"``, ``"3.2 MiB"``, ``"23.5 GiB"``; a dash for None."""
    n = _finite(n)
    if n is None:
        return NO_VALUE
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def format_metric(key: str, value: float | None) -> str:
    """Accuracies as percentages, F1 scores with 3 decimals, losses with 4 significant digits."""
    value = _finite(value)
    if value is None:
        return NO_VALUE
    if key.endswith("f1"):
        return f"{value:.3f}"
    return f"{100 * value:.1f} %" if key.endswith("acc") or key.endswith("accuracy") else f"{value:.4g}"


def local_time(timestamp: float | datetime | None, with_date: bool = False) -> str:
    """A Unix time or an aware datetime in this machine's time zone: ``"14:03:27"`` (or with the date)."""
    if timestamp is None:
        return NO_VALUE
    moment = timestamp if isinstance(timestamp, datetime) else datetime.fromtimestamp(float(timestamp), UTC)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def trend(current: float | None, previous: float | None) -> str | None:
    """`UP`, `DOWN` or `SAME` from the previous value to the current one; None when one is missing."""
    current, previous = _finite(current), _finite(previous)
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
        "elapsed": format_duration(record.elapsed_s(now)),
    }


def resource_lines(sample: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(label, text) lines of a resource sample (`runner.resources`): GPUs or "no GPU", CPU, RAM, disk."""
    if not sample:
        return [("resources", "no sample yet: they are sampled every 2 s while the run trains")]
    lines: list[tuple[str, str]] = []
    gpus = sample.get("gpus") or []
    for gpu in gpus:
        used, total = gpu.get("memory_used"), gpu.get("memory_total")
        util = _finite(gpu.get("utilization_percent"))
        parts = [f"{util:.0f} % busy" if util is not None else "utilisation n/a"]
        if used is not None and total:
            parts.append(f"memory {format_bytes(used)} / {format_bytes(total)}")
        name = f" ({gpu['name']})" if gpu.get("name") else ""
        lines.append((f"GPU {gpu.get('index', '?')}{name}", ", ".join(parts)))
    if not gpus:
        lines.append(("GPU", str(sample.get("gpu_status") or "no GPU")))
    cpu = _finite(sample.get("cpu_percent"))
    cores = sample.get("cpu_count")
    lines.append(
        ("CPU", (f"{cpu:.0f} %" if cpu is not None else NO_VALUE) + (f" of {cores} cores" if cores else ""))
    )
    ram_pct = _finite(sample.get("ram_percent"))
    ram = f"{format_bytes(sample.get('ram_used'))} / {format_bytes(sample.get('ram_total'))}"
    lines.append(("RAM", ram + (f" ({ram_pct:.0f} %)" if ram_pct is not None else "")))
    read, write = sample.get("disk_read_bytes_per_s"), sample.get("disk_write_bytes_per_s")
    if read is None and write is None:
        lines.append(("disk I/O", "not available here"))
    else:
        lines.append(("disk I/O", f"read {format_bytes(read)}/s, write {format_bytes(write)}/s"))
    if sample.get("process_rss") is not None:
        where = f" on {sample['hostname']}" if sample.get("hostname") else ""
        lines.append(("training process", f"{format_bytes(sample['process_rss'])}{where}"))
    if _finite(sample.get("time")) is not None:  # a finished run's last sample stays: say how old it is
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
    mean = _finite(summary.get("cv_accuracy_mean"))
    if mean is not None:
        return {
            "cv_accuracy": mean,
            "cv_accuracy_std": _finite(summary.get("cv_accuracy_std")),
            "cv_folds": _finite(summary.get("cv_folds")),
        }
    stacking = _finite(summary.get("stacking_cv_val_accuracy"))
    return {"cv_accuracy": stacking} if stacking is not None else {}


def stored_results(record: ExperimentRecord, workspace: str | Path) -> dict[str, float | None]:
    """The result cards' values of an ended run: test accuracy, macro-F1 and validation accuracy from the
    stored metrics, cross-validation accuracy from its model summary (None where not reported)."""
    metrics = record.metrics or {}
    results = {key: _finite(metrics.get(key)) for key in ("accuracy", "macro_f1", "val_accuracy")}
    results["cv_accuracy"] = None
    return results | cross_validation(model_summary(record.id, workspace))


# -- the run's state --------------------------------------------------------------------------------


class RunState:
    """One run as a monitor sees it, updated by `apply` with each progress message.

    Attributes:
        status: the run's status (an ``event`` message is authoritative; other messages cannot take a
            run out of a final status, since a late live message may follow the replayed end).
        progress: 0-1; epoch: epochs finished; total_epochs; current_epoch, batch, steps_per_epoch: the
            batch in progress; batch_loss: its loss; eta_s: seconds left (None when not known).
        history: one dict per finished epoch (`EPOCH_KEYS` plus ``extra``), in epoch order;
            history_version: bumped whenever a row was replaced or inserted before the last one
            (a plot must be rebuilt, not appended to).
        events: the latest `max_events` events (dicts: time, kind, message, status, event_id).
        resources: the latest resource sample; error, hint: why a run failed.
        messages: messages applied.
        epoch_based: False for a family not trained in epochs (see the module docstring): then
            total_epochs stays 0, progress_message is the latest phase, and results holds the result
            cards' values (`RESULT_CARDS` keys; results_final once `set_results` took the stored ones).
    """

    def __init__(
        self,
        experiment_id: int,
        total_epochs: int = 0,
        status: str = "pending",
        max_events: int = 10,
        epoch_based: bool = True,
    ):
        if isinstance(max_events, bool) or not isinstance(max_events, int) or max_events < 1:
            raise ValueError(f"max_events must be a positive integer, got {max_events!r}")
        self.experiment_id = int(experiment_id)
        self.epoch_based = bool(epoch_based)
        # The config of a non-epoch family still has training.epochs (a default): it means nothing here.
        self.total_epochs = int(total_epochs or 0) if self.epoch_based else 0
        self.status = str(status)
        self.progress = 1.0 if self.status == RunStatus.COMPLETED else 0.0
        self.epoch = 0
        self.current_epoch: int | None = None
        self.batch: int | None = None
        self.steps_per_epoch: int | None = None
        self.batch_loss: float | None = None
        self.progress_message = ""
        self.counted_message = ""  # the latest phase message with a count ("cross-validation fold 3/3")
        self.phase_message = ""  # the latest one sent before the fit's end (fraction below 1)
        self.results: dict[str, float | None] = {}
        self.results_final = False
        self.eta_s: float | None = None
        self.best_val_acc: float | None = None
        self.best_epoch: int | None = None
        self.history: list[dict[str, Any]] = []
        self.history_version = 0
        self.events: deque[dict[str, Any]] = deque(maxlen=max_events)
        self.resources: dict[str, Any] | None = None
        self.error: str | None = None
        self.hint: str | None = None
        self.messages = 0
        self.last_time: float | None = None

    # -- applying messages ------------------------------------------------------------------------

    def apply(self, message: Mapping[str, Any]) -> frozenset[str]:
        """Fold one message in; returns the parts of the view it changed (a subset of `PARTS`)."""
        if not isinstance(message, Mapping):
            raise TypeError(f"a progress message must be a dict, got {type(message).__name__}")
        kind = message.get("kind")
        handlers = {
            "event": self._event,
            "epoch": self._epoch,
            "batch": self._batch,
            "resources": self._resources,
        }
        handler = handlers.get(kind)  # type: ignore[arg-type]
        if handler is None:
            return frozenset()  # a kind this monitor does not know (a newer runner): nothing to show
        self.messages += 1
        self.last_time = _finite(message.get("time")) or self.last_time
        changed = handler(message)
        changed |= self._status(message.get("status"), authoritative=kind == "event")
        return frozenset(changed)

    def _status(self, status: Any, authoritative: bool) -> set[str]:
        if not isinstance(status, str) or status not in _STATUSES or status == self.status:
            return set()
        if not authoritative and is_terminal(self.status):
            return set()
        was_terminal = is_terminal(self.status)
        self.status = status
        changed = {STATUS, PROGRESS}
        if status == RunStatus.COMPLETED:
            self.progress = 1.0
        if is_terminal(status):
            self.eta_s = None
            self.batch = self.current_epoch = None
        elif was_terminal:  # retried: a new attempt starts
            if self.error or self.hint:
                changed.add(ERROR)
            self.error = self.hint = None
            if not self.epoch_based:  # a fit without epochs has no checkpoint: it starts over
                self.progress = 0.0
                self.progress_message = self.counted_message = self.phase_message = ""
                self.results, self.results_final = {}, False
                changed.add(RESULTS)
        return changed

    def _event(self, message: Mapping[str, Any]) -> set[str]:
        payload = message.get("payload") or {}
        kind = str(message.get("event_kind") or "event")
        self.events.append(
            {
                "time": _finite(message.get("time")),
                "kind": kind,
                "message": str(message.get("message") or ""),
                "status": message.get("status"),
                "event_id": message.get("event_id"),
            }
        )
        changed = {EVENTS}
        if kind == "failed":
            self.error = str(message.get("message") or "") or self.error
            self.hint = payload.get("hint") or self.hint
            changed.add(ERROR)
        elif kind == "status" and payload.get("to") == RunStatus.FAILED and payload.get("error"):
            self.error = self.error or str(payload["error"])
            changed.add(ERROR)
        elif not self.epoch_based and kind == "progress":  # the store's copy of a phase message
            changed |= self._fit_progress(_finite(payload.get("fraction")), str(message.get("message") or ""))
        elif not self.epoch_based and kind == "completed" and not self.results_final:
            for key in ("accuracy", "macro_f1"):  # the rest comes with the stored results
                if _finite(payload.get(key)) is not None:
                    self.results[key] = _finite(payload.get(key))
                    changed.add(RESULTS)
        return changed

    def _fit_progress(self, fraction: float | None, message: str) -> set[str]:
        """A phase of a fit without epochs: how far it is (0-1) and what it does."""
        if self.finished:
            return set()  # sent before the end, delivered after it
        if fraction is not None:
            self.progress = fraction
        if message:
            self.progress_message = message
            if _COUNTED.search(message):
                self.counted_message = message
            if fraction is None or fraction < 1.0:
                self.phase_message = message
        return {PROGRESS}

    def _epoch(self, message: Mapping[str, Any]) -> set[str]:
        epoch = message.get("epoch")
        if isinstance(epoch, bool) or not isinstance(epoch, int):
            return set()
        row: dict[str, Any] = {key: message.get(key) for key in EPOCH_KEYS}
        row["extra"] = dict(message.get("extra") or {})
        last = self.history[-1]["epoch"] if self.history else None
        if last is None or epoch > last:
            self.history.append(row)
        else:  # a repeated epoch (a retried worker) or one out of order: keep epoch order
            self.history = sorted(
                [r for r in self.history if r["epoch"] != epoch] + [row], key=lambda r: r["epoch"]
            )
            self.history_version += 1
        self.epoch = self.history[-1]["epoch"]
        self.total_epochs = int(message.get("total_epochs") or self.total_epochs)
        progress = _finite(message.get("progress"))
        if progress is not None:
            self.progress = progress
        elif self.total_epochs:
            self.progress = min(1.0, self.epoch / self.total_epochs)
        self.eta_s = _finite(message.get("eta_s"))
        self.best_val_acc, self.best_epoch = best_of([(r["epoch"], r["val_acc"]) for r in self.history])
        self.current_epoch = self.batch = None
        return {HISTORY, PROGRESS}

    def _batch(self, message: Mapping[str, Any]) -> set[str]:
        epoch = message.get("epoch")
        if self.finished:
            return set()  # sent before the end, delivered after it: the run is no longer there
        if not self.epoch_based:
            self.eta_s = _finite(message.get("eta_s"))
            return self._fit_progress(_finite(message.get("progress")), str(message.get("message") or ""))
        if isinstance(epoch, int) and not isinstance(epoch, bool) and epoch <= self.epoch:
            return set()  # a batch of an epoch already finished: late, nothing new
        progress = _finite(message.get("progress"))
        if progress is not None:
            self.progress = progress
        self.current_epoch = epoch if isinstance(epoch, int) else None
        self.batch = message.get("batch")
        self.steps_per_epoch = message.get("steps_per_epoch") or self.steps_per_epoch
        self.total_epochs = int(message.get("total_epochs") or self.total_epochs)
        self.batch_loss = _finite(message.get("train_loss"))
        self.eta_s = _finite(message.get("eta_s"))
        if self.current_epoch is None:  # a non-epoch family's progress line ("fold 2/5")
            self.progress_message = str(message.get("message") or "")
        return {PROGRESS}

    def _resources(self, message: Mapping[str, Any]) -> set[str]:
        self.resources = {k: v for k, v in message.items() if k not in ("kind", "status", "source")}
        return {RESOURCES}

    def settle(self, status: str) -> frozenset[str]:
        """Take the stored status (the store has the last word, e.g. when an event is missing)."""
        return frozenset(self._status(str(status), authoritative=True))

    def set_results(self, results: Mapping[str, float | None]) -> bool:
        """Take the stored results of an ended run (`stored_results`; the store has the last word);
        True if the cards change."""
        values = {str(k): _finite(v) for k, v in results.items()}
        if self.results_final and values == self.results:
            return False
        self.results, self.results_final = values, True
        return True

    def set_outcome(self, error: str | None, hint: str | None) -> bool:
        """Take the stored error and hint of a failed run (the store has the last word); True if changed."""
        if (error, hint) == (self.error, self.hint) or (error is None and hint is None):
            return False
        self.error, self.hint = error or self.error, hint or self.hint
        return True

    # -- what to show ------------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """True once the run has ended (completed, failed or stopped)."""
        return is_terminal(self.status)

    def curves(self) -> dict[str, list[Any]]:
        """Epoch numbers and each card metric, one list per key, for plotting."""
        return {
            key: [row.get(key) for row in self.history] for key in ("epoch", *(k for k, _, _ in CARD_METRICS))
        }

    def progress_text(self) -> str:
        """``"epoch 3/10"``, ``"epoch 4/10, batch 12/40"``, or a non-epoch family's phase and percentage
        (``"cross-validation fold 2/3 (61 %)"``; once completed, its last counted phase)."""
        if not self.epoch_based:
            return self._fit_text()
        total = self.total_epochs or NO_VALUE
        if self.current_epoch is not None and self.batch is not None:
            steps = f"/{self.steps_per_epoch}" if self.steps_per_epoch else ""
            return f"epoch {self.current_epoch}/{total}, batch {int(self.batch) + 1}{steps}"
        if self.epoch or self.total_epochs:
            return f"epoch {self.epoch}/{total}"
        return self.progress_message or f"{100 * self.progress:.0f} %"

    def _fit_text(self) -> str:
        if self.status == RunStatus.COMPLETED:
            # "done" would repeat the ETA slot: say what the fit went through instead.
            return self.counted_message or self.phase_message or "fitted"
        percent = f"{100 * self.progress:.0f} %"
        return f"{self.progress_message} ({percent})" if self.progress_message else percent

    def eta_text(self) -> str:
        """What the ETA slot shows for the run's status."""
        if self.status == RunStatus.PENDING:
            return "waiting for a worker"
        if self.status == RunStatus.PAUSED:
            return "paused"
        if self.status == RunStatus.COMPLETED:
            return "done"
        if self.finished:
            return self.status
        return f"ETA {format_duration(self.eta_s)}" if self.eta_s is not None else "ETA —"

    def cards(self) -> list[MetricCard]:
        """The four metrics of the latest epoch with their trend, then the best validation accuracy; for a
        family not trained in epochs, its result cards (`result_cards`)."""
        if not self.epoch_based:
            return self.result_cards()
        latest = self.history[-1] if self.history else {}
        previous = self.history[-2] if len(self.history) > 1 else {}
        cards = []
        for key, label, lower_is_better in CARD_METRICS:
            move = trend(latest.get(key), previous.get(key))
            improved = None if move in (None, SAME) else (move == DOWN) == lower_is_better
            cards.append(
                MetricCard(
                    key, label, _finite(latest.get(key)), format_metric(key, latest.get(key)), move, improved
                )
            )
        note = f"@ epoch {self.best_epoch}" if self.best_epoch is not None else ""
        cards.append(
            MetricCard(
                "best_val_acc",
                "best val accuracy",
                self.best_val_acc,
                format_metric("val_acc", self.best_val_acc),
                note=note,
            )
        )
        return cards

    def result_cards(self) -> list[MetricCard]:
        """Cross-validation, validation and test accuracy and test macro-F1: dashes until the run has
        completed; then only those the run reported (no CV for soft voting, no val without a val split)."""
        cards = []
        for key, label, split in RESULT_CARDS:
            value = _finite(self.results.get(key))
            if value is None and self.results_final:
                continue
            if value is None:
                note = "when the run completes" if not self.finished else f"none: the run {self.status}"
            elif key == "cv_accuracy" and self.results.get("cv_folds"):
                std = _finite(self.results.get("cv_accuracy_std"))
                spread = f"± {100 * std:.1f} % · " if std is not None else ""
                note = f"{spread}{int(self.results['cv_folds'])} folds"
            else:
                note = split
            cards.append(MetricCard(key, label, value, format_metric(key, value), note=note))
        if not cards:  # a completed run that stored no metrics at all
            cards.append(MetricCard("accuracy", "test accuracy", None, NO_VALUE, note="not stored"))
        return cards

    def latest_metrics(self) -> dict[str, float | None]:
        """The latest epoch's numbers (empty before the first epoch); a non-epoch family's results."""
        if not self.epoch_based:
            return {key: value for key, value in self.results.items() if value is not None}
        if not self.history:
            return {}
        latest = self.history[-1]
        return {key: _finite(latest.get(key)) for key in EPOCH_KEYS[1:]} | {
            str(k): _finite(v) for k, v in (latest.get("extra") or {}).items()
        }


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


# -- stored results and the log -------------------------------------------------------------------------


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
        (label, format_metric(key, metrics.get(key)))
        for key, label in (
            ("accuracy", "test accuracy"),
            ("macro_f1", "test macro-F1"),
            ("val_accuracy", "validation accuracy"),
        )
        if metrics.get(key) is not None
    ]
    cv = cross_validation(model_summary(record.id, workspace))
    if cv:
        std, folds = cv.get("cv_accuracy_std"), cv.get("cv_folds")
        detail = f" ± {100 * std:.1f} %" if std is not None else ""
        detail += f" ({int(folds)} folds)" if folds else ""
        lines.append(("cross-validation accuracy", format_metric("cv_accuracy", cv["cv_accuracy"]) + detail))
    if metrics.get("best_epoch") is not None:
        lines.append(("best epoch", f"{metrics['best_epoch']} of {metrics.get('epochs_run', NO_VALUE)} run"))
    if metrics.get("train_seconds") is not None:
        lines.append(("training time", format_duration(metrics["train_seconds"])))
    path = ExperimentFolder.of(record.id, workspace).metrics
    if not lines:
        lines.append(
            ("results", "no test metrics stored" + (f" ({record.status} run)" if record.status else ""))
        )
    return ResultsSummary(lines, path, path.is_file())


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
