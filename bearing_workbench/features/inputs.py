"""Checks shared by the feature functions: signal batches, sampling rate, chunk sizes.

Every check raises ``ValueError`` with a message that names the argument and what is expected (the
scalar ones are `config.arguments` types, an `ArgumentError`, which is a ValueError).
"""

from __future__ import annotations

import math

import numpy as np

from bearing_workbench.config.arguments import SamplingRate, check, integer_at_least

# Rows checked for NaN/inf at a time, so validation of a large batch needs no full-size boolean mask.
_FINITE_CHECK_ROWS = 256


def as_signal_batch(signals: np.ndarray, name: str = "signals") -> np.ndarray:
    """Return ``signals`` as a 2-D real array (n_signals, n_samples); a 1-D signal is a batch of one."""
    arr = np.asarray(signals)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise ValueError(f"{name} must be a real numeric array; got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[np.newaxis, :]
    elif arr.ndim != 2:
        raise ValueError(
            f"{name} must be 1-D (one signal) or 2-D (n_signals, n_samples); "
            f"got {arr.ndim}-D shape {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} holds no signals (shape {arr.shape})")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} holds signals of length 0 (shape {arr.shape})")
    if np.issubdtype(arr.dtype, np.floating):
        for start in range(0, arr.shape[0], _FINITE_CHECK_ROWS):
            block = arr[start : start + _FINITE_CHECK_ROWS]
            finite = np.isfinite(block).all(axis=-1)
            if not finite.all():
                row = start + int(np.argmin(finite))
                raise ValueError(f"{name} contains NaN or infinite values (first in signal index {row})")
    return arr


def check_fs(fs: float, minimum: float | None = None, why: str = "") -> float:
    """Return ``fs`` as a float after checking it is a finite positive rate (and at least ``minimum``)."""
    value = check(SamplingRate, fs, "fs")
    if minimum is not None and value < minimum:
        raise ValueError(f"fs={value:g} Hz is below the {minimum:g} Hz required{why}")
    return value


def check_positive_int(value: int, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int after checking it is an integer >= ``minimum``."""
    return check(integer_at_least(minimum), value, name)


def check_duration(n_samples: int, fs: float, min_seconds: float, why: str) -> None:
    """Raise if signals of ``n_samples`` at ``fs`` last less than ``min_seconds``."""
    duration = n_samples / fs
    if duration < min_seconds:
        raise ValueError(
            f"signals are too short: {n_samples} samples last {duration:.4g} s at fs={fs:g} Hz; "
            f"at least {min_seconds:g} s ({math.ceil(min_seconds * fs)} samples) are needed {why}"
        )
