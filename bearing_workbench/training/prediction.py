"""Prediction on new data: any stored model, any source of signals, one record-level answer.

    result = predict(12, "plant-a.npz")          # or a dataset name, a folder, (signals, fs)
    result.frame()                               # record_id, [true_label], predicted_label, prob_<class>

`records_for` brings a source to what the model was trained on (its sampling rate by
`scipy.signal.resample_poly`, its classes by name, its metadata columns by name) and refuses what
it cannot use with one line naming the records, classes or columns at fault. The model cuts
windows and aggregates them to records itself (`StoredModel.predict_records`, the same code as
evaluation), so a prediction on a test record matches the stored test prediction. Nothing here
writes to the store.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from bearing_workbench.models.predictions import PREDICTED_COLUMN, PROB_PREFIX, RECORD_COLUMN, TRUE_COLUMN
from bearing_workbench.training.sources import PredictionInputError, SignalSource, listed, load_source

if TYPE_CHECKING:
    import pandas as pd

    from bearing_workbench.store import Store
    from bearing_workbench.training.stored_model import RecordOutputs, Records, StoredModel

__all__ = ["PredictionInputError", "PredictionResult", "load_source", "predict", "records_for"]

# Largest up/down factor accepted for resampling: rates whose ratio needs more are approximated.
_MAX_RESAMPLE_FACTOR = 1000


@dataclass(frozen=True)
class PredictionResult:
    """Per-record predictions of one stored model on one source.

    Args:
        probs: (n_records, C) class probabilities, windows aggregated as evaluation does.
        predicted: predicted class name per record (highest probability).
        true_labels: class name per record when the source has labels, else None.
        windows: per-window detail when asked for (record_id, window, start, prob_<class>...);
            None otherwise, and for an ensemble (it combines its members per record).
        warnings: what was changed to fit the model, e.g. "resampled from 25600 Hz to 20480 Hz".
    """

    experiment_id: int
    class_names: tuple[str, ...]
    record_ids: tuple[str, ...]
    probs: np.ndarray
    predicted: tuple[str, ...]
    true_labels: tuple[str, ...] | None
    windows: pd.DataFrame | None
    warnings: tuple[str, ...]
    source: str = ""

    @property
    def n_records(self) -> int:
        return len(self.record_ids)

    @property
    def confidence(self) -> np.ndarray:
        """Probability of the predicted class, per record."""
        return self.probs.max(axis=1) if self.probs.size else np.zeros(0)

    @property
    def accuracy(self) -> float | None:
        """Share of records predicted as their true label; None without labels."""
        if self.true_labels is None or not self.record_ids:
            return None
        return float(np.mean([p == t for p, t in zip(self.predicted, self.true_labels, strict=True)]))

    def frame(self) -> pd.DataFrame:
        """One row per record: record_id, [true_label], predicted_label, prob_<class>... (the columns of
        the stored predictions CSV)."""
        import pandas as pd

        columns: dict[str, Any] = {RECORD_COLUMN: list(self.record_ids)}
        if self.true_labels is not None:
            columns[TRUE_COLUMN] = list(self.true_labels)
        columns[PREDICTED_COLUMN] = list(self.predicted)
        for k, name in enumerate(self.class_names):
            columns[f"{PROB_PREFIX}{name}"] = self.probs[:, k]
        return pd.DataFrame(columns)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the experiment, source, warnings, accuracy and one entry per record (and window)."""
        records = []
        for i, record_id in enumerate(self.record_ids):
            row: dict[str, Any] = {
                "record_id": record_id,
                "predicted_label": self.predicted[i],
                "probability": float(self.probs[i].max()),
                "probabilities": {n: float(self.probs[i, k]) for k, n in enumerate(self.class_names)},
            }
            if self.true_labels is not None:
                row["true_label"] = self.true_labels[i]
            records.append(row)
        out: dict[str, Any] = {
            "experiment_id": self.experiment_id,
            "source": self.source,
            "class_names": list(self.class_names),
            "n_records": self.n_records,
            "accuracy": self.accuracy,
            "warnings": list(self.warnings),
            "records": records,
        }
        if self.windows is not None:
            out["windows"] = self.windows.to_dict(orient="records")
        return out


