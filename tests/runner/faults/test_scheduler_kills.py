"""kill -9 of the scheduler (alone, then with every worker) mid-run: the run is lost; a retry ends it."""

from __future__ import annotations

import pytest

from bearing_workbench.runner import control
from bearing_workbench.runner.launch import LOST_MESSAGE, reconcile, resubmit, submit
from bearing_workbench.training.checkpoint import LAST_NAME

from .conftest import START_S, epoch_numbers, events_of, run_config, status_of, status_path, wait_for
from .processes import client_of

pytestmark = pytest.mark.faults

EPOCHS = 40
# A worker whose scheduler died trains on until its close gives up waiting for the task (30 s).
WORKER_GIVES_UP_S = 90.0


def _restart(cluster, workers: int = 1):
    cluster.start_scheduler()
    cluster.start_workers(workers)
    return client_of(cluster, workers, START_S)


def _retry_to_the_end(cluster, store, run: int, done: int) -> None:
    """Restart the cluster, find the run lost, retry it; it completes every epoch once from its checkpoint."""
    client = _restart(cluster)
    assert run in reconcile(client, store)
    record = store.get_experiment(run)
    assert (str(record.status), record.error) == ("failed", LOST_MESSAGE)
    resubmit(run, client=client, store=store)
    wait_for(lambda: status_of(store, run) in ("completed", "failed", "stopped"), "the retried run's end")
    assert status_of(store, run) == "completed"
    assert epoch_numbers(store, run) == list(range(1, EPOCHS + 1))  # none lost, none twice
    (resubmitted,) = events_of(store, run, "resubmitted")
    assert resubmitted.payload["checkpoint"] == LAST_NAME and resubmitted.payload["epoch"] >= done
    assert resubmitted.message.startswith("continuing from last.pt")
    client.close()


def test_a_run_whose_scheduler_is_killed_is_lost_and_a_retry_completes_it(cluster, fault_store):
    cluster.start_workers(1)
    client = client_of(cluster, 1, START_S)
    run = submit(run_config(EPOCHS), client=client, store=fault_store)
    wait_for(lambda: fault_store.epochs(run), "the first epoch")
    # Paused, the task sits in its worker: the kill lands mid-run whatever the machine's speed.
    control.pause(run, client=client, store=fault_store)
    wait_for(lambda: status_of(fault_store, run) == "paused", "the pause")
    done = len(fault_store.epochs(run))
    client.close()
    cluster.kill_scheduler()

    wait_for(lambda: cluster.alive_nannies() == 0, "the orphaned worker to close", timeout=WORKER_GIVES_UP_S)
    assert epoch_numbers(fault_store, run) == list(range(1, done + 1))
    _retry_to_the_end(cluster, fault_store, run, done)
    assert status_path(fault_store, run) == ["running", "paused", "failed", "pending", "running", "completed"]


def test_a_run_whose_scheduler_and_workers_are_killed_is_retried_on_a_new_cluster(cluster, fault_store):
    cluster.start_workers(1)
    client = client_of(cluster, 1, START_S)
    run = submit(run_config(EPOCHS), client=client, store=fault_store)
    wait_for(lambda: fault_store.epochs(run), "the first epoch")
    client.close()
    cluster.kill_scheduler()
    cluster.kill_nannies()
    done = len(fault_store.epochs(run))
    assert 1 <= done < EPOCHS and epoch_numbers(fault_store, run) == list(range(1, done + 1))

    _retry_to_the_end(cluster, fault_store, run, done)
    assert status_path(fault_store, run) == ["running", "failed", "pending", "running", "completed"]
