"""Envelope of a band-passed vibration signal (the demodulation used to reveal repeated impacts)."""

from __future__ import annotations

import math

import numpy as np
from scipy import signal as sp_signal

from .inputs import as_signal_batch, check_fs, check_positive_int

DEFAULT_ENVELOPE_BAND_HZ = (1000.0, 5000.0)
"""Band holding the structural resonance that contact impacts ring (3-5 kHz) and cavitation (1.5-2.5 kHz)."""

_MAX_EDGE_OF_NYQUIST = 0.9  # Butterworth band edges must stay clear of Nyquist to be stable


def envelope_band(fs: float, band_hz: tuple[float, float] = DEFAULT_ENVELOPE_BAND_HZ) -> tuple[float, float]:
    """Band edges actually used at ``fs``: the upper edge is lowered to 0.9 x Nyquist when needed."""
    try:
        lo, hi = (float(v) for v in band_hz)
    except (TypeError, ValueError):
        raise ValueError(f"band_hz must be a pair (low_hz, high_hz); got {band_hz!r}") from None
    nyquist = fs / 2
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo <= 0 or hi <= lo:
        raise ValueError(f"band_hz must satisfy 0 < low < high (finite, Hz); got {band_hz!r}")
    hi = min(hi, _MAX_EDGE_OF_NYQUIST * nyquist)
    if hi <= lo * 1.1:
        raise ValueError(
            f"band_hz low edge {lo:g} Hz leaves no room below 0.9 x Nyquist ({hi:g} Hz at fs={fs:g}); "
            "lower the band or use a higher sampling rate"
        )
    return lo, hi


def envelope_of_centred(
    centred: np.ndarray, fs: float, band_hz: tuple[float, float], order: int = 4
) -> np.ndarray:
    """Envelope of each row of an already-checked float batch (no input validation; internal use)."""
    sos = sp_signal.butter(order, band_hz, btype="bandpass", fs=fs, output="sos")
    # Zero phase so envelope peaks line up in time with the impacts in the raw signal.
    band = sp_signal.sosfiltfilt(sos, centred, axis=-1)
    return np.abs(sp_signal.hilbert(band, axis=-1))


def envelope(
    signals: np.ndarray,
    fs: float,
    band_hz: tuple[float, float] = DEFAULT_ENVELOPE_BAND_HZ,
    order: int = 4,
) -> np.ndarray:
    """Hilbert envelope of the band-passed signals, shape (n, L) float64.

    Args:
        signals: (n, L) batch or one (L,) signal (a batch of one).
        band_hz: Butterworth band-pass edges; the upper edge is lowered to 0.9 x Nyquist if needed.
        order: Butterworth order (applied forward and backward, so the effective order doubles).
    """
    x = as_signal_batch(signals)
    fs = check_fs(fs)
    order = check_positive_int(order, "order")
    band = envelope_band(fs, band_hz)
    # sosfiltfilt pads by 3 x (2 x sections + 1) samples on each side and needs more than that.
    min_len = 3 * (2 * order + 1) + 1
    if x.shape[1] <= min_len:
        raise ValueError(
            f"signals are too short for the envelope filter: {x.shape[1]} samples, need > {min_len}"
        )
    centred = np.asarray(x, dtype=np.float64)
    centred = centred - centred.mean(axis=1, keepdims=True)
    return envelope_of_centred(centred, fs, band, order)
