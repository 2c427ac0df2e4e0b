"""Evaluation of a split: window probabilities, record-level aggregation, every metric of a results page.

Pure numpy/scikit-learn; torch is imported only inside `predict_windows`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    log_loss,
    precision_recall_fscore_support,
    roc_auc_score,
    roc_curve,
)

from bearing_workbench.models.predictions import Predictions, make_predictions

if TYPE_CHECKING:
    import torch

MAX_ROC_POINTS = 200
N_WORST = 10


class WindowSplit(Protocol):
    """What evaluation needs of a split (training.data.SplitData has it)."""

    signals: np.ndarray  # (n_windows, L) float32
    labels: np.ndarray  # (n_windows,) int64
    meta: np.ndarray  # (n_windows, M) float32
    record_index: np.ndarray  # (n_windows,) index into record_ids
    record_ids: Sequence[str]
    class_names: Sequence[str]


def predict_windows(
    model: torch.nn.Module, split: WindowSplit, batch_size: int = 256, device: str | torch.device = "cpu"
) -> np.ndarray:
    """Class probabilities (n_windows, C) of a torch model on every window of `split`.

    Runs in eval mode without gradients and restores the model's previous mode afterwards.
    """
    import torch

    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    signals = np.asarray(split.signals)
    meta = np.asarray(split.meta, dtype=np.float32)
    n = signals.shape[0]
    if meta.ndim != 2 or meta.shape[0] != n:
        raise ValueError(f"split meta: expected shape ({n}, M), got {meta.shape}")
    use_meta = meta.shape[1] > 0
    was_training = model.training
    model.eval()
    chunks: list[np.ndarray] = []
    try:
        with torch.no_grad():
            for start in range(0, n, batch_size):
                # Copies: windows are often read-only strided views, which torch cannot wrap.
                x = torch.tensor(signals[start : start + batch_size], dtype=torch.float32, device=device)
                m = torch.tensor(meta[start : start + batch_size], device=device) if use_meta else None
                logits = model(x, m)
                chunks.append(torch.softmax(logits.float(), dim=1).cpu().numpy().astype(np.float64))
    finally:
        model.train(was_training)
    n_classes = len(split.class_names)
    return np.concatenate(chunks) if chunks else np.zeros((0, n_classes))


def aggregate_records(
    window_probs: np.ndarray, record_index: np.ndarray, n_records: int | None = None
) -> np.ndarray:
    """Mean window probability per record: (n_records, C), rows in record-index order.

    Args:
        record_index: record of each window, an index into the split's record ids.
        n_records: number of records (default: highest index + 1); every record needs a window.
    """
    probs = np.asarray(window_probs, dtype=np.float64)
    index = np.asarray(record_index)
    if probs.ndim != 2 or index.shape != (probs.shape[0],):
        raise ValueError(f"window_probs {probs.shape} and record_index {index.shape} must be (n, C) and (n,)")
    if index.size and (not np.issubdtype(index.dtype, np.integer) or index.min() < 0):
        raise ValueError("record_index: expected non-negative integer indices into the record ids")
    count = (int(index.max()) + 1 if index.size else 0) if n_records is None else int(n_records)
    if index.size and index.max() >= count:
        raise ValueError(f"record_index refers to record {int(index.max())} but there are {count} records")
    sums = np.zeros((count, probs.shape[1]))
    np.add.at(sums, index, probs)
    windows = np.bincount(index, minlength=count)
    empty = np.flatnonzero(windows == 0)
    if empty.size:
        raise ValueError(f"records {empty[:10].tolist()} have no windows; cannot aggregate them")
    return sums / windows[:, None]


def record_labels(labels: np.ndarray, record_index: np.ndarray, n_records: int) -> np.ndarray:
    """The class of each record from its windows' labels; windows of one record must agree."""
    labels = np.asarray(labels, dtype=np.int64)
    index = np.asarray(record_index)
    first = np.full(n_records, -1, dtype=np.int64)
    # Reversed so that the first window of each record is the one written last.
    first[index[::-1]] = labels[::-1]
    if np.any(labels != first[index]):
        bad = int(index[np.flatnonzero(labels != first[index])[0]])
        raise ValueError(f"windows of record {bad} carry different labels; a record has one class")
    return first


def evaluate_split(window_probs: np.ndarray, split: WindowSplit) -> tuple[dict[str, Any], Predictions]:
    """Record-level metrics (windows averaged per record) plus window-level accuracy, and the predictions.

    Returns:
        (metrics as from `evaluate_predictions` with `window_accuracy` and `n_windows` added,
        record-level `Predictions` in the split's record order).
    """
    n_records = len(split.record_ids)
    window_probs = np.asarray(window_probs, dtype=np.float64)
    labels = np.asarray(split.labels, dtype=np.int64)
    if window_probs.shape[0] != labels.shape[0]:
        raise ValueError(
            f"window_probs has {window_probs.shape[0]} rows but the split has {labels.shape[0]} windows"
        )
    probs = aggregate_records(window_probs, split.record_index, n_records)
    y_true = record_labels(labels, split.record_index, n_records)
    metrics = evaluate_predictions(y_true, probs, split.class_names, split.record_ids)
    metrics["window_accuracy"] = (
        float(np.mean(window_probs.argmax(axis=1) == labels)) if labels.size else None
    )
    metrics["n_windows"] = int(labels.size)
    return metrics, make_predictions(split.record_ids, y_true, probs, split.class_names)


