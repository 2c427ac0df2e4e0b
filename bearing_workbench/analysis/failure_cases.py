"""One test record of an experiment, in detail: its signal, spectrum, operating point and prediction.

`failure_case(store, experiment_id, record_id)` is what the results page shows when a reader picks a
misclassified (or any) test record: the raw signal from the experiment's dataset file, its
magnitude spectrum with shaft-order markers where the record's speed is known, the class
probabilities the model gave it (``predictions_test.csv``) and its operating metadata.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import fft as sp_fft
from scipy import signal as sp_signal

from bearing_workbench.analysis.experiment_data import experiment_dataset_path, read_record
from bearing_workbench.config.arguments import SamplingRate, check
from bearing_workbench.store import Store
from bearing_workbench.store.artifacts import ExperimentFolder
from bearing_workbench.training.artifacts import read_predictions

# Shaft orders marked on the spectrum: sub-synchronous whirl near 0.5X, then the harmonics.
ORDER_MARKERS: tuple[float, ...] = (0.5, 1.0, 2.0, 3.0, 4.0, 5.0)
SPEED_KEY = "speed_hz"


@dataclass(frozen=True)
class FailureCase:
    """One test record and what the model made of it.

    Args:
        probabilities: (n_classes,) the model's record-level class probabilities, as `class_names`.
        time_s: (n_samples,) time of each sample of `signal`.
        frequencies_hz, magnitude: the one-sided amplitude spectrum (a sine of amplitude A reads A).
        metadata: the record's operating metadata from the dataset file (plain values).
        speed_hz: shaft speed from the metadata, None where unknown.
        order_markers: (label, Hz) of the shaft orders below Nyquist; empty without a speed.
        window_samples: samples per model input window (None: the whole record was one input).
    """

    experiment_id: int
    record_id: str
    true_label: str
    predicted_label: str
    class_names: tuple[str, ...]
    probabilities: np.ndarray
    fs: float
    signal: np.ndarray
    time_s: np.ndarray
    frequencies_hz: np.ndarray
    magnitude: np.ndarray
    metadata: dict[str, Any]
    speed_hz: float | None
    order_markers: tuple[tuple[str, float], ...]
    window_samples: int | None
    dataset_path: Path

    @property
    def correct(self) -> bool:
        return self.true_label == self.predicted_label

    @property
    def confidence(self) -> float:
        """Probability of the predicted class."""
        return float(self.probabilities[self.class_names.index(self.predicted_label)])

    @property
    def true_probability(self) -> float:
        """Probability the model gave the true class."""
        return float(self.probabilities[self.class_names.index(self.true_label)])


def magnitude_spectrum(signal: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """(frequencies in Hz, amplitude) of a 1-D signal: mean removed, Hann window, scaled so that a
    sinusoid of amplitude A between bins reads about A (exactly A on a bin)."""
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"signal: expected a 1-D array of at least 2 samples, got shape {x.shape}")
    fs = check(SamplingRate, fs, "fs")
    window = sp_signal.get_window("hann", x.size)
    spectrum = np.abs(sp_fft.rfft((x - x.mean()) * window)) * (2.0 / window.sum())
    spectrum[0] /= 2.0  # DC (and Nyquist for even lengths) is not doubled in a one-sided spectrum
    if x.size % 2 == 0:
        spectrum[-1] /= 2.0
    return sp_fft.rfftfreq(x.size, d=1.0 / fs), spectrum


def order_markers(
    speed_hz: float | None, fs: float, orders: tuple[float, ...] = ORDER_MARKERS
) -> tuple[tuple[str, float], ...]:
    """(label, frequency) of each shaft order below Nyquist, e.g. ("1X", 50.0); none without a speed."""
    if speed_hz is None or not math.isfinite(speed_hz) or speed_hz <= 0:
        return ()
    return tuple((f"{order:g}X", order * speed_hz) for order in orders if order * speed_hz < fs / 2)


def _speed(metadata: dict[str, Any]) -> float | None:
    value = metadata.get(SPEED_KEY)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value > 0 else None


def failure_case(store: Store, experiment_id: int, record_id: str) -> FailureCase:
    """Signal, spectrum, prediction and operating point of test record `record_id` of an experiment.

    Raises:
        ValueError: the record is not in the experiment's test predictions (the message names it), or
            the predictions file cannot be read.
    """
    record = store.get_experiment(experiment_id)
    predictions_path = ExperimentFolder.of(experiment_id, store.workspace).predictions_test
    predictions = read_predictions(predictions_path)
    record_id = str(record_id)
    try:
        row = predictions.record_ids.index(record_id)
    except ValueError:
        shown = ", ".join(predictions.record_ids[:3])
        raise ValueError(
            f"record {record_id!r} is not in the test predictions of experiment {experiment_id} "
            f"({predictions_path.name}, {len(predictions.record_ids)} records, e.g. {shown})"
        ) from None
    dataset_path = experiment_dataset_path(store, record)
    stored = read_record(dataset_path, record_id)
    probabilities = np.asarray(predictions.probs[row], dtype=np.float64)
    names = predictions.class_names
    frequencies, magnitude = magnitude_spectrum(stored.signal, stored.fs)
    speed = _speed(stored.metadata)
    window = ((record.config.get("data") or {}).get("window") or {}).get("length")
    return FailureCase(
        experiment_id=experiment_id,
        record_id=record_id,
        true_label=names[int(predictions.y_true[row])],
        predicted_label=names[int(np.argmax(probabilities))],
        class_names=names,
        probabilities=probabilities,
        fs=stored.fs,
        signal=stored.signal,
        time_s=np.arange(stored.signal.shape[0]) / stored.fs,
        frequencies_hz=frequencies,
        magnitude=magnitude,
        metadata=stored.metadata,
        speed_hz=speed,
        order_markers=order_markers(speed, stored.fs),
        window_samples=int(window) if window else None,
        dataset_path=dataset_path,
    )
