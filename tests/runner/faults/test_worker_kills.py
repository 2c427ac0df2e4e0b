"""kill -9 of a worker process mid-epoch, alone and among ten concurrent runs: the runs go on elsewhere."""

from __future__ import annotations

import os

import pytest

from bearing_workbench.runner.control import task_key
from bearing_workbench.runner.launch import submit
from bearing_workbench.training.checkpoint import LAST_NAME

from .conftest import SLOW, START_S, epoch_numbers, events_of, run_config, status_of, status_path, wait_for
from .processes import client_of

pytestmark = pytest.mark.faults


def _worker_of(client, experiment_id: int) -> str | None:
    """The address of the worker computing the run's task, None while none is."""
    key = task_key(experiment_id)
    return next((address for address, keys in client.processing().items() if key in keys), None)


def _kill_worker_of(cluster, client, experiment_id: int) -> str:
    address = wait_for(lambda: _worker_of(client, experiment_id), f"run {experiment_id} on a worker")
    cluster.kill_pid(client.run(os.getpid, workers=[address])[address])
    return address


def test_a_worker_killed_mid_epoch_is_replaced_and_the_run_completes_every_epoch_once(cluster, fault_store):
    cluster.start_workers(2)
    client = client_of(cluster, 2, START_S)
    epochs = 12
    run = submit(run_config(epochs, SLOW), client=client, store=fault_store)
    wait_for(lambda: len(fault_store.epochs(run)) >= 2, "two epochs stored")
    killed = _kill_worker_of(cluster, client, run)

    assert wait_for(lambda: status_of(fault_store, run) in ("completed", "failed", "stopped"), "the end")
    assert status_of(fault_store, run) == "completed"
    assert epoch_numbers(fault_store, run) == list(range(1, epochs + 1))  # none lost, none twice
    assert status_path(fault_store, run) == ["running", "completed"]
    (retry,) = events_of(fault_store, run, "retry")
    assert retry.payload["checkpoint"] == LAST_NAME and retry.payload["epoch"] >= 2
    assert retry.payload["worker"] not in (None, killed)
    # what the user reads in the monitor's and the CLI's events
    new_worker = retry.payload["worker"]
    assert retry.message.startswith(f"its worker was lost; attempt 2 continues on {new_worker} from last.pt")
    # status tells the truth: the worker the run is on now, the attempt it is
    record = fault_store.get_experiment(run)
    assert (record.worker, record.attempt, retry.payload["previous_worker"]) == (new_worker, 2, killed)
    assert cluster.alive_nannies() == 2  # the nanny restarted its worker rather than dying with it
    client.close()


def test_ten_concurrent_runs_survive_a_worker_killed_among_them(cluster, fault_store):
    cluster.start_workers(2)
    client = client_of(cluster, 2, START_S)
    epochs = 6
    runs = [submit(run_config(epochs), client=client, store=fault_store) for _ in range(10)]
    wait_for(lambda: sum(1 for r in runs if fault_store.epochs(r)) >= 3, "three runs under way")

    def training() -> int | None:
        on_worker = (r for r in runs if _worker_of(client, r) and status_of(fault_store, r) == "running")
        return next(on_worker, None)

    victim = wait_for(training, "a run training on a worker")
    _kill_worker_of(cluster, client, victim)

    def ended() -> bool:
        return all(status_of(fault_store, r) in ("completed", "failed", "stopped") for r in runs)

    wait_for(ended, "all ten runs to end", timeout=150)
    assert {r: status_of(fault_store, r) for r in runs} == dict.fromkeys(runs, "completed")
    for run in runs:
        assert epoch_numbers(fault_store, run) == list(range(1, epochs + 1)), f"run {run}"
        assert status_path(fault_store, run) == ["running", "completed"], f"run {run}"
    retried = [r for r in runs if events_of(fault_store, r, "retry")]
    assert victim in retried  # the run it was training went on elsewhere
    for run in retried:
        (retry,) = events_of(fault_store, run, "retry")
        assert retry.message.startswith("its worker was lost; attempt 2 continues on")
        assert fault_store.get_experiment(run).worker == retry.payload["worker"]
    client.close()
