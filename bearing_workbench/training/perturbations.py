"""The perturbations of a robustness sweep: additive white noise at a set SNR, a gain, and a change of
shaft speed; each a pure function of whole records (numpy and scipy.signal), and `CONDITIONS`, the
sweep's registry of them.

A speed change is a time stretch: the record is resampled by the speed factor
(`scipy.signal.resample_poly`) and played back at the same sampling rate, so every frequency moves by
that factor (shaft harmonics, fault bands and resonances alike), and the speed-proportional metadata
is scaled with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from scipy.signal import resample_poly

# Metadata proportional to the shaft speed: the speed itself, and the Sommerfeld and Reynolds numbers
# (both linear in the journal's surface speed at a fixed load, viscosity and clearance).
SPEED_PROPORTIONAL_META = ("speed_hz", "speed_end_hz", "sommerfeld", "reynolds")
# Resampling ratios are kept to fractions with a denominator this small (a speed factor of 1.1 -> 10/11).
MAX_DENOMINATOR = 1000


def _records(signals: np.ndarray) -> np.ndarray:
    array = np.asarray(signals)
    if array.ndim != 2:
        raise ValueError(f"signals: expected (n_records, n_samples), got shape {array.shape}")
    return array


def add_noise(signals: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Each record plus white Gaussian noise at `snr_db` below that record's own power (mean square).

    A record of zero power stays as it is (no noise level can be relative to nothing).
    """
    x = _records(signals).astype(np.float64)
    power = np.mean(x**2, axis=1, keepdims=True)
    noise = rng.standard_normal(x.shape) * np.sqrt(power / 10.0 ** (snr_db / 10.0))
    return (x + noise).astype(np.float32)


def apply_gain(signals: np.ndarray, gain: float) -> np.ndarray:
    """Every record multiplied by `gain` (a sensor of another sensitivity)."""
    return (_records(signals).astype(np.float64) * gain).astype(np.float32)


def change_speed(signals: np.ndarray, factor: float) -> np.ndarray:
    """Records as if the machine ran `factor` times as fast: every frequency times `factor`, same length.

    The record is resampled to ``n / factor`` samples and read at the original rate. Slower (factor < 1)
    gives a longer record, cut back to ``n``; faster gives a shorter one, extended to ``n`` by mirroring
    its end (same frequencies, no step), so models that take whole records still get their length.
    """
    x = _records(signals).astype(np.float64)
    if not factor > 0:
        raise ValueError(f"factor: the speed factor must be positive, got {factor}")
    ratio = Fraction(1.0 / factor).limit_denominator(MAX_DENOMINATOR)
    n = x.shape[1]
    stretched = resample_poly(x, ratio.numerator, ratio.denominator, axis=1)
    if stretched.shape[1] >= n:
        return stretched[:, :n].astype(np.float32)
    missing = n - stretched.shape[1]
    if missing >= stretched.shape[1]:
        raise ValueError(f"records of {n} samples are too short to speed up {factor} times")
    return np.pad(stretched, ((0, 0), (0, missing)), mode="reflect").astype(np.float32)


def scale_speed_meta(meta: Mapping[str, np.ndarray], factor: float) -> dict[str, np.ndarray]:
    """Operating metadata after a speed change: the speed-proportional columns times `factor`."""
    return {
        name: np.asarray(values) * factor if name in SPEED_PROPORTIONAL_META else np.asarray(values)
        for name, values in meta.items()
    }


# (signals, metadata, the condition's generator) -> (perturbed signals, their metadata)
Perturb = Callable[
    [np.ndarray, Mapping[str, np.ndarray], np.random.Generator], tuple[np.ndarray, dict[str, np.ndarray]]
]


@dataclass(frozen=True)
class Condition:
    """One condition of the sweep: its group and name as shown, and what it does to records and metadata."""

    group: str  # "clean" | "noise" | "gain" | "speed"
    name: str
    perturb: Perturb = field(repr=False)
    params: Mapping[str, float] = field(default_factory=dict)


def _clean(
    signals: np.ndarray, meta: Mapping[str, np.ndarray], rng: np.random.Generator
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    return np.asarray(signals), dict(meta)


def _noise(snr_db: float) -> Condition:
    return Condition(
        "noise",
        f"SNR {snr_db:g} dB",
        lambda s, m, rng: (add_noise(s, snr_db, rng), dict(m)),
        {"snr_db": snr_db},
    )


def _gain(gain: float) -> Condition:
    return Condition(
        "gain", f"gain x{gain:g}", lambda s, m, rng: (apply_gain(s, gain), dict(m)), {"gain": gain}
    )


def _speed(change: float) -> Condition:
    factor = 1.0 + change
    return Condition(
        "speed",
        f"speed {100 * change:+.0f} %",
        lambda s, m, rng: (change_speed(s, factor), scale_speed_meta(m, factor)),
        {"factor": factor},
    )


# The sweep, in the order a page draws it; the clean condition first, as the reference.
CONDITIONS: tuple[Condition, ...] = (
    Condition("clean", "clean", _clean),
    _noise(20.0),
    _noise(10.0),
    _noise(5.0),
    _gain(0.5),
    _gain(2.0),
    _speed(-0.10),
    _speed(0.10),
)


def condition_rngs(seed: int) -> list[np.random.Generator]:
    """One independent generator per condition, from one seed: a condition's noise does not depend on
    which conditions ran before it."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(CONDITIONS))]
