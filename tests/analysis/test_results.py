"""The results page's analysis: stored results, training summary, baselines, per-class rows, advice."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bearing_workbench.analysis.history import history_rows
from bearing_workbench.analysis.results import (
    ACCURACY_READY,
    Baseline,
    Recommendation,
    ResultBundle,
    baseline_scope,
    baselines,
    cell_records,
    complementary_model,
    confusion_matrix,
    gpu_utilisation,
    load_results,
    per_class_rows,
    recommendations,
    roc_curves,
    training_summary,
)
from bearing_workbench.models.predictions import make_predictions, predictions_csv
from bearing_workbench.store import NotFoundError, Store
from bearing_workbench.training.artifacts import read_json, write_json

from .results_fixtures import experiment_folder, results_ids, results_store  # noqa: F401

CLASSES3 = ["healthy", "imbalance", "misalignment"]


# -- hand-made experiments (rule edge cases) ----------------------------------------------------------


def _metrics(recalls: dict[str, float], accuracy: float, support: int = 10) -> dict[str, Any]:
    """metrics.json of a model with these class recalls (precision = recall; misses go to the next class)."""
    names = list(recalls)
    n = len(names)
    matrix = np.zeros((n, n), dtype=int)
    for k, name in enumerate(names):
        right = round(recalls[name] * support)
        matrix[k, k] = right
        matrix[k, (k + 1) % n] = support - right
    return {
        "class_names": names,
        "accuracy": accuracy,
        "per_class": {
            name: {"precision": r, "recall": r, "f1": r, "support": support} for name, r in recalls.items()
        },
        "confusion_matrix": matrix.tolist(),
        "roc": {name: {"fpr": None, "tpr": None, "thresholds": None, "auc": None} for name in names},
    }


def _completed(
    store: Store,
    family: str,
    metrics: dict[str, Any] | None,
    *,
    name: str = "hand-made",
    predictions: tuple[list[str], list[int], list[int]] | None = None,
    classes: list[str] = CLASSES3,
    members: list[int] | None = None,
    data: dict[str, Any] | None = None,
    seed: int | None = None,
) -> int:
    """An experiment marked completed, with metrics.json (and predictions CSVs) written by hand.

    Args:
        predictions: (record ids, true classes, predicted classes) as class indices.
    """
    config: dict[str, Any] = {"model": {"family": family, "params": {"members": members or []}}}
    if data is not None:
        config["data"] = data
    if seed is not None:
        config["training"] = {"seed": seed}
    experiment_id = store.create_experiment(name, family, config)
    store.transition(experiment_id, "start")
    folder = experiment_folder(store, experiment_id)
    folder.mkdir(parents=True, exist_ok=True)
    if metrics is not None:
        write_json(folder / "metrics.json", metrics)
        store.set_metrics(experiment_id, {"accuracy": metrics["accuracy"]})
    if predictions is not None:
        ids, truth, predicted = predictions
        probs = np.full((len(ids), len(classes)), 0.1 / (len(classes) - 1))
        probs[np.arange(len(ids)), predicted] = 0.9
        text = predictions_csv(make_predictions(ids, truth, probs, classes))
        (folder / "predictions_test.csv").write_text(text, encoding="utf-8")
        (folder / "predictions_val.csv").write_text(text, encoding="utf-8")
    store.transition(experiment_id, "complete")
    return experiment_id


# -- loading --------------------------------------------------------------------------------------------


def test_load_results_reads_every_artifact_of_a_real_run(
    results_store: Store,  # noqa: F811
    results_ids: dict[str, int],  # noqa: F811
) -> None:
    bundle = load_results(results_store, results_ids["cnn1d"])
    assert isinstance(bundle, ResultBundle)
    assert bundle.record.id == results_ids["cnn1d"] and bundle.record.family == "cnn1d"
    assert bundle.folder == experiment_folder(results_store, results_ids["cnn1d"]).resolve()
    assert bundle.metrics == read_json(bundle.folder / "metrics.json")
    assert bundle.history == history_rows(results_store.epochs(results_ids["cnn1d"]))
    assert [row["epoch"] for row in bundle.history] == [1, 2]
    assert bundle.predictions is not None and len(bundle.predictions.record_ids) == bundle.metrics["n"]
    assert bundle.config["model"]["family"] == "cnn1d"
    assert bundle.model_summary is None  # networks write none
    classical = load_results(results_store, results_ids["classical"])
    assert classical.history == []
    assert classical.model_summary is not None and classical.model_summary  # feature importances


def test_load_results_falls_back_to_history_json(empty_store: Store) -> None:
    experiment_id = _completed(empty_store, "cnn1d", _metrics({"a": 1.0, "b": 1.0}, 1.0))
    write_json(
        experiment_folder(empty_store, experiment_id) / "history.json",
        [{"epoch": 2, "train_loss": 0.5, "seconds": 3.0}, {"epoch": 1, "train_loss": 0.9, "seconds": 1.0}],
    )
    bundle = load_results(empty_store, experiment_id)
    assert [r["epoch"] for r in bundle.history] == [1, 2]
    assert bundle.predictions is None


def test_load_results_names_what_is_missing(empty_store: Store) -> None:
    with pytest.raises(NotFoundError, match="experiment 999"):
        load_results(empty_store, 999)
    pending = empty_store.create_experiment("waiting", "cnn1d", {})
    with pytest.raises(ValueError, match=rf"experiment {pending} \('waiting'\) is pending, not completed"):
        load_results(empty_store, pending)
    no_metrics = _completed(empty_store, "cnn1d", None, name="no metrics")
    missing = rf"experiment {no_metrics} \('no metrics'\): metrics.json is missing"
    with pytest.raises(ValueError, match=missing):
        load_results(empty_store, no_metrics)
    broken = _completed(empty_store, "cnn1d", None, name="broken")
    (experiment_folder(empty_store, broken) / "metrics.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="metrics.json cannot be read"):
        load_results(empty_store, broken)


# -- training summary ---------------------------------------------------------------------------------


def test_training_summary_of_an_epoch_run(results_store: Store, results_ids: dict[str, int]) -> None:  # noqa: F811
    bundle = load_results(results_store, results_ids["cnn1d"])
    summary = training_summary(bundle)
    epochs = results_store.epochs(results_ids["cnn1d"])
    assert summary["epoch_based"] is True
    assert summary["epochs_run"] == 2 and summary["epochs_planned"] == 2
    assert summary["stopped_early"] is False
    assert summary["best_epoch"] in (1, 2)
    assert summary["final_train_loss"] == pytest.approx(epochs[-1].train_loss)
    assert summary["final_val_loss"] == pytest.approx(epochs[-1].val_loss)
    assert summary["seconds_per_epoch"] == pytest.approx(np.mean([e.seconds for e in epochs]))
    record = results_store.get_experiment(results_ids["cnn1d"])
    assert summary["total_seconds"] == record.duration_s >= bundle.metrics["train_seconds"]
    assert summary["best_by"] == "best by val loss"  # the tiny runs keep training.monitor's default
    assert summary["gpu_utilisation"] is None  # trained on CPU, no resource samples stored


def test_total_training_time_counts_every_attempt_of_a_resumed_run(
    results_store: Store,  # noqa: F811
    results_ids: dict[str, int],  # noqa: F811
) -> None:
    # Defect 10: after a resume, "total training time" was the resumed part only (41 s of ~63 s): the
    # training's own clock restarts with the resumed fit, the store's run time counts every stretch.
    bundle = load_results(results_store, results_ids["cnn1d"])
    resumed = dataclasses.replace(
        bundle,
        record=dataclasses.replace(bundle.record, duration_s=63.0),
        metrics={**bundle.metrics, "train_seconds": 41.0},
    )
    assert training_summary(resumed)["total_seconds"] == 63.0
    no_duration = dataclasses.replace(resumed, record=dataclasses.replace(bundle.record, duration_s=None))
    assert training_summary(no_duration)["total_seconds"] == 41.0


def test_training_summary_of_a_classical_run(results_store: Store, results_ids: dict[str, int]) -> None:  # noqa: F811
    summary = training_summary(load_results(results_store, results_ids["classical"]))
    assert summary["epoch_based"] is False
    for key in ("epochs_run", "best_epoch", "stopped_early", "final_train_loss", "seconds_per_epoch"):
        assert summary[key] is None, key
    assert summary["total_seconds"] > 0
    assert summary["val_accuracy"] is not None


def test_gpu_utilisation_from_stored_resource_samples(empty_store: Store) -> None:
    experiment_id = _completed(empty_store, "cnn1d", _metrics({"a": 1.0, "b": 1.0}, 1.0))
    empty_store.add_event(experiment_id, "resources", "sample", {"gpus": [{"utilization_percent": 40.0}]})
    empty_store.add_event(
        experiment_id, "resources", "sample", {"gpus": [{"utilization_percent": 60.0}, {"error": "lost"}]}
    )
    empty_store.add_event(experiment_id, "resources", "sample", {"gpus": [], "gpu_status": "no GPU"})
    assert training_summary(load_results(empty_store, experiment_id))["gpu_utilisation"] == pytest.approx(50)
    assert gpu_utilisation([{"gpus": []}]) is None


# -- baselines ------------------------------------------------------------------------------------------


def test_baselines_of_the_latest_run(results_store: Store, results_ids: dict[str, int]) -> None:  # noqa: F811
    bundle = load_results(results_store, results_ids["cnn1d_later"])
    found = baselines(results_store, bundle)
    by_id = {b.experiment_id: b for b in found}
    assert results_ids["cnn1d_later"] not in by_id
    assert set(by_id) == {results_ids["cnn1d"], results_ids["classical"]}
    assert all(isinstance(b, Baseline) for b in found)
    assert "best classical" in by_id[results_ids["classical"]].label
    assert "best earlier classical" in by_id[results_ids["classical"]].label
    assert "best earlier cnn1d" in by_id[results_ids["cnn1d"]].label
    assert sum("best previous overall" in b.label for b in found) == 1
    for b in found:
        other = results_store.get_experiment(b.experiment_id)
        assert b.accuracy == other.metrics["accuracy"]
        assert b.difference == pytest.approx(bundle.metrics["accuracy"] - other.metrics["accuracy"])
        assert b.name == other.name and b.family == other.family


def test_baselines_of_the_first_run_hold_only_the_classical_one(
    results_store: Store,  # noqa: F811
    results_ids: dict[str, int],  # noqa: F811
) -> None:
    found = baselines(results_store, load_results(results_store, results_ids["cnn1d"]))
    # Nothing was created before it; the classical model counts whenever it was trained.
    assert [(b.experiment_id, b.label) for b in found] == [(results_ids["classical"], "best classical")]


def test_baselines_pick_the_best_and_sign_the_difference(empty_store: Store) -> None:
    weak = _completed(empty_store, "classical", _metrics({"a": 0.7, "b": 0.7}, 0.70), name="weak svm")
    strong = _completed(empty_store, "classical", _metrics({"a": 0.9, "b": 0.9}, 0.90), name="strong rf")
    empty_store.create_experiment("still pending", "classical", {})  # no metrics: never a baseline
    mine = _completed(empty_store, "cnn1d", _metrics({"a": 0.8, "b": 0.8}, 0.80), name="mine")
    later = _completed(empty_store, "cnn1d", _metrics({"a": 1.0, "b": 1.0}, 0.99), name="later")
    found = baselines(empty_store, load_results(empty_store, mine))
    assert [(b.experiment_id, b.label) for b in found] == [
        (strong, "best classical / best previous overall / best earlier classical")
    ]
    assert found[0].difference == pytest.approx(-0.10)
    assert weak not in {b.experiment_id for b in found} and later not in {b.experiment_id for b in found}
    later_found = {b.experiment_id: b for b in baselines(empty_store, load_results(empty_store, later))}
    assert later_found[mine].label == "best earlier cnn1d"
    assert later_found[mine].difference == pytest.approx(0.19)
    assert later_found[strong].difference == pytest.approx(0.09)


def test_baselines_are_runs_on_the_same_dataset_and_split(empty_store: Store) -> None:
    # Defect 8: a cnn1d run on a small dataset was told it is "61.7 points below the best classical
    # model" where that classical run used another dataset.
    split = {"train": 70.0, "val": 15.0, "test": 15.0}
    small = {"dataset": "small", "split": split}
    _completed(empty_store, "classical", _metrics({"a": 1.0, "b": 1.0}, 0.98), name="big forest",
               data={"dataset": "big", "split": split}, seed=42)  # fmt: skip
    _completed(empty_store, "classical", _metrics({"a": 1.0, "b": 1.0}, 0.97), name="other split",
               data={**small, "split": {**split, "train": 60.0, "val": 25.0}}, seed=42)  # fmt: skip
    _completed(empty_store, "classical", _metrics({"a": 1.0, "b": 1.0}, 0.96), name="other seed",
               data=small, seed=7)  # fmt: skip
    weak = _metrics({"a": 0.4, "b": 0.4}, 0.4)
    cnn = _completed(empty_store, "cnn1d", weak, name="cnn", data=small, seed=42)
    bundle = load_results(empty_store, cnn)
    assert baselines(empty_store, bundle) == []
    assert not any("classical" in t for t in _texts(recommendations(empty_store, bundle)))
    assert baseline_scope(bundle.config) == "dataset 'small', split 70/15/15 % (train/val/test, seed 42)"
    forest = _completed(empty_store, "classical", _metrics({"a": 0.9, "b": 0.9}, 0.90), name="same data",
                        data=small, seed=42)  # fmt: skip
    found = baselines(empty_store, bundle)
    assert [(b.experiment_id, b.label) for b in found] == [(forest, "best classical")]
    text = " ".join(_texts(recommendations(empty_store, bundle), "warning"))
    assert "50.0 points below the best classical model on the same data (dataset 'small'" in text


# -- per class, confusion matrix, ROC, cells ---------------------------------------------------------------


def test_per_class_rows_flag_weak_classes() -> None:
    metrics = _metrics({"a": 1.0, "b": 0.8, "c": 0.9}, 0.9)
    metrics["per_class"]["d"] = {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    metrics["class_names"].append("d")
    rows = per_class_rows(metrics)
    assert [r["class"] for r in rows] == ["a", "b", "c", "d"]
    assert [r["weak"] for r in rows] == [False, True, False, False]  # 0.9 is not below 0.9; d has no records
    assert rows[1] == {"class": "b", "precision": 0.8, "recall": 0.8, "f1": 0.8, "support": 10, "weak": True}
    assert [r["weak"] for r in per_class_rows(metrics, weak_below=0.95)] == [False, True, True, False]
    with pytest.raises(ValueError, match="per_class"):
        per_class_rows({"accuracy": 1.0})


def test_confusion_matrix_counts_and_row_normalised() -> None:
    metrics = {"class_names": ["a", "b", "c"], "confusion_matrix": [[3, 1, 0], [0, 0, 0], [2, 0, 2]]}
    assert confusion_matrix(metrics).tolist() == [[3, 1, 0], [0, 0, 0], [2, 0, 2]]
    normalised = confusion_matrix(metrics, normalised=True)
    assert normalised.tolist() == [[0.75, 0.25, 0.0], [0.0, 0.0, 0.0], [0.5, 0.0, 0.5]]
    with pytest.raises(ValueError, match="confusion_matrix must be a square 3 x 3"):
        confusion_matrix({"class_names": ["a", "b", "c"], "confusion_matrix": [[1, 2], [3, 4]]})


def test_cells_of_a_real_run_partition_the_test_records(
    results_store: Store,  # noqa: F811
    results_ids: dict[str, int],  # noqa: F811
) -> None:
    bundle = load_results(results_store, results_ids["cnn1d"])
    matrix = confusion_matrix(bundle.metrics)
    names = bundle.class_names
    seen: list[str] = []
    for t, true_label in enumerate(names):
        for p, predicted_label in enumerate(names):
            cell = cell_records(bundle.predictions, true_label, predicted_label)
            assert len(cell) == matrix[t, p]
            for row in cell:
                assert row["true"] == true_label and row["predicted"] == predicted_label
                assert max(row["probabilities"], key=row["probabilities"].get) == predicted_label
                assert row["predicted_probability"] == row["probabilities"][predicted_label]
            seen += [row["record_id"] for row in cell]
    assert sorted(seen) == sorted(bundle.predictions.record_ids)
    with pytest.raises(ValueError, match="true_label 'nope' is not a class"):
        cell_records(bundle.predictions, "nope", names[0])


def test_roc_curves_of_a_real_run(results_store: Store, results_ids: dict[str, int]) -> None:  # noqa: F811
    bundle = load_results(results_store, results_ids["cnn1d"])
    curves = roc_curves(bundle.metrics)
    assert [c["class"] for c in curves] == bundle.class_names  # one test record per class: all drawable
    for curve in curves:
        assert curve["fpr"][0] == 0 and curve["tpr"][-1] == 1
        assert curve["auc"] == bundle.metrics["roc"][curve["class"]]["auc"]
    assert roc_curves(_metrics({"a": 1.0, "b": 1.0}, 1.0)) == []


# -- recommendations ----------------------------------------------------------------------------------------


def _texts(found: list[Recommendation], level: str | None = None) -> list[str]:
    return [r.text for r in found if level is None or r.level == level]


def test_ready_for_deployment_at_the_thresholds(empty_store: Store) -> None:
    ready = _completed(empty_store, "cnn1d", _metrics({"a": 1.0, "b": 0.9}, ACCURACY_READY))
    found = recommendations(empty_store, load_results(empty_store, ready))
    assert any(t.startswith("Ready for deployment") for t in _texts(found, "success"))
    assert _texts(found, "info") == [
        "Weakest class: b (recall 90.0 %, 1 of 10 test records missed), most often taken for a."
    ]


def test_not_ready_names_the_reasons(empty_store: Store) -> None:
    low_accuracy = _completed(empty_store, "cnn1d", _metrics({"a": 1.0, "b": 1.0}, 0.949))
    found = recommendations(empty_store, load_results(empty_store, low_accuracy))
    assert not _texts(found, "success")
    assert "Not ready for deployment: test accuracy 94.9 % is below 95.0 %." in _texts(found, "warning")
    low_recall = _completed(empty_store, "cnn1d", _metrics({"a": 1.0, "b": 0.8, "c": 1.0}, 0.97))
    found = recommendations(empty_store, load_results(empty_store, low_recall))
    warnings = _texts(found, "warning")
    assert "Not ready for deployment: recall below 90.0 % for b (80.0 %)." in warnings
    weakest = "Weakest class: b (recall 80.0 %, 2 of 10 test records missed), most often taken for c."
    assert weakest in warnings


def test_warning_when_below_the_best_classical_model(empty_store: Store) -> None:
    _completed(empty_store, "classical", _metrics({"a": 1.0, "b": 1.0}, 0.98), name="forest")
    worse = _completed(empty_store, "cnn1d", _metrics({"a": 1.0, "b": 0.9}, 0.96), name="worse")
    text = " ".join(_texts(recommendations(empty_store, load_results(empty_store, worse)), "warning"))
    assert "2.0 points below the best classical model" in text and "forest" in text
    better = _completed(empty_store, "cnn1d", _metrics({"a": 1.0, "b": 1.0}, 0.99), name="better")
    bundle = load_results(empty_store, better)
    assert not any("classical" in t for t in _texts(recommendations(empty_store, bundle)))
    # Given baselines are used as they are.
    given = [Baseline("best classical", 1, "made up", "classical", 1.0, -0.01)]
    assert any("made up" in t for t in _texts(recommendations(empty_store, bundle, given)))


def test_ensemble_partner_is_right_where_this_model_is_wrong(empty_store: Store) -> None:
    ids = [f"r{i}" for i in range(6)]
    truth = [0, 0, 1, 1, 2, 2]
    metrics = _metrics({c: 1.0 for c in CLASSES3}, 0.5)
    wrong_thrice = [0, 1, 1, 0, 2, 0]  # wrong on r1, r3, r5
    mine = _completed(empty_store, "cnn1d", metrics, name="mine", predictions=(ids, truth, wrong_thrice))
    # Right on 2 of my 3 errors (r1, r3), wrong on r5 too.
    helper = _completed(
        empty_store, "classical", metrics, name="helper", predictions=(ids, truth, [1, 0, 0, 1, 2, 0])
    )
    # Right on 1 of my errors only.
    _completed(empty_store, "transformer", metrics, name="less", predictions=(ids, truth, [0, 0, 1, 0, 2, 0]))
    # Same family, ensembles, other classes: never partners, however right they are.
    _completed(empty_store, "cnn1d", metrics, name="same family", predictions=(ids, truth, truth))
    _completed(empty_store, "ensemble", metrics, name="an ensemble", predictions=(ids, truth, truth))
    _completed(
        empty_store,
        "pinn",
        metrics,
        name="other classes",
        predictions=(ids, truth, truth),
        classes=["x", "y", "z"],
    )
    bundle = load_results(empty_store, mine)
    partner = complementary_model(empty_store, bundle)
    assert partner is not None
    assert (partner.record.id, partner.fixes, partner.wrong, partner.shared) == (helper, 2, 3, 6)
    texts = _texts(recommendations(empty_store, bundle), "info")
    assert (
        f"Try an ensemble with experiment {helper} (helper, classical): it is right on 2 of the 3 test "
        "records this model gets wrong." in texts
    )


def test_no_partner_for_a_perfect_model_or_an_ensembles_members(empty_store: Store) -> None:
    ids, truth = ["r0", "r1", "r2"], [0, 1, 2]
    metrics = _metrics({c: 1.0 for c in CLASSES3}, 1.0)
    perfect = _completed(empty_store, "cnn1d", metrics, predictions=(ids, truth, truth))
    member = _completed(empty_store, "classical", metrics, predictions=(ids, truth, truth))
    assert complementary_model(empty_store, load_results(empty_store, perfect)) is None
    ensemble = _completed(
        empty_store, "ensemble", metrics, predictions=(ids, truth, [1, 1, 2]), members=[perfect, member]
    )
    assert complementary_model(empty_store, load_results(empty_store, ensemble)) is None
    # Defect 11: an ensemble was told to build an ensemble with a model outside it; an ensemble cannot be
    # a member of another, so it gets no partner at all.
    only_cnn = _completed(
        empty_store, "ensemble", metrics, predictions=(ids, truth, [1, 1, 2]), members=[perfect]
    )
    bundle = load_results(empty_store, only_cnn)
    assert complementary_model(empty_store, bundle) is None
    assert not any("Try an ensemble" in t for t in _texts(recommendations(empty_store, bundle)))


def test_recommendations_of_real_runs(results_store: Store, results_ids: dict[str, int]) -> None:  # noqa: F811
    for experiment_id in results_ids.values():
        found = recommendations(results_store, load_results(results_store, experiment_id))
        assert found and all(r.level in ("success", "info", "warning") for r in found)
        # Tiny one-epoch models are never ready for deployment.
        assert found[0].text.startswith("Not ready for deployment")
    with pytest.raises(ValueError, match="level must be one of"):
        Recommendation("error", "nope")


def test_bundle_folder_is_the_experiment_folder(results_store: Store, results_ids: dict[str, int]) -> None:  # noqa: F811
    bundle = load_results(results_store, results_ids["classical"])
    assert Path(bundle.folder).is_dir() and (bundle.folder / "predictions_test.csv").is_file()
