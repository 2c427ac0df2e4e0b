"""RunState (the monitor's state folded from progress messages) and the texts a monitor shows."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from bearing_workbench.analysis.format import duration as format_duration
from bearing_workbench.analysis.format import local_time
from bearing_workbench.analysis.format import metric_value as format_metric
from bearing_workbench.analysis.format import size as format_bytes
from bearing_workbench.analysis.run_info import best_epoch, best_epochs, monitor_of
from bearing_workbench.analysis.run_state import (
    ERROR,
    EVENTS,
    HISTORY,
    PROGRESS,
    RESOURCES,
    RESULTS,
    STATUS,
    RunState,
)
from bearing_workbench.analysis.run_texts import (
    DOWN,
    SAME,
    TOTAL_TIME_LABEL,
    UP,
    cross_validation,
    epoch_axis,
    header,
    model_summary,
    resource_lines,
    results_summary,
    stored_results,
    trains_by_epoch,
    trend,
)
from bearing_workbench.store import Store
from bearing_workbench.store.artifacts import ExperimentFolder


def epoch(n: int, val_acc: float, status: str = "running", **extra) -> dict:
    return {"kind": "epoch", "status": status, "epoch": n, "total_epochs": 4, "progress": n / 4,
            "train_loss": 1.0 / n, "train_acc": 0.5, "val_loss": 1.0, "val_acc": val_acc, "eta_s": 3.0,
            "extra": extra}  # fmt: skip


def event(kind: str, status: str, event_id: int, **payload) -> dict:
    return {"kind": "event", "status": status, "event_id": event_id, "event_kind": kind,
            "message": f"{kind} happened", "time": 1.0, "payload": payload}  # fmt: skip


def test_messages_fold_into_state_and_say_what_changed():
    state = RunState(7, total_epochs=4, monitor="val_accuracy")
    assert state.apply(event("status", "running", 1, to="running")) == {EVENTS, STATUS, PROGRESS}
    batch = {"kind": "batch", "status": "running", "epoch": 1, "batch": 2, "steps_per_epoch": 5,
             "progress": 0.15, "train_loss": 0.7, "eta_s": 20.0}  # fmt: skip
    assert state.apply(batch) == {PROGRESS}
    assert state.progress_text() == "epoch 1/4, batch 3/5" and state.eta_text() == "ETA 20 s"
    info = state.info()  # what the monitor renders: the same texts, and the batch's loss while it runs
    assert (info.progress_text, info.eta_text, info.batch_loss) == ("epoch 1/4, batch 3/5", "ETA 20 s", 0.7)
    assert state.apply(epoch(1, 0.5)) == {HISTORY, PROGRESS}
    assert (state.info().progress_text, state.info().batch_loss) == ("1/4 epochs done", None)
    assert state.apply({**batch, "epoch": 1}) == frozenset()  # a late batch of a finished epoch
    state.apply(epoch(2, 0.75, physics_loss=0.1))
    state.apply(epoch(3, 0.6))
    assert (state.epoch, state.progress, state.best_val_acc, state.best_epoch) == (3, 0.75, 0.75, 2)
    assert state.progress_text() == "3/4 epochs done" and state.latest_metrics()["val_acc"] == 0.6
    assert state.curves()["epoch"] == [1, 2, 3] and state.history[1]["extra"] == {"physics_loss": 0.1}
    assert state.apply({"kind": "resources", "status": "running", "cpu_percent": 5.0}) == {RESOURCES}
    assert state.resources == {"cpu_percent": 5.0}
    assert state.apply({"kind": "something new"}) == frozenset() and state.messages == 7


def test_cards_trends_and_the_best_epoch():
    state = RunState(1, total_epochs=4, monitor="val_accuracy")
    state.apply(epoch(1, 0.5))
    assert [c.trend for c in state.cards()] == [None] * 5  # nothing to compare with yet
    state.apply(epoch(2, 0.4))
    cards = {c.key: c for c in state.cards()}
    assert (cards["train_loss"].trend, cards["train_loss"].improved) == (DOWN, True)
    assert (cards["val_acc"].trend, cards["val_acc"].improved) == (DOWN, False)
    assert (cards["train_acc"].trend, cards["train_acc"].improved) == (SAME, None)
    assert cards["val_acc"].text == "40.0 %"
    assert cards["best_val_acc"].note == "@ epoch 1 · best by val accuracy"


def test_the_best_epoch_is_the_one_kept_as_the_best_model_and_says_what_chose_it():
    # Defect 10: the card picked the highest val accuracy while the saved model is chosen by val loss.
    state = RunState(1, total_epochs=4)  # training.monitor's default: val_loss
    for n, (acc, loss) in enumerate([(0.5, 0.9), (0.8, 0.7), (0.7, 0.4)], 1):
        state.apply({**epoch(n, acc), "val_loss": loss})
    assert (state.best_epoch, state.best_val_acc) == (3, 0.7)
    card = {c.key: c for c in state.cards()}["best_val_acc"]
    assert card.label == "val accuracy at the best epoch (window level)"
    assert card.note == "@ epoch 3 · best by val loss" and card.text == "70.0 %"
    info = state.info()
    assert (info.best_epoch, info.best_label) == (3, "best by val loss") and info.curves["epoch"] == (1, 2, 3)
    with pytest.raises(TypeError):
        info.curves["epoch"] = ()  # type: ignore[index]  # a snapshot: it does not change under a view
    assert best_epoch([{"epoch": 1, "train_loss": 2.0}, {"epoch": 2, "train_loss": 1.0}]) == 2  # no val split
    rows = [{"epoch": 1, "val_loss": 0.9}, {"epoch": 2, "val_loss": 1.1}, {"epoch": 3, "val_loss": 0.4}]
    assert best_epochs(rows) == [1, 1, 3] and best_epochs(rows, "val_accuracy") == [None, None, None]
    assert monitor_of({"training": {"monitor": "val_accuracy"}}) == "val_accuracy"
    assert monitor_of({}) == "val_loss"
    with pytest.raises(ValueError, match="training.monitor"):
        RunState(1, monitor="f1")


def test_a_repeated_or_late_epoch_keeps_epoch_order_and_asks_for_a_rebuild():
    state = RunState(1, total_epochs=4)
    state.apply(epoch(1, 0.5))
    state.apply(epoch(3, 0.7))
    assert state.history_version == 0
    state.apply(epoch(2, 0.6))
    state.apply(epoch(3, 0.8))  # a retried worker sent epoch 3 again
    assert [r["epoch"] for r in state.history] == [1, 2, 3] and state.history[-1]["val_acc"] == 0.8
    assert state.history_version == 2


def test_final_status_only_moves_with_an_event():
    state = RunState(1, total_epochs=4)
    state.apply(event("status", "running", 1, to="running"))
    state.apply(event("failed", "failed", 2, hint="lower the learning rate"))
    assert (state.status, state.error, state.hint) == ("failed", "failed happened", "lower the learning rate")
    assert state.finished and state.eta_text() == "failed"
    # a live message sent before the end, arriving after the replayed end, does not revive the run
    assert STATUS not in state.apply({"kind": "resources", "status": "running"})
    late_batch = {"kind": "batch", "status": "running", "epoch": 1, "batch": 0, "progress": 0.9, "eta_s": 9.0}
    assert state.apply(late_batch) == frozenset()
    assert (state.status, state.progress, state.batch) == ("failed", 0.0, None)
    assert state.apply(event("status", "pending", 3, to="pending")) >= {STATUS}  # retried
    assert (state.error, state.hint, state.eta_text()) == (None, None, "waiting for a worker")
    state.apply(event("status", "completed", 4, to="completed"))
    assert state.progress == 1.0 and state.eta_text() == "done"


def test_a_lost_run_says_so_and_a_retry_clears_it():
    state = RunState(1, total_epochs=4)
    state.apply(event("status", "running", 1, to="running"))
    state.apply(epoch(1, 0.5))
    state.apply(event("status", "failed", 2, to="failed", action="lose"))
    hint = "retry resumes it from its last checkpoint, after epoch 1"
    lost = {**event("lost", "failed", 3, epoch=1, hint=hint),
            "message": "lost: its worker or scheduler stopped answering after epoch 1"}  # fmt: skip
    assert ERROR in state.apply(lost)
    info = state.info()
    assert info.lost and info.finished and info.status == "failed"
    assert info.error == "lost: its worker or scheduler stopped answering after epoch 1"
    assert info.hint == hint
    state.apply(event("status", "pending", 4, to="pending"))  # retried
    assert not state.info().lost and state.info().error is None


def test_an_unreachable_scheduler_is_a_note_with_the_moment_the_run_will_be_lost():
    state = RunState(1, total_epochs=4)
    state.apply(event("status", "running", 1, to="running"))
    assert state.info().connection_note is None
    since, lost_at = 1_764_684_120.0, 1_764_684_180.0
    gone = {"kind": "connection", "scheduler": "unreachable", "since": since, "lost_at": lost_at,
            "status": "running"}  # fmt: skip
    assert state.apply(gone) == {STATUS}
    assert state.info().connection_note == (
        f"scheduler unreachable since {local_time(since)}; "
        f"the run will be marked lost at {local_time(lost_at)}"
    )
    state.apply(event("status", "failed", 2, to="failed"))  # marked lost: no promise left to make
    assert state.info().connection_note == f"scheduler unreachable since {local_time(since)}"
    state.apply({"kind": "connection", "scheduler": "reachable", "status": "failed"})
    assert state.info().connection_note is None


def test_events_keep_the_latest_ten():
    state = RunState(1, max_events=10)
    for i in range(15):
        state.apply(event("checkpoint", "running", i))
    assert [e["event_id"] for e in state.events] == list(range(5, 15))
    with pytest.raises(ValueError, match="max_events"):
        RunState(1, max_events=0)
    with pytest.raises(TypeError, match="must be a dict"):
        state.apply(["epoch"])


def test_epoch_axis_shows_the_planned_run_in_whole_epochs():
    assert epoch_axis(0) is None
    assert epoch_axis(4) == ([0.5, 4.5], 1)
    assert epoch_axis(40) == ([0.5, 40.5], 5)
    assert epoch_axis(300, last_epoch=310) == ([0.5, 310.5], 50)


def test_texts():
    assert [format_duration(s) for s in (None, 3.21, 42, 185, 7620)] == [
        "—",
        "3.2 s",
        "42 s",
        "3 min 05 s",
        "2 h 07 min",
    ]
    assert [format_bytes(b) for b in (None, 512, 3 * 2**20, 23.5 * 2**30)] == [
        "—",
        "512 B",
        "3.0 MiB",
        "23.5 GiB",
    ]
    assert format_metric("val_acc", 0.9763) == "97.6 %" and format_metric("val_loss", 0.123456) == "0.1235"
    assert format_metric("val_loss", float("inf")) == "—"
    assert format_metric("macro_f1", 1.0) == "100.0 %" and format_metric("macro_f1", 0.97564) == "97.6 %"
    assert (trend(2, 1), trend(1, 2), trend(1, 1), trend(None, 1)) == (UP, DOWN, SAME, None)


def test_resource_lines_with_and_without_a_gpu():
    assert "no sample yet" in resource_lines(None)[0][1]
    sample = {"gpus": [], "gpu_status": "no GPU", "cpu_percent": 50.0, "cpu_count": 2, "ram_used": 2**30,
              "ram_total": 4 * 2**30, "ram_percent": 25.0, "disk_read_bytes_per_s": None}  # fmt: skip
    cpu_only = dict(resource_lines(sample))
    assert cpu_only == {"GPU": "no GPU", "CPU": "50 % of 2 cores", "RAM": "1.0 GiB / 4.0 GiB (25 %)",
                        "disk I/O": "not available here"}  # fmt: skip
    gpu = {
        "index": 1,
        "name": "A100",
        "utilization_percent": None,
        "memory_used": 2**30,
        "memory_total": 2**32,
    }
    lines = dict(resource_lines({"gpus": [gpu], "gpu_status": "ok", "time": 1.7e9}))
    assert lines["sampled at"] == local_time(1.7e9)
    assert lines["GPU 1 (A100)"] == "utilisation n/a, memory 1.0 GiB / 4.0 GiB" and "GPU" not in lines


def test_header_and_results(tmp_path):
    store = Store(workspace=tmp_path)
    experiment_id = store.create_experiment("run a", "cnn1d", {"training": {"epochs": 2}})
    record = store.get_experiment(experiment_id)
    assert header(record)["started"] == "not yet" and header(record)["elapsed"] == "—"
    record = store.transition(experiment_id, "start")
    later = record.running_since + timedelta(seconds=75)
    assert header(record, later)["elapsed"] == "1 min 15 s"
    assert header(record, datetime.now(UTC))["name"] == "run a"

    summary = results_summary(record, store.workspace)
    assert summary.lines[0][1].startswith("no test metrics stored") and not summary.has_metrics_file
    store.set_metrics(experiment_id, {"accuracy": 0.5, "macro_f1": 0.4, "best_epoch": 2, "epochs_run": 2})
    summary = results_summary(store.get_experiment(experiment_id), store.workspace)
    assert dict(summary.lines) == {
        "test accuracy (record level)": "50.0 %",
        "test macro-F1": "40.0 %",
        "best epoch": "2 of 2 run",
    }
    assert summary.metrics_path == store.workspace / "experiments" / str(experiment_id) / "metrics.json"
    # Defect 10: a resumed run's train_seconds is its last attempt only; the store's run time is all of it
    store.set_metrics(experiment_id, {"accuracy": 0.5, "train_seconds": 41.0})
    resumed = dataclasses.replace(store.get_experiment(experiment_id), duration_s=63.0)
    assert dict(results_summary(resumed, store.workspace).lines)[TOTAL_TIME_LABEL] == "1 min 03 s"
    unfinished = dataclasses.replace(resumed, duration_s=None)
    assert dict(results_summary(unfinished, store.workspace).lines)[TOTAL_TIME_LABEL] == "41 s"

    store.dispose()


# -- families not trained in epochs (classical, ensemble) ---------------------------------------------


def fit_batch(fraction: float, text: str, status: str = "running") -> dict:
    """A live progress message of a fit without epochs (`ProgressPublisher.on_progress`)."""
    return {"kind": "batch", "status": status, "progress": fraction, "eta_s": 2.0, "epoch": None,
            "total_epochs": None, "message": text, "time": 5.0}  # fmt: skip


def fit_event(fraction: float, text: str, event_id: int) -> dict:
    """The store's copy of one (`StoreRecorder.on_progress`), as replayed."""
    return {**event("progress", "running", event_id, fraction=fraction), "message": text}


