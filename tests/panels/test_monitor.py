"""TrainingMonitor: state and widgets driven in Python (messages fed to `handle`, buttons clicked), and
real runs on a LocalCluster followed to completed, paused/resumed/stopped through the buttons, failed."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
import re
import subprocess
import sys
import time
import types

import pytest

from bearing_workbench.config import preset_config
from bearing_workbench.panels import TrainingMonitor
from bearing_workbench.runner.launch import submit
from bearing_workbench.store import NotFoundError, Store, experiment_dir

from .conftest import tiny_config, wait_for

WAIT_S = 90
NO_SCHEDULER = types.SimpleNamespace(status="closed")  # a client that is gone: store polling, no controls


def hand_run(store: Store, epochs: int = 5, done: int = 0, name: str = "hand run") -> int:
    """A running experiment written by hand with `done` finished epochs (no cluster involved)."""
    experiment_id = store.create_experiment(name, "cnn1d", {"training": {"epochs": epochs}})
    store.transition(experiment_id, "start")
    for epoch in range(1, done + 1):
        store.add_epoch(experiment_id, epoch, **epoch_values(epoch))
    return experiment_id


def epoch_values(epoch: int) -> dict[str, float]:
    # losses fall and accuracies rise, except val_acc which dips at epoch 3
    val_acc = 0.5 + 0.1 * epoch - (0.15 if epoch == 3 else 0.0)
    return {
        "train_loss": 1.0 / epoch,
        "train_acc": 0.4 + 0.1 * epoch,
        "val_loss": 1.2 / epoch,
        "val_acc": val_acc,
        "lr": 1e-3,
        "seconds": 0.5,
    }


def epoch_message(experiment_id: int, epoch: int, total: int = 10, **extra) -> dict:
    return {
        "experiment_id": experiment_id,
        "kind": "epoch",
        "status": "running",
        "time": time.time(),
        "message": f"epoch {epoch}/{total}",
        "source": "live",
        "epoch": epoch,
        "total_epochs": total,
        "progress": epoch / total,
        "eta_s": 12.0,
        "extra": {},
        **epoch_values(epoch),
        **extra,
    }


def batch_message(experiment_id: int, epoch: int, batch: int, steps: int, total: int = 10) -> dict:
    return {
        "experiment_id": experiment_id,
        "kind": "batch",
        "status": "running",
        "time": time.time(),
        "message": f"epoch {epoch}, batch {batch + 1}",
        "source": "live",
        "epoch": epoch,
        "total_epochs": total,
        "batch": batch,
        "steps_per_epoch": steps,
        "progress": ((epoch - 1) * steps + batch + 1) / (steps * total),
        "train_loss": 0.5,
        "eta_s": 30.0,
    }


def event_message(experiment_id: int, event_id: int, kind: str, text: str, status: str, **payload) -> dict:
    return {
        "experiment_id": experiment_id,
        "kind": "event",
        "status": status,
        "time": time.time(),
        "message": text,
        "source": "live",
        "event_id": event_id,
        "event_kind": kind,
        "payload": payload,
    }


def shown(widget) -> bool:
    return widget.layout.display != "none"


def csv_of(link_html: str) -> list[dict]:
    href = re.search(r'href="data:text/csv;base64,([^"]+)"', link_html)
    assert href, link_html
    return list(csv.DictReader(io.StringIO(base64.b64decode(href.group(1)).decode())))


def curve_lengths(monitor: TrainingMonitor) -> list[int]:
    return [len(trace.x) for trace in monitor.figure.data[:4]]


def follow_label(monitor: TrainingMonitor) -> str:
    """The header's grey label: how the monitor follows the run, or that the run has ended."""
    found = re.search(r'class="bw-follow-mode[^"]*"[^>]*>([^<]*)<', monitor.title_html.value)
    assert found, monitor.title_html.value
    return found.group(1)


def card_texts(monitor: TrainingMonitor) -> dict[str, tuple[str, str]]:
    """Each card's key -> (value text, note) as drawn."""
    cells = re.findall(
        r'data-key="(\w+)"><div class="bw-card-label">([^<]*)</div>'
        r'<div class="bw-card-value">([^<]*?) ?(?:<span[^>]*>[^<]*</span>)?</div>'
        r'(?:<div class="bw-card-note">([^<]*)</div>)?</div>',
        monitor.cards_html.value,
    )
    return {key: (html.unescape(text), html.unescape(note)) for key, _, text, note in cells}


