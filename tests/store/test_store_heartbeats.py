"""Run liveness in the store (contract, SQLite and PostgreSQL): attempts, heartbeats, and marking a
silent run lost once, however many watchers race on it."""

from __future__ import annotations

import multiprocessing
import traceback
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from bearing_workbench.store import InvalidTransition, RunStatus, Store
from bearing_workbench.store.repositories.heartbeats import LOST_EVENT
from bearing_workbench.store.tables import ExperimentRow, utcnow

GRACE_S = 60.0
N_WATCHERS = 4
N_LOST = 5


def _running(store: Store, worker: str = "tcp://10.0.0.1:4000") -> int:
    experiment = store.create_experiment("run", "cnn1d", {})
    store.transition(experiment, "start", worker=worker)
    return experiment


def _later(store: Store, experiment: int, seconds: float):  # noqa: ANN202
    """A moment `seconds` after the run's last sign of life."""
    return store.get_experiment(experiment).last_seen + timedelta(seconds=seconds)


def test_a_start_is_a_new_attempt_that_beats_until_the_run_ends(store: Store) -> None:
    experiment = _running(store)
    record = store.get_experiment(experiment)
    assert record.attempt == 1 and record.heartbeat_at == record.running_since
    assert store.beat(experiment, 1)
    assert store.get_experiment(experiment).heartbeat_at >= record.heartbeat_at
    assert not store.beat(experiment, 2)  # not this attempt's
    store.transition(experiment, "pause")
    assert store.beat(experiment, 1)  # a paused run's worker still holds it
    store.transition(experiment, "stop")
    assert not store.beat(experiment, 1)  # ended: nobody beats for it


def test_a_worker_taking_over_a_run_is_a_new_attempt_and_the_old_one_is_told(store: Store) -> None:
    experiment = _running(store)
    taken = store.claim_run(experiment, "tcp://10.0.0.2:4000")
    assert (taken.attempt, taken.worker, taken.status) == (2, "tcp://10.0.0.2:4000", RunStatus.RUNNING)
    assert not store.beat(experiment, 1) and store.beat(experiment, 2)
    pending = store.create_experiment("waiting", "cnn1d", {})
    with pytest.raises(InvalidTransition, match="cannot take over experiment .*: it is pending"):
        store.claim_run(pending, "tcp://10.0.0.2:4000")


def test_a_silent_run_is_marked_lost_once_with_its_epoch_and_a_hint(store: Store) -> None:
    experiment = _running(store)
    for epoch in (1, 2, 3):
        store.add_epoch(experiment, epoch, train_loss=1.0 / epoch)
    heard = store.get_experiment(experiment).last_seen
    assert store.mark_lost(GRACE_S, now=_later(store, experiment, GRACE_S)) == []  # within the grace
    assert store.mark_lost(GRACE_S, now=_later(store, experiment, GRACE_S + 1)) == [experiment]
    record = store.get_experiment(experiment)
    assert record.status is RunStatus.FAILED
    assert record.error == "lost: its worker or scheduler stopped answering after epoch 3"
    assert record.hint == "retry resumes it from its last checkpoint, after epoch 3"
    assert record.finished_at == heard and record.running_since is None  # when it was last heard of
    assert record.duration_s == pytest.approx((heard - record.started_at).total_seconds())
    lost = [e for e in store.events(experiment) if e.kind == LOST_EVENT]
    assert [e.message for e in lost] == [record.error]
    assert lost[0].payload == {
        "epoch": 3,
        "hint": record.hint,
        "worker": "tcp://10.0.0.1:4000",
        "attempt": 1,
        "last_heartbeat": heard.isoformat(),
    }
    status = [e.payload for e in store.events(experiment) if e.kind == "status"][-1]
    assert (status["action"], status["from"], status["to"]) == ("lose", "running", "failed")
    assert store.mark_lost(GRACE_S, now=_later(store, experiment, 3600)) == []  # once
    assert not store.beat(experiment, 1)  # its worker, should it come back, learns it


