"""Defects of the training monitor found by a new user (issue 13: 2, 3, 7, 11), each driven in Python."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bearing_workbench.panels import curves
from bearing_workbench.runner.control import RUN, ControlCallback
from bearing_workbench.store import Store
from bearing_workbench.training.callbacks import FitContext

from .test_monitor import (
    NO_SCHEDULER,
    bar_text,
    batch_message,
    curve_lengths,
    epoch_message,
    epoch_values,
    hand_run,
    shown,
)

BATCHES = 5  # the batch trace: after the four curves and the best-epoch star


def test_d2_a_neural_runs_chart_is_labelled_at_once_and_shows_the_batches_of_its_epoch(fresh_store, monitors):
    experiment_id = hand_run(fresh_store, epochs=3)
    monitor = monitors(experiment_id, store=fresh_store, client=NO_SCHEDULER)
    layout = monitor.figure.layout
    # before any epoch has ended: labelled axes over the planned run, and a loss axis already there
    assert (layout.xaxis.title.text, layout.yaxis.title.text, layout.yaxis2.title.text) == (
        "epoch",
        "loss",
        "accuracy",
    )
    assert layout.xaxis.range == (0.5, 3.5) and layout.xaxis.dtick == 1 and layout.yaxis.range == (0, 1)
    assert layout.title.text == "waiting for the first batch"

    for batch in range(3):
        monitor.handle(batch_message(experiment_id, epoch=1, batch=batch, steps=4, total=3))
    monitor.flush()
    batches = monitor.figure.data[BATCHES]
    assert list(batches.x) == pytest.approx([0.25, 0.5, 0.75]) and list(batches.y) == [0.5, 0.5, 0.5]
    assert monitor.figure.layout.title.text == "epoch 1/3 in progress: batch 3/4"

    monitor.handle(epoch_message(experiment_id, 1, total=3))  # the epoch's point takes over
    monitor.flush()
    assert curve_lengths(monitor) == [1, 1, 1, 1] and monitor.figure.data[BATCHES].x == ()
    assert monitor.figure.layout.title.text == ""


def test_d3_one_epoch_convention_on_pause_replayed_and_live(fresh_store, monitors):
    experiment_id = hand_run(fresh_store, epochs=3)
    fresh_store.transition(experiment_id, "pause")
    fresh_store.add_event(experiment_id, "paused", "paused during epoch 1", {"epoch": 1})
    monitor = monitors(experiment_id, store=fresh_store, client=NO_SCHEDULER)
    # replayed: no batch is known, so the bar counts the epochs done ("epoch 0/3" read as epoch 0)
    assert bar_text(monitor) == "0/3 epochs done · paused"
    assert "epoch 0" not in bar_text(monitor)

    monitor.handle(epoch_message(experiment_id, 1, total=3))
    monitor.handle(batch_message(experiment_id, epoch=2, batch=4, steps=10, total=3))
    monitor.flush()
    assert bar_text(monitor).startswith("epoch 2/3, batch 5/10")  # epoch 2 in progress
    monitor.handle(epoch_message(experiment_id, 2, total=3))
    monitor.flush()
    assert bar_text(monitor).startswith("2/3 epochs done")


@pytest.mark.parametrize(
    ("epoch", "done", "batches", "said"),
    [
        (0, 0, 0, "paused before the first epoch"),
        (2, 1, 5, "paused during epoch 2 (batch 5/10 done)"),
        (2, 2, 0, "paused after epoch 2"),
    ],
)
def test_d3_the_pause_event_says_during_or_after_the_epoch(fresh_store: Store, epoch, done, batches, said):
    experiment_id = fresh_store.create_experiment("paused", "cnn1d", {"training": {"epochs": 3}})
    fresh_store.transition(experiment_id, "start")
    ctx = FitContext(None, None)  # type: ignore[arg-type]  # the control reads only the progress
    ctx.epoch, ctx.history, ctx.batches_done, ctx.steps_per_epoch = epoch, [object()] * done, batches, 10
    ctx.request_pause()
    control = ControlCallback(fresh_store, experiment_id, read_command=lambda: RUN, poll_interval_s=0.0)
    control.on_checkpoint(ctx, Path("last.pt"), False)  # the loop checkpointed for the pause
    assert not ctx.pause_requested  # resumed
    events = [e for e in fresh_store.events(experiment_id) if e.kind in ("paused", "resumed")]
    assert [e.message for e in events] == [said, said.replace("paused", "resumed")]
    # the payload is last.pt's progress: epochs done and batches of the next
    assert (events[0].payload["epoch"], events[0].payload["batch"]) == (done, batches)


def test_d7_the_first_point_and_the_star_are_not_clipped_and_epochs_are_whole():
    history = [{"epoch": e, **epoch_values(e)} for e in (1, 2, 3)]
    layout = curves.curves_layout(history)
    assert layout["yaxis"]["range"][1] > max(r["val_loss"] for r in history)  # the first loss, 1.2
    assert layout["yaxis2"]["range"][1] > 1.0  # a 100 % star keeps its top half
    assert all(trace["cliponaxis"] is False for trace in curves.curve_traces(history))
    assert curves.best_epoch_trace(3, 1.0)["cliponaxis"] is False
    assert (layout["xaxis"]["dtick"], layout["xaxis"]["tickformat"]) == (1, "d")  # no 1.5
    assert curves.epoch_axis(40)["dtick"] == 5 and curves.epoch_axis(0) is None


def test_d11_the_results_legend_sits_under_the_chart_where_it_covers_no_point():
    legend = curves.curves_layout()["legend"]
    # above the plot (y 1.12) it wrapped onto the first loss point and the star; under the axis it cannot
    assert legend["y"] < 0 and legend["yanchor"] == "top"


def test_d7_a_finished_run_without_samples_or_log_does_not_say_while_it_trains(fresh_store, monitors):
    # a papermill run: it trained in the notebook's kernel, no resources were sampled, no training.log
    experiment_id = hand_run(fresh_store, epochs=2, done=2)
    fresh_store.transition(experiment_id, "complete")
    monitor = monitors(experiment_id, store=fresh_store, client=NO_SCHEDULER)
    assert "while the run trains" not in monitor.resources_html.value
    assert "none recorded for this run" in monitor.resources_html.value
    monitor.logs_button.click()
    assert "empty so far" not in monitor.log_html.value and "this run wrote nothing" in monitor.log_html.value


def test_d11_retry_says_retrying_at_once_stays_disabled_and_a_second_click_is_harmless(
    fresh_store, monitors, monkeypatch
):
    experiment_id = hand_run(fresh_store, epochs=3, done=1)
    fresh_store.transition(experiment_id, "fail", error="worker lost")
    monitor = monitors(experiment_id, store=fresh_store, client=NO_SCHEDULER)
    assert shown(monitor.retry_button) and not monitor.retry_button.disabled

    calls, release = [], threading.Event()

    def slow_resubmit(experiment, **_):  # importing torch and submitting takes seconds
        calls.append(experiment)
        assert release.wait(60)
        return experiment

    import bearing_workbench.runner.launch as launch

    monkeypatch.setattr(launch, "resubmit", slow_resubmit)
    worker = monitor._on_retry()
    # at once, before the resubmission has answered
    assert monitor.retry_button.disabled and monitor.retry_button.description == "Retrying…"
    assert monitor.notice.startswith("retrying")
    monitor.retry_button.click()  # the impatient second click
    assert monitor._on_retry() is None
    release.set()
    worker.join(60)
    assert calls == [experiment_id]  # resubmitted once
    assert monitor.wait_for(lambda m: m.notice.startswith("resubmitted"), 30)
    monitor.flush()
    assert not monitor.retry_button.disabled and monitor.retry_button.description == "Retry"