def bar_text(monitor: TrainingMonitor) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", monitor.progress_label.value)).replace("\xa0", " ").strip()


# -- without a cluster ------------------------------------------------------------------------------


def test_replays_a_completed_run_opened_later_from_a_new_store(fresh_store, monitors):
    experiment_id = hand_run(fresh_store, epochs=4, done=4, name="replayed <run>")
    fresh_store.add_event(experiment_id, "best_model", "new best model at epoch 4", {"epoch": 4})
    fresh_store.set_metrics(
        experiment_id, {"accuracy": 0.91, "macro_f1": 0.875, "best_epoch": 4, "epochs_run": 4}
    )
    fresh_store.transition(experiment_id, "complete")
    fresh_store.add_event(experiment_id, "completed", "completed: test accuracy 0.9100", {"accuracy": 0.91})
    metrics_file = experiment_dir(experiment_id, fresh_store.workspace, create=True) / "metrics.json"
    metrics_file.write_text(json.dumps({"accuracy": 0.91, "macro_f1": 0.875}))

    _, (url, workspace) = fresh_store.__reduce__()  # a new kernel: nothing but the store
    monitor = monitors(experiment_id, store=Store(url, workspace), client=NO_SCHEDULER)

    assert monitor.status == "completed" and monitor.mode == "polling"
    assert (monitor.epoch, monitor.total_epochs, monitor.progress) == (4, 4, 1.0)
    assert monitor.best_epoch == 4 and monitor.best_val_acc == pytest.approx(0.9)
    assert curve_lengths(monitor) == [4, 4, 4, 4]
    assert list(monitor.figure.data[0].y) == pytest.approx([1.0, 0.5, 1 / 3, 0.25])
    assert monitor.figure.layout.xaxis.range == (0.5, 4.5) and monitor.figure.layout.xaxis.dtick == 1
    # a front end attaching now (a reloaded page, a Voila page on a preheated kernel) gets the curves
    full_state = monitor.figure.get_state()
    assert [len(trace["x"]) for trace in full_state["_widget_data"][:4]] == [4, 4, 4, 4]
    assert full_state["_config"]["toImageButtonOptions"]["filename"] == f"experiment-{experiment_id}-curves"
    assert monitor.progress_bar.bar_style == "success" and monitor.progress_bar.value == 1.0
    assert "replayed &lt;run&gt;" in monitor.title_html.value  # names are escaped
    assert follow_label(monitor) == "run ended"  # nothing left to follow, though the mode is polling
    assert "4/4 epochs done" in monitor.progress_label.value and "· done" in bar_text(monitor)
    assert [e["kind"] for e in monitor.events][-2:] == ["status", "completed"]
    rows = csv_of(monitor.csv_link.value)
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]
    assert float(rows[1]["val_acc"]) == pytest.approx(0.7)
    # completed: only View results (and Logs); no pause/stop/retry
    assert shown(monitor.results_button) and monitor.results_button.description == "View results"
    assert not any(shown(b) for b in (monitor.pause_button, monitor.stop_button, monitor.retry_button))
    monitor.results_button.click()
    assert shown(monitor.results_box) and monitor.results_button.description == "Hide results"
    assert "91.0 %" in monitor.results_html.value and "87.5 %" in monitor.results_html.value
    assert str(metrics_file) in monitor.results_html.value
    assert 'download="experiment-' in monitor.metrics_link.value
    monitor.results_button.click()
    assert not shown(monitor.results_box) and monitor.results_button.description == "View results"


def test_a_deferred_figure_arrives_after_the_constructor_with_the_history_drawn(fresh_store, monitors):
    experiment_id = hand_run(fresh_store, epochs=4, done=3)
    monitor = monitors(experiment_id, store=fresh_store, client=NO_SCHEDULER, defer_figure=True)
    # the rest of the monitor is drawn at once; the curves' slot says they are coming
    assert (monitor.epoch, monitor.total_epochs) == (
        3,
        4,
    ) and "3/4 epochs done" in monitor.progress_label.value
    assert monitor.figure_slot in monitor.children
    assert monitor.figure_ready.wait(60)
    assert not monitor.busy.busy  # the kit's busy indicator said "drawing the training curves…" meanwhile
    assert monitor.figure_slot.children[0] is monitor.figure
    assert curve_lengths(monitor) == [3, 3, 3, 3]
    assert list(monitor.figure.data[0].y) == pytest.approx([1.0, 0.5, 1 / 3])
    assert [int(r["epoch"]) for r in csv_of(monitor.csv_link.value)] == [1, 2, 3]


