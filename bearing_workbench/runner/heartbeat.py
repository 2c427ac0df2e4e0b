"""A running task's heartbeat: proof in the store that its worker is alive, written off the training thread.

Like Optuna's RDB heartbeat: a daemon thread writes the run's ``heartbeat_at`` every
``$BEARING_WORKBENCH_HEARTBEAT_S`` seconds (5 by default) for as long as the task runs, paused or not,
whatever the training thread is busy with. A run silent for longer than ``$BEARING_WORKBENCH_LOST_AFTER_S``
(60 s) is lost (`Store.mark_lost`), whatever the scheduler says: a killed worker, a scheduler whose
death closed its workers, a machine gone.

A beat is refused when the run is no longer this attempt's: marked lost while this worker was cut off
(its database unreachable, its process frozen), then perhaps retried elsewhere. The training must then
stop without writing anything more: `Heartbeat` as a callback raises `RunSuperseded` after the next
batch, which no training error handler catches, and the task ends quietly.
"""

from __future__ import annotations

import logging
import threading

from bearing_workbench.config.settings import settings
from bearing_workbench.store import Store
from bearing_workbench.training.callbacks import Callback, FitContext

log = logging.getLogger(__name__)


class RunSuperseded(BaseException):  # noqa: N818 - a signal, not an error: nothing may handle it as one
    """The run was taken from this attempt (marked lost, retried elsewhere): stop, write nothing more.

    A BaseException so that the training loop's and `train_experiment`'s error handlers, which mark the
    run failed, let it through: the run is someone else's now.
    """


class Heartbeat(Callback):
    """Beats for attempt `attempt` of a run from a daemon thread; `start`, then `stop` when the task ends.

    Args:
        interval_s: seconds between beats; default ``settings().heartbeat_s``.
    """

    def __init__(self, store: Store, experiment_id: int, attempt: int, interval_s: float | None = None):
        self.store = store
        self.experiment_id = int(experiment_id)
        self.attempt = int(attempt)
        self.interval_s = float(interval_s if interval_s is not None else settings().heartbeat_s)
        self.superseded = threading.Event()  # set once a beat was refused
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Heartbeat:
        """Start beating (the first beat after one interval: taking the run wrote one)."""
        self._thread = threading.Thread(
            target=self._beat, name=f"heartbeat-experiment-{self.experiment_id}", daemon=True
        )
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stopped.wait(self.interval_s):
            try:
                alive = self.store.beat(self.experiment_id, self.attempt)
            except Exception as exc:  # database briefly unreachable: the grace covers a few misses
                log.warning("heartbeat of experiment %s not written: %s", self.experiment_id, exc)
                continue
            if not alive:
                log.warning(
                    "experiment %s is no longer attempt %s's (lost or retried elsewhere): stopping it here",
                    self.experiment_id,
                    self.attempt,
                )
                self.superseded.set()
                return

    def stop(self) -> None:
        """Stop beating (the task has ended); waits for a beat in progress."""
        self._stopped.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=max(5.0, self.interval_s))

    def _check(self) -> None:
        if self.superseded.is_set():
            raise RunSuperseded(f"experiment {self.experiment_id} is no longer attempt {self.attempt}'s")

    def on_epoch_start(self, ctx: FitContext, epoch: int) -> None:
        self._check()

    def on_batch_end(self, ctx: FitContext, batch_index: int, logs: dict[str, float]) -> None:
        self._check()

    def on_progress(self, ctx: FitContext, fraction: float, message: str) -> None:
        self._check()