def records_for(model: StoredModel, source: SignalSource) -> tuple[Records, list[str]]:
    """`source` as the `Records` `model` takes, and the warnings about what was changed.

    Resamples to the model's rate (with a warning naming both rates), maps labels to the model's
    classes by name and metadata by column name; raises `PredictionInputError` for records that are
    not one channel, too short, or not finite, for labels the model does not know, and for missing
    metadata the model needs.
    """
    from bearing_workbench.training.stored_model import Records

    warnings: list[str] = []
    signals = _one_channel(source)
    _check_finite(source, signals)
    model_fs = float(model.spec.fs)
    if source.fs != model_fs:
        signals = _resample(signals, source.fs, model_fs)
        warnings.append(
            f"resampled {source.name} from {source.fs:g} Hz to {model_fs:g} Hz (the model's rate)"
        )
    n_samples = signals.shape[1]
    if n_samples < model.min_samples:
        at_rate = f" at {model_fs:g} Hz" if warnings else ""
        raise PredictionInputError(
            f"{source.name}: records are too short: {n_samples} samples{at_rate}, "
            f"experiment {model.experiment_id} needs at least {model.min_samples} "
            f"({model.min_samples / model_fs:g} s at {model_fs:g} Hz)"
        )
    records = Records(
        signals=np.ascontiguousarray(signals, dtype=np.float32),
        fs=model_fs,
        record_ids=tuple(source.record_ids),
        meta=_meta_for(model, source),
        labels=_label_indices(model, source),
    )
    return records, warnings


def _one_channel(source: SignalSource) -> np.ndarray:
    signals = np.asarray(source.signals)
    if signals.ndim != 2:
        raise PredictionInputError(
            f"{source.name}: expected one channel per record, a (records, samples) array; "
            f"got shape {signals.shape}"
        )
    if signals.shape[0] == 0:
        raise PredictionInputError(f"{source.name}: contains no records")
    return signals


def _check_finite(source: SignalSource, signals: np.ndarray) -> None:
    with np.errstate(over="ignore"):
        bad = np.flatnonzero(~np.isfinite(signals.astype(np.float32, copy=False)).all(axis=1))
    if bad.size:
        which = "record" if bad.size == 1 else "records"
        ids = [source.record_ids[i] for i in bad]
        raise PredictionInputError(
            f"{source.name}: NaN or infinite samples in {which} {listed(ids)}; expected finite numbers"
        )


def _resample(signals: np.ndarray, fs: float, target: float) -> np.ndarray:
    """`signals` from `fs` to `target` Hz along the time axis (polyphase, with its anti-alias filter)."""
    from scipy.signal import resample_poly

    ratio = (Fraction(target) / Fraction(fs)).limit_denominator(_MAX_RESAMPLE_FACTOR)
    out = resample_poly(signals.astype(np.float64), ratio.numerator, ratio.denominator, axis=1)
    return out.astype(np.float32)


def _meta_for(model: StoredModel, source: SignalSource) -> dict[str, np.ndarray]:
    """The model's metadata columns the source has (numeric, finite), by name; refuses when one it
    cannot do without is missing."""
    wanted = tuple(dict.fromkeys((*model.spec.meta_names, *model.required_meta)))
    meta: dict[str, np.ndarray] = {}
    unusable: list[str] = []
    for name in wanted:
        column = source.meta.get(name)
        if column is None:
            continue
        values = np.asarray(column)
        if values.dtype.kind not in "iufb" or not np.isfinite(values.astype(np.float64)).all():
            unusable.append(name)
            continue
        meta[name] = values.astype(np.float32)
    missing = [name for name in model.required_meta if name not in meta]
    if missing:
        has = f"; it has {listed(sorted(source.meta))}" if source.meta else "; it has no metadata"
        bad = f" ({listed(unusable)} not numbers for every record)" if unusable else ""
        raise PredictionInputError(
            f"{source.name}: experiment {model.experiment_id} ({model.family}) needs the operating "
            f"metadata {listed(missing)} for every record{bad}{has} (datasets from generate-data carry "
            "it; a file of your own gives it as meta_<name> keys or columns)"
        )
    return meta


