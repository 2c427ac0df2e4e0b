"""The 36 hand-crafted features of a journal-bearing vibration record.

Four families, each chosen for the faults it separates:

- time (11): level and shape statistics; impacts (lubrication) raise kurtosis and the crest factors.
  (No mean: vibration sensors are AC-coupled and the mean carries no machine information.)
- frequency (18): power in bands as fractions of the total (so independent of amplitude), order
  bands placed with the record's shaft speed: oil whirl (0.40-0.49X), clearance (exact 0.5X,
  1.5X + 2.5X, 4-10X harmonics), imbalance (1X), misalignment (2X, 3X, log 2X/1X), stick-slip of a
  starved film (2-10 Hz), cavitation (1.5-2.5 kHz), the structural resonance rung by contact
  impacts (2.5-5 kHz); plus spectral shape statistics that follow the broadband rise of wear.
- envelope (3): Hilbert envelope of the 1-5 kHz band; impacts once a turn give a peaky envelope
  whose spectrum has a line at 1X, bursts at random times give a flat envelope spectrum.
- wavelet (4): relative energies of the db4 detail levels D1-D4, the octaves fs/4-fs/2 ... fs/32-fs/16
  (at 20480 Hz: 5.1-10.2, 2.6-5.1, 1.3-2.6 and 0.64-1.3 kHz: broadband, resonance, cavitation, mid).

Order bands are +-2 % of the order frequency (0.49-0.51X for 0.5X; 1X at 54 Hz spans 52.9-55.1 Hz, so a
50 Hz mains line stays outside), never narrower than +-2 bins (the Hann main lobe) on short records.
The sub-synchronous band stops at 0.7X so that 50 Hz mains falls outside it for speeds up to 71 Hz.

All features except ``std``, ``rms``, ``peak`` and ``peak_to_peak`` are invariant to the
signal's scale. Spectral, envelope and wavelet features use the mean-removed signal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np
import pywt

from .envelope import DEFAULT_ENVELOPE_BAND_HZ, envelope_band, envelope_of_centred
from .inputs import as_signal_batch, check_duration, check_fs, check_positive_int
from .spectrum import band_sum, cumulative_power, order_band, power_spectrum
from .speed import DEFAULT_SEARCH_HZ, check_search_hz, estimate_shaft_speed, speed_from_centred

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FEATURES",
    "FEATURE_NAMES",
    "FeatureInfo",
    "MIN_DURATION_S",
    "MIN_FS_HZ",
    "N_FEATURES",
    "compute_features",
    "estimate_shaft_speed",
    "feature_frame",
]

Domain = Literal["time", "frequency", "envelope", "wavelet"]


class FeatureInfo(NamedTuple):
    """Name, one-line description and domain of one feature."""

    name: str
    description: str
    domain: Domain


FEATURES: tuple[FeatureInfo, ...] = (
    FeatureInfo("std", "Standard deviation", "time"),
    FeatureInfo("rms", "Root mean square", "time"),
    FeatureInfo("peak", "Largest absolute value", "time"),
    FeatureInfo("peak_to_peak", "Maximum minus minimum", "time"),
    FeatureInfo("crest_factor", "Peak / rms", "time"),
    FeatureInfo("shape_factor", "Rms / mean absolute value", "time"),
    FeatureInfo("impulse_factor", "Peak / mean absolute value", "time"),
    FeatureInfo("clearance_factor", "Peak / (mean of sqrt|x|)^2", "time"),
    FeatureInfo("kurtosis", "Excess kurtosis (0 for Gaussian noise)", "time"),
    FeatureInfo("skewness", "Skewness", "time"),
    FeatureInfo(
        "zero_crossing_rate", "Fraction of consecutive samples whose mean-removed sign changes", "time"
    ),
    FeatureInfo("whirl_band_fraction", "Power fraction in 0.40-0.49X (oil whirl)", "frequency"),
    FeatureInfo("half_order_fraction", "Power fraction at 0.5X (0.49-0.51X; clearance)", "frequency"),
    FeatureInfo("order_1x_fraction", "Power fraction at 1X (+-2 %; imbalance)", "frequency"),
    FeatureInfo("order_2x_fraction", "Power fraction at 2X (+-2 %; misalignment)", "frequency"),
    FeatureInfo("order_3x_fraction", "Power fraction at 3X (+-2 %; misalignment)", "frequency"),
    FeatureInfo(
        "orders_4_10x_fraction", "Power fraction summed over the 4X-10X bands (looseness, wear)", "frequency"
    ),
    FeatureInfo("half_harmonics_fraction", "Power fraction at 1.5X plus 2.5X (clearance)", "frequency"),
    FeatureInfo("log_ratio_2x_1x", "log10 of 2X power / 1X power (misalignment > 0)", "frequency"),
    FeatureInfo("subsync_fraction", "Power fraction in 0.1-0.7X (all sub-synchronous activity)", "frequency"),
    FeatureInfo("stick_slip_band_fraction", "Power fraction in 2-10 Hz (stick-slip relaxation)", "frequency"),
    FeatureInfo("cavitation_band_fraction", "Power fraction in 1.5-2.5 kHz (cavitation bursts)", "frequency"),
    FeatureInfo(
        "resonance_band_fraction", "Power fraction in 2.5-5 kHz (resonance rung by contact)", "frequency"
    ),
    FeatureInfo("spectral_centroid_hz", "Power-weighted mean frequency (Hz)", "frequency"),
    FeatureInfo("spectral_spread_hz", "Power-weighted standard deviation of frequency (Hz)", "frequency"),
    FeatureInfo(
        "spectral_entropy", "Shannon entropy of the normalised power spectrum, scaled to 0-1", "frequency"
    ),
    FeatureInfo("spectral_flatness", "Geometric / arithmetic mean of the power spectrum (0-1)", "frequency"),
    FeatureInfo("spectral_rolloff_hz", "Frequency below which 85 % of the power lies (Hz)", "frequency"),
    FeatureInfo(
        "dominant_order", "Frequency of the strongest spectral line above 0.1X, in orders", "frequency"
    ),
    FeatureInfo("envelope_rms_ratio", "Rms of the 1-5 kHz envelope / rms of the signal", "envelope"),
    FeatureInfo("envelope_kurtosis", "Excess kurtosis of the 1-5 kHz envelope (impacts, bursts)", "envelope"),
    FeatureInfo(
        "envelope_1x_fraction",
        "Power fraction of the envelope spectrum at 1X (impacts once a turn)",
        "envelope",
    ),
    FeatureInfo(
        "wavelet_d1_energy",
        "Energy fraction of db4 detail D1, fs/4-fs/2 (5.1-10.2 kHz at 20480 Hz)",
        "wavelet",
    ),
    FeatureInfo("wavelet_d2_energy", "Energy fraction of db4 detail D2, fs/8-fs/4 (2.6-5.1 kHz)", "wavelet"),
    FeatureInfo("wavelet_d3_energy", "Energy fraction of db4 detail D3, fs/16-fs/8 (1.3-2.6 kHz)", "wavelet"),
    FeatureInfo(
        "wavelet_d4_energy", "Energy fraction of db4 detail D4, fs/32-fs/16 (0.64-1.3 kHz)", "wavelet"
    ),
)

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
N_FEATURES = len(FEATURES)

MIN_FS_HZ = 10000.0
"""Lowest sampling rate: the resonance band reaches 5 kHz, which needs Nyquist >= 5 kHz."""

MIN_DURATION_S = 0.5
"""Shortest record. At 0.5 s (2 Hz bins) order bands widen to the Hann main lobe and 0.5X blurs into
the whirl band; 5 s records (0.2 Hz bins) keep them apart."""

ORDER_REL_HALF_WIDTH = 0.02
WHIRL_BAND_ORDERS = (0.40, 0.49)
SUBSYNC_BAND_ORDERS = (0.10, 0.70)
HIGH_HARMONICS = range(4, 11)
STICK_SLIP_BAND_HZ = (2.0, 10.0)
CAVITATION_BAND_HZ = (1500.0, 2500.0)
RESONANCE_BAND_HZ = (2500.0, 5000.0)
ROLLOFF_FRACTION = 0.85
WAVELET = "db4"
WAVELET_LEVELS = 4

_RATIO_FLOOR = 1e-6  # added to both band fractions before log10(2X/1X), bounding it to +-6
_TINY = 1e-300


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den is 0 (a constant record has no shape to measure)."""
    return np.divide(num, den, out=np.zeros_like(num, dtype=np.float64), where=den > _TINY)


