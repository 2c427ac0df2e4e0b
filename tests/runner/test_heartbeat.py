"""A running task's heartbeat (`runner.heartbeat`), without a cluster: it beats from its own thread,
learns when the run was taken from its attempt, and the task then ends without writing a word."""

from __future__ import annotations

import pytest

from bearing_workbench.runner.heartbeat import Heartbeat, RunSuperseded
from bearing_workbench.runner.task import run_experiment
from bearing_workbench.training.callbacks import Callback
from bearing_workbench.training.experiment import create_experiment

from .conftest import tiny_config, wait_for


def _running(store) -> int:
    experiment = create_experiment(store, tiny_config(epochs=2))
    store.transition(experiment, "start", worker="tcp://10.0.0.1:4000")
    return experiment


def test_it_beats_from_its_own_thread_until_stopped(store):
    experiment = _running(store)
    first = store.get_experiment(experiment).heartbeat_at
    heartbeat = Heartbeat(store, experiment, attempt=1, interval_s=0.05).start()
    try:
        wait_for(lambda: store.get_experiment(experiment).heartbeat_at > first, "a heartbeat")
    finally:
        heartbeat.stop()
    assert not heartbeat.superseded.is_set()
    heartbeat.on_batch_end(None, 0, {})  # still its run: training goes on


def test_a_run_taken_from_its_attempt_stops_that_attempt(store):
    experiment = _running(store)
    heartbeat = Heartbeat(store, experiment, attempt=1, interval_s=0.05).start()
    try:
        store.claim_run(experiment, "tcp://10.0.0.2:4000")  # Dask gave it to another worker
        assert heartbeat.superseded.wait(timeout=60)
    finally:
        heartbeat.stop()
    with pytest.raises(RunSuperseded):
        heartbeat.on_batch_end(None, 0, {})
    with pytest.raises(RunSuperseded):
        heartbeat.on_epoch_start(None, 2)


def test_the_default_interval_is_the_setting(store, monkeypatch):
    monkeypatch.setenv("BEARING_WORKBENCH_HEARTBEAT_S", "2.5")
    assert Heartbeat(store, _running(store), attempt=1).interval_s == 2.5


class _TakenAfterTheFirstEpoch(Callback):
    """Another attempt takes the run after epoch 1, and this one learns it at once."""

    def on_epoch_end(self, ctx, metrics):
        raise RunSuperseded("taken over")


def test_a_superseded_task_ends_quietly_leaving_the_run_to_its_new_attempt(store):
    experiment = create_experiment(store, tiny_config(epochs=3))
    outcome = run_experiment(experiment, str(store.workspace), None, callbacks=[_TakenAfterTheFirstEpoch()])
    assert outcome == {"experiment_id": experiment, "status": "superseded", "error": None}
    record = store.get_experiment(experiment)
    assert str(record.status) == "running" and record.error is None  # not failed, not stopped by it
    kinds = [e.kind for e in store.events(experiment)]
    assert not {"failed", "stopped", "completed"} & set(kinds)
