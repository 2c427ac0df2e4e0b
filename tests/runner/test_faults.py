"""Faults: a worker killed mid-run, and runs whose task the scheduler no longer knows."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

from sqlalchemy import update

from bearing_workbench.runner import control
from bearing_workbench.runner.control import task_key
from bearing_workbench.runner.launch import LOST_MESSAGE, reconcile, resubmit, submit
from bearing_workbench.store.status import lost_hint, lost_reason
from bearing_workbench.store.tables import ExperimentRow, utcnow
from bearing_workbench.training.checkpoint import LAST_NAME
from bearing_workbench.training.experiment import create_experiment

from .conftest import epoch_numbers, status_path, tiny_config, wait_for, wait_status
from .test_control import EPOCHS, paused_run


def _worker_running(client, key: str) -> str | None:
    for address, keys in client.processing().items():
        if key in keys:
            return address
    return None


def test_a_killed_worker_is_replaced_and_the_run_resumes_from_its_checkpoint(client, store):
    # Paused, the run sits mid-epoch in the worker's memory with last.pt written: a fixed point to kill at.
    experiment_id = paused_run(client, store)
    before = epoch_numbers(store, experiment_id)
    address = wait_for(lambda: _worker_running(client, task_key(experiment_id)), "the task's worker")
    pid = client.run(os.getpid, workers=[address])[address]
    os.kill(pid, signal.SIGKILL)

    retry = wait_for(
        lambda: [e for e in store.events(experiment_id) if e.kind == "retry"], "the task to run again"
    )[0]
    assert retry.payload["checkpoint"] == LAST_NAME
    assert retry.payload["worker"] != address
    # the wanted state is still "pause": the new attempt pauses again, then is resumed
    wait_status(store, experiment_id, "paused")
    control.resume(experiment_id, client=client, store=store)
    assert wait_status(store, experiment_id) == "completed"

    assert epoch_numbers(store, experiment_id) == list(range(1, EPOCHS + 1))
    assert before == list(range(1, len(before) + 1))
    assert status_path(store, experiment_id) == [
        "running",
        "paused",
        "running",
        "paused",
        "running",
        "completed",
    ]
    wait_for(lambda: len(client.scheduler_info()["workers"]) == 2, "the nanny to restart the worker")


def test_a_worker_killed_while_computing_loses_no_epoch(client, store):
    experiment_id = submit(tiny_config(epochs=EPOCHS), client=client, store=store)
    address = wait_for(lambda: _worker_running(client, task_key(experiment_id)), "the task's worker")
    wait_for(lambda: len(store.epochs(experiment_id)) >= 2, "two epochs")
    os.kill(client.run(os.getpid, workers=[address])[address], signal.SIGKILL)

    assert wait_status(store, experiment_id) == "completed"
    retries = [e for e in store.events(experiment_id) if e.kind == "retry"]
    assert len(retries) == 1  # killed mid-run (the run is far from its end after two epochs)
    assert retries[0].payload["checkpoint"] is not None  # resumed from a checkpoint, not the start
    # status tells the truth: the run's worker is the one it ran on last, as the retry event says
    record = store.get_experiment(experiment_id)
    assert record.worker == retries[0].payload["worker"] != address
    assert record.attempt == retries[0].payload["attempt"] == 2
    assert epoch_numbers(store, experiment_id) == list(range(1, EPOCHS + 1))
    assert status_path(store, experiment_id) == ["running", "completed"]
    wait_for(lambda: len(client.scheduler_info()["workers"]) == 2, "the nanny to restart the worker")


def _unended(store) -> set[int]:
    return {e.id for e in store.list_experiments(status=["running", "paused", "pending"], limit=None)}


def _silent_since(store, experiment_id: int, **ago: float) -> None:
    """Make the run look as if its worker had stopped answering `ago` (timedelta keywords) ago."""
    with store.transaction() as session:
        session.execute(
            update(ExperimentRow)
            .where(ExperimentRow.id == experiment_id)
            .values(heartbeat_at=utcnow() - timedelta(**ago), created_at=utcnow() - timedelta(**ago))
        )


def test_reconcile_marks_silent_runs_lost_and_resubmit_resumes_them(client, store):
    # The session's store is shared: earlier tests leave runs reconcile rightly finds (pending rows never
    # submitted; runs of test_cli_runs' own scheduler). They may be returned too; this test's are decided.
    earlier = _unended(store)
    live = paused_run(client, store)  # a real run whose worker beats: left alone
    lost = create_experiment(store, tiny_config(epochs=2))
    store.transition(lost, "start")  # running in the store, but no worker anywhere...
    _silent_since(store, lost, hours=2)  # ...and silent for two hours
    orphan = create_experiment(store, tiny_config(epochs=2))  # pending, its task on no scheduler
    _silent_since(store, orphan, hours=2)
    found = reconcile(client, store)
    assert lost in found and orphan in found and live not in found
    assert set(found) - {lost, orphan} <= earlier, "reconcile returned a run created during this test"
    record = store.get_experiment(lost)
    assert str(record.status) == "failed" and record.error == lost_reason(0) and record.hint == lost_hint(0)
    assert [e.message for e in store.events(lost) if e.kind == "lost"] == [lost_reason(0)]
    assert store.get_experiment(orphan).error == LOST_MESSAGE
    assert str(store.get_experiment(live).status) == "paused"
    again = reconcile(client, store)
    assert not {lost, orphan, live} & set(again) and set(again) <= earlier  # marked once

    resubmit(lost, client=client, store=store)
    assert wait_status(store, lost) == "completed"
    assert epoch_numbers(store, lost) == [1, 2]
    assert status_path(store, lost) == ["running", "failed", "pending", "running", "completed"]
    assert store.get_experiment(lost).attempt == 2
    control.stop(live, client=client, store=store)
    assert wait_status(store, live) == "stopped"