def test_a_fit_without_epochs_shows_its_phase_and_result_cards_not_epochs():
    state = RunState(3, total_epochs=3, epoch_based=False)  # the config's training.epochs means nothing
    assert state.total_epochs == 0 and state.progress_text() == "0 %"
    state.apply(event("status", "running", 1, to="running"))
    assert state.apply(fit_event(0.5, "features: 15/15 windows", 2)) == {EVENTS, PROGRESS}  # replayed
    assert state.progress_text() == "features: 15/15 windows (50 %)" and state.eta_text() == "ETA —"
    assert state.apply(fit_batch(0.6167, "cross-validation fold 2/3")) == {PROGRESS}  # live
    assert state.progress_text() == "cross-validation fold 2/3 (62 %)" and state.eta_text() == "ETA 2.0 s"
    assert "epoch" not in state.progress_text()
    cards = state.cards()
    assert [c.key for c in cards] == ["cv_accuracy", "val_accuracy", "accuracy", "macro_f1"]
    assert {c.text for c in cards} == {"—"} and {c.note for c in cards} == {"when the run completes"}
    for i, (fraction, text) in enumerate(
        [(0.733, "cross-validation fold 3/3"), (0.85, "fitting on the training split"), (1.0, "done")]
    ):
        state.apply(fit_event(fraction, text, 3 + i))
    assert state.progress_text() == "done (100 %)"
    state.apply(event("status", "completed", 10, to="completed"))
    changed = state.apply(
        {**event("completed", "completed", 11, accuracy=0.98, macro_f1=0.975), "message": "completed"}
    )
    assert RESULTS in changed
    # once completed: what the fit went through, not "done" twice nor "epoch 0/3"
    assert (state.progress_text(), state.eta_text(), state.progress) == (
        "cross-validation fold 3/3",
        "done",
        1.0,
    )
    cards = {c.key: c for c in state.cards()}
    assert (cards["accuracy"].text, cards["accuracy"].note) == ("98.0 %", "test split")
    assert cards["macro_f1"].text == "97.5 %" and cards["cv_accuracy"].text == "—"
    assert state.latest_metrics() == {"accuracy": 0.98, "macro_f1": 0.975}
    assert state.apply(fit_batch(0.9, "ranking features")) == frozenset()  # late: the fit has ended
    assert state.progress_text() == "cross-validation fold 3/3"

    # the stored results have the last word; a value the run did not report loses its card
    stored = {"accuracy": 0.98, "macro_f1": 0.975, "val_accuracy": None, "cv_accuracy": 0.9444,
              "cv_accuracy_std": 0.0393, "cv_folds": 3.0}  # fmt: skip
    assert state.set_results(stored) and not state.set_results(stored)
    cards = {c.key: c for c in state.cards()}
    assert list(cards) == ["cv_accuracy", "accuracy", "macro_f1"]  # no validation split
    assert (cards["cv_accuracy"].text, cards["cv_accuracy"].note) == ("94.4 %", "± 3.9 % · 3 folds")
    assert state.set_results({"cv_accuracy": None})  # a completed run that stored no metrics at all
    assert [(c.text, c.note) for c in state.cards()] == [("—", "not stored")]


