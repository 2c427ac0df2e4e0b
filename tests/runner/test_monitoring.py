"""RunState (the monitor's state folded from progress messages) and the texts a monitor shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bearing_workbench.runner.monitoring import (
    DOWN,
    EVENTS,
    HISTORY,
    PROGRESS,
    RESOURCES,
    SAME,
    STATUS,
    UP,
    LogTail,
    RunState,
    epoch_axis,
    format_bytes,
    format_duration,
    format_metric,
    header,
    local_time,
    resource_lines,
    results_summary,
    trend,
)
from bearing_workbench.store import Store


def epoch(n: int, val_acc: float, status: str = "running", **extra) -> dict:
    return {"kind": "epoch", "status": status, "epoch": n, "total_epochs": 4, "progress": n / 4,
            "train_loss": 1.0 / n, "train_acc": 0.5, "val_loss": 1.0, "val_acc": val_acc, "eta_s": 3.0,
            "extra": extra}  # fmt: skip


def event(kind: str, status: str, event_id: int, **payload) -> dict:
    return {"kind": "event", "status": status, "event_id": event_id, "event_kind": kind,
            "message": f"{kind} happened", "time": 1.0, "payload": payload}  # fmt: skip


def test_messages_fold_into_state_and_say_what_changed():
    state = RunState(7, total_epochs=4)
    assert state.apply(event("status", "running", 1, to="running")) == {EVENTS, STATUS, PROGRESS}
    batch = {"kind": "batch", "status": "running", "epoch": 1, "batch": 2, "steps_per_epoch": 5,
             "progress": 0.15, "train_loss": 0.7, "eta_s": 20.0}  # fmt: skip
    assert state.apply(batch) == {PROGRESS}
    assert state.progress_text() == "epoch 1/4, batch 3/5" and state.eta_text() == "ETA 20 s"
    assert state.apply(epoch(1, 0.5)) == {HISTORY, PROGRESS}
    assert state.apply({**batch, "epoch": 1}) == frozenset()  # a late batch of a finished epoch
    state.apply(epoch(2, 0.75, physics_loss=0.1))
    state.apply(epoch(3, 0.6))
    assert (state.epoch, state.progress, state.best_val_acc, state.best_epoch) == (3, 0.75, 0.75, 2)
    assert state.progress_text() == "epoch 3/4" and state.latest_metrics()["val_acc"] == 0.6
    assert state.curves()["epoch"] == [1, 2, 3] and state.history[1]["extra"] == {"physics_loss": 0.1}
    assert state.apply({"kind": "resources", "status": "running", "cpu_percent": 5.0}) == {RESOURCES}
    assert state.resources == {"cpu_percent": 5.0}
    assert state.apply({"kind": "something new"}) == frozenset() and state.messages == 7


def test_cards_trends_and_the_best_epoch():
    state = RunState(1, total_epochs=4)
    state.apply(epoch(1, 0.5))
    assert [c.trend for c in state.cards()] == [None] * 5  # nothing to compare with yet
    state.apply(epoch(2, 0.4))
    cards = {c.key: c for c in state.cards()}
    assert (cards["train_loss"].trend, cards["train_loss"].improved) == (DOWN, True)
    assert (cards["val_acc"].trend, cards["val_acc"].improved) == (DOWN, False)
    assert (cards["train_acc"].trend, cards["train_acc"].improved) == (SAME, None)
    assert cards["val_acc"].text == "40.0 %" and cards["best_val_acc"].note == "@ epoch 1"


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


def test_header_results_and_log_tail(tmp_path):
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
        "test accuracy": "50.0 %",
        "test macro-F1": "0.4",
        "best epoch": "2 of 2 run",
    }
    assert summary.metrics_path == store.workspace / "experiments" / str(experiment_id) / "metrics.json"

    tail = LogTail.of_experiment(experiment_id, store.workspace, max_lines=2)
    assert not tail.read() and tail.text == ""  # no log yet
    tail.path.parent.mkdir(parents=True)
    tail.path.write_text("a\nb\nc\nhalf")
    assert tail.read() and tail.text == "b\nc"
    with tail.path.open("a") as out:
        out.write(" done\n")
    assert tail.read() and tail.text == "c\nhalf done"
    assert not tail.read()
    store.dispose()
