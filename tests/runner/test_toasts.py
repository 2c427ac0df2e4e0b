"""What a toast says about a run: notices from run-end events, and the below-baseline warning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bearing_workbench.analysis.results import Baseline
from bearing_workbench.runner.run_end_hooks import run_end_event
from bearing_workbench.runner.toasts import (
    below_baseline_notice,
    best_classical,
    notice,
    results_link,
    run_end_notice,
    run_end_notices,
    started_notice,
)
from bearing_workbench.store import Store, experiment_dir


def test_a_completed_run_says_its_test_scores_and_links_to_its_results() -> None:
    event = run_end_event(
        12,
        "completed",
        name="cnn1d-quick-tiny",
        metrics={"accuracy": 0.9761, "macro_f1": 0.9749},
        duration_s=75,
    )
    made = run_end_notice(event)
    assert made == {
        "kind": "completed",
        "title": "#12 cnn1d-quick-tiny completed",
        "text": "test accuracy 97.6 %, macro-F1 97.5 % after 1 min 15 s",
        "link": "results.ipynb?experiment=12",
        "link_text": "Open the results",
        "experiment_id": 12,
    }
    assert results_link(12) == made["link"]
    bare = run_end_notice(run_end_event(3, "completed"))
    assert bare["title"] == "Experiment #3 completed" and "no test metrics" in bare["text"]


def test_a_failed_run_says_its_error_and_hint_and_links_to_its_monitor() -> None:
    event = run_end_event(
        4, "failed", name="lr too high", error="the training loss became nan in epoch 2", hint="lower the lr"
    )
    made = run_end_notice(event)
    assert made["kind"] == "failed" and made["title"] == "#4 lr too high failed"
    assert made["text"] == "the training loss became nan in epoch 2. Hint: lower the lr"
    assert made["link"] == "monitor.ipynb?experiment=4"
    assert run_end_notice(run_end_event(4, "failed"))["text"] == "no error message was stored"
    stopped = run_end_notice(run_end_event(5, "stopped", duration_s=3.0))
    assert stopped["kind"] == "stopped" and "after 3.0 s" in stopped["text"] and "Retry" in stopped["text"]


def test_bad_kinds_and_statuses_are_named() -> None:
    with pytest.raises(ValueError, match="kind must be one of started, completed"):
        notice("done", "t", "x")
    with pytest.raises(
        ValueError, match="event status must be one of completed, failed, stopped, got 'running'"
    ):
        run_end_notice({"experiment_id": 1, "status": "running"})
    assert notice("warning", "t", "x")["link"] is None  # no experiment, no link
    assert notice("completed", "t", "x", "elsewhere.ipynb", link_text="Go")["link_text"] == "Go"


def test_started_notice_links_to_the_monitor() -> None:
    made = started_notice(7, "my run", "resumed")
    assert made["kind"] == "started" and made["title"] == "#7 my run resumed"
    assert made["link"] == "monitor.ipynb?experiment=7" and "background" in made["text"]


def baseline(label: str, experiment_id: int, accuracy: float | None, name: str = "forest") -> Baseline:
    return Baseline(label, experiment_id, name, "classical", accuracy, None)


def test_below_the_best_classical_model_is_a_warning() -> None:
    event = run_end_event(9, "completed", name="weak", metrics={"accuracy": 0.80})
    found = [
        baseline("best previous overall", 3, 0.99, "transformer"),
        baseline("best classical / best earlier classical", 2, 0.95),
    ]
    warning = below_baseline_notice(event, found)
    assert warning is not None and warning["kind"] == "warning"
    assert warning["title"] == "#9 weak: below the baseline"
    assert warning["text"] == (
        "test accuracy 80.0 % is 15.0 points below the best classical model's 95.0 % (#2 forest)"
    )
    assert warning["link"] == "results.ipynb?experiment=9"

    # level with it, above it, or only other baselines: no warning
    assert below_baseline_notice(run_end_event(9, "completed", metrics={"accuracy": 0.95}), found) is None
    assert below_baseline_notice(run_end_event(9, "completed", metrics={"accuracy": 0.97}), found) is None
    assert below_baseline_notice(event, found[:1]) is None
    assert below_baseline_notice(run_end_event(9, "failed"), found) is None
    assert below_baseline_notice(run_end_event(9, "completed"), found) is None  # no accuracy
    # the classical run itself, or one without an accuracy, is no baseline
    assert best_classical([baseline("best classical", 9, 0.99)], experiment_id=9) is None
    assert best_classical([baseline("best classical", 2, None)]) is None


def hand_completed(store: Store, name: str, family: str, accuracy: float) -> int:
    """A completed experiment written by hand: its store row and its metrics.json."""
    experiment_id = store.create_experiment(name, family, {"training": {"epochs": 1}})
    store.transition(experiment_id, "start")
    metrics = {"accuracy": accuracy, "macro_f1": accuracy}
    store.set_metrics(experiment_id, metrics)
    store.transition(experiment_id, "complete")
    folder = experiment_dir(experiment_id, store.workspace, create=True)
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return experiment_id


def test_run_end_notices_read_the_baselines_from_the_store(tmp_path: Path) -> None:
    store = Store(workspace=tmp_path)
    try:
        forest = hand_completed(store, "forest", "classical", 0.95)
        weak = hand_completed(store, "weak cnn", "cnn1d", 0.80)
        strong = hand_completed(store, "strong cnn", "cnn1d", 0.99)
        record = store.get_experiment(weak)
        event = run_end_event(weak, "completed", name=record.name, metrics=record.metrics)
        made = run_end_notices(event, store)
        assert [n["kind"] for n in made] == ["completed", "warning"]
        assert f"(#{forest} forest)" in made[1]["text"]
        assert [n["kind"] for n in run_end_notices(event)] == ["completed"]  # no store: no baseline check
        good = store.get_experiment(strong)
        assert [
            n["kind"]
            for n in run_end_notices(run_end_event(strong, "completed", metrics=good.metrics), store)
        ] == ["completed"]
        # the baseline itself (no other classical model) and a run whose results are gone: no warning
        assert (
            len(run_end_notices(run_end_event(forest, "completed", metrics={"accuracy": 0.95}), store)) == 1
        )
        (experiment_dir(weak, store.workspace) / "metrics.json").unlink()
        assert [n["kind"] for n in run_end_notices(event, store)] == ["completed"]
    finally:
        store.dispose()
