"""The 36 features again, in shaft orders: each window seen as if its shaft turned at a reference speed.

Order normalisation rescales the time axis by the shaft speed: a window of a machine turning at
`speed` Hz, sampled at `fs`, is the same sequence of samples as a machine turning at `REFERENCE_HZ`
sampled at ``fs * REFERENCE_HZ / speed``. Computing the feature set at that sampling rate puts
every band in orders: the bands fixed in hertz (stick-slip, cavitation, resonance, envelope,
wavelet octaves) and the spectral shape statistics follow the speed, so two machines at different
speeds give the same values for the same fault, while the plain features keep what is fixed in
hertz (structural modes). The time-domain shape statistics do not depend on the time axis and come
out equal to the plain ones.

The speed is the record's (metadata) when known, else estimated per window
(`estimate_shaft_speed`); it is also returned as a last column. Windows with the same speed are
computed together.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .envelope import DEFAULT_ENVELOPE_BAND_HZ, envelope_band
from .handcrafted import FEATURE_NAMES, MIN_FS_HZ, N_FEATURES, feature_rows
from .inputs import as_signal_batch, check_fs
from .speed import estimate_shaft_speed

REFERENCE_HZ = 60.0
"""Speed every window is brought to (the generator's rated speed), so order features read in Hz at 60 Hz."""

MIN_ORDER_FS_HZ = 2500.0
"""Lowest order-domain sampling rate: the envelope band (from 1 kHz) needs room below 0.9 x Nyquist.
Order bands above the order-domain Nyquist (a fast shaft's 70X cavitation band) sum to zero."""

# The speed itself comes last: what a fault's level means depends on it (an imbalance's 1X grows with
# speed squared, so a slow machine's imbalance looks like a fast machine's healthy 1X).
ORDER_FEATURE_NAMES: tuple[str, ...] = (*(f"order_{name}" for name in FEATURE_NAMES), "shaft_speed_hz")


def compute_order_features(
    signals: np.ndarray,
    fs: float,
    shaft_hz: np.ndarray | float | None = None,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """The (n, 37) order-normalised features and the speed (columns as ``ORDER_FEATURE_NAMES``).

    Args:
        shaft_hz: speed in Hz, one for all or one per window; None estimates it per window.
    """
    x = as_signal_batch(signals)
    fs = check_fs(fs, MIN_FS_HZ, " by the feature set (its resonance band reaches 5 kHz)")
    n = x.shape[0]
    if shaft_hz is None:
        speeds = np.asarray(estimate_shaft_speed(x, fs), dtype=np.float64).reshape(n)
    else:
        speeds = np.broadcast_to(np.asarray(shaft_hz, dtype=np.float64), (n,))
    if not np.all(np.isfinite(speeds)) or np.any(speeds <= 0):
        raise ValueError("order features: shaft speeds must be finite and > 0 Hz")
    order_fs = fs * REFERENCE_HZ / speeds
    if np.any(order_fs < MIN_ORDER_FS_HZ):
        fastest = float(speeds[np.argmin(order_fs)])
        raise ValueError(
            f"order features: shaft speed {fastest:g} Hz is too fast for fs={fs:g} Hz; speeds up to "
            f"{fs * REFERENCE_HZ / MIN_ORDER_FS_HZ:.4g} Hz are supported"
        )
    out = np.empty((n, N_FEATURES + 1), dtype=np.float32)
    out[:, -1] = speeds
    for value in np.unique(order_fs):
        rows = np.flatnonzero(order_fs == value)
        band = envelope_band(float(value), DEFAULT_ENVELOPE_BAND_HZ)
        reference = np.full(rows.size, REFERENCE_HZ)
        # Few turns per window blur the order bands; the plain feature set refuses such short
        # windows, here they are accepted since the plain features of the same window gate them.
        out[rows, :N_FEATURES] = feature_rows(x[rows], float(value), reference, None, band)
        if progress is not None:
            progress(rows.size)
    return out