def _label_indices(model: StoredModel, source: SignalSource) -> np.ndarray | None:
    if source.labels is None:
        return None
    classes = tuple(model.spec.class_names)
    index = {name: k for k, name in enumerate(classes)}
    unknown = list(dict.fromkeys(label for label in source.labels if label not in index))
    if unknown:
        raise PredictionInputError(
            f"{source.name}: labels not among the classes of experiment {model.experiment_id}: "
            f"{listed(unknown)}; it knows {', '.join(classes)}"
        )
    return np.asarray([index[label] for label in source.labels], dtype=np.int64)


def predict(
    experiment_id: int,
    source: Any,
    *,
    fs: float | None = None,
    labels: Sequence[str] | str | os.PathLike | None = None,
    split: str | None = None,
    windows: bool = False,
    store: Store | None = None,
    device: str | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> PredictionResult:
    """Class and probabilities per record of stored experiment `experiment_id` on `source`.

    Args:
        source: a registered dataset name, a dataset file, the folder generate-data wrote, a signal
            file (.csv .h5 .mat .npy .npz; labels optional), or ``(signals, fs)``.
        fs: sampling rate for a file or array that does not carry one.
        labels: class names per record for a source without its own.
        split: a stored split of a dataset (train, val, test); default every record.
        windows: also return the probabilities of every window.
        device: where a neural model runs (default: CUDA when available).

    Raises `StoredModelError` (unknown id, run not completed, model missing), `PredictionInputError`
    (a source the model cannot use) or `data.loaders.DataFileError` (a file the loader refuses);
    writes nothing.
    """
    from bearing_workbench.store import Store
    from bearing_workbench.training.stored_model import load_stored_model

    store = store if store is not None else Store()
    model = load_stored_model(store, experiment_id, device=device)
    signal_source = load_source(source, store=store, fs=fs, labels=labels, split=split)
    records, warnings = records_for(model, signal_source)
    outputs = model.predict_records(records, progress=progress)
    return _result(model, records, outputs, signal_source, warnings, windows)


def _result(
    model: StoredModel,
    records: Records,
    outputs: RecordOutputs,
    source: SignalSource,
    warnings: list[str],
    windows: bool,
) -> PredictionResult:
    classes = tuple(model.spec.class_names)
    probs = np.asarray(outputs.probs, dtype=np.float64)
    if probs.shape != (len(records.record_ids), len(classes)):
        raise RuntimeError(
            f"experiment {model.experiment_id} returned probabilities of shape {probs.shape} for "
            f"{len(records.record_ids)} records and {len(classes)} classes"
        )
    warnings = [*warnings, *outputs.warnings]
    window_frame = None
    if windows:
        if outputs.window_probs is None:
            warnings.append(
                f"no per-window detail: experiment {model.experiment_id} ({model.family}) "
                "combines whole-record predictions"
            )
        else:
            window_frame = _window_frame(outputs, records.record_ids, classes)
    true = None if records.labels is None else tuple(classes[k] for k in records.labels)
    return PredictionResult(
        experiment_id=model.experiment_id,
        class_names=classes,
        record_ids=tuple(records.record_ids),
        probs=probs,
        predicted=tuple(classes[k] for k in probs.argmax(axis=1)),
        true_labels=true,
        windows=window_frame,
        warnings=tuple(warnings),
        source=source.name,
    )


def _window_frame(outputs: RecordOutputs, record_ids: Sequence[str], classes: Sequence[str]) -> pd.DataFrame:
    import pandas as pd

    index = np.asarray(outputs.window_record_index, dtype=np.int64)
    # Number each record's windows 0, 1, ... in the order the model cut them.
    order = np.argsort(index, kind="stable")
    ordinal = np.empty_like(index)
    counts = np.bincount(index, minlength=len(record_ids))
    ordinal[order] = np.concatenate([np.arange(c) for c in counts]) if index.size else index
    starts = outputs.window_starts
    columns: dict[str, Any] = {
        RECORD_COLUMN: np.asarray(record_ids, dtype=object)[index],
        "window": ordinal,
        "start": np.asarray(starts, dtype=np.int64) if starts is not None else np.full(index.shape, -1),
    }
    window_probs = np.asarray(outputs.window_probs, dtype=np.float64)
    for k, name in enumerate(classes):
        columns[f"{PROB_PREFIX}{name}"] = window_probs[:, k]
    return pd.DataFrame(columns)