def evaluate_predictions(
    y_true: Sequence[int] | np.ndarray,
    probs: np.ndarray,
    class_names: Sequence[str],
    record_ids: Sequence[object],
) -> dict[str, Any]:
    """Every metric of a results page from class probabilities, as plain JSON-ready values.

    Accuracy; macro precision/recall/F1 (over the classes present in the truth or the predictions);
    per-class precision/recall/F1/support; confusion matrix (rows true, columns predicted); one-vs-rest
    ROC curves (at most 200 points each) with AUC (None for a class absent from `y_true`); log loss;
    the 10 worst predictions (confidently wrong first, then the least sure right ones).
    """
    preds = make_predictions(record_ids, np.asarray(y_true), probs, class_names)
    y, p, names = preds.y_true, preds.probs, list(preds.class_names)
    n_classes = len(names)
    if y.size == 0:
        raise ValueError("cannot evaluate an empty split (no records)")
    y_pred = preds.y_pred
    all_labels = list(range(n_classes))
    present = np.union1d(y, y_pred).tolist()
    macro_p, macro_r, macro_f1, _ = precision_recall_fscore_support(
        y, y_pred, labels=present, average="macro", zero_division=0
    )
    prec, rec, f1, support = precision_recall_fscore_support(
        y, y_pred, labels=all_labels, average=None, zero_division=0
    )
    roc = _roc_curves(y, p, names)
    aucs = [c["auc"] for c in roc.values() if c["auc"] is not None]
    return {
        "level": "record",
        "n": int(y.size),
        "class_names": names,
        "accuracy": float(accuracy_score(y, y_pred)),
        "macro_precision": float(macro_p),
        "macro_recall": float(macro_r),
        "macro_f1": float(macro_f1),
        "per_class": {
            name: {
                "precision": float(prec[k]),
                "recall": float(rec[k]),
                "f1": float(f1[k]),
                "support": int(support[k]),
            }
            for k, name in enumerate(names)
        },
        "confusion_matrix": confusion_matrix(y, y_pred, labels=all_labels).tolist(),
        "roc": roc,
        "macro_auc": float(np.mean(aucs)) if aucs else None,
        "log_loss": float(log_loss(y, _renormalised(p), labels=all_labels)),
        "worst_predictions": worst_predictions(preds),
    }


def _renormalised(probs: np.ndarray) -> np.ndarray:
    # Rounding can leave rows a hair off 1, which log_loss refuses.
    return probs / probs.sum(axis=1, keepdims=True)


def _thin(fpr: np.ndarray, tpr: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, ...]:
    """At most MAX_ROC_POINTS points, evenly spaced along the curve, keeping both ends."""
    if fpr.size <= MAX_ROC_POINTS:
        return fpr, tpr, thresholds
    keep = np.unique(np.linspace(0, fpr.size - 1, MAX_ROC_POINTS).round().astype(int))
    return fpr[keep], tpr[keep], thresholds[keep]


def _finite_or_none(values: np.ndarray) -> list[float | None]:
    # roc_curve's first threshold is +inf, which JSON cannot carry.
    return [float(v) if math.isfinite(v) else None for v in values]


def _roc_curves(y: np.ndarray, probs: np.ndarray, names: list[str]) -> dict[str, dict[str, Any]]:
    curves: dict[str, dict[str, Any]] = {}
    for k, name in enumerate(names):
        positive = y == k
        if positive.all() or not positive.any():
            # One-vs-rest ROC needs both positives and negatives.
            curves[name] = {"fpr": None, "tpr": None, "thresholds": None, "auc": None}
            continue
        fpr, tpr, thresholds = roc_curve(positive, probs[:, k])
        fpr, tpr, thresholds = _thin(fpr, tpr, thresholds)
        curves[name] = {
            "fpr": fpr.tolist(),
            "tpr": tpr.tolist(),
            "thresholds": _finite_or_none(thresholds),
            "auc": float(roc_auc_score(positive, probs[:, k])),
        }
    return curves


def worst_predictions(predictions: Predictions, n: int = N_WORST) -> list[dict[str, Any]]:
    """The `n` worst records: wrong ones by predicted-class probability (most confident first), then
    right ones by lowest true-class probability."""
    y, p, names = predictions.y_true, predictions.probs, predictions.class_names
    y_pred = predictions.y_pred
    rows = np.arange(y.size)
    p_true = p[rows, y]
    p_pred = p[rows, y_pred]
    wrong = np.flatnonzero(y_pred != y)
    right = np.flatnonzero(y_pred == y)
    order = np.concatenate(
        [wrong[np.argsort(-p_pred[wrong], kind="stable")], right[np.argsort(p_true[right], kind="stable")]]
    )
    return [
        {
            "record_id": predictions.record_ids[i],
            "true_label": names[y[i]],
            "predicted_label": names[y_pred[i]],
            "correct": bool(y[i] == y_pred[i]),
            "true_probability": float(p_true[i]),
            "predicted_probability": float(p_pred[i]),
            "probabilities": {name: float(p[i, k]) for k, name in enumerate(names)},
        }
        for i in order[:n]
    ]
