"""follow: the stored history first, then live messages, each once and in order; store polling
when no scheduler can be reached."""

from __future__ import annotations

import threading

import distributed

from bearing_workbench.runner import control
from bearing_workbench.runner.following import Follower, follow
from bearing_workbench.store import Store

from .test_control import EPOCHS, paused_run


class Collector:
    def __init__(self):
        self.messages: list[dict] = []
        self.ended = threading.Event()

    def __call__(self, message: dict) -> None:
        self.messages.append(message)
        if message["kind"] == "event" and message["event_kind"] == "completed":
            self.ended.set()

    def of(self, kind: str) -> list[dict]:
        return [m for m in self.messages if m["kind"] == kind]


def _check_history(seen: Collector, store: Store, experiment_id: int) -> None:
    assert [m["epoch"] for m in seen.of("epoch")] == list(range(1, EPOCHS + 1))
    assert [m["event_id"] for m in seen.of("event")] == [e.id for e in store.events(experiment_id)]
    statuses = [m["payload"]["to"] for m in seen.of("event") if m["event_kind"] == "status"]
    assert statuses == ["running", "paused", "running", "completed"]


def test_follow_replays_the_store_then_goes_live(client, store):
    experiment_id = paused_run(client, store)
    stored = len(store.epochs(experiment_id))
    seen = Collector()
    # no store sweep during the test: every new message must come through Dask
    follower = Follower(experiment_id, seen, client=client, store=store, live_sweep_interval_s=3600)
    with follower.start():
        assert follower.mode == "live"
        assert follower.status == "paused"
        replayed = list(seen.messages)
        assert [m["epoch"] for m in replayed if m["kind"] == "epoch"] == list(range(1, stored + 1))
        assert {m["source"] for m in replayed} == {"store"}
        control.resume(experiment_id, client=client, store=store)
        assert seen.ended.wait(90)
        assert follower.finished and follower.status == "completed"
    _check_history(seen, store, experiment_id)
    live = [m for m in seen.messages[len(replayed) :] if m["kind"] in ("epoch", "batch")]
    assert live and {m["source"] for m in live} == {"live"}
    assert seen.of("epoch")[-1]["progress"] == 1.0

    # opened again much later (a new kernel): the whole history, from the store alone
    again = Collector()
    _, (url, workspace) = store.__reduce__()
    with follow(experiment_id, again, client=client, store=Store(url, workspace)) as late:
        assert late.finished
    _check_history(again, store, experiment_id)


def test_follow_polls_the_store_when_the_scheduler_is_unreachable(client, store):
    experiment_id = paused_run(client, store)
    gone = distributed.Client(client.scheduler.address, set_as_default=False)
    gone.close()
    seen = Collector()
    with follow(experiment_id, seen, client=gone, store=store) as follower:
        assert follower.mode == "polling"
        control.resume(experiment_id, client=client, store=store)
        assert seen.ended.wait(90)
    _check_history(seen, store, experiment_id)
    assert {m["source"] for m in seen.messages} == {"store"}
