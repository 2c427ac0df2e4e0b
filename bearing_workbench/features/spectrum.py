"""One-sided power spectra of signal batches and per-record band sums over them."""

from __future__ import annotations

import numpy as np
from scipy import fft as sp_fft
from scipy import signal as sp_signal


def power_spectrum(centred: np.ndarray) -> np.ndarray:
    """Hann-windowed one-sided power spectrum of each row of ``centred`` (mean already removed).

    The whole record goes into one FFT: order bands a few per cent wide need the finest resolution
    (0.2 Hz for 5 s), which Welch averaging would give away.
    """
    window = sp_signal.get_window("hann", centred.shape[-1])
    spec = sp_fft.rfft(centred * window, axis=-1)
    return spec.real**2 + spec.imag**2


def cumulative_power(power: np.ndarray) -> np.ndarray:
    """Cumulative sum over frequency with a leading zero, so that band sums are two look-ups."""
    cum = np.zeros((power.shape[0], power.shape[1] + 1), dtype=np.float64)
    np.cumsum(power, axis=-1, out=cum[:, 1:])
    return cum


def band_sum(cum: np.ndarray, df: float, lo_hz: np.ndarray | float, hi_hz: np.ndarray | float) -> np.ndarray:
    """Power in [lo_hz, hi_hz] for each row (DC bin excluded); edges may differ per row.

    ``cum`` comes from :func:`cumulative_power`; ``df`` is the bin spacing in Hz. A band above Nyquist
    sums to zero.
    """
    n, n_bins_plus_one = cum.shape
    n_bins = n_bins_plus_one - 1
    lo = np.broadcast_to(np.asarray(lo_hz, dtype=np.float64), (n,))
    hi = np.broadcast_to(np.asarray(hi_hz, dtype=np.float64), (n,))
    # Small tolerance so an edge that falls exactly on a bin includes it despite rounding.
    first = np.clip(np.ceil(lo / df - 1e-9), 1, n_bins).astype(np.intp)
    stop = np.clip(np.floor(hi / df + 1e-9) + 1, 1, n_bins).astype(np.intp)
    stop = np.maximum(stop, first)
    rows = np.arange(n)
    return cum[rows, stop] - cum[rows, first]


def order_band(
    shaft_hz: np.ndarray, order: float, rel_half_width: float, df: float, min_bins: float = 2.0
) -> tuple[np.ndarray, np.ndarray]:
    """Edges of the band around ``order`` x shaft speed: +-``rel_half_width`` of the order frequency.

    The half width is never below ``min_bins`` bins, the half width of a Hann window's main lobe, so a
    tone at the order stays inside its band on short records.
    """
    centre = order * shaft_hz
    half = np.maximum(rel_half_width * centre, min_bins * df)
    return centre - half, centre + half
