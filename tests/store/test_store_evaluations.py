"""Evaluations in the store: what every backend must do with them (SQLite and PostgreSQL, through the
`store` fixture), their pure state table, and the revision that adds them to older stores."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bearing_workbench.store import EvaluationRecord, InvalidTransition, NotFoundError, RunStatus, Store
from bearing_workbench.store.evaluation_status import (
    EvaluationAction,
    EvaluationStatus,
    evaluation_finished,
    next_evaluation_status,
)
from bearing_workbench.store.tables import EvaluationRow

LEGACY_V2 = Path(__file__).parent / "fixtures" / "store_v2.db"

RESULT = {
    "accuracy": 0.91,
    "confusion_matrix": [[3, 1], [0, 4]],
    "per_class": {"normal": {"recall": 0.75}, "wear": {"recall": 1.0}},
}


def _experiment(store: Store, name: str = "rf") -> int:
    return store.create_experiment(name, "classical", {"model": {"family": "classical"}})


def _dataset(store: Store) -> int:
    return store.add_dataset(
        "plant-a",
        "plant-a.h5",
        n_records=8,
        n_classes=2,
        class_names=["normal", "wear"],
        fs=10_000.0,
        n_samples=2048,
        source="imported",
    )


def _count(store: Store) -> int:
    with store.transaction() as session:
        return session.scalar(select(func.count()).select_from(EvaluationRow)) or 0


# -- the state table --------------------------------------------------------------------------------

VALID = {
    ("pending", "start"): "running",
    ("running", "complete"): "completed",
    ("pending", "fail"): "failed",
    ("running", "fail"): "failed",
}
INVALID = [
    pair
    for pair in itertools.product([s.value for s in EvaluationStatus], [a.value for a in EvaluationAction])
    if pair not in VALID
]


@pytest.mark.parametrize(("current", "action"), list(VALID))
def test_valid_transition(current: str, action: str) -> None:
    assert next_evaluation_status(current, action) is EvaluationStatus(VALID[(current, action)])


@pytest.mark.parametrize(("current", "action"), INVALID)
def test_invalid_transition(current: str, action: str) -> None:
    with pytest.raises(InvalidTransition, match=f"cannot {action} an evaluation that is {current}"):
        next_evaluation_status(current, action)


def test_unknown_names_are_refused_naming_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match="unknown evaluation action 'pause'; expected one of: start, "):
        next_evaluation_status("running", "pause")
    with pytest.raises(ValueError, match="unknown evaluation status 'paused'"):
        evaluation_finished("paused")
    assert [evaluation_finished(s) for s in EvaluationStatus] == [False, False, True, True]


# -- the repository, on every backend ---------------------------------------------------------------


def test_an_evaluation_is_created_pending_with_what_was_asked(store: Store) -> None:
    experiment, dataset = _experiment(store), _dataset(store)
    evaluation = store.create_evaluation(
        experiment,
        "dataset",
        "plant-a",
        dataset_id=dataset,
        split="test",
        classes_map={" ok ": " normal "},
        options={"seed": 3},
    )
    record = store.get_evaluation(evaluation)
    assert isinstance(record, EvaluationRecord)
    assert (record.experiment_id, record.kind, record.dataset, record.dataset_id, record.split) == (
        experiment,
        "dataset",
        "plant-a",
        dataset,
        "test",
    )
    assert (record.classes_map, record.options) == ({"ok": "normal"}, {"seed": 3})
    assert record.status is EvaluationStatus.PENDING
    assert (record.result, record.error, record.hint, record.started_at, record.finished_at) == (None,) * 5
    assert record.created_at.tzinfo is not None


def test_start_then_complete_stores_the_result_with_the_status(store: Store) -> None:
    evaluation = store.create_evaluation(_experiment(store), "robustness", "demo", split="test")
    running = store.transition_evaluation(evaluation, "start")
    assert running.status is EvaluationStatus.RUNNING and running.started_at is not None
    assert running.result is None and running.finished_at is None
    done = store.transition_evaluation(evaluation, "complete", result=RESULT)
    assert done.status is EvaluationStatus.COMPLETED
    assert done.finished_at is not None and done.finished_at >= done.started_at
    assert store.get_evaluation(evaluation).result == RESULT


def test_a_failure_keeps_its_error_and_hint_and_no_result(store: Store) -> None:
    evaluation = store.create_evaluation(_experiment(store), "dataset", "plant-a.h5")
    store.transition_evaluation(evaluation, "start")
    failed = store.transition_evaluation(evaluation, "fail", error="worker died", hint="run it again")
    assert (failed.status, failed.error, failed.hint, failed.result) == (
        EvaluationStatus.FAILED,
        "worker died",
        "run it again",
        None,
    )
    with pytest.raises(InvalidTransition, match="cannot complete an evaluation that is failed"):
        store.transition_evaluation(evaluation, "complete", result=RESULT)
    assert store.get_evaluation(evaluation).result is None


def test_transitions_refuse_a_missing_result_or_error_and_change_nothing(store: Store) -> None:
    evaluation = store.create_evaluation(_experiment(store), "dataset", "plant-a")
    with pytest.raises(ValueError, match="result: completing an evaluation needs its result"):
        store.transition_evaluation(evaluation, "complete")
    with pytest.raises(ValueError, match="error: failing an evaluation needs the error's message"):
        store.transition_evaluation(evaluation, "fail", error=" ")
    with pytest.raises(ValueError, match="result: only a completed evaluation has a result"):
        store.transition_evaluation(evaluation, "start", result=RESULT)
    with pytest.raises(InvalidTransition, match="cannot complete an evaluation that is pending"):
        store.transition_evaluation(evaluation, "complete", result=RESULT)
    assert store.get_evaluation(evaluation).status is EvaluationStatus.PENDING


def test_a_result_that_json_cannot_hold_is_refused_before_writing(store: Store) -> None:
    evaluation = store.create_evaluation(_experiment(store), "dataset", "plant-a")
    store.transition_evaluation(evaluation, "start")
    with pytest.raises(TypeError, match=r"evaluation result\['model'\]: object cannot be stored as JSON"):
        store.transition_evaluation(evaluation, "complete", result={"model": object()})
    record = store.get_evaluation(evaluation)
    assert (record.status, record.result) == (EvaluationStatus.RUNNING, None)


def test_bad_arguments_are_refused_and_nothing_is_written(store: Store) -> None:
    experiment = _experiment(store)
    with pytest.raises(ValueError, match="unknown evaluation kind 'speed'; expected one of: dataset, rob"):
        store.create_evaluation(experiment, "speed", "demo")
    with pytest.raises(NotFoundError, match="experiment 999 not found"):
        store.create_evaluation(999, "dataset", "demo")
    with pytest.raises(NotFoundError, match="dataset 999 not found"):
        store.create_evaluation(experiment, "dataset", "demo", dataset_id=999)
    with pytest.raises(ValueError, match=r"classes_map\['ok'\]: must be a class name \(text\), got 3"):
        store.create_evaluation(experiment, "dataset", "demo", classes_map={"ok": 3})
    with pytest.raises(ValueError, match="dataset: must be a non-empty string"):
        store.create_evaluation(experiment, "dataset", " ")
    assert _count(store) == 0
    with pytest.raises(NotFoundError, match="evaluation 12 not found"):
        store.get_evaluation(12)


def test_evaluations_are_listed_per_experiment_newest_first(store: Store) -> None:
    first, second = _experiment(store, "a"), _experiment(store, "b")
    ids = [store.create_evaluation(first, "dataset", f"set-{i}") for i in range(3)]
    other = store.create_evaluation(second, "robustness", "demo")
    assert [e.id for e in store.list_evaluations(first)] == ids[::-1]
    assert [e.id for e in store.list_evaluations(second)] == [other]
    assert store.list_evaluations(12345) == []
    store.delete_evaluation(ids[1])
    assert [e.id for e in store.list_evaluations(first)] == [ids[2], ids[0]]


def test_deleting_an_experiment_deletes_its_evaluations(store: Store) -> None:
    kept, gone = _experiment(store, "kept"), _experiment(store, "gone")
    store.create_evaluation(kept, "dataset", "demo")
    for kind in ("dataset", "robustness"):
        store.create_evaluation(gone, kind, "demo")
    store.delete_experiment(gone)
    assert store.list_evaluations(gone) == []
    assert _count(store) == 1 and len(store.list_evaluations(kept)) == 1


def test_forgetting_a_dataset_keeps_the_evaluation_and_its_name(store: Store) -> None:
    experiment, dataset = _experiment(store), _dataset(store)
    evaluation = store.create_evaluation(experiment, "dataset", "plant-a", dataset_id=dataset)
    store.delete_dataset(dataset)
    record = store.get_evaluation(evaluation)
    assert (record.dataset, record.dataset_id) == ("plant-a", None)


# -- the revision on a store written before it ------------------------------------------------------


def test_a_version_two_store_gets_evaluations_that_follow_its_experiments(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    db = workspace / "workbench.db"
    shutil.copyfile(LEGACY_V2, db)
    store = Store(url=f"sqlite:///{db}", workspace=workspace)
    try:
        runs = {r.name: r for r in store.list_experiments(limit=None)}
        rf = runs["baseline rf"]
        assert rf.status is RunStatus.COMPLETED and store.list_evaluations(rf.id) == []
        dataset = store.get_dataset("sim-small")
        evaluation = store.create_evaluation(rf.id, "dataset", "sim-small", dataset_id=dataset.id)
        store.transition_evaluation(evaluation, "start")
        store.transition_evaluation(evaluation, "complete", result=RESULT)
        assert store.get_evaluation(evaluation).result == RESULT
        store.delete_experiment(runs["waiting"].id)  # another experiment: this evaluation stays
        assert [e.id for e in store.list_evaluations(rf.id)] == [evaluation]
        store.delete_experiment(rf.id)
        assert _count(store) == 0
    finally:
        store.dispose()
