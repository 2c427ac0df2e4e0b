"""Following a run: replay what the store holds, then live progress from the Dask topic.

`follow(experiment_id, on_event)` works whenever it is opened: during the run, long after it, after
a kernel restart. It subscribes to the topic ``experiment-<id>`` first (holding back what arrives),
replays the stored epochs and events as messages (``source="store"``, same shape as the live ones,
see `runner.progress`), then lets the held-back and new live messages through. Duplicates are dropped:
a store event by its id (a cursor), an epoch by its number, a batch message of an epoch already
delivered. Every few seconds the store is read again for what no worker publishes (a cancel, a run
marked lost). Without a reachable scheduler it polls the store every second instead.

Each read of the store first marks the run lost if its heartbeats have stopped (`Store.mark_lost`: the
driver's own periodic check, so an open monitor never shows a dead run as running). When the
scheduler is gone, a ``connection`` message says since when and when the run will be marked lost:
``{"kind": "connection", "scheduler": "unreachable", "since": <epoch s>, "lost_at": <epoch s or None>}``
(`analysis.run_state.RunState` turns it into `RunInfo.connection_note`).

`on_event` is called from a background thread (Dask's event loop or the poller), one message at a
time and in order; an exception in it is logged and following goes on.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from bearing_workbench.analysis.format import finite
from bearing_workbench.analysis.history import history_rows
from bearing_workbench.analysis.run_info import best_epochs, monitor_of
from bearing_workbench.config.settings import settings
from bearing_workbench.runner.cluster import existing_client
from bearing_workbench.runner.progress import epoch_message, event_message, status_after, topic
from bearing_workbench.runner.run_end_hooks import deliver_run_ends
from bearing_workbench.store import RunStatus, Store, is_terminal

log = logging.getLogger(__name__)

OnEvent = Callable[[dict[str, Any]], Any]
POLL_INTERVAL_S = 1.0
LIVE_SWEEP_INTERVAL_S = 5.0

# One Dask subscription per (client, topic), shared by every Follower of it in this process:
# Client.subscribe_topic keeps a single handler per topic.
_hub_lock = threading.Lock()
_hub: dict[tuple[str, str], list[Callable[[dict[str, Any]], None]]] = {}


def _dispatch(key: tuple[str, str], event: tuple[float, Any]) -> None:
    _, message = event
    with _hub_lock:
        handlers = list(_hub.get(key, ()))
    for handler in handlers:
        handler(message)


def _subscribe(client: Any, name: str, handler: Callable[[dict[str, Any]], None]) -> None:
    key = (client.id, name)
    with _hub_lock:
        handlers = _hub.setdefault(key, [])
        first = not handlers
        handlers.append(handler)
    if first:
        client.subscribe_topic(name, lambda event: _dispatch(key, event))


def _unsubscribe(client: Any, name: str, handler: Callable[[dict[str, Any]], None]) -> None:
    key = (client.id, name)
    with _hub_lock:
        handlers = _hub.get(key, [])
        if handler in handlers:
            handlers.remove(handler)
        last = not handlers
        if last:
            _hub.pop(key, None)
    if last:
        try:
            client.unsubscribe_topic(name)
        except Exception as exc:  # client already closed: nothing to undo
            log.debug("unsubscribing from %s failed: %s", name, exc)


class Follower:
    """Delivers an experiment's messages to `on_event`; `close()` ends it (training is not affected).

    The replay runs in the caller's thread (it has been delivered when `start` returns); after it,
    one thread delivers live messages (queued by Dask's event loop, which never waits on `on_event`)
    and the store sweeps.

    Attributes:
        mode: ``"live"`` (Dask topic + store sweeps), ``"polling"`` (store only) or ``"closed"``.
        status: the run's status as last delivered.
    """

    def __init__(
        self,
        experiment_id: int,
        on_event: OnEvent,
        *,
        client: Any = None,
        store: Store | None = None,
        poll_interval_s: float = POLL_INTERVAL_S,
        live_sweep_interval_s: float = LIVE_SWEEP_INTERVAL_S,
    ):
        self.experiment_id = int(experiment_id)
        self.on_event = on_event
        self.store = store if store is not None else Store()
        self.poll_interval_s = float(poll_interval_s)
        self.live_sweep_interval_s = float(live_sweep_interval_s)
        record = self.store.get_experiment(self.experiment_id)  # NotFoundError for an unknown id
        self.total_epochs = int(record.config.get("training", {}).get("epochs") or 0)
        self.monitor = monitor_of(record.config)  # what chooses the best epoch
        self.status = str(record.status)
        self.mode = "starting"
        self._client = existing_client(client)
        self._topic = topic(self.experiment_id)
        self._queue: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self._last_event_id = 0
        self._epochs: set[int] = set()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        # When this follower found the scheduler gone (time.time()), and what it last said about it.
        self.unreachable_since: float | None = None
        self._told_connection: tuple[float, float | None] | None = None

    # -- delivery (the caller's thread during the replay, then the follower's thread) --------------

    def _deliver(self, message: dict[str, Any]) -> None:
        """Pass one message on unless it was delivered already."""
        kind = message.get("kind")
        if kind == "event":
            event_id = int(message.get("event_id") or 0)
            if event_id <= self._last_event_id:
                return
            self._last_event_id = event_id
            self.status = str(message.get("status") or self.status)
        elif kind == "epoch":
            epoch = message.get("epoch")
            if epoch in self._epochs:
                return
            self._epochs.add(epoch)
        elif kind == "batch" and message.get("epoch") in self._epochs:
            return  # queued before its epoch's own message was delivered from the store
        try:
            self.on_event(message)
        except Exception:
            log.exception("on_event failed for a %s message of experiment %s", kind, self.experiment_id)

    def _live(self, message: Any) -> None:
        # Called on Dask's event loop: only queue.
        if isinstance(message, dict) and not self._closed.is_set():
            self._queue.put(message)

    def sync(self) -> None:
        """Deliver what the store holds and was not delivered yet: epochs and events, in time order
        (after marking the run lost if its heartbeats have stopped)."""
        if not self.finished:
            self.store.mark_lost(experiment_ids=[self.experiment_id])
        events = self.store.events(self.experiment_id)
        epochs = self.store.epochs(self.experiment_id)
        timeline: list[tuple[float, int, Any]] = [(e.created_at.timestamp(), 1, e) for e in events]
        timeline += [(e.created_at.timestamp(), 0, e) for e in epochs]
        timeline.sort(key=lambda item: (item[0], item[1]))
        rows = history_rows(epochs)  # epoch order
        val_acc = {row["epoch"]: finite(row.get("val_acc")) for row in rows}
        best_at = {  # the best epoch up to each epoch, and its val accuracy
            row["epoch"]: (val_acc.get(chosen) if chosen is not None else None, chosen)
            for row, chosen in zip(rows, best_epochs(rows, self.monitor), strict=True)
        }
        status = str(RunStatus.PENDING)
        for _, is_event, item in timeline:
            if is_event:
                status = status_after(item, status)
                self._deliver(event_message(self.experiment_id, item, status, source="store"))
            else:
                shown = status if status != RunStatus.PENDING else str(RunStatus.RUNNING)
                message = epoch_message(
                    self.experiment_id, item, self.total_epochs, shown, best_at[item.epoch], source="store"
                )
                self._deliver(message)

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> Follower:
        """Subscribe (when a scheduler is reachable), replay the store, then follow in a thread."""
        if self._client is not None:
            try:
                _subscribe(self._client, self._topic, self._live)
                deliver_run_ends(self._client)
            except Exception as exc:
                log.info("no live progress for experiment %s (%s): polling", self.experiment_id, exc)
                self._client = None
        self.sync()
        self.mode = "live" if self._client is not None else "polling"
        self._thread = threading.Thread(
            target=self._follow, name=f"follow-experiment-{self.experiment_id}", daemon=True
        )
        self._thread.start()
        return self

    def _follow(self) -> None:
        """Deliver queued live messages; read the store every `poll_interval_s` (polling) or
        `live_sweep_interval_s` (live) until the run has ended."""
        next_sync: float | None = time.monotonic() + self._interval()
        ended_syncs = 0
        while not self._closed.is_set():
            try:
                wait = None if next_sync is None else max(0.0, next_sync - time.monotonic())
                message = self._queue.get(timeout=wait)
            except queue.Empty:
                message = None
            if self._closed.is_set():
                return
            if message is not None:
                self._deliver(message)
                continue
            if self.mode == "live" and self._client is not None and self._client.status != "running":
                log.info("scheduler of experiment %s gone: polling the store", self.experiment_id)
                self.mode = "polling"
                self.unreachable_since = time.time()
            try:
                self.sync()
                self._tell_connection()
            except Exception as exc:  # database briefly unavailable: try again next time
                log.warning("reading experiment %s from the store failed: %s", self.experiment_id, exc)
            # The final status and the event saying why are two writes: read once more after the end,
            # then stop reading the store (live messages still pass).
            ended_syncs = ended_syncs + 1 if self.finished else 0
            next_sync = None if ended_syncs >= 2 else time.monotonic() + self._interval()

    def _tell_connection(self) -> None:
        """While the scheduler is unreachable: since when, and when the run will be marked lost (its last
        heartbeat plus the grace; None once it has ended). Sent when either changes."""
        if self.unreachable_since is None:
            return
        lost_at = None
        if not self.finished:
            last_seen = self.store.get_experiment(self.experiment_id).last_seen
            if last_seen is not None:
                lost_at = last_seen.timestamp() + settings().lost_after_s
        told = (self.unreachable_since, lost_at)
        if told == self._told_connection:
            return
        self._told_connection = told
        self._deliver(
            {
                "kind": "connection",
                "experiment_id": self.experiment_id,
                "scheduler": "unreachable",
                "since": self.unreachable_since,
                "lost_at": lost_at,
                "status": self.status,
                "time": time.time(),
                "source": "follower",
            }
        )

    def _interval(self) -> float:
        return self.live_sweep_interval_s if self.mode == "live" else self.poll_interval_s

    @property
    def finished(self) -> bool:
        """True once the run's final status (completed, failed, stopped) was delivered."""
        return is_terminal(self.status)

    def close(self) -> None:
        """Stop following (the run goes on)."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._queue.put(None)  # wake the thread
        if self._client is not None:
            _unsubscribe(self._client, self._topic, self._live)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self.mode = "closed"

    def __enter__(self) -> Follower:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def follow(
    experiment_id: int, on_event: OnEvent, *, client: Any = None, store: Store | None = None
) -> Follower:
    """Replay experiment `experiment_id`'s stored epochs and events to `on_event`, then follow it live;
    returns the `Follower` (call ``close()`` when done).

    Args:
        client: a Dask client; default this process's (see `runner.cluster.existing_client`); None
            reachable means store polling every second.
    """
    return Follower(experiment_id, on_event, client=client, store=store).start()
