"""Per-class metrics, the confusion matrix, ROC curves and the records of one confusion-matrix cell, from
an experiment's stored metrics and test predictions (no widgets, no Dask)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bearing_workbench.analysis.format import finite
from bearing_workbench.training.artifacts import Predictions

# A class is weak (flagged on the page and in the report) when its test recall is below this.
RECALL_READY = 0.9


def per_class_rows(metrics: Mapping[str, Any], weak_below: float = RECALL_READY) -> list[dict[str, Any]]:
    """One row per class (class, precision, recall, f1, support, weak), in class order; a class is weak
    when it has test records and its recall is below `weak_below`."""
    per_class = metrics.get("per_class")
    if not isinstance(per_class, Mapping):
        raise ValueError("metrics: per_class is missing; expected class -> {precision, recall, f1, support}")
    order = [str(c) for c in metrics.get("class_names") or per_class]
    rows = []
    for name in order:
        values = per_class.get(name) or {}
        recall = finite(values.get("recall"))
        support = int(values.get("support") or 0)
        rows.append(
            {
                "class": name,
                "precision": finite(values.get("precision")),
                "recall": recall,
                "f1": finite(values.get("f1")),
                "support": support,
                "weak": bool(support > 0 and recall is not None and recall < weak_below),
            }
        )
    return rows


def confusion_matrix(metrics: Mapping[str, Any], normalised: bool = False) -> np.ndarray:
    """The test confusion matrix (rows true class, columns predicted); `normalised`: each row divided by
    its true-class count (a class without test records keeps a row of zeros)."""
    matrix = np.asarray(metrics.get("confusion_matrix") or [], dtype=np.int64)
    n = len(metrics.get("class_names") or [])
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or (n and matrix.shape[0] != n):
        raise ValueError(
            f"metrics: confusion_matrix must be a square {n} x {n} list of counts, got shape {matrix.shape}"
        )
    if not normalised:
        return matrix
    totals = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)


def roc_curves(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One-vs-rest ROC curves that could be drawn: [{class, fpr, tpr, auc}] in class order (classes
    without both positives and negatives in the test split are left out)."""
    roc = metrics.get("roc") or {}
    out = []
    for name in [str(c) for c in metrics.get("class_names") or roc]:
        curve = roc.get(name) or {}
        if curve.get("fpr") and curve.get("tpr"):
            out.append({"class": name, "fpr": curve["fpr"], "tpr": curve["tpr"], "auc": curve.get("auc")})
    return out


def cell_records(predictions: Predictions, true_label: str, predicted_label: str) -> list[dict[str, Any]]:
    """The test records of one confusion-matrix cell: [{record_id, true, predicted,
    predicted_probability, probabilities}], most confident first."""
    names = list(predictions.class_names)
    for which, label in (("true_label", true_label), ("predicted_label", predicted_label)):
        if label not in names:
            raise ValueError(f"{which} {label!r} is not a class of these predictions; classes: {names}")
    t, p = names.index(true_label), names.index(predicted_label)
    y_pred = predictions.y_pred
    rows = np.flatnonzero((predictions.y_true == t) & (y_pred == p))
    rows = rows[np.argsort(-predictions.probs[rows, p], kind="stable")]
    return [
        {
            "record_id": predictions.record_ids[i],
            "true": true_label,
            "predicted": predicted_label,
            "predicted_probability": float(predictions.probs[i, p]),
            "probabilities": {name: float(predictions.probs[i, k]) for k, name in enumerate(names)},
        }
        for i in rows
    ]


