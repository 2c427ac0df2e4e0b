"""Live progress of a run: the messages a worker publishes and `follow` delivers.

Channel: the worker calls ``distributed.get_worker().log_event("experiment-<id>", message)`` and
clients receive it through ``Client.subscribe_topic``. Measured against a `distributed.Queue` and
polling a `distributed.Variable` (first numbers in the project notes; the runner benchmark in
BENCHMARKS.md), ``log_event`` had the lowest latency (p95 about 1.5 ms) and costs the training thread
nothing: the worker's batched stream sends it from the event loop. The store stays the record:
epochs and events are written there first and a message is only the live echo of what is stored
(plus batch progress, which is not stored).

Every message is a plain dict (msgpack-safe; non-finite numbers become None) with these keys:

- ``experiment_id``, ``kind`` (``"batch"``, ``"epoch"``, ``"event"``, ``"resources"``), ``status``
  (pending / running / paused / stopped / failed / completed), ``time`` (Unix seconds), ``message``;
- ``progress`` (0-1), ``epoch``, ``total_epochs``, ``eta_s``, ``best_val_acc``, ``best_epoch``;
- batch: ``batch`` (0-based), ``steps_per_epoch``, ``train_loss`` (of the batch), ``lr``, ``extra``;
- epoch: ``train_loss``, ``train_acc``, ``val_loss``, ``val_acc``, ``lr``, ``seconds``, ``extra``
  (family-specific values such as ``physics_loss``);
- event: ``event_id`` (the store's id: a cursor), ``event_kind`` (``status``, ``checkpoint``,
  ``best_model``, ``paused``, ``resumed``, ``retry`` (worker lost), ``resubmitted``, ``cancelled``,
  ``stopped``, ``completed``, ``failed``...),
  ``payload``; a ``status`` event's payload has ``action``, ``from`` and ``to``.

Replayed messages (built by `epoch_message` / `event_message` from store rows) have the same shape;
``source`` says ``"store"`` or ``"live"``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bearing_workbench.analysis.history import history_rows
from bearing_workbench.analysis.run_info import DEFAULT_MONITOR, best_epoch
from bearing_workbench.store import EpochRecord, EventRecord, Store
from bearing_workbench.training.callbacks import Callback, EpochMetrics, FitContext

if TYPE_CHECKING:
    from bearing_workbench.training.loop import FitResult

Emit = Callable[[dict[str, Any]], Any]

DEFAULT_EVERY_BATCHES = 10
DEFAULT_MIN_INTERVAL_S = 0.5


def topic(experiment_id: int) -> str:
    """The Dask event topic of an experiment's progress."""
    return f"experiment-{int(experiment_id)}"


def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _extra(values: dict[str, Any] | None) -> dict[str, float | None]:
    return {str(k): _num(v) for k, v in (values or {}).items() if isinstance(v, int | float)}


def _base(experiment_id: int, kind: str, status: str, message: str = "") -> dict[str, Any]:
    return {
        "experiment_id": int(experiment_id),
        "kind": kind,
        "status": status,
        "time": time.time(),
        "message": message,
        "source": "live",
    }


def best_of(epochs: list[Any], monitor: str = DEFAULT_MONITOR) -> tuple[float | None, int | None]:
    """(validation accuracy of the best epoch, its epoch) over epoch rows (`EpochRecord`, `EpochMetrics`
    or mappings): the best epoch is the one kept as the best model, by ``training.monitor``
    (`analysis.run_info.best_epoch`), so that every view and message means the same epoch."""
    rows = history_rows(epochs)
    chosen = best_epoch(rows, monitor)
    return _num(next((row.get("val_acc") for row in rows if row["epoch"] == chosen), None)), chosen


def epoch_message(
    experiment_id: int,
    epoch: EpochRecord | EpochMetrics,
    total_epochs: int,
    status: str,
    best: tuple[float | None, int | None],
    eta_s: float | None = None,
    source: str = "live",
) -> dict[str, Any]:
    """The message of one finished epoch (from the loop's `EpochMetrics` or a stored `EpochRecord`)."""
    msg = _base(experiment_id, "epoch", status, f"epoch {epoch.epoch}/{total_epochs}")
    if isinstance(epoch, EpochRecord):
        msg["time"] = epoch.created_at.timestamp()
    msg.update(
        source=source,
        epoch=int(epoch.epoch),
        total_epochs=int(total_epochs),
        progress=min(1.0, epoch.epoch / total_epochs) if total_epochs else None,
        train_loss=_num(epoch.train_loss),
        train_acc=_num(epoch.train_acc),
        val_loss=_num(epoch.val_loss),
        val_acc=_num(epoch.val_acc),
        lr=_num(epoch.lr),
        seconds=_num(epoch.seconds),
        best_val_acc=best[0],
        best_epoch=best[1],
        eta_s=_num(eta_s),
        extra=_extra(epoch.extra),
    )
    return msg


def event_message(
    experiment_id: int, event: EventRecord, status: str, source: str = "live"
) -> dict[str, Any]:
    """The message of one stored event; `status` is the run's status once this event happened."""
    msg = _base(experiment_id, "event", status, event.message)
    msg.update(
        source=source,
        time=event.created_at.timestamp(),
        event_id=int(event.id),
        event_kind=event.kind,
        payload=dict(event.payload or {}),
    )
    return msg


def status_after(event: EventRecord, status: str) -> str:
    """The run's status after `event` (a ``status`` event carries the new one)."""
    if event.kind == "status" and event.payload and event.payload.get("to"):
        return str(event.payload["to"])
    return status