def test_a_family_without_epochs_needs_no_deferred_figure(fresh_store, monitors):
    experiment_id = fresh_store.create_experiment("forest", "classical", {"model": {"family": "classical"}})
    monitor = monitors(experiment_id, store=fresh_store, client=NO_SCHEDULER, defer_figure=True)
    assert monitor.figure_ready.is_set() and monitor.figure is None
    assert monitor.figure_slot.children == (monitor.curves_note,)


def test_unknown_or_bad_experiment_ids_are_refused(fresh_store, monitors):
    with pytest.raises(NotFoundError):
        TrainingMonitor(12345, store=fresh_store, client=NO_SCHEDULER)
    for bad in ("12a", 0, True, 1.5, None):
        with pytest.raises(ValueError, match="experiment_id: must be a positive integer, got"):
            TrainingMonitor(bad, store=fresh_store, client=NO_SCHEDULER)
    experiment_id = hand_run(fresh_store, epochs=2)
    assert (
        monitors(f" {experiment_id} ", store=fresh_store, client=NO_SCHEDULER).experiment_id == experiment_id
    )


def test_messages_update_state_cards_and_curves(fresh_store, monitors):
    experiment_id = hand_run(fresh_store, epochs=10, done=2)
    monitor = monitors(experiment_id, store=fresh_store, client=NO_SCHEDULER)
    assert monitor.status == "running" and curve_lengths(monitor) == [2, 2, 2, 2]
    assert monitor.mode == "polling" and "is marked lost" in monitor.message.value
    assert follow_label(monitor) == "polling"
    assert shown(monitor.pause_button) and shown(monitor.stop_button) and not shown(monitor.retry_button)

    monitor.handle(batch_message(experiment_id, epoch=3, batch=1, steps=4))
    monitor.flush()
    assert (
        "epoch 3/10, batch 2/4" in monitor.progress_label.value and "ETA 30 s" in monitor.progress_label.value
    )
    assert monitor.progress == pytest.approx((2 * 4 + 2) / 40)

    monitor.handle(epoch_message(experiment_id, 3))
    monitor.flush()
    assert monitor.epoch == 3 and curve_lengths(monitor) == [3, 3, 3, 3]
    assert monitor.metrics["val_acc"] == pytest.approx(0.65)
    cards = {
        key: html for key, html in re.findall(r'data-key="(\w+)"(.*?)</div></div>', monitor.cards_html.value)
    }
    assert "&#9660;" in cards["train_loss"] and "bw-good" in cards["train_loss"]  # loss down: good news
    assert "&#9650;" in cards["train_acc"] and "bw-good" in cards["train_acc"]
    assert "&#9660;" in cards["val_acc"] and "bw-bad" in cards["val_acc"]  # accuracy down: bad news
    # the best epoch is the one kept as the best model: lowest val loss (the default monitor), named so
    assert "@ epoch 3 · best by val loss" in monitor.cards_html.value
    assert monitor.best_epoch == 3

    monitor.handle({"kind": "resources", "status": "running", "cpu_percent": 63.0, "cpu_count": 2,
                    "ram_used": 3 * 2**30, "ram_total": 24 * 2**30, "ram_percent": 12.5,
                    "disk_read_bytes_per_s": 2048.0, "disk_write_bytes_per_s": None, "process_rss": 2**30,
                    "gpus": [], "gpu_status": "no GPU"})  # fmt: skip
    monitor.flush()
    text = monitor.resources_html.value
    assert (
        "no GPU" in text
        and "63 % of 2 cores" in text
        and "3.0 GiB / 24.0 GiB" in text
        and "2.0 KiB/s" in text
    )

    gpu = {"index": 0, "name": "H200", "utilization_percent": 87.0, "memory_used": 10 * 2**30}
    gpu["memory_total"] = 140 * 2**30
    monitor.handle({"kind": "resources", "status": "running", "cpu_percent": 10.0, "gpus": [gpu]})
    monitor.flush()
    assert "GPU 0 (H200)" in monitor.resources_html.value and "87 % busy" in monitor.resources_html.value
    assert "no GPU" not in monitor.resources_html.value

    # a paused run offers Resume; the recent events keep the last 10
    for i in range(12):
        monitor.handle(event_message(experiment_id, 1000 + i, "checkpoint", f"checkpoint {i}", "running"))
    monitor.handle(
        event_message(experiment_id, 2000, "status", "pause: running -> paused", "paused", to="paused")
    )
    monitor.flush()
    assert monitor.status == "paused" and monitor.pause_button.description == "Resume"
    assert monitor.progress_bar.bar_style == "warning" and "paused" in monitor.progress_label.value
    assert len(monitor.events) == 10 and monitor.events[-1]["kind"] == "status"
    assert monitor.events_html.value.count("<div") == 10
    assert "checkpoint 2" not in monitor.events_html.value and "checkpoint 3" in monitor.events_html.value


