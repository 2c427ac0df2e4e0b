"""Experiment artifacts: atomic files, predictions CSV round trip, and its checks on reading."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import yaml

from bearing_workbench.config import ExperimentConfig
from bearing_workbench.models.predictions import PredictionsFileError, make_predictions
from bearing_workbench.store.artifacts import ExperimentFolder
from bearing_workbench.training.artifacts import read_json, read_predictions, write_artifacts

CLASSES = ("healthy", "oil_whirl", "misalignment+imbalance")


@dataclass
class Epoch:
    epoch: int
    train_loss: float
    val_loss: float


def _preds(n: int, seed: int, ids_prefix: str = "rec"):
    rng = np.random.default_rng(seed)
    # what a network outputs: float32 probabilities (widened to float64 by make_predictions)
    probs = rng.dirichlet(np.ones(len(CLASSES)), size=n).astype(np.float32)
    return make_predictions([f"{ids_prefix}{i}" for i in range(n)], rng.integers(0, 3, n), probs, CLASSES)


def _config() -> ExperimentConfig:
    return ExperimentConfig.from_mapping(
        {"data": {"dataset": "demo"}, "model": {"family": "classical", "params": {"n_estimators": 20}}}
    )


def test_write_artifacts_writes_every_file_and_reads_back_exactly(tmp_path):
    test, val = _preds(7, 0), _preds(5, 1, "v")
    config = _config()
    history = [Epoch(1, 0.9, 1.1), Epoch(2, 0.5, float("nan"))]
    metrics = {"accuracy": np.float64(0.75), "per_class": {"healthy": {"support": np.int64(3)}}}
    written = write_artifacts(
        tmp_path / "exp",
        config=config,
        history=history,
        metrics=metrics,
        test_predictions=test,
        val_predictions=val,
        class_names=CLASSES,
        model_summary={"weights": np.array([0.25, 0.75])},
    )
    assert set(written) == {
        "config",
        "history",
        "metrics",
        "predictions_test",
        "predictions_val",
        "model_summary",
    }
    folder = ExperimentFolder.at(tmp_path / "exp")
    assert sorted(p.name for p in folder.path.iterdir()) == sorted(folder.artifact(k).name for k in written)

    assert ExperimentConfig.from_yaml(written["config"]) == config
    assert yaml.safe_load(written["config"].read_text())["model"]["params"] == {"n_estimators": 20}
    assert read_json(written["history"]) == [
        {"epoch": 1, "train_loss": 0.9, "val_loss": 1.1},
        {"epoch": 2, "train_loss": 0.5, "val_loss": None},  # NaN is not JSON
    ]
    assert read_json(written["metrics"]) == {"accuracy": 0.75, "per_class": {"healthy": {"support": 3}}}
    assert read_json(written["model_summary"]) == {"weights": [0.25, 0.75]}

    back = read_predictions(written["predictions_test"])
    assert back.record_ids == test.record_ids and back.class_names == CLASSES
    np.testing.assert_array_equal(back.y_true, test.y_true)
    # bit-exact at the precision a model computes in: ensembles recombine these
    np.testing.assert_array_equal(back.probs.astype(np.float32), test.probs.astype(np.float32))
    header = written["predictions_val"].read_text().splitlines()[0]
    assert header == (
        "record_id,true_label,predicted_label,prob_healthy,prob_oil_whirl,prob_misalignment+imbalance"
    )


def test_without_validation_predictions_no_val_file_is_written(tmp_path):
    written = write_artifacts(
        tmp_path,
        config={"note": "a plain dict"},
        history=[],
        metrics={},
        test_predictions=_preds(3, 0),
        val_predictions=None,
        class_names=CLASSES,
    )
    assert "predictions_val" not in written and not (ExperimentFolder.at(tmp_path).predictions_val).exists()
    assert yaml.safe_load(written["config"].read_text()) == {"note": "a plain dict"}


def test_bad_predictions_leave_no_file_behind(tmp_path):
    other = make_predictions(["a", "b"], [0, 1], np.array([[0.5, 0.5], [0.2, 0.8]]), ("x", "y"))
    with pytest.raises(ValueError, match="val_predictions: classes"):
        write_artifacts(
            tmp_path,
            config=_config(),
            history=[],
            metrics={},
            test_predictions=_preds(3, 0),
            val_predictions=other,
            class_names=CLASSES,
        )
    assert list(tmp_path.iterdir()) == []


def test_rewriting_an_artifact_replaces_it_whole_and_leaves_no_temp_file(tmp_path):
    for seed in (0, 1):
        write_artifacts(
            tmp_path,
            config=_config(),
            history=[],
            metrics={"seed": seed},
            test_predictions=_preds(4, seed),
            val_predictions=None,
            class_names=CLASSES,
        )
    assert read_json(ExperimentFolder.at(tmp_path).metrics) == {"seed": 1}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_record_ids_that_look_like_missing_values_or_numbers_stay_text(tmp_path):
    preds = make_predictions(["NA", "007", ""], [0, 1, 2], np.eye(3), CLASSES)
    write_artifacts(
        tmp_path,
        config=_config(),
        history=[],
        metrics={},
        test_predictions=preds,
        val_predictions=None,
        class_names=CLASSES,
    )
    assert read_predictions(ExperimentFolder.at(tmp_path).predictions_test).record_ids == ("NA", "007", "")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("record_id,prob_a,prob_b\nr1,0.5,0.5\n", "expected columns"),
        ("record_id,true_label,prob_a,prob_b\nr1,c,0.5,0.5\n", "not classes"),
        ("record_id,true_label,prob_a,prob_b\nr1,a,0.5,0.7\n", "do not sum to 1"),
        ("record_id,true_label,prob_a,prob_b\nr1,a,x,0.5\n", "not numbers"),
        ("record_id,true_label,prob_a,prob_b\nr1,a,0.5,0.5\nr1,b,0.5,0.5\n", "repeated record ids"),
    ],
)
def test_read_predictions_names_the_file_and_the_problem(tmp_path, text, problem):
    path = tmp_path / "predictions_test.csv"
    path.write_text(text)
    with pytest.raises(PredictionsFileError, match=problem) as info:
        read_predictions(path)
    assert str(path) in str(info.value)


def test_read_predictions_of_a_missing_file(tmp_path):
    with pytest.raises(PredictionsFileError, match="does not exist"):
        read_predictions(tmp_path / "nope.csv")


def test_metrics_that_are_not_json_are_refused_by_name(tmp_path):
    with pytest.raises(TypeError, match=r"metrics\.model: object"):
        write_artifacts(
            tmp_path,
            config=_config(),
            history=[],
            metrics={"model": object()},
            test_predictions=_preds(2, 0),
            val_predictions=None,
            class_names=CLASSES,
        )
    assert not (ExperimentFolder.at(tmp_path).metrics).exists()
