"""Stored predictions of a model: one row per record, the CSV format that ensembles read back.

It lives in the models layer because the ensemble family (models) reads what training writes;
training imports it from here, never the other way round.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

RECORD_COLUMN = "record_id"
TRUE_COLUMN = "true_label"
PREDICTED_COLUMN = "predicted_label"
PROB_PREFIX = "prob_"
# Rows of probabilities may drift from 1 by rounding only; anything further is a broken file.
_ROW_SUM_TOLERANCE = 1e-3
PROBABILITY_FORMAT = "%.9g"


class PredictionsFileError(ValueError):
    """A predictions CSV that cannot be read or does not hold what it should."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = os.fspath(path)
        super().__init__(f"predictions file {self.path}: {problem}")


class Predictions(NamedTuple):
    """Class probabilities per record: (record_ids, y_true, probs, class_names).

    Args:
        y_true: true class index per record (n,), int64.
        probs: (n, C) class probabilities, rows summing to 1.
    """

    record_ids: tuple[str, ...]
    y_true: np.ndarray
    probs: np.ndarray
    class_names: tuple[str, ...]

    @property
    def y_pred(self) -> np.ndarray:
        """Predicted class index per record (highest probability)."""
        return np.argmax(self.probs, axis=1)


def make_predictions(
    record_ids: Sequence[object],
    y_true: Sequence[int] | np.ndarray,
    probs: np.ndarray,
    class_names: Sequence[str],
) -> Predictions:
    """Check shapes and values, and build `Predictions` (record ids as text)."""
    ids = tuple(str(r) for r in record_ids)
    y = np.asarray(y_true)
    p = np.asarray(probs, dtype=np.float64)
    names = tuple(str(c) for c in class_names)
    if p.ndim != 2 or p.shape[1] != len(names):
        raise ValueError(f"probs: expected shape (n, {len(names)}) (one column per class), got {p.shape}")
    if y.shape != (p.shape[0],) or len(ids) != p.shape[0]:
        raise ValueError(
            f"predictions: {len(ids)} record ids, {y.shape[0] if y.ndim else 0} labels and "
            f"{p.shape[0]} probability rows; expected the same number of each"
        )
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= len(names)):
        raise ValueError(
            f"y_true: expected class indices 0..{len(names) - 1}, got values {np.unique(y)[:10]}"
        )
    if len(set(ids)) != len(ids):
        raise ValueError("record_ids: repeated record ids; expected one row per record")
    if not np.all(np.isfinite(p)) or np.any(p < 0) or np.any(p > 1):
        raise ValueError("probs: expected finite probabilities in [0, 1]")
    return Predictions(ids, y.astype(np.int64), p, names)


def predictions_csv(predictions: Predictions) -> str:
    """The CSV text: record_id, true_label, predicted_label, prob_<class> for each class."""
    import pandas as pd  # deferred: keeps `import bearing_workbench.models` light

    names = list(predictions.class_names)
    frame = pd.DataFrame(
        {
            RECORD_COLUMN: list(predictions.record_ids),
            TRUE_COLUMN: [names[k] for k in predictions.y_true],
            PREDICTED_COLUMN: [names[k] for k in predictions.y_pred],
        }
    )
    for k, name in enumerate(names):
        frame[PROB_PREFIX + name] = predictions.probs[:, k]
    # 9 significant digits: every float32 model output reads back as the same float32 (ensembles
    # recombine these numbers losing nothing), without float64 noise such as 0.30000000000000004.
    return frame.to_csv(index=False, float_format=PROBABILITY_FORMAT)


def read_predictions(path: str | os.PathLike[str]) -> Predictions:
    """Read a predictions CSV written by `predictions_csv`; errors name the file and the problem."""
    import pandas as pd

    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PredictionsFileError(path, "does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PredictionsFileError(path, f"cannot be read ({exc})") from None
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            dtype={RECORD_COLUMN: str, TRUE_COLUMN: str, PREDICTED_COLUMN: str},
            na_filter=False,  # a record called "NA" stays a record id, not a missing value
        )
    except (ValueError, pd.errors.ParserError) as exc:
        raise PredictionsFileError(path, f"is not a valid CSV ({exc})") from None
    columns = list(frame.columns)
    missing = [c for c in (RECORD_COLUMN, TRUE_COLUMN) if c not in columns]
    prob_columns = [c for c in columns if c.startswith(PROB_PREFIX)]
    if missing or len(prob_columns) < 2:
        raise PredictionsFileError(
            path,
            f"expected columns {RECORD_COLUMN}, {TRUE_COLUMN} and {PROB_PREFIX}<class> "
            f"for at least 2 classes; found {columns}",
        )
    names = tuple(c[len(PROB_PREFIX) :] for c in prob_columns)
    try:
        probs = frame[prob_columns].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise PredictionsFileError(path, "probability columns hold values that are not numbers") from None
    index = {name: k for k, name in enumerate(names)}
    unknown = sorted(set(frame[TRUE_COLUMN]) - set(index), key=str)
    if unknown:
        raise PredictionsFileError(
            path, f"{TRUE_COLUMN} has values {unknown[:5]} that are not classes {names}"
        )
    if probs.size and np.any(np.abs(probs.sum(axis=1) - 1.0) > _ROW_SUM_TOLERANCE):
        raise PredictionsFileError(path, "probabilities of some rows do not sum to 1")
    try:
        return make_predictions(
            frame[RECORD_COLUMN].tolist(), np.array([index[t] for t in frame[TRUE_COLUMN]]), probs, names
        )
    except ValueError as exc:
        raise PredictionsFileError(path, str(exc)) from None
