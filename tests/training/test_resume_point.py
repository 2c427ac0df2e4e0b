"""Stop, crash and resume tell one truth (issue 13 defect 10, issue 14's best_only note).

A checkpoint stores the epochs done and the batches done in the next one; its event, the log and the
resume all name that point the same way, and a resume continues from exactly there: every epoch row
in the store once, none lost, none trained twice.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bearing_workbench.store import Store
from bearing_workbench.training.callbacks import Callback, EpochMetrics, FitContext
from bearing_workbench.training.checkpoint import latest_checkpoint, load_checkpoint, resume_point
from bearing_workbench.training.experiment import create_experiment, train_experiment
from tests.training.conftest import make_config

EPOCHS = 4  # of 4 steps each (make_config)


class Started(Callback):
    """Records where a fit starts: each epoch begun and the first batch it runs."""

    def __init__(self) -> None:
        self.epochs: list[int] = []
        self.first_batch: tuple[int, int] | None = None
        self.start_text: str | None = None

    def on_fit_start(self, ctx: FitContext) -> None:
        self.start_text = ctx.where()

    def on_epoch_start(self, ctx: FitContext, epoch: int) -> None:
        self.epochs.append(epoch)

    def on_batch_end(self, ctx: FitContext, batch_index: int, logs: dict[str, float]) -> None:
        if self.first_batch is None:
            self.first_batch = (ctx.epoch, batch_index)


class StopIn(Callback):
    def __init__(self, epoch: int, batch_index: int):
        self.at = (epoch, batch_index)

    def on_batch_end(self, ctx: FitContext, batch_index: int, logs: dict[str, float]) -> None:
        if (ctx.epoch, batch_index) == self.at:
            ctx.request_stop("stopped by the test")


class CrashBefore(Callback):
    """A worker that dies before `epoch` starts (no stop, so no last.pt written for the occasion)."""

    def __init__(self, epoch: int):
        self.epoch = epoch

    def on_epoch_start(self, ctx: FitContext, epoch: int) -> None:
        if epoch == self.epoch:
            raise RuntimeError("worker lost")


@pytest.fixture
def store(tmp_path: Path, tiny_family: str):
    store = Store(workspace=tmp_path / "ws")
    yield store
    store.dispose()


def _rows(store: Store, experiment_id: int) -> list[int]:
    return [row.epoch for row in store.epochs(experiment_id)]


def test_a_stop_mid_epoch_is_saved_during_that_epoch_and_the_resume_continues_it(store, tiny_dataset):
    experiment_id = create_experiment(store, make_config(tiny_dataset, epochs=EPOCHS))
    stopped = train_experiment(store, experiment_id, callbacks=[StopIn(3, 1)])  # after batch 2 of epoch 3
    assert stopped.status == "stopped"

    (last,) = [
        e for e in store.events(experiment_id) if e.kind == "checkpoint" and e.payload["path"] == "last.pt"
    ]
    # Not "after epoch 3": epoch 3 is not done; the event is the checkpoint's own progress.
    assert last.message == "checkpoint saved during epoch 3 (batch 2/4 done)"
    assert (last.payload["epoch"], last.payload["batch"]) == (2, 2)
    progress = load_checkpoint(stopped.out_dir / "last.pt")["progress"]
    assert (progress["epoch"], progress["batch"]) == (2, 2)
    point = resume_point(stopped.out_dir)
    assert point is not None and point.where() == "during epoch 3 (batch 2/4 done)"  # the event's words
    assert _rows(store, experiment_id) == [1, 2]
    (stop,) = [e for e in store.events(experiment_id) if e.kind == "stopped"]
    assert stop.message == "stopped by the test during epoch 3 (batch 2/4 done)"

    started = Started()
    resumed = train_experiment(store, experiment_id, callbacks=[started], resume_from=point.path)
    assert resumed.status == "completed"
    assert started.start_text == "during epoch 3 (batch 2/4 done)"  # what the event said
    assert started.first_batch == (3, 2) and started.epochs == [3, 4]  # epoch 3 from its third batch
    assert _rows(store, experiment_id) == [1, 2, 3, 4]  # each epoch once, none lost


def test_a_stop_after_an_epoch_is_saved_after_it(store, tiny_dataset):
    class StopAfter(Callback):
        def on_epoch_end(self, ctx: FitContext, metrics: EpochMetrics) -> None:
            if metrics.epoch == 2:
                ctx.request_stop("stopped by the test")

    experiment_id = create_experiment(store, make_config(tiny_dataset, epochs=EPOCHS))
    train_experiment(store, experiment_id, callbacks=[StopAfter()])
    (last,) = [
        e for e in store.events(experiment_id) if e.kind == "checkpoint" and e.payload["path"] == "last.pt"
    ]
    assert last.message == "checkpoint saved after epoch 2"
    (stop,) = [e for e in store.events(experiment_id) if e.kind == "stopped"]
    assert stop.message == "stopped by the test after epoch 2"
    assert (last.payload["epoch"], last.payload["batch"]) == (2, 0)
    started = Started()
    train_experiment(
        store,
        experiment_id,
        callbacks=[started],
        resume_from=latest_checkpoint(store.workspace / "experiments" / str(experiment_id)),
    )
    assert started.start_text == "after epoch 2" and started.epochs == [3, 4]
    assert _rows(store, experiment_id) == [1, 2, 3, 4]


def test_best_only_resumes_after_the_last_epoch_not_the_best(store, tiny_dataset):
    """Best epoch 1, crash before epoch 4: the resume starts epoch 4, it does not train 2 and 3 again."""
    config = make_config(
        tiny_dataset,
        epochs=EPOCHS,
        checkpoint={"policy": "best_only", "keep_last": 1},
        # only the first epoch counts as an improvement: best.pt stays at epoch 1
        early_stopping={"enabled": False, "min_delta": 1.0},
    )
    experiment_id = create_experiment(store, config)
    with pytest.raises(RuntimeError, match="worker lost"):
        train_experiment(store, experiment_id, callbacks=[CrashBefore(4)])
    folder = store.workspace / "experiments" / str(experiment_id)
    assert load_checkpoint(folder / "best.pt")["progress"]["epoch"] == 1
    assert _rows(store, experiment_id) == [1, 2, 3]

    started = Started()
    resumed = train_experiment(
        store, experiment_id, callbacks=[started], resume_from=latest_checkpoint(folder)
    )
    assert resumed.status == "completed"
    assert started.epochs == [4] and started.first_batch == (4, 0)
    assert _rows(store, experiment_id) == [1, 2, 3, 4]
    best_events = [e.payload["epoch"] for e in store.events(experiment_id) if e.kind == "best_model"]
    assert best_events == [1]  # epoch 1 was not trained (and found best) a second time