def test_only_runs_a_worker_holds_are_judged_and_a_filter_narrows_them(store: Store) -> None:
    running, paused, other = _running(store), _running(store), _running(store)
    store.transition(paused, "pause")
    pending = store.create_experiment("waiting", "cnn1d", {})
    done = _running(store)
    store.transition(done, "complete")
    late = _later(store, other, GRACE_S * 10)
    assert store.mark_lost(GRACE_S, now=late, experiment_ids=[running, paused, pending, done]) == [
        running,
        paused,
    ]
    assert store.get_experiment(other).status is RunStatus.RUNNING  # not asked about
    assert store.get_experiment(pending).status is RunStatus.PENDING
    assert store.get_experiment(done).status is RunStatus.COMPLETED
    assert store.mark_lost(GRACE_S, now=late, experiment_ids=[]) == []
    with pytest.raises(ValueError, match="grace_s: must be a positive number of seconds"):
        store.mark_lost(0)


def test_a_lost_run_retried_is_a_new_attempt_and_can_be_lost_again(store: Store) -> None:
    experiment = _running(store)
    store.mark_lost(GRACE_S, now=_later(store, experiment, GRACE_S + 1))
    store.transition(experiment, "retry")
    record = store.transition(experiment, "start", worker="tcp://10.0.0.3:4000")
    assert (record.status, record.attempt, record.error, record.hint) == (RunStatus.RUNNING, 2, None, None)
    assert not store.beat(experiment, 1) and store.beat(experiment, 2)
    assert store.mark_lost(GRACE_S, now=_later(store, experiment, GRACE_S + 1)) == [experiment]
    assert len([e for e in store.events(experiment) if e.kind == LOST_EVENT]) == 2


def test_a_run_that_beats_is_not_lost_and_the_default_grace_is_the_setting(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    experiment = _running(store)
    store.beat(experiment, 1)
    monkeypatch.setenv("BEARING_WORKBENCH_LOST_AFTER_S", "30")
    assert store.mark_lost(now=_later(store, experiment, 29)) == []
    assert store.mark_lost(now=_later(store, experiment, 31)) == [experiment]


def _watch(db_url: str, workspace: str, barrier: Any, results: Any) -> None:
    """Child process: a watcher (the CLI, `serve`, a monitor) reconciling at the same moment as others."""
    try:
        store = Store(url=db_url, workspace=Path(workspace))
        try:
            barrier.wait(timeout=120)
            results.put(("ok", store.mark_lost(GRACE_S)))
        finally:
            store.dispose()
    except BaseException:
        results.put(("error", traceback.format_exc()))


def test_watchers_racing_mark_each_lost_run_once(store: Store, db_url: str, workspace: Path) -> None:
    runs = [_running(store) for _ in range(N_LOST)]
    alive = _running(store)
    with store.transaction() as session:  # their workers fell silent two hours ago
        session.execute(
            update(ExperimentRow)
            .where(ExperimentRow.id.in_(runs))
            .values(heartbeat_at=utcnow() - timedelta(hours=2))
        )
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(N_WATCHERS), ctx.Queue()
    watchers = [
        ctx.Process(target=_watch, args=(db_url, str(workspace), barrier, results)) for _ in range(N_WATCHERS)
    ]
    for watcher in watchers:
        watcher.start()
    outcomes = [results.get(timeout=240) for _ in watchers]
    for watcher in watchers:
        watcher.join(timeout=60)
    errors = [detail for kind, detail in outcomes if kind == "error"]
    assert not errors, errors[0] if errors else ""
    marked = [run for _, ids in outcomes for run in ids]
    assert sorted(marked) == runs  # every lost run by exactly one watcher
    for run in runs:
        assert len([e for e in store.events(run) if e.kind == LOST_EVENT]) == 1
        assert [e.payload["action"] for e in store.events(run) if e.kind == "status"] == ["start", "lose"]
    assert store.get_experiment(alive).status is RunStatus.RUNNING