def test_a_fit_without_epochs_that_fails_says_where_and_starts_over_when_retried():
    state = RunState(4, epoch_based=False)
    state.apply(event("status", "running", 1, to="running"))
    state.apply(fit_batch(0.41, "features: 12/15 windows"))
    state.apply(event("status", "failed", 2, to="failed"))
    assert (state.progress_text(), state.eta_text()) == ("features: 12/15 windows (41 %)", "failed")
    assert {c.note for c in state.cards()} == {"none: the run failed"} and state.latest_metrics() == {}
    assert RESULTS in state.apply(event("status", "pending", 3, to="pending"))  # retried: no checkpoint
    assert (state.progress, state.progress_text(), state.eta_text()) == (0.0, "0 %", "waiting for a worker")
    assert state.phase_message == state.counted_message == ""


def test_progress_events_do_not_move_an_epoch_run():
    state = RunState(5, total_epochs=4)
    state.apply(epoch(1, 0.5))
    assert state.apply(fit_event(0.9, "fitting", 2)) == {EVENTS}
    assert (state.progress, state.progress_text()) == (0.25, "1/4 epochs done")
    assert [c.key for c in state.cards()][-1] == "best_val_acc"


def test_which_families_train_by_epoch_comes_from_the_registry():
    from bearing_workbench.models import get_family, list_families

    assert not trains_by_epoch("classical") and not trains_by_epoch("ensemble")
    assert trains_by_epoch("cnn1d") and trains_by_epoch("pinn")
    for name in list_families():  # a family registered tomorrow is covered the day it is registered
        assert trains_by_epoch(name) is get_family(name).epoch_based
    assert trains_by_epoch("a family of a newer version")  # shown as epochs: whatever it stores