def _shape_moments(centred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Variance, skewness and excess kurtosis of each row of a mean-removed batch.

    The same (biased) estimators as ``scipy.stats.skew`` / ``scipy.stats.kurtosis``, computed from the
    centred signal already at hand instead of three more passes each; a constant row gets 0 for both.
    """
    squared = centred * centred
    m2 = squared.mean(axis=1)
    m3 = np.mean(squared * centred, axis=1)
    m4 = np.mean(squared * squared, axis=1)
    skew = _ratio(m3, m2**1.5)
    kurt = np.where(m2 > _TINY, _ratio(m4, m2 * m2) - 3.0, 0.0)
    return m2, skew, kurt


def _time_features(x: np.ndarray, centred: np.ndarray) -> dict[str, np.ndarray]:
    variance, skew, kurt = _shape_moments(centred)
    std = np.sqrt(variance)
    rms = np.sqrt(np.mean(x * x, axis=1))
    absx = np.abs(x)
    peak = absx.max(axis=1)
    mean_abs = absx.mean(axis=1)
    sqrt_mean = np.mean(np.sqrt(absx), axis=1)
    negative = np.signbit(centred)
    return {
        "std": std,
        "rms": rms,
        "peak": peak,
        "peak_to_peak": x.max(axis=1) - x.min(axis=1),
        "crest_factor": _ratio(peak, rms),
        "shape_factor": _ratio(rms, mean_abs),
        "impulse_factor": _ratio(peak, mean_abs),
        "clearance_factor": _ratio(peak, sqrt_mean**2),
        "kurtosis": kurt,
        "skewness": skew,
        "zero_crossing_rate": np.mean(negative[:, 1:] != negative[:, :-1], axis=1),
    }


def _frequency_features(power: np.ndarray, df: float, shaft_hz: np.ndarray) -> dict[str, np.ndarray]:
    cum = cumulative_power(power)
    total = cum[:, -1] - cum[:, 1]  # DC bin excluded throughout

    def fraction(lo: np.ndarray | float, hi: np.ndarray | float) -> np.ndarray:
        return _ratio(band_sum(cum, df, lo, hi), total)

    def order_fraction(order: float) -> np.ndarray:
        return fraction(*order_band(shaft_hz, order, ORDER_REL_HALF_WIDTH, df))

    p1, p2 = order_fraction(1.0), order_fraction(2.0)
    freqs = np.arange(power.shape[1]) * df
    spectrum = power[:, 1:]
    f = freqs[1:]
    prob = spectrum / np.where(total > _TINY, total, 1.0)[:, None]
    centroid = prob @ f
    spread = np.sqrt(np.maximum(prob @ f**2 - centroid**2, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(prob > 0, prob * np.log(prob), 0.0)
    entropy = -plogp.sum(axis=1) / np.log(spectrum.shape[1])
    floor = np.maximum(spectrum.mean(axis=1, keepdims=True), _TINY) * 1e-12
    flatness = _ratio(np.exp(np.mean(np.log(spectrum + floor), axis=1)), spectrum.mean(axis=1))
    # First bin at which cumulative power reaches the rolloff share of the total.
    reach = (cum[:, 2:] - cum[:, 1:2]) >= (ROLLOFF_FRACTION * total)[:, None]
    rolloff = f[np.argmax(reach, axis=1)]
    # Strongest line above 0.1X: ignores drift below the sub-synchronous band.
    low_bin = np.ceil(0.1 * shaft_hz / df).astype(np.intp)
    masked = np.where(np.arange(power.shape[1])[None, :] >= low_bin[:, None], power, -1.0)
    dominant = freqs[np.argmax(masked, axis=1)] / shaft_hz
    constant = total <= _TINY
    return {
        "whirl_band_fraction": fraction(WHIRL_BAND_ORDERS[0] * shaft_hz, WHIRL_BAND_ORDERS[1] * shaft_hz),
        "half_order_fraction": order_fraction(0.5),
        "order_1x_fraction": p1,
        "order_2x_fraction": p2,
        "order_3x_fraction": order_fraction(3.0),
        "orders_4_10x_fraction": sum(order_fraction(float(k)) for k in HIGH_HARMONICS),
        "half_harmonics_fraction": order_fraction(1.5) + order_fraction(2.5),
        "log_ratio_2x_1x": np.log10((p2 + _RATIO_FLOOR) / (p1 + _RATIO_FLOOR)),
        "subsync_fraction": fraction(SUBSYNC_BAND_ORDERS[0] * shaft_hz, SUBSYNC_BAND_ORDERS[1] * shaft_hz),
        "stick_slip_band_fraction": fraction(*STICK_SLIP_BAND_HZ),
        "cavitation_band_fraction": fraction(*CAVITATION_BAND_HZ),
        "resonance_band_fraction": fraction(*RESONANCE_BAND_HZ),
        "spectral_centroid_hz": np.where(constant, 0.0, centroid),
        "spectral_spread_hz": np.where(constant, 0.0, spread),
        "spectral_entropy": np.where(constant, 0.0, entropy),
        "spectral_flatness": flatness,
        "spectral_rolloff_hz": np.where(constant, 0.0, rolloff),
        "dominant_order": np.where(constant, 0.0, dominant),
    }


def _envelope_features(
    centred: np.ndarray, std: np.ndarray, fs: float, shaft_hz: np.ndarray, band: tuple[float, float]
) -> dict[str, np.ndarray]:
    env = envelope_of_centred(centred, fs, band)
    env_rms = np.sqrt(np.mean(env**2, axis=1))
    env_centred = env - env.mean(axis=1, keepdims=True)
    env_power = power_spectrum(env_centred)
    df = fs / centred.shape[1]
    cum = cumulative_power(env_power)
    total = cum[:, -1] - cum[:, 1]
    lo, hi = order_band(shaft_hz, 1.0, ORDER_REL_HALF_WIDTH, df)
    return {
        "envelope_rms_ratio": _ratio(env_rms, std),
        "envelope_kurtosis": _shape_moments(env_centred)[2],
        "envelope_1x_fraction": _ratio(band_sum(cum, df, lo, hi), total),
    }


def _wavelet_features(centred: np.ndarray) -> dict[str, np.ndarray]:
    # Periodization keeps the transform orthogonal, so level energies add up to the signal's energy.
    coeffs = pywt.wavedec(centred, WAVELET, mode="periodization", level=WAVELET_LEVELS, axis=-1)
    energies = [np.sum(c**2, axis=1) for c in coeffs]  # [A4, D4, D3, D2, D1]
    total = np.sum(energies, axis=0)
    return {
        f"wavelet_d{level}_energy": _ratio(energies[-level], total) for level in range(1, WAVELET_LEVELS + 1)
    }


def _check_shaft_hz(shaft_hz: np.ndarray | float, n: int, fs: float) -> np.ndarray:
    try:
        arr = None if isinstance(shaft_hz, str) else np.asarray(shaft_hz, dtype=np.float64)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.ndim > 1:
        raise ValueError(f"shaft_hz must be a number or a 1-D array of n={n} speeds (Hz); got {shaft_hz!r}")
    if arr.ndim == 1 and arr.shape[0] != n:
        raise ValueError(f"shaft_hz has {arr.shape[0]} speeds but there are {n} signals; give one per signal")
    arr = np.broadcast_to(arr, (n,)).astype(np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        bad = int(np.argmax(~np.isfinite(arr) | (arr <= 0)))
        raise ValueError(f"shaft_hz must be finite and > 0 Hz; signal index {bad} has {arr[bad]!r}")
    top = max(HIGH_HARMONICS) * (1 + ORDER_REL_HALF_WIDTH)
    limit = fs / 2 / top
    if np.any(arr > limit):
        bad = int(np.argmax(arr > limit))
        raise ValueError(
            f"shaft_hz {arr[bad]:g} Hz (signal index {bad}) is too fast for fs={fs:g} Hz: the 10X band "
            f"must lie below Nyquist, so speeds up to {limit:.4g} Hz are supported"
        )
    return arr


def compute_features(
    signals: np.ndarray,
    fs: float,
    shaft_hz: np.ndarray | float | None = None,
    chunk_size: int = 64,
    progress: Callable[[int], None] | None = None,
    *,
    speed_search_hz: tuple[float, float] = DEFAULT_SEARCH_HZ,
    envelope_band_hz: tuple[float, float] = DEFAULT_ENVELOPE_BAND_HZ,
) -> np.ndarray:
    """Compute the 36 features (columns in ``FEATURE_NAMES`` order) for each signal.

    Args:
        signals: (n, L) batch, or one (L,) signal treated as a batch of one (result (1, 36)).
        fs: sampling rate in Hz, at least ``MIN_FS_HZ``.
        shaft_hz: shaft speed in Hz, one for all or one per signal; None estimates it per record with
            :func:`estimate_shaft_speed` over ``speed_search_hz``.
        chunk_size: signals processed together; bounds memory at about 60 bytes x chunk x L
            (390 MB for 64 records of 102400 samples).
        progress: called after each chunk with the number of signals just finished
            (``tqdm.update`` fits).
        envelope_band_hz: band demodulated for the envelope features; the upper edge is lowered to
            0.9 x Nyquist for low sampling rates.

    Returns:
        (n, 36) float32.
    """
    x = as_signal_batch(signals)
    fs = check_fs(fs, MIN_FS_HZ, " by the feature set (its resonance band reaches 5 kHz)")
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    n, length = x.shape
    check_duration(length, fs, MIN_DURATION_S, "to resolve the order bands")
    speeds = None if shaft_hz is None else _check_shaft_hz(shaft_hz, n, fs)
    band = envelope_band(fs, envelope_band_hz)
    search = check_search_hz(speed_search_hz, fs, length) if speeds is None else None
    return feature_rows(x, fs, speeds, search, band, chunk_size, progress)


def feature_rows(
    x: np.ndarray,
    fs: float,
    speeds: np.ndarray | None,
    search: tuple[float, float] | None,
    band: tuple[float, float],
    chunk_size: int = 64,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """The (n, 36) table of an (n, L) batch whose arguments are already checked (`compute_features`).

    Args:
        speeds: shaft speed per signal, or None to estimate it over `search`.
    """
    n, length = x.shape
    df = fs / length
    out = np.empty((n, N_FEATURES), dtype=np.float32)
    for start in range(0, n, chunk_size):
        x_chunk = np.asarray(x[start : start + chunk_size], dtype=np.float64)
        centred = x_chunk - x_chunk.mean(axis=1, keepdims=True)
        power = power_spectrum(centred)
        chunk_speeds = (
            speed_from_centred(centred, fs, search)
            if search is not None
            else speeds[start : start + chunk_size]
        )
        values = _time_features(x_chunk, centred)
        values.update(_frequency_features(power, df, chunk_speeds))
        values.update(_envelope_features(centred, values["std"], fs, chunk_speeds, band))
        values.update(_wavelet_features(centred))
        out[start : start + len(x_chunk)] = np.stack([values[name] for name in FEATURE_NAMES], axis=1)
        if progress is not None:
            progress(len(x_chunk))
    return out


def feature_frame(
    signals: np.ndarray,
    fs: float,
    shaft_hz: np.ndarray | float | None = None,
    record_ids: Sequence[object] | np.ndarray | None = None,
    **kwargs: object,
) -> pd.DataFrame:
    """Features as a DataFrame with ``FEATURE_NAMES`` columns, indexed by ``record_ids`` when given.

    Extra keyword arguments go to :func:`compute_features`.
    """
    import pandas as pd  # deferred: keeps `import bearing_workbench.features` light

    values = compute_features(signals, fs, shaft_hz, **kwargs)  # type: ignore[arg-type]
    index = None
    if record_ids is not None:
        ids = list(record_ids)
        if len(ids) != values.shape[0]:
            raise ValueError(f"record_ids has {len(ids)} entries but there are {values.shape[0]} signals")
        index = pd.Index(ids, name="record_id")
    return pd.DataFrame(values, columns=list(FEATURE_NAMES), index=index)
