"""`EvaluationInfo`: stored evaluations read back as immutable, formatted objects (no training here: the
rows are written by hand with the result layout `training.cross_evaluation` and `training.robustness`
write)."""

from __future__ import annotations

import dataclasses

import pytest

from bearing_workbench.analysis.evaluations import (
    ConditionResult,
    EvaluationInfo,
    evaluation_infos,
    evaluation_label,
)
from bearing_workbench.analysis.results_rows import ClassRow
from bearing_workbench.store import Store

METRICS = {
    "accuracy": 0.875,
    "macro_f1": 0.8,
    "class_names": ["healthy", "wear", "whirl"],
    "confusion_matrix": [[3, 1, 0], [0, 4, 0], [0, 0, 0]],
    "per_class": {
        "healthy": {"precision": 1.0, "recall": 0.75, "f1": 0.857, "support": 4},
        "wear": {"precision": 0.8, "recall": 1.0, "f1": 0.889, "support": 4},
        "whirl": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0},
    },
    "roc": {"healthy": {"auc": 0.9}, "wear": {"auc": 0.95}, "whirl": {"auc": None}},
}
CONDITIONS = [
    {"group": "clean", "name": "clean", "accuracy": 0.875, "macro_f1": 0.8},
    {"group": "noise", "name": "SNR 5 dB", "accuracy": 0.5, "macro_f1": 0.4},
]


def _experiment(store: Store) -> int:
    return store.create_experiment("rf", "classical", {"model": {"family": "classical"}})


def test_a_completed_evaluation_on_a_dataset(empty_store: Store) -> None:
    experiment = _experiment(empty_store)
    evaluation = empty_store.create_evaluation(
        experiment, "dataset", "plant-a", classes_map={"ok": "healthy", "worn": "wear"}
    )
    empty_store.transition_evaluation(evaluation, "start")
    empty_store.transition_evaluation(
        evaluation,
        "complete",
        result={"metrics": METRICS, "n_records": 8, "absent_classes": ["whirl"], "warnings": ["resampled"]},
    )
    (info,) = evaluation_infos(empty_store, experiment)
    assert isinstance(info, EvaluationInfo)
    assert (info.evaluation_id, info.experiment_id, info.kind, info.status) == (
        evaluation,
        experiment,
        "dataset",
        "completed",
    )
    assert info.label == "plant-a all records"
    assert info.summary == "plant-a all records 87.5 %"
    assert (info.n_records, info.accuracy, info.macro_f1) == (8, 0.875, 0.8)
    assert info.class_names == ("healthy", "wear", "whirl")
    assert info.confusion == ((3, 1, 0), (0, 4, 0), (0, 0, 0))
    assert info.per_class[0] == ClassRow("healthy", 1.0, 0.75, 0.857, 0.9, 4, weak=True)
    assert [row.weak for row in info.per_class] == [True, False, False]  # no records: not weak
    assert info.per_class[0].texts == ("100.0 %", "75.0 %", "85.7 %", "0.900")
    assert (info.absent_classes, info.warnings, info.conditions) == (("whirl",), ("resampled",), ())
    assert info.classes_map == {"ok": "healthy", "worn": "wear"}
    assert info.classes_map_text == "ok -> healthy, worn -> wear"
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.accuracy = 1.0  # type: ignore[misc]


def test_a_robustness_sweep_lists_its_conditions(empty_store: Store) -> None:
    experiment = _experiment(empty_store)
    evaluation = empty_store.create_evaluation(experiment, "robustness", "demo", split="test")
    empty_store.transition_evaluation(evaluation, "start")
    empty_store.transition_evaluation(
        evaluation, "complete", result={"metrics": METRICS, "n_records": 8, "conditions": CONDITIONS}
    )
    (info,) = evaluation_infos(empty_store, experiment)
    assert info.label == "robustness on demo test split"
    assert info.conditions == (
        ConditionResult("clean", "clean", 0.875, 0.8),
        ConditionResult("noise", "SNR 5 dB", 0.5, 0.4),
    )
    assert info.conditions[1].texts == ("50.0 %", "40.0 %")


def test_pending_and_failed_evaluations_have_no_numbers_newest_first(empty_store: Store) -> None:
    experiment = _experiment(empty_store)
    failed = empty_store.create_evaluation(experiment, "dataset", "/data/plant-b.h5", split="val")
    empty_store.transition_evaluation(failed, "fail", error="no such class", hint="pass --classes-map")
    pending = empty_store.create_evaluation(experiment, "dataset", "plant-a")
    infos = evaluation_infos(empty_store, experiment)
    assert [i.evaluation_id for i in infos] == [pending, failed]
    newest, oldest = infos
    assert (newest.status, newest.summary, newest.accuracy_text) == (
        "pending",
        "plant-a all records (pending)",
        "—",
    )
    assert (oldest.label, oldest.error, oldest.hint) == (
        "plant-b.h5 val split",
        "no such class",
        "pass --classes-map",
    )
    for info in infos:
        assert (info.accuracy, info.confusion, info.per_class, info.n_records) == (None, None, (), None)
    assert evaluation_infos(empty_store, experiment + 1) == ()


def test_labels_name_the_dataset_and_split() -> None:
    assert evaluation_label("dataset", "demo", "test") == "demo test split"
    assert evaluation_label("robustness", "demo", None) == "robustness on demo all records"
    assert evaluation_label("dataset", "/tmp/x/plant.csv", None) == "plant.csv all records"


def test_a_bad_experiment_id_is_refused() -> None:
    with pytest.raises(ValueError, match="experiment_id: must be an integer id, got 'x'"):
        evaluation_infos(None, "x")  # type: ignore[arg-type]
