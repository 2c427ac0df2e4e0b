"""One run as a live view sees it, folded from its progress messages: no widgets, no Dask.

`RunState.apply(message)` takes the messages `runner.following.follow` delivers (their shapes are in
`runner.progress`) one at a time and says which parts of a view changed (`PARTS`), so that a panel
redraws only those and can coalesce many messages into one redraw; `RunState.info()` is the
immutable snapshot (`RunInfo`) a page renders.

Families not trained by the epoch loop (classical, ensemble: `trains_by_epoch` is False) have no
epochs: their progress is a fraction and a phase message (``"cross-validation fold 2/3"``, live as
``batch`` messages without an epoch, replayed as ``progress`` events), and their cards are results
(cross-validation, validation and test accuracy, macro-F1) that exist once the run has completed.

The best epoch has one definition everywhere: the epoch the training loop keeps as the best model,
chosen by the config's ``training.monitor`` (``val_loss`` by default, lowest wins; ``val_accuracy``,
highest wins; the first epoch wins ties). The monitor's cards show that epoch and say what chose it.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from bearing_workbench.analysis.format import (
    NO_VALUE,
    duration,
    finite,
    local_time,
    metric_name,
    metric_value,
    percent,
)
from bearing_workbench.analysis.run_info import DEFAULT_MONITOR, MONITORS, RunInfo, best_epoch, best_label
from bearing_workbench.analysis.run_texts import DOWN, SAME, MetricCard, epochs_done_text, trend
from bearing_workbench.config.arguments import PositiveInt, check
from bearing_workbench.store import RunStatus, is_terminal

# What `RunState.apply` reports as changed (RESULTS: the result cards of a run not trained in epochs).
STATUS, PROGRESS, HISTORY, EVENTS, RESOURCES = "status", "progress", "history", "events", "resources"
ERROR, RESULTS = "error", "results"
PARTS = frozenset({STATUS, PROGRESS, HISTORY, EVENTS, RESOURCES, ERROR, RESULTS})

EPOCH_KEYS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")
# (key, lower is better); their names come from `analysis.format.metric_name` (with the level)
CARD_METRICS = (("train_loss", True), ("train_acc", False), ("val_loss", True), ("val_acc", False))
# The cards of a run not trained in epochs: (key, label, the split it is measured on)
RESULT_CARDS = (
    ("cv_accuracy", "CV accuracy", "training split"),
    ("val_accuracy", metric_name("val_accuracy"), "validation split"),
    ("accuracy", metric_name("accuracy"), "test split"),
    ("macro_f1", "test " + metric_name("macro_f1"), "test split"),
)
# A phase message that counts ("cross-validation fold 2/3", "features: 12/15 windows")
_COUNTED = re.compile(r"\b\d+\s*/\s*\d+\b")
_STATUSES = frozenset(s.value for s in RunStatus)


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
        lost: the run ended lost (its worker or scheduler stopped answering); unreachable_since, lost_at:
            the follower found the scheduler gone then, and the run will be marked lost at lost_at
            (epoch seconds; `connection_note` says it).
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
        monitor: str = DEFAULT_MONITOR,
    ):
        max_events = check(PositiveInt, max_events, "max_events")
        if monitor not in MONITORS:
            raise ValueError(f"training.monitor must be one of {', '.join(MONITORS)}, got {monitor!r}")
        self.experiment_id = int(experiment_id)
        self.monitor = monitor
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
        self.lost = False  # ended because its worker or scheduler stopped answering (a "lost" event)
        self.unreachable_since: float | None = None  # the follower found the scheduler gone (epoch s)
        self.lost_at: float | None = None  # when the run will be marked lost, if it stays silent

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
            "connection": self._connection,
        }
        handler = handlers.get(kind)  # type: ignore[arg-type]
        if handler is None:
            return frozenset()  # a kind this monitor does not know (a newer runner): nothing to show
        self.messages += 1
        self.last_time = finite(message.get("time")) or self.last_time
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
            self.lost = False
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
                "time": finite(message.get("time")),
                "kind": kind,
                "message": str(message.get("message") or ""),
                "status": message.get("status"),
                "event_id": message.get("event_id"),
            }
        )
        changed = {EVENTS}
        if kind == "lost":  # marked lost: its worker or scheduler stopped answering
            self.lost = True
            self.error = str(message.get("message") or "") or self.error
            self.hint = payload.get("hint") or self.hint
            changed.add(ERROR)
        elif kind == "failed":
            self.error = str(message.get("message") or "") or self.error
            self.hint = payload.get("hint") or self.hint
            changed.add(ERROR)
        elif kind == "status" and payload.get("to") == RunStatus.FAILED and payload.get("error"):
            self.error = self.error or str(payload["error"])
            changed.add(ERROR)
        elif not self.epoch_based and kind == "progress":  # the store's copy of a phase message
            changed |= self._fit_progress(finite(payload.get("fraction")), str(message.get("message") or ""))
        elif not self.epoch_based and kind == "completed" and not self.results_final:
            for key in ("accuracy", "macro_f1"):  # the rest comes with the stored results
                if finite(payload.get(key)) is not None:
                    self.results[key] = finite(payload.get(key))
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
        progress = finite(message.get("progress"))
        if progress is not None:
            self.progress = progress
        elif self.total_epochs:
            self.progress = min(1.0, self.epoch / self.total_epochs)
        self.eta_s = finite(message.get("eta_s"))
        self.best_epoch = best_epoch(self.history, self.monitor)
        best = next((r for r in self.history if r["epoch"] == self.best_epoch), {})
        self.best_val_acc = finite(best.get("val_acc"))
        self.current_epoch = self.batch = None
        return {HISTORY, PROGRESS}

    def _batch(self, message: Mapping[str, Any]) -> set[str]:
        epoch = message.get("epoch")
        if self.finished:
            return set()  # sent before the end, delivered after it: the run is no longer there
        if not self.epoch_based:
            self.eta_s = finite(message.get("eta_s"))
            return self._fit_progress(finite(message.get("progress")), str(message.get("message") or ""))
        if isinstance(epoch, int) and not isinstance(epoch, bool) and epoch <= self.epoch:
            return set()  # a batch of an epoch already finished: late, nothing new
        progress = finite(message.get("progress"))
        if progress is not None:
            self.progress = progress
        self.current_epoch = epoch if isinstance(epoch, int) else None
        self.batch = message.get("batch")
        self.steps_per_epoch = message.get("steps_per_epoch") or self.steps_per_epoch
        self.total_epochs = int(message.get("total_epochs") or self.total_epochs)
        self.batch_loss = finite(message.get("train_loss"))
        self.eta_s = finite(message.get("eta_s"))
        if self.current_epoch is None:  # a non-epoch family's progress line ("fold 2/5")
            self.progress_message = str(message.get("message") or "")
        return {PROGRESS}

    def _connection(self, message: Mapping[str, Any]) -> set[str]:
        """The follower's word on the scheduler: unreachable since when, lost at when (epoch seconds)."""
        if message.get("scheduler") == "unreachable":
            self.unreachable_since = finite(message.get("since"))
            self.lost_at = finite(message.get("lost_at"))
        else:
            self.unreachable_since = self.lost_at = None
        return {STATUS}

    def connection_note(self) -> str | None:
        """``"scheduler unreachable since 14:02; the run will be marked lost at 14:03"`` while the
        scheduler is gone (the second half only while the run is not yet ended); None otherwise."""
        if self.unreachable_since is None:
            return None
        note = f"scheduler unreachable since {local_time(self.unreachable_since)}"
        if self.lost_at is not None and not self.finished:
            note += f"; the run will be marked lost at {local_time(self.lost_at)}"
        return note

    def _resources(self, message: Mapping[str, Any]) -> set[str]:
        self.resources = {k: v for k, v in message.items() if k not in ("kind", "status", "source")}
        return {RESOURCES}

    def settle(self, status: str) -> frozenset[str]:
        """Take the stored status (the store has the last word, e.g. when an event is missing)."""
        return frozenset(self._status(str(status), authoritative=True))

    def set_results(self, results: Mapping[str, float | None]) -> bool:
        """Take the stored results of an ended run (`stored_results`; the store has the last word);
        True if the cards change."""
        values = {str(k): finite(v) for k, v in results.items()}
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
            key: [row.get(key) for row in self.history] for key in ("epoch", *(k for k, _ in CARD_METRICS))
        }

    def progress_text(self) -> str:
        """One epoch convention (defect 3 of issue 13): ``"epoch 4/10, batch 12/40"`` while epoch 4 runs;
        ``"3/10 epochs done"`` between epochs, paused or ended (never the ambiguous ``"epoch 3/10"``); a
        non-epoch family's phase and percentage (``"cross-validation fold 2/3 (61 %)"``)."""
        if not self.epoch_based:
            return self._fit_text()
        total = self.total_epochs
        if self.current_epoch is not None and self.batch is not None and not self.finished:
            steps = f"/{self.steps_per_epoch}" if self.steps_per_epoch else ""
            return f"epoch {self.current_epoch}/{total or NO_VALUE}, batch {int(self.batch) + 1}{steps}"
        if self.epoch or total:
            return epochs_done_text(self.epoch, total)
        return self.progress_message or percent(self.progress, 0)

    def _fit_text(self) -> str:
        if self.status == RunStatus.COMPLETED:
            # "done" would repeat the ETA slot: say what the fit went through instead.
            return self.counted_message or self.phase_message or "fitted"
        done = percent(self.progress, 0)
        return f"{self.progress_message} ({done})" if self.progress_message else done

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
        return f"ETA {duration(self.eta_s)}" if self.eta_s is not None else "ETA —"

    def cards(self) -> list[MetricCard]:
        """The four metrics of the latest epoch with their trend, then the validation accuracy of the best
        epoch (`best_epoch`: the one kept as the best model); for a family not trained in epochs, its result
        cards (`result_cards`)."""
        if not self.epoch_based:
            return self.result_cards()
        latest = self.history[-1] if self.history else {}
        previous = self.history[-2] if len(self.history) > 1 else {}
        cards = []
        for key, lower_is_better in CARD_METRICS:
            label = metric_name(key)
            move = trend(latest.get(key), previous.get(key))
            improved = None if move in (None, SAME) else (move == DOWN) == lower_is_better
            cards.append(
                MetricCard(
                    key, label, finite(latest.get(key)), metric_value(key, latest.get(key)), move, improved
                )
            )
        note = (
            f"@ epoch {self.best_epoch} · {best_label(self.monitor)}" if self.best_epoch is not None else ""
        )
        cards.append(
            MetricCard(
                "best_val_acc",
                metric_name("best_val_acc"),
                self.best_val_acc,
                metric_value("val_acc", self.best_val_acc),
                note=note,
            )
        )
        return cards

    def result_cards(self) -> list[MetricCard]:
        """Cross-validation, validation and test accuracy and test macro-F1: dashes until the run has
        completed; then only those the run reported (no CV for soft voting, no val without a val split)."""
        cards = []
        for key, label, split in RESULT_CARDS:
            value = finite(self.results.get(key))
            if value is None and self.results_final:
                continue
            if value is None:
                note = "when the run completes" if not self.finished else f"none: the run {self.status}"
            elif key == "cv_accuracy" and self.results.get("cv_folds"):
                std = finite(self.results.get("cv_accuracy_std"))
                spread = f"± {percent(std)} · " if std is not None else ""
                note = f"{spread}{int(self.results['cv_folds'])} folds"
            else:
                note = split
            cards.append(MetricCard(key, label, value, metric_value(key, value), note=note))
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
        return {key: finite(latest.get(key)) for key in EPOCH_KEYS[1:]} | {
            str(k): finite(v) for k, v in (latest.get("extra") or {}).items()
        }

    def info(self) -> RunInfo:
        """The immutable snapshot of what a view shows now."""
        return RunInfo(
            experiment_id=self.experiment_id,
            status=self.status,
            finished=self.finished,
            epoch_based=self.epoch_based,
            progress=self.progress,
            progress_text=self.progress_text(),
            eta_text=self.eta_text(),
            epoch=self.epoch,
            total_epochs=self.total_epochs,
            best_epoch=self.best_epoch,
            best_label=best_label(self.monitor),
            cards=tuple(self.cards()),
            curves=MappingProxyType({key: tuple(values) for key, values in self.curves().items()}),
            events=tuple(MappingProxyType(dict(e)) for e in self.events),
            resources=None if self.resources is None else MappingProxyType(dict(self.resources)),
            error=self.error,
            hint=self.hint,
            batch_loss=self.batch_loss if self.batch is not None and not self.finished else None,
            lost=self.lost,
            connection_note=self.connection_note(),
        )