def test_a_flood_of_messages_is_drawn_a_few_times_with_the_right_final_state(fresh_store, monitors):
    experiment_id = hand_run(fresh_store, epochs=10)
    monitor = monitors(experiment_id, store=fresh_store, client=NO_SCHEDULER)
    # No redraw by time during the flood (the interval outlasts any machine's load): what is counted
    # below is the coalescing, not how fast this machine feeds messages.
    monitor._redraw.interval_s = 3600.0
    renders, redraws, replayed = monitor.renders, monitor.redraws, monitor.messages
    steps, fed = 200, 0
    for epoch in range(1, 11):
        for batch in range(steps):
            monitor.handle(batch_message(experiment_id, epoch, batch, steps))
            fed += 1
        monitor.handle(epoch_message(experiment_id, epoch))
        fed += 1
    assert fed == 2010 and monitor.messages == replayed + fed
    monitor.flush()  # the trailing redraw, now
    drawn = monitor.renders - renders
    assert 1 <= drawn <= 2, f"{drawn} renders for {fed} messages"  # a leading run at most, then the flush
    assert 1 <= monitor.redraws - redraws <= 2
    assert monitor._redraw.requests >= fed  # every message asked; the coalescer merged them
    assert curve_lengths(monitor) == [10] * 4 and list(monitor.figure.data[0].x) == list(range(1, 11))
    assert (monitor.epoch, monitor.progress) == (10, 1.0)
    assert "10/10 epochs done" in monitor.progress_label.value and "batch" not in monitor.progress_label.value
    assert len(csv_of(monitor.csv_link.value)) == 10