def test_stored_results_read_metrics_and_the_model_summary(tmp_path):
    store = Store(workspace=tmp_path)
    experiment_id = store.create_experiment("rf", "classical", {"model": {"family": "classical"}})
    record = store.get_experiment(experiment_id)
    assert model_summary(experiment_id, tmp_path) == {}  # no folder yet
    assert stored_results(record, tmp_path) == {
        "accuracy": None,
        "macro_f1": None,
        "val_accuracy": None,
        "cv_accuracy": None,
    }
    store.set_metrics(experiment_id, {"accuracy": 0.98, "macro_f1": 0.97, "val_accuracy": 0.9})
    path = ExperimentFolder.of(experiment_id, tmp_path).create().model_summary
    path.write_text(json.dumps({"cv_folds": 3, "cv_scores": [0.9, 1.0, 0.95], "cv_accuracy_mean": 0.95,
                                "cv_accuracy_std": 0.0408}))  # fmt: skip
    record = store.get_experiment(experiment_id)
    assert stored_results(record, tmp_path) == {"accuracy": 0.98, "macro_f1": 0.97, "val_accuracy": 0.9,
                                                "cv_accuracy": 0.95, "cv_accuracy_std": 0.0408,
                                                "cv_folds": 3.0}  # fmt: skip
    lines = dict(results_summary(record, tmp_path).lines)
    assert (
        lines["cross-validation accuracy"] == "95.0 % ± 4.1 % (3 folds)"
        and lines["test accuracy (record level)"] == "98.0 %"
    )
    # an ensemble: its stacking meta-learner's CV on the validation split; soft voting has none
    assert cross_validation({"stacking_cv_val_accuracy": 0.9}) == {"cv_accuracy": 0.9}
    assert cross_validation({"stacking_cv_val_accuracy": None, "val_accuracy": 0.9}) == {}
    for broken in ("{not json", "[1, 2]", ""):
        path.write_text(broken)
        assert model_summary(experiment_id, tmp_path) == {}
        assert stored_results(record, tmp_path)["cv_accuracy"] is None
    store.dispose()
