"""Evaluations of stored models as background jobs on a real LocalCluster: progress comes back live, the
evaluation lands in the store, refused input is the future's exception and stores nothing."""

from __future__ import annotations

import threading

import pytest

from bearing_workbench.runner import submit
from bearing_workbench.runner.evaluations import evaluation_topic, submit_evaluation, submit_robustness
from bearing_workbench.store.evaluation_status import EvaluationStatus
from bearing_workbench.training.sources import PredictionInputError

from .conftest import DATASET, tiny_config, wait_status


@pytest.fixture(scope="module")
def completed_run(client, store) -> int:
    experiment_id = submit(tiny_config(epochs=1, name="evaluated-run"), client=client, store=store)
    assert wait_status(store, experiment_id) == "completed"
    return experiment_id


def _follow() -> tuple[list[tuple[float, str]], threading.Event, object]:
    steps: list[tuple[float, str]] = []
    ended = threading.Event()

    def on_progress(fraction: float, message: str) -> None:
        steps.append((fraction, message))
        if fraction >= 1.0:
            ended.set()

    return steps, ended, on_progress


def test_an_evaluation_runs_on_a_worker_with_live_progress(client, store, completed_run: int) -> None:
    steps, ended, on_progress = _follow()
    future = submit_evaluation(
        completed_run, DATASET, split="test", store=store, client=client, on_progress=on_progress
    )
    evaluation = future.result(timeout=180)
    record = store.get_evaluation(evaluation)
    assert (record.experiment_id, record.kind, record.dataset, record.split, record.status) == (
        completed_run,
        "dataset",
        DATASET,
        "test",
        EvaluationStatus.COMPLETED,
    )
    assert record.result["n_records"] == 3  # one test record per class
    assert ended.wait(30), steps  # the last events come through the scheduler, apart from the result
    fractions = [f for f, _ in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert f"evaluation {evaluation} stored" in [m for _, m in steps]
    assert evaluation_topic(completed_run) == f"evaluation-{completed_run}"


def test_a_robustness_sweep_runs_on_a_worker(client, store, completed_run: int) -> None:
    steps, ended, on_progress = _follow()
    future = submit_robustness(completed_run, seed=1, store=store, client=client, on_progress=on_progress)
    record = store.get_evaluation(future.result(timeout=300))
    assert (record.kind, record.split, record.status) == ("robustness", "test", EvaluationStatus.COMPLETED)
    assert len(record.result["conditions"]) == 8 and record.options["seed"] == 1
    assert ended.wait(30), steps
    assert any(m.startswith("speed +10 %") for _, m in steps)


def test_refused_input_is_the_futures_exception_and_stores_nothing(client, store, completed_run: int) -> None:
    before = len(store.list_evaluations(completed_run))
    future = submit_evaluation(completed_run, "no-such-set", store=store, client=client)
    with pytest.raises(PredictionInputError, match="no-such-set: no dataset of that name"):
        future.result(timeout=120)
    pending = store.create_experiment("never run", "cnn1d", store.get_experiment(completed_run).config)
    with pytest.raises(ValueError, match=f"experiment {pending} is pending"):
        submit_robustness(pending, store=store, client=client).result(timeout=120)
    assert len(store.list_evaluations(completed_run)) == before
    assert store.list_evaluations(pending) == []


def test_bad_arguments_are_refused_before_anything_runs(client, store) -> None:
    with pytest.raises(ValueError, match="experiment_id: must be a positive integer, got 0"):
        submit_evaluation(0, DATASET, store=store, client=client)
    with pytest.raises(PredictionInputError, match="classes_map=: expected DATASET_CLASS=MODEL_CLASS"):
        submit_evaluation(1, DATASET, classes_map="healthy", store=store, client=client)
    with pytest.raises(ValueError, match="seed: must be an integer, got 1.5"):
        submit_robustness(1, seed=1.5, store=store, client=client)  # type: ignore[arg-type]