def test_messages_from_many_threads_at_once(fresh_store, monitors):
    import threading

    experiment_id = hand_run(fresh_store, epochs=8)
    monitor = monitors(experiment_id, store=fresh_store, client=NO_SCHEDULER)

    def feed(epochs):
        for epoch in epochs:
            for batch in range(50):
                monitor.handle(batch_message(experiment_id, epoch, batch, 50, total=8))
            monitor.handle(epoch_message(experiment_id, epoch, total=8))

    threads = [threading.Thread(target=feed, args=(range(k, 9, 4),)) for k in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    monitor.flush()
    # epochs arrived out of order across threads: the curves are in epoch order all the same
    assert list(monitor.figure.data[1].x) == list(range(1, 9))
    assert list(monitor.figure.data[1].y) == pytest.approx([1.2 / e for e in range(1, 9)])
    assert monitor.epoch == 8


def test_failed_run_shows_red_bar_error_hint_and_retry(fresh_store, monitors):
    experiment_id = hand_run(fresh_store, epochs=5, done=1)
    monitor = monitors(experiment_id, store=fresh_store, client=NO_SCHEDULER)
    assert not shown(monitor.error_box)
    monitor.handle(
        event_message(experiment_id, 900, "status", "fail: running -> failed", "failed", to="failed")
    )
    monitor.handle(
        event_message(
            experiment_id,
            901,
            "failed",
            "the training loss became nan in epoch 2, batch 3",
            "failed",
            hint="lower the learning rate (current 0.5)",
        )  # fmt: skip
    )
    monitor.flush()
    assert monitor.status == "failed" and monitor.progress_bar.bar_style == "danger"
    assert monitor.error == "the training loss became nan in epoch 2, batch 3"
    assert monitor.hint == "lower the learning rate (current 0.5)"
    assert shown(monitor.error_box) and "lower the learning rate (current 0.5)" in monitor.error_box.value
    assert all(shown(b) for b in (monitor.logs_button, monitor.retry_button, monitor.results_button))
    assert monitor.results_button.description == "Results"
    assert not shown(monitor.pause_button) and not shown(monitor.stop_button)
    assert "failed" in monitor.progress_label.value
    monitor.results_button.click()
    assert "no test metrics stored" in monitor.results_html.value


def test_stop_asks_for_confirmation_and_controls_say_why_they_cannot_act(fresh_store, monitors):
    experiment_id = hand_run(fresh_store, epochs=5, done=1)
    monitor = monitors(experiment_id, store=fresh_store, client=NO_SCHEDULER)
    monitor.stop_button.click()
    assert shown(monitor.confirm) and "checkpoint" in monitor.confirm.question_html.value
    monitor.confirm.cancel_button.click()
    assert not shown(monitor.confirm) and monitor.notice == ""
    monitor.stop_button.click()
    monitor.confirm.confirm_button.click()  # no scheduler reachable: nothing is sent, the notice says why
    monitor.flush()
    assert "no Dask scheduler is reachable" in monitor.notice and "cannot stop" in monitor.message.value
    assert monitor.status == "running" and not monitor.stop_button.disabled
    monitor.pause_button.click()
    assert "cannot pause" in monitor.notice


def test_log_viewer_follows_the_log_as_messages_arrive(fresh_store, monitors):
    experiment_id = hand_run(fresh_store, epochs=5)
    log_file = experiment_dir(experiment_id, fresh_store.workspace, create=True) / "training.log"
    log_file.write_text("line one <b>\nline two\n")
    monitor = monitors(experiment_id, store=fresh_store, client=NO_SCHEDULER)
    assert not shown(monitor.log_box)
    monitor.logs_button.click()
    assert shown(monitor.log_box) and monitor.logs_button.description == "Hide logs"
    assert "line one &lt;b&gt;" in monitor.log_html.value and "line two" in monitor.log_html.value
    with log_file.open("a") as out:
        out.write("epoch 1/5: train_loss 0.9\npartial li")
    monitor.handle(epoch_message(experiment_id, 1, total=5))  # the run's messages drive the reads
    monitor.flush()
    assert (
        "epoch 1/5: train_loss 0.9" in monitor.log_html.value and "partial li" not in monitor.log_html.value
    )
    monitor.logs_button.click()
    assert not shown(monitor.log_box)


def test_close_stops_following(fresh_store):
    experiment_id = hand_run(fresh_store, epochs=3)
    monitor = TrainingMonitor(experiment_id, store=fresh_store, client=NO_SCHEDULER)
    follower = monitor._follower
    monitor.close()
    assert follower.mode == "closed" and monitor._redraw.closed
    monitor.handle(epoch_message(experiment_id, 1, total=3))  # ignored once closed
    assert monitor.epoch == 0
    monitor.close()  # twice is fine


def classical_run(store: Store) -> int:
    """A running random-forest experiment written by hand, as `train_experiment` writes one."""
    config = {"model": {"family": "classical", "params": {"cv_folds": 3}}, "training": {"epochs": 3}}
    experiment_id = store.create_experiment("forest", "classical", config)
    store.transition(experiment_id, "start")
    for fraction, text in ((0.0, "computing features"), (0.5, "features: 15/15 windows")):
        store.add_event(experiment_id, "progress", text, {"fraction": fraction})
    return experiment_id


def test_a_family_without_epochs_shows_phases_results_and_no_curves(fresh_store, monitors):
    experiment_id = classical_run(fresh_store)
    monitor = monitors(experiment_id, store=fresh_store, client=NO_SCHEDULER)
    assert monitor.total_epochs == 0 and monitor.progress == 0.5
    assert bar_text(monitor) == "features: 15/15 windows (50 %) · ETA —"  # replayed from the store
    assert monitor.figure is None and monitor.figure_slot.children == (monitor.curves_note,)
    assert "No training curves for classical models" in monitor.curves_note.value
    assert card_texts(monitor) == {
        key: ("—", "when the run completes")
        for key in ("cv_accuracy", "val_accuracy", "accuracy", "macro_f1")
    }
    assert shown(monitor.pause_button) and shown(monitor.stop_button)
    monitor.handle({"kind": "batch", "status": "running", "time": time.time(), "progress": 0.6167,
                    "eta_s": 4.0, "epoch": None, "total_epochs": None,
                    "message": "cross-validation fold 2/3", "source": "live"})  # fmt: skip
    monitor.flush()
    assert bar_text(monitor) == "cross-validation fold 2/3 (62 %) · ETA 4.0 s"
    assert "epoch" not in bar_text(monitor) and "TrainingMonitor" in repr(monitor)

    # the run ends as train_experiment ends one: artifacts, metrics, status, event; the store is followed
    folder = experiment_dir(experiment_id, fresh_store.workspace, create=True)
    (folder / "model_summary.json").write_text(
        json.dumps(
            {"family": "classical", "cv_folds": 3, "cv_accuracy_mean": 0.9444, "cv_accuracy_std": 0.0393}
        )
    )
    fresh_store.add_event(experiment_id, "progress", "cross-validation fold 3/3", {"fraction": 0.733})
    fresh_store.add_event(experiment_id, "progress", "done", {"fraction": 1.0})
    fresh_store.set_metrics(experiment_id, {"accuracy": 0.98, "macro_f1": 0.9756, "val_accuracy": 0.9167})
    fresh_store.transition(experiment_id, "complete")
    fresh_store.add_event(experiment_id, "completed", "completed: test accuracy 0.9800", {"accuracy": 0.98})
    assert monitor.wait_for(lambda m: m.status == "completed", WAIT_S)
    wait_for(lambda: monitor.flush() or "cv_accuracy" in monitor.metrics, "the stored results")
    monitor.flush()
    assert (
        bar_text(monitor) == "cross-validation fold 3/3 · done"
        and monitor.progress_bar.bar_style == "success"
    )
    assert card_texts(monitor) == {
        "cv_accuracy": ("94.4 %", "± 3.9 % · 3 folds"),
        "val_accuracy": ("91.7 %", "validation split"),
        "accuracy": ("98.0 %", "test split"),
        "macro_f1": ("97.6 %", "test split"),
    }
    assert monitor.metrics["accuracy"] == 0.98 and follow_label(monitor) == "run ended"
    assert not shown(monitor.pause_button) and shown(monitor.results_button)
    monitor.results_button.click()
    assert "94.4 % ± 3.9 % (3 folds)" in monitor.results_html.value


# -- real runs on a LocalCluster ----------------------------------------------------------------------


def test_follows_a_real_run_to_completed_then_replays_it(client, store, monitors):
    experiment_id = submit(tiny_config(epochs=3), client=client, store=store)
    monitor = monitors(experiment_id, store=store, client=client)
    assert monitor.mode == "live"
    assert monitor.wait_for(lambda m: m.status == "completed", WAIT_S), monitor.status
    wait_for(lambda: monitor.flush() or monitor.progress_bar.bar_style == "success", "the green bar")
    stored = store.epochs(experiment_id)
    assert [e.epoch for e in stored] == [1, 2, 3]
    assert curve_lengths(monitor) == [3, 3, 3, 3]
    assert list(monitor.figure.data[2].y) == pytest.approx([e.train_acc for e in stored])
    assert {"running", "completed"} <= {e["status"] for e in monitor.events}
    assert shown(monitor.results_button) and monitor.results_button.description == "View results"
    monitor.results_button.click()
    accuracy = store.get_experiment(experiment_id).metrics["accuracy"]
    assert (
        f"{100 * accuracy:.1f} %" in monitor.results_html.value
        and "metrics.json" in monitor.results_html.value
    )
    assert "application/json;base64" in monitor.metrics_link.value
    monitor.logs_button.click()
    assert "fit started" in monitor.log_html.value

    # opened again later from another store object (a restarted kernel): the same picture from the store
    _, (url, workspace) = store.__reduce__()
    late = monitors(experiment_id, store=Store(url, workspace), client=client)
    assert late.status == "completed" and curve_lengths(late) == [3, 3, 3, 3]
    assert list(late.figure.data[3].y) == list(monitor.figure.data[3].y)
    assert late.best_epoch == monitor.best_epoch and late.progress_bar.bar_style == "success"


def test_pause_resume_stop_and_retry_through_the_buttons(client, store, monitors):
    epochs = 60  # long enough (tens of seconds) that every click lands before the end, even on a fast machine
    experiment_id = submit(tiny_config(epochs=epochs), client=client, store=store)
    monitor = monitors(experiment_id, store=store, client=client)
    assert monitor.wait_for(lambda m: m.status == "running" and m.epoch >= 1, WAIT_S)

    monitor.pause_button.click()
    monitor.flush()
    with monitor._lock:  # one consistent look: the run may answer at any moment
        asked = "pause asked" in monitor.notice and monitor.pause_button.disabled
        assert asked or monitor.status == "paused", (monitor.notice, monitor.status)
    assert monitor.wait_for(lambda m: m.status == "paused", WAIT_S)
    monitor.flush()
    assert monitor.pause_button.description == "Resume" and not monitor.pause_button.disabled
    epochs_when_paused = monitor.epoch

    monitor.pause_button.click()
    assert monitor.wait_for(lambda m: m.status == "running", WAIT_S)
    monitor.stop_button.click()
    assert (
        str(store.get_experiment(experiment_id).status) == "running"
    )  # nothing sent before the confirmation
    monitor.confirm.confirm_button.click()
    assert monitor.wait_for(lambda m: m.status == "stopped", WAIT_S)
    monitor.flush()
    assert monitor.progress_bar.bar_style == "warning" and shown(monitor.retry_button)
    assert not shown(monitor.pause_button) and not shown(monitor.stop_button)
    assert epochs_when_paused <= monitor.epoch < epochs
    kinds = [e.kind for e in store.events(experiment_id)]
    assert {"paused", "resumed", "stopped"} <= set(kinds)

    monitor.retry_button.click()  # continues from the stop's checkpoint
    assert monitor.wait_for(lambda m: m.status == "completed", WAIT_S), monitor.status
    monitor.flush()
    assert curve_lengths(monitor) == [epochs] * 4 and monitor.progress_bar.bar_style == "success"
    assert [e.epoch for e in store.epochs(experiment_id)] == list(range(1, epochs + 1))


def test_a_run_that_fails_at_train_time_shows_its_hint(client, store, monitors):
    # resnet1d starting from the weights of an experiment that has none: fails when the model is built
    no_weights = store.create_experiment("no weights", "resnet1d", {"training": {"epochs": 1}})
    config = preset_config(
        "quick",
        "resnet1d",
        "tiny",
        {
            "data.window": None,
            "training.epochs": 2,
            "training.batch_size": 1,
            "model.params.init_from_experiment": no_weights,
        },
    )
    experiment_id = submit(config, client=client, store=store)
    monitor = monitors(experiment_id, store=store, client=client)
    assert monitor.wait_for(lambda m: m.status == "failed", WAIT_S), monitor.status
    wait_for(lambda: monitor.flush() or shown(monitor.error_box), "the error box")
    record = store.get_experiment(experiment_id)
    assert monitor.error == record.error and "no best checkpoint" in monitor.error
    assert monitor.hint == record.hint == "choose a completed experiment of the same family"
    assert "choose a completed experiment of the same family" in monitor.error_box.value
    assert monitor.progress_bar.bar_style == "danger"
    assert shown(monitor.retry_button) and shown(monitor.logs_button) and shown(monitor.results_button)
    monitor.logs_button.click()
    assert "run ended with an error" in monitor.log_html.value


CLASSICAL_DATASET = "tiny-classical"


@pytest.fixture(scope="module")
def classical_dataset(store: Store) -> str:
    """5 records of 0.5 s per class in the runner's workspace: 3 training records per class with the split
    below, enough for 2 cross-validation folds (the runner's tiny dataset has 1)."""
    from bearing_workbench.data.generator import GeneratorConfig, generate_dataset
    from bearing_workbench.data.registration import register_dataset

    from ..runner.conftest import CLASSES

    path = generate_dataset(
        store.workspace / "datasets" / f"{CLASSICAL_DATASET}.h5",
        GeneratorConfig(per_class=5, duration_s=0.5, classes=CLASSES, seed=7),
        workers=1,
    )
    register_dataset(store, path, name=CLASSICAL_DATASET)
    return CLASSICAL_DATASET


def test_follows_a_real_classical_run_to_completed(client, store, classical_dataset, monitors):
    values = {"data.window": None, "model.params.n_estimators": 10, "model.params.cv_folds": 2,
              "data.split": {"train": 60.0, "val": 20.0, "test": 20.0}}  # fmt: skip
    config = preset_config("quick", "classical", classical_dataset, values)
    assert config["training"]["epochs"] == 3  # the preset's epochs, meaningless for a forest
    experiment_id = submit(config, client=client, store=store)
    monitor = monitors(experiment_id, store=store, client=client)
    assert monitor.mode == "live" and monitor.figure is None
    assert monitor.figure_slot.children == (monitor.curves_note,)
    assert monitor.wait_for(lambda m: m.status == "completed", WAIT_S), monitor.status
    wait_for(lambda: monitor.flush() or "cv_accuracy" in monitor.metrics, "the stored results")
    monitor.flush()

    record = store.get_experiment(experiment_id)
    summary = json.loads((experiment_dir(experiment_id, store.workspace) / "model_summary.json").read_text())
    assert bar_text(monitor) == "cross-validation fold 2/2 · done" and monitor.progress == 1.0
    assert monitor.progress_bar.bar_style == "success" and monitor.total_epochs == 0
    cards = card_texts(monitor)
    assert list(cards) == ["cv_accuracy", "val_accuracy", "accuracy", "macro_f1"]
    assert cards["accuracy"] == (f"{100 * record.metrics['accuracy']:.1f} %", "test split")
    assert cards["macro_f1"][0] == f"{100 * record.metrics['macro_f1']:.1f} %"
    assert cards["val_accuracy"][0] == f"{100 * record.metrics['val_accuracy']:.1f} %"
    assert cards["cv_accuracy"][0] == f"{100 * summary['cv_accuracy_mean']:.1f} %"
    assert cards["cv_accuracy"][1].endswith("2 folds")
    assert follow_label(monitor) == "run ended" and monitor.mode == "live"
    assert "progress" in {e["kind"] for e in monitor.events}

    # opened again later from another store object (a restarted kernel): the same picture from the store
    _, (url, workspace) = store.__reduce__()
    late = monitors(experiment_id, store=Store(url, workspace), client=client)
    assert bar_text(late) == bar_text(monitor) and card_texts(late) == cards
    assert late.figure is None and follow_label(late) == "run ended"


@pytest.mark.slow
def test_opening_a_monitor_imports_neither_torch_nor_starts_a_cluster(fresh_store):
    experiment_id = hand_run(fresh_store, epochs=3, done=3)
    _, (url, workspace) = fresh_store.__reduce__()
    code = (
        "import sys\n"
        "from bearing_workbench.panels import TrainingMonitor\n"
        "from bearing_workbench.store import Store\n"
        f"monitor = TrainingMonitor({experiment_id}, store=Store({url!r}, {str(workspace)!r}))\n"
        "assert len(monitor.figure.data[0].x) == 3, monitor.figure.data[0].x\n"
        "print(monitor.mode, 'torch' in sys.modules)\n"
        "monitor.close()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "BEARING_WORKBENCH_SCHEDULER"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["polling", "False"]


def test_a_front_end_attaching_gets_the_monitor_as_it_is_now(fresh_store, monitors):
    experiment_id = hand_run(fresh_store, epochs=4)
    monitor = monitors(experiment_id, store=fresh_store, client=NO_SCHEDULER)
    monitor._redraw.interval_s = 3600.0  # nothing is redrawn by time: only the connection draws
    monitor.handle(epoch_message(experiment_id, 1, total=4))
    assert "1/4 epochs done" not in monitor.progress_label.value  # received, not drawn yet
    sent = []
    monitor.progress_label.send_state = lambda key=None: sent.append((key, monitor.progress_label.value))
    # what the page's anchor hears when a Voila page (or a reloaded notebook) has drawn it
    monitor.anchor._on_browser_message(monitor.anchor, {"type": "connected"}, [])
    full = [value for key, value in sent if key is None]  # the whole state, not one changed trait
    assert monitor.connects == 1 and len(full) == 1 and "1/4 epochs done" in full[0]
    assert curve_lengths(monitor) == [1, 1, 1, 1]
