"""pause / resume / stop / cancel through the cluster, and resubmit after a stop."""

from __future__ import annotations

from bearing_workbench.runner import control
from bearing_workbench.runner.launch import resubmit, submit, task_states
from bearing_workbench.store import InvalidTransition
from bearing_workbench.training.checkpoint import LAST_NAME, latest_checkpoint

from .conftest import epoch_numbers, status_path, tiny_config, wait_for, wait_status

EPOCHS = 40  # long enough (over a second here) that a command always lands before the end


def paused_run(client, store, epochs=EPOCHS, **overrides) -> int:
    """Submit a run, pause it after its first epoch, and wait until it is paused."""
    experiment_id = submit(tiny_config(epochs=epochs, **overrides), client=client, store=store)
    wait_for(lambda: store.epochs(experiment_id), f"the first epoch of experiment {experiment_id}")
    control.pause(experiment_id, client=client, store=store)
    wait_status(store, experiment_id, "paused")
    return experiment_id


def test_pause_resume_stop_then_resubmit(client, store):
    experiment_id = paused_run(client, store)
    folder = store.workspace / "experiments" / str(experiment_id)
    assert (folder / LAST_NAME).is_file()
    rows = len(store.epochs(experiment_id))
    assert len(store.epochs(experiment_id)) == rows  # a paused run writes nothing more
    control.resume(experiment_id, client=client, store=store)
    wait_status(store, experiment_id, "running")
    control.stop(experiment_id, client=client, store=store)
    assert wait_status(store, experiment_id) == "stopped"
    stopped_at = epoch_numbers(store, experiment_id)
    assert stopped_at == list(range(1, len(stopped_at) + 1)) and len(stopped_at) < EPOCHS
    assert latest_checkpoint(folder) == folder / LAST_NAME
    kinds = [e.kind for e in store.events(experiment_id)]
    assert {"paused", "resumed", "stopped"} <= set(kinds)
    try:
        control.pause(experiment_id, client=client, store=store)
    except InvalidTransition as exc:
        assert "stopped" in str(exc)
    else:
        raise AssertionError("a stopped run cannot be paused")

    resubmit(experiment_id, client=client, store=store)
    assert wait_status(store, experiment_id) == "completed"
    assert epoch_numbers(store, experiment_id) == list(range(1, EPOCHS + 1))
    assert status_path(store, experiment_id) == [
        "running",
        "paused",
        "running",
        "stopped",
        "pending",
        "running",
        "completed",
    ]
    (resubmitted,) = [e for e in store.events(experiment_id) if e.kind == "resubmitted"]
    assert resubmitted.payload["checkpoint"] == LAST_NAME
    # One truth: the resubmitted run continues where the stop's checkpoint event (the last of last.pt's:
    # the pause wrote one too) said it was saved.
    saved = [
        e for e in store.events(experiment_id) if e.kind == "checkpoint" and e.payload["path"] == LAST_NAME
    ][-1]
    assert saved.message == f"checkpoint saved {resubmitted.message.split(', ', 1)[1]}"
    assert (resubmitted.payload["epoch"], resubmitted.payload["batch"]) == (
        saved.payload["epoch"],
        saved.payload["batch"],
    )
    assert saved.payload["epoch"] == len(stopped_at)  # the epochs done when it stopped


def test_cancel_a_pending_run(client, store):
    # two paused runs hold both workers: a third one waits on the scheduler
    busy = [paused_run(client, store) for _ in range(2)]
    waiting = submit(tiny_config(epochs=2), client=client, store=store)
    state = wait_for(lambda: task_states(client, [waiting])[waiting], "the scheduler to hold the task")
    assert state in ("queued", "no-worker", "waiting", "processing")
    assert str(store.get_experiment(waiting).status) == "pending"
    control.stop(waiting, client=client, store=store)  # stop of a pending run = cancel
    assert status_path(store, waiting) == ["stopped"]
    wait_for(lambda: task_states(client, [waiting])[waiting] is None, "the cancelled task to be forgotten")
    for experiment_id in busy:
        control.stop(experiment_id, client=client, store=store)
    for experiment_id in busy:
        assert wait_status(store, experiment_id) == "stopped"
    assert str(store.get_experiment(waiting).status) == "stopped"
    assert store.epochs(waiting) == []