def worker_emitter(experiment_id: int) -> Emit:
    """Publish on the experiment's topic from the Dask worker running this code (no-op elsewhere)."""
    import distributed

    try:
        worker = distributed.get_worker()
    except ValueError:  # not inside a Dask task: nobody to publish to
        return lambda message: None
    name = topic(experiment_id)
    return lambda message: worker.log_event(name, message)


class ProgressPublisher(Callback):
    """Publishes a message per epoch, per `every_batches` batches (at most one per `min_interval_s`),
    and one per store event written during the run (checkpoints, status changes...), in store order.

    Args:
        emit: where messages go; default `worker_emitter` (the Dask topic ``experiment-<id>``).
    """

    def __init__(
        self,
        store: Store,
        experiment_id: int,
        *,
        emit: Emit | None = None,
        every_batches: int = DEFAULT_EVERY_BATCHES,
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
    ):
        self.store = store
        self.experiment_id = int(experiment_id)
        self._emit = emit if emit is not None else worker_emitter(experiment_id)
        self.every_batches = max(1, int(every_batches))
        self.min_interval_s = float(min_interval_s)
        record = store.get_experiment(experiment_id)
        self.status = str(record.status)
        self.total_epochs = int(record.config.get("training", {}).get("epochs") or 0)
        latest = store.events(experiment_id, limit=1)
        self._cursor = latest[-1].id if latest else 0
        self._last_batch_sent = 0.0
        self._busy = 0.0  # seconds of training in this attempt (pauses excluded)
        self._busy_since: float | None = None
        self._steps_done = 0  # optimisation steps in this attempt
        self._ctx: FitContext | None = None

    # -- plumbing -----------------------------------------------------------------------------------

    def publish(self, message: dict[str, Any]) -> None:
        """Send one message (``experiment_id`` and ``status`` are filled in when missing)."""
        message = dict(message)
        message.setdefault("experiment_id", self.experiment_id)
        message.setdefault("status", self.status)
        message.setdefault("time", time.time())
        message.setdefault("source", "live")
        self._emit(message)

    def flush_events(self) -> None:
        """Publish the store events written since the last flush (status changes update `status`)."""
        for event in self.store.events(self.experiment_id, after_id=self._cursor):
            self.status = status_after(event, self.status)
            self._cursor = event.id
            self.publish(event_message(self.experiment_id, event, self.status))

    def set_paused(self, paused: bool) -> None:
        """Stop (or restart) the clock the ETA is computed from."""
        now = time.perf_counter()
        if paused and self._busy_since is not None:
            self._busy += now - self._busy_since
            self._busy_since = None
        elif not paused and self._busy_since is None:
            self._busy_since = now

    def _elapsed(self) -> float:
        running = time.perf_counter() - self._busy_since if self._busy_since is not None else 0.0
        return self._busy + running

    def _position(self, ctx: FitContext, batch: int | None) -> tuple[int, int]:
        """(steps done overall, steps in the run)."""
        steps = ctx.steps_per_epoch or 0
        total = steps * self.total_epochs
        if batch is None:  # end of epoch ctx.epoch
            return steps * ctx.epoch, total
        return steps * (ctx.epoch - 1) + batch + 1, total

    def _eta(self, done: int, total: int) -> float | None:
        if self._steps_done == 0 or total == 0:
            return None
        return self._elapsed() / self._steps_done * max(0, total - done)

    def _best(self, ctx: FitContext) -> tuple[float | None, int | None]:
        return best_of(list(ctx.history), ctx.config.training.monitor)

    # -- hooks --------------------------------------------------------------------------------------

    def on_fit_start(self, ctx: FitContext) -> None:
        self._ctx = ctx
        self.total_epochs = ctx.config.training.epochs
        self._busy_since = time.perf_counter()
        self.flush_events()

    def on_batch_end(self, ctx: FitContext, batch_index: int, logs: dict[str, float]) -> None:
        self._steps_done += 1
        now = time.perf_counter()
        if (batch_index + 1) % self.every_batches and batch_index + 1 != ctx.steps_per_epoch:
            return
        if now - self._last_batch_sent < self.min_interval_s:
            return
        self._last_batch_sent = now
        done, total = self._position(ctx, batch_index)
        best = self._best(ctx)
        msg = _base(self.experiment_id, "batch", self.status, f"epoch {ctx.epoch}, batch {batch_index + 1}")
        msg.update(
            epoch=ctx.epoch,
            total_epochs=self.total_epochs,
            batch=int(batch_index),
            steps_per_epoch=int(ctx.steps_per_epoch),
            progress=done / total if total else None,
            train_loss=_num(logs.get("loss")),
            lr=_num(logs.get("lr")),
            best_val_acc=best[0],
            best_epoch=best[1],
            eta_s=_num(self._eta(done, total)),
            extra=_extra({k: v for k, v in logs.items() if k not in ("loss", "acc", "lr", "batch_size")}),
        )
        self.publish(msg)

    def on_epoch_end(self, ctx: FitContext, metrics: EpochMetrics) -> None:
        done, total = self._position(ctx, None)
        self.publish(
            epoch_message(
                self.experiment_id,
                metrics,
                self.total_epochs,
                self.status,
                self._best(ctx),
                eta_s=self._eta(done, total),
            )
        )

    def on_checkpoint(self, ctx: FitContext, path: Path, is_best: bool) -> None:
        self.flush_events()

    def on_progress(self, ctx: FitContext, fraction: float, message: str) -> None:
        self.flush_events()
        msg = _base(self.experiment_id, "batch", self.status, message)
        elapsed = self._elapsed()
        eta = elapsed / fraction * (1.0 - fraction) if fraction > 0 else None
        msg.update(progress=float(fraction), eta_s=_num(eta), epoch=None, total_epochs=None)
        self.publish(msg)

    def on_fit_end(self, ctx: FitContext, result: FitResult) -> None:
        self.set_paused(True)
        self.flush_events()
