"""kill -9 of the scheduler (alone, then with every worker) mid-run: the run is lost; a retry ends it."""

from __future__ import annotations

import pytest

from bearing_workbench.runner import control
from bearing_workbench.runner.launch import resubmit, submit
from bearing_workbench.store.status import lost_hint, lost_reason
from bearing_workbench.training.checkpoint import LAST_NAME

from .conftest import START_S, epoch_numbers, events_of, run_config, status_of, status_path, wait_for
from .processes import LOST_AFTER_S, client_of

pytestmark = pytest.mark.faults

EPOCHS = 40
# A worker whose scheduler died trains on until its close gives up waiting for the task (30 s).
WORKER_GIVES_UP_S = 90.0


def _marked_lost(store, run: int) -> bool:
    """What a watcher does (the monitor, `status`, `serve`): mark the run lost if its heartbeats stopped."""
    store.mark_lost(LOST_AFTER_S, experiment_ids=[run])
    return status_of(store, run) == "failed"


def _lost_then_retried_to_the_end(cluster, store, run: int) -> None:
    """The run is found lost with its reason and hint; on a new cluster a retry completes every epoch once."""
    wait_for(lambda: _marked_lost(store, run), "the run to be marked lost")
    done = len(store.epochs(run))
    assert epoch_numbers(store, run) == list(range(1, done + 1))
    record = store.get_experiment(run)
    assert (record.error, record.hint) == (lost_reason(done), lost_hint(done))
    assert [e.message for e in events_of(store, run, "lost")] == [lost_reason(done)]  # marked once

    cluster.start_scheduler()
    cluster.start_workers(1)
    client = client_of(cluster, 1, START_S)
    resubmit(run, client=client, store=store)
    wait_for(lambda: status_of(store, run) in ("completed", "failed", "stopped"), "the retried run's end")
    assert status_of(store, run) == "completed"
    assert epoch_numbers(store, run) == list(range(1, EPOCHS + 1))  # none lost, none twice
    (resubmitted,) = events_of(store, run, "resubmitted")
    assert resubmitted.payload["checkpoint"] == LAST_NAME and resubmitted.payload["epoch"] >= done
    assert (
        resubmitted.message.startswith("attempt 2 on tcp://")
        and "continuing from last.pt" in resubmitted.message
    )
    client.close()


def test_a_run_whose_scheduler_is_killed_is_lost_and_a_retry_completes_it(cluster, fault_store):
    cluster.start_workers(1)
    client = client_of(cluster, 1, START_S)
    run = submit(run_config(EPOCHS), client=client, store=fault_store)
    wait_for(lambda: fault_store.epochs(run), "the first epoch")
    # Paused, the task sits in its worker: the kill lands mid-run whatever the machine's speed.
    control.pause(run, client=client, store=fault_store)
    wait_for(lambda: status_of(fault_store, run) == "paused", "the pause")
    client.close()
    cluster.kill_scheduler()
    # Its worker closes with the scheduler, but only once it stops waiting for the task (30 s): it beats
    # until then, and the run is lost a grace period after its process has gone.
    wait_for(lambda: cluster.alive_nannies() == 0, "the orphaned worker to close", timeout=WORKER_GIVES_UP_S)
    _lost_then_retried_to_the_end(cluster, fault_store, run)
    assert status_path(fault_store, run) == ["running", "paused", "failed", "pending", "running", "completed"]


def test_a_run_whose_scheduler_and_workers_are_killed_is_retried_on_a_new_cluster(cluster, fault_store):
    cluster.start_workers(1)
    client = client_of(cluster, 1, START_S)
    run = submit(run_config(EPOCHS), client=client, store=fault_store)
    wait_for(lambda: fault_store.epochs(run), "the first epoch")
    client.close()
    cluster.kill_scheduler()
    cluster.kill_nannies()
    assert len(fault_store.epochs(run)) < EPOCHS
    _lost_then_retried_to_the_end(cluster, fault_store, run)
    assert status_path(fault_store, run) == ["running", "failed", "pending", "running", "completed"]
