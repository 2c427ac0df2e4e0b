"""Evaluation: window probabilities, record aggregation and the metrics of a results page."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score, precision_score, recall_score

from bearing_workbench.models.predictions import make_predictions
from bearing_workbench.training.evaluate import (
    MAX_ROC_POINTS,
    aggregate_records,
    evaluate_predictions,
    evaluate_split,
    predict_windows,
    record_labels,
    worst_predictions,
)

CLASSES = ("healthy", "imbalance", "wear")


@dataclass
class Split:
    """Duck-typed stand-in for training.data.SplitData."""

    signals: np.ndarray
    labels: np.ndarray
    meta: np.ndarray
    record_index: np.ndarray
    record_ids: list[str]
    class_names: tuple[str, ...] = CLASSES
    fs: float = 10240.0


def _split(n_records: int = 4, per_record: int = 3, length: int = 16, n_meta: int = 0) -> Split:
    rng = np.random.default_rng(0)
    record_index = np.repeat(np.arange(n_records), per_record)
    labels = (np.arange(n_records) % len(CLASSES))[record_index]
    return Split(
        signals=rng.standard_normal((record_index.size, length)).astype(np.float32),
        labels=labels.astype(np.int64),
        meta=rng.standard_normal((record_index.size, n_meta)).astype(np.float32),
        record_index=record_index,
        record_ids=[f"r{i}" for i in range(n_records)],
    )


def test_aggregate_records_averages_windows_per_record():
    probs = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8], [0.4, 0.6]])
    out = aggregate_records(probs, np.array([1, 1, 0, 0]))
    np.testing.assert_allclose(out, [[0.3, 0.7], [0.7, 0.3]])


def test_aggregate_records_refuses_a_record_without_windows():
    with pytest.raises(ValueError, match=r"records \[1\] have no windows"):
        aggregate_records(np.full((2, 2), 0.5), np.array([0, 2]), n_records=3)


def test_record_labels_refuses_windows_of_one_record_with_different_classes():
    with pytest.raises(ValueError, match="record 1"):
        record_labels(np.array([0, 0, 1, 2]), np.array([0, 0, 1, 1]), 2)


def _probs_for(y_pred: list[int], confidence: list[float], n_classes: int = 3) -> np.ndarray:
    probs = np.zeros((len(y_pred), n_classes))
    for i, (k, c) in enumerate(zip(y_pred, confidence, strict=True)):
        probs[i] = (1 - c) / (n_classes - 1)
        probs[i, k] = c
    return probs


def test_evaluate_predictions_matches_sklearn_and_counts_the_confusions():
    y = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    y_pred = [0, 0, 1, 1, 2, 2, 2, 0]
    probs = _probs_for(y_pred, [0.9, 0.8, 0.6, 0.7, 0.5, 0.9, 0.8, 0.95])
    ids = [f"r{i}" for i in range(8)]
    m = evaluate_predictions(y, probs, CLASSES, ids)
    assert m["accuracy"] == pytest.approx(5 / 8)
    assert m["macro_f1"] == pytest.approx(f1_score(y, y_pred, average="macro"))
    assert m["macro_precision"] == pytest.approx(precision_score(y, y_pred, average="macro"))
    assert m["macro_recall"] == pytest.approx(recall_score(y, y_pred, average="macro"))
    assert m["confusion_matrix"] == [[2, 1, 0], [0, 1, 1], [1, 0, 2]]
    assert m["per_class"]["wear"] == {
        "precision": pytest.approx(2 / 3),
        "recall": pytest.approx(2 / 3),
        "f1": pytest.approx(2 / 3),
        "support": 3,
    }
    for name in CLASSES:
        assert 0.5 < m["roc"][name]["auc"] <= 1.0
        assert m["roc"][name]["fpr"][0] == 0.0 and m["roc"][name]["tpr"][-1] == 1.0
    expected_loss = -np.mean(np.log(probs[np.arange(8), y]))
    assert m["log_loss"] == pytest.approx(expected_loss)
    json.dumps(m, allow_nan=False)  # plain JSON values only


def test_a_class_absent_from_the_truth_has_no_auc_but_keeps_its_row():
    y = np.array([0, 0, 1, 1])
    probs = _probs_for([0, 2, 1, 1], [0.8, 0.6, 0.7, 0.9])
    m = evaluate_predictions(y, probs, CLASSES, ["a", "b", "c", "d"])
    assert m["roc"]["wear"]["auc"] is None and m["roc"]["wear"]["fpr"] is None
    assert m["per_class"]["wear"]["support"] == 0
    assert m["macro_auc"] == pytest.approx(
        np.mean([m["roc"]["healthy"]["auc"], m["roc"]["imbalance"]["auc"]])
    )
    json.dumps(m, allow_nan=False)


def test_roc_curves_are_thinned_but_keep_their_ends_and_the_exact_auc():
    rng = np.random.default_rng(1)
    n = 3000
    y = rng.integers(0, 3, n)
    logits = rng.standard_normal((n, 3)) + 1.5 * np.eye(3)[y]
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    m = evaluate_predictions(y, probs, CLASSES, [str(i) for i in range(n)])
    from sklearn.metrics import roc_auc_score

    for k, name in enumerate(CLASSES):
        curve = m["roc"][name]
        assert 2 < len(curve["fpr"]) <= MAX_ROC_POINTS
        assert len(curve["fpr"]) == len(curve["tpr"]) == len(curve["thresholds"])
        assert curve["fpr"][0] == 0.0 and curve["fpr"][-1] == 1.0 and curve["tpr"][-1] == 1.0
        assert np.all(np.diff(curve["fpr"]) >= 0)
        assert curve["auc"] == pytest.approx(roc_auc_score(y == k, probs[:, k]))


def test_worst_predictions_put_confident_mistakes_first_then_unsure_right_ones():
    y = np.array([0, 1, 2, 0, 1, 2])
    y_pred = [1, 1, 0, 0, 2, 2]  # records 0, 2 and 4 wrong
    probs = _probs_for(y_pred, [0.6, 0.9, 0.95, 0.5, 0.7, 0.4])
    preds = make_predictions(["a", "b", "c", "d", "e", "f"], y, probs, CLASSES)
    worst = worst_predictions(preds, n=5)
    assert [w["record_id"] for w in worst] == ["c", "e", "a", "f", "d"]
    assert [w["correct"] for w in worst] == [False, False, False, True, True]
    assert worst[0]["true_label"] == "wear" and worst[0]["predicted_label"] == "healthy"
    assert worst[0]["predicted_probability"] == pytest.approx(0.95)
    assert worst[0]["true_probability"] == pytest.approx(0.025)
    assert sum(worst[0]["probabilities"].values()) == pytest.approx(1.0)
    assert len(evaluate_predictions(y, probs, CLASSES, list("abcdef"))["worst_predictions"]) == 6


def test_evaluate_split_scores_records_and_windows_separately():
    split = _split(n_records=3, per_record=3)  # labels per record: 0, 1, 2
    # Record r0: 2 of 3 windows right but the mean favours class 0; r1: 1 of 3 right and the mean is wrong.
    window_probs = np.array(
        [
            [0.9, 0.1, 0.0],
            [0.8, 0.2, 0.0],
            [0.4, 0.6, 0.0],
            [0.6, 0.4, 0.0],
            [0.6, 0.4, 0.0],
            [0.3, 0.7, 0.0],
            [0.0, 0.0, 1.0],
            [0.0, 0.0, 1.0],
            [0.0, 0.0, 1.0],
        ]
    )
    metrics, preds = evaluate_split(window_probs, split)
    assert metrics["window_accuracy"] == pytest.approx(6 / 9)
    assert metrics["accuracy"] == pytest.approx(2 / 3)
    assert metrics["n"] == 3 and metrics["n_windows"] == 9 and metrics["level"] == "record"
    assert preds.record_ids == ("r0", "r1", "r2")
    np.testing.assert_array_equal(preds.y_true, [0, 1, 2])
    np.testing.assert_allclose(preds.probs[1], [0.5, 0.5, 0.0])


class _Tiny(torch.nn.Module):
    """Logits from the mean of the signal and, when given, the sum of the metadata."""

    def __init__(self) -> None:
        super().__init__()
        self.head = torch.nn.Linear(2, 3)
        self.dropout = torch.nn.Dropout(0.9)
        self.seen_meta: list[object] = []

    def forward(self, x: torch.Tensor, meta: torch.Tensor | None = None) -> torch.Tensor:
        self.seen_meta.append(None if meta is None else tuple(meta.shape))
        extra = meta.sum(dim=1) if meta is not None else torch.zeros(x.shape[0])
        return self.head(self.dropout(torch.stack([x.mean(dim=1), extra], dim=1)))


@pytest.mark.parametrize("n_meta", [0, 2])
def test_predict_windows_runs_in_eval_mode_in_batches_and_restores_the_mode(n_meta):
    torch.manual_seed(0)
    model = _Tiny().train()
    split = _split(n_records=5, per_record=3, n_meta=n_meta)
    split.signals = np.lib.stride_tricks.as_strided(split.signals, writeable=False)  # like window views
    probs = predict_windows(model, split, batch_size=4)
    assert model.training  # restored
    assert probs.shape == (15, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    with torch.no_grad():
        model.eval()
        meta = torch.from_numpy(split.meta) if n_meta else None
        expected = torch.softmax(model(torch.from_numpy(np.array(split.signals)), meta), dim=1).numpy()
    np.testing.assert_allclose(probs, expected, atol=1e-6)  # dropout off: deterministic
    batches = model.seen_meta[:-1]
    assert len(batches) == 4  # 4 + 4 + 4 + 3 windows
    assert all(shape == (None if n_meta == 0 else shape) for shape in batches)
    if n_meta:
        assert batches[0] == (4, 2) and batches[-1] == (3, 2)
