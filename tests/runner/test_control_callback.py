"""ControlCallback and ProgressPublisher in one process, without Dask: the loop obeys the wanted state
read after each batch, and the store's status stays true."""

from __future__ import annotations

import pytest

from bearing_workbench.runner.control import ControlCallback
from bearing_workbench.runner.progress import ProgressPublisher
from bearing_workbench.training.callbacks import Callback
from bearing_workbench.training.checkpoint import LAST_NAME, latest_checkpoint, load_checkpoint
from bearing_workbench.training.experiment import create_experiment, train_experiment

from .conftest import epoch_numbers, status_path, tiny_config

STEPS = 3  # optimisation steps per epoch of tiny_config


class Script:
    """A command reader that answers from a list (the last answer repeats) and records what it saw."""

    def __init__(self, store, experiment_id, answers):
        self.store = store
        self.experiment_id = experiment_id
        self.answers = list(answers)
        self.calls = 0
        self.statuses: list[str] = []

    def __call__(self):
        self.statuses.append(str(self.store.get_experiment(self.experiment_id).status))
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return answer


class Batches(Callback):
    def __init__(self):
        self.seen: list[tuple[int, int]] = []

    def on_batch_end(self, ctx, batch_index, logs):
        self.seen.append((ctx.epoch, batch_index))


def _started(store, epochs=3, **overrides):
    experiment_id = create_experiment(store, tiny_config(epochs=epochs, **overrides))
    store.transition(experiment_id, "start")
    return experiment_id


def _train(store, experiment_id, script, *extra, resume_from=None):
    control = ControlCallback(store, experiment_id, read_command=script, poll_interval_s=0.0)
    return train_experiment(
        store,
        experiment_id,
        callbacks=[*extra, control],
        resume_from=resume_from,
        already_running=True,
    )


def test_stop_takes_effect_after_the_batch_in_progress(store):
    experiment_id = _started(store, epochs=3)
    # reads: fit start, epoch 1 batches 0-2, epoch 2 batch 0 -> stop
    script = Script(store, experiment_id, ["run", "run", "run", "run", "stop"])
    batches = Batches()
    outcome = _train(store, experiment_id, script, batches)
    assert outcome.status == "stopped"
    assert batches.seen == [(1, 0), (1, 1), (1, 2), (2, 0)]  # none after the one that read the stop
    last = outcome.out_dir / LAST_NAME
    assert load_checkpoint(last)["progress"]["epoch"] == 1  # epochs finished
    assert load_checkpoint(last)["progress"]["batch"] == 1  # steps done in epoch 2
    assert latest_checkpoint(outcome.out_dir) == last
    assert status_path(store, experiment_id) == ["running", "stopped"]
    assert epoch_numbers(store, experiment_id) == [1]
    resumed = train_experiment(store, experiment_id, resume_from=latest_checkpoint(outcome.out_dir))
    assert resumed.status == "completed"
    assert epoch_numbers(store, experiment_id) == [1, 2, 3]


def test_pause_checkpoints_waits_then_resumes_with_true_statuses(store):
    experiment_id = _started(store, epochs=3)
    # pause read after epoch 1 batch 0; two reads while paused, then run
    script = Script(store, experiment_id, ["run", "pause", "pause", "pause", "run"])
    outcome = _train(store, experiment_id, script)
    assert outcome.status == "completed"
    # while the callback waited, the store said paused (and the loop had written last.pt)
    assert script.statuses[2:4] == ["paused", "paused"]
    assert (outcome.out_dir / LAST_NAME).is_file()
    assert status_path(store, experiment_id) == ["running", "paused", "running", "completed"]
    kinds = [e.kind for e in store.events(experiment_id)]
    assert kinds.index("paused") < kinds.index("resumed") < kinds.index("completed")
    assert epoch_numbers(store, experiment_id) == [1, 2, 3]
    record = store.get_experiment(experiment_id)
    assert record.duration_s is not None and record.finished_at is not None


def test_already_running_is_checked(store):
    experiment_id = create_experiment(store, tiny_config(epochs=1))
    with pytest.raises(ValueError, match="is pending, not running"):
        train_experiment(store, experiment_id, already_running=True)
    assert status_path(store, experiment_id) == []


def test_stop_while_paused_ends_stopped(store):
    experiment_id = _started(store, epochs=3)
    script = Script(store, experiment_id, ["run", "pause", "pause", "stop"])
    outcome = _train(store, experiment_id, script)
    assert outcome.status == "stopped"
    assert status_path(store, experiment_id) == ["running", "paused", "stopped"]
    assert latest_checkpoint(outcome.out_dir) == outcome.out_dir / LAST_NAME


def test_pause_asked_during_the_last_batch_changes_nothing(store):
    experiment_id = _started(store, epochs=1)
    script = Script(store, experiment_id, ["run", "run", "run", "pause"])  # read after the final batch
    outcome = _train(store, experiment_id, script)
    assert outcome.status == "completed"
    assert status_path(store, experiment_id) == ["running", "completed"]


@pytest.mark.filterwarnings("ignore:pinn. windows")  # the tiny records are short for the PINN's bands
def test_publisher_messages_follow_the_run(store):
    experiment_id = create_experiment(
        store, tiny_config(epochs=3, **{"model.family": "pinn", "model.params": {"filters": 8}})
    )
    sent: list[dict] = []
    publisher = ProgressPublisher(store, experiment_id, emit=sent.append, every_batches=1, min_interval_s=0)
    store.transition(experiment_id, "start")
    outcome = train_experiment(store, experiment_id, callbacks=[publisher], already_running=True)
    assert outcome.status == "completed"
    publisher.flush_events()
    batches = [m for m in sent if m["kind"] == "batch"]
    epochs = [m for m in sent if m["kind"] == "epoch"]
    events = [m for m in sent if m["kind"] == "event"]
    assert [(m["epoch"], m["batch"]) for m in batches] == [(e, b) for e in (1, 2, 3) for b in range(STEPS)]
    progress = [m["progress"] for m in batches]
    assert progress == sorted(progress) and progress[-1] == pytest.approx(1.0)
    assert all(m["eta_s"] >= 0 for m in batches + epochs)
    assert [m["epoch"] for m in epochs] == [1, 2, 3]
    assert "physics_loss" in epochs[0]["extra"]  # family-specific values travel with the epoch
    rows = store.epochs(experiment_id)
    # the best epoch is the one kept as the best model: lowest val loss (training.monitor's default)
    best = min(rows, key=lambda r: (r.val_loss, r.epoch))
    assert epochs[-1]["best_val_acc"] == pytest.approx(best.val_acc)
    assert epochs[-1]["best_epoch"] == best.epoch
    assert [m["event_id"] for m in events] == [e.id for e in store.events(experiment_id)]
    assert events[0]["event_kind"] == "status" and events[0]["status"] == "running"
    assert events[-1]["event_kind"] == "completed" and events[-1]["status"] == "completed"
    assert all(m["experiment_id"] == experiment_id for m in sent)
