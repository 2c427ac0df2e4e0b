"""Time-frequency images of vibration records: STFT log-power spectrograms and CWT scalograms.

Both return one image per signal, (n, frequencies, time) float32, rows from low to high frequency.
:func:`stft_frequencies` and :func:`cwt_frequencies` give the row frequencies for axes.
"""

from __future__ import annotations

import math

import numpy as np
import pywt
from scipy import signal as sp_signal

from .inputs import as_signal_batch, check_fs, check_positive_int

CWT_WAVELET = "cmor1.5-1.0"
"""Complex Morlet, bandwidth 1.5, centre frequency 1.0: about 1.5 cycles of Gaussian support each side."""

_DB_DYNAMIC_RANGE = 1e-10  # power floor relative to a record's peak: images span at most 100 dB
# Morlet (B=1.5) response falls to 2.5 % at 1.5 x its centre frequency: keep that below the
# anti-aliasing edge of each decimation stage (0.4 x its rate) and below Nyquist at full rate.
_WAVELET_REACH = 1.5
_MIN_RATE_PER_HZ = 4.0  # a scale at f runs at a rate of at least 4 f (1.5 f < 0.4 x 4 f)
_MIN_CWT_CYCLES = 2.0  # the record must hold this many periods of fmin


def _pool_time(values: np.ndarray, n_time: int) -> np.ndarray:
    """Mean over n_time contiguous, near-equal groups of the last axis (which has >= n_time entries)."""
    n_in = values.shape[-1]
    if n_time == n_in:
        return values
    edges = np.floor(np.linspace(0, n_in, n_time + 1)).astype(np.intp)
    sums = np.add.reduceat(values, edges[:-1], axis=-1)
    return sums / np.diff(edges)


def _check_window(window: int, hop: int | None, n_samples: int) -> tuple[int, int]:
    window = check_positive_int(window, "window", minimum=4)
    if window > n_samples:
        raise ValueError(f"window={window} is longer than the signals ({n_samples} samples)")
    hop = window // 2 if hop is None else check_positive_int(hop, "hop")
    if hop > window:
        raise ValueError(f"hop={hop} must not exceed window={window} (samples would be skipped)")
    return window, hop


def _check_fmax(fmax: float | None, fs: float, name: str = "fmax", limit: float = 0.5) -> float | None:
    if fmax is None:
        return None
    try:
        value = float(fmax)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a frequency in Hz; got {fmax!r}") from None
    if not math.isfinite(value) or value <= 0 or value > limit * fs:
        raise ValueError(f"{name} must lie in (0, {limit * fs:g}] Hz for fs={fs:g}; got {fmax!r}")
    return value


def stft_frequencies(fs: float, window: int = 256, fmax: float | None = None) -> np.ndarray:
    """Row frequencies (Hz) of :func:`stft_spectrogram` for the same ``fs``, ``window`` and ``fmax``."""
    fs = check_fs(fs)
    window = check_positive_int(window, "window", minimum=4)
    fmax = _check_fmax(fmax, fs)
    freqs = np.arange(window // 2 + 1) * fs / window
    return freqs if fmax is None else freqs[freqs <= fmax]


def stft_spectrogram(
    signals: np.ndarray,
    fs: float,
    window: int = 256,
    hop: int | None = None,
    fmax: float | None = None,
    n_time: int | None = None,
    chunk_size: int = 64,
) -> np.ndarray:
    """Log-power STFT spectrogram in dB (PSD scaling), shape (n, F, T) float32.

    Args:
        signals: (n, L) batch or one (L,) signal (a batch of one).
        window: Hann window length in samples (the FFT length too); F = window // 2 + 1 below fmax.
        hop: samples between frames; default window // 2.
        fmax: keep rows up to this frequency (Hz).
        n_time: average the power of consecutive frames into this many columns (before the log), so a
            5 s record makes a manageable image; None keeps every frame. Only frames lying wholly
            inside the record are used.
        chunk_size: signals transformed together; memory is about 40 bytes x chunk x L.

    Each image spans at most 100 dB: power below 1e-10 x the record's peak is clipped there.
    """
    x = as_signal_batch(signals)
    fs = check_fs(fs)
    window, hop = _check_window(window, hop, x.shape[1])
    fmax = _check_fmax(fmax, fs)
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    stft = sp_signal.ShortTimeFFT(
        sp_signal.get_window("hann", window), hop=hop, fs=fs, fft_mode="onesided", mfft=window, scale_to="psd"
    )
    # Frames whose window sticks out of the record would mix in zero padding: keep the inner ones.
    p0 = stft.lower_border_end[1]
    p1 = stft.upper_border_begin(x.shape[1])[1]
    if p1 <= p0:
        p0, p1 = 0, stft.p_max(x.shape[1])
    n_frames = p1 - p0
    if n_time is not None:
        n_time = check_positive_int(n_time, "n_time")
        if n_time > n_frames:
            raise ValueError(
                f"n_time={n_time} exceeds the {n_frames} frames that window={window}, hop={hop} give "
                f"for {x.shape[1]} samples; lower n_time or hop"
            )
    n_rows = window // 2 + 1 if fmax is None else int(np.count_nonzero(stft.f <= fmax))
    out = np.empty((x.shape[0], n_rows, n_time or n_frames), dtype=np.float32)
    for start in range(0, x.shape[0], chunk_size):
        chunk = np.asarray(x[start : start + chunk_size], dtype=np.float64)
        power = stft.spectrogram(chunk, p0=p0, p1=p1, axis=-1)[:, :n_rows, :]
        if n_time is not None:
            power = _pool_time(power, n_time)
        peak = power.reshape(power.shape[0], -1).max(axis=1)
        floor = np.maximum(peak, np.finfo(np.float64).tiny) * _DB_DYNAMIC_RANGE
        out[start : start + len(chunk)] = 10.0 * np.log10(np.maximum(power, floor[:, None, None]))
    return out


def cwt_frequencies(n_scales: int = 64, fmin: float = 10.0, fmax: float = 5000.0) -> np.ndarray:
    """Row frequencies (Hz) of :func:`cwt_scalogram`: ``n_scales`` log-spaced from fmin to fmax."""
    n_scales = check_positive_int(n_scales, "n_scales", minimum=2)
    try:
        lo, hi = float(fmin), float(fmax)
    except (TypeError, ValueError):
        raise ValueError(
            f"fmin and fmax must be frequencies in Hz; got fmin={fmin!r}, fmax={fmax!r}"
        ) from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo <= 0 or hi <= lo:
        raise ValueError(f"fmin and fmax must satisfy 0 < fmin < fmax (Hz); got fmin={fmin!r}, fmax={fmax!r}")
    return np.geomspace(lo, hi, n_scales)


def _decimation_factors(freqs: np.ndarray, fs: float, n_samples: int, n_time: int) -> np.ndarray:
    """Per frequency, the largest power-of-two decimation that keeps it well resolved."""
    factors = np.ones(freqs.size, dtype=np.intp)
    for i, f in enumerate(freqs):
        q = 1
        while fs / (2 * q) >= _MIN_RATE_PER_HZ * f and n_samples // (2 * q) >= max(n_time, 64):
            q *= 2
        factors[i] = q
    return factors


def cwt_scalogram(
    signals: np.ndarray,
    fs: float,
    n_scales: int = 64,
    fmin: float = 10.0,
    fmax: float = 5000.0,
    n_time: int = 128,
    chunk_size: int = 8,
) -> np.ndarray:
    """CWT magnitude scalogram (complex Morlet ``cmor1.5-1.0``), shape (n, n_scales, n_time) float32.

    Rows are log-spaced frequencies from fmin to fmax (:func:`cwt_frequencies`); each column is the
    mean magnitude over 1/n_time of the record. Magnitudes are L1-normalised (pywt's output divided
    by sqrt(scale), times 2 for the analytic wavelet's one-sided spectrum), so a sinusoid of
    amplitude A reads the same at every frequency: about 0.9 A on its own row.

    Speed: a scale at frequency f only needs a sampling rate of about 4 f, so the record is decimated
    by powers of two (scipy.signal.decimate, zero-phase, anti-aliased) before each group of scales.
    The work then falls from n_scales full-length convolutions to about two octaves' worth: for a
    102400-sample record with the defaults, about 0.05-0.1 s of CPU instead of 0.5 s, and memory
    per signal of one octave of scales instead of all 64 (105 MB at full rate).

    Args:
        signals: (n, L) batch or one (L,) signal (a batch of one).
        fmax: at most fs / 3, so the wavelet's band (to 1.5 x fmax) stays below Nyquist.
        n_time: columns after pooling; at most the number of samples.
        chunk_size: signals transformed together; memory is about 300 bytes x chunk x L
            (230 MB for 8 records of 102400 samples).
    """
    x = as_signal_batch(signals)
    fs = check_fs(fs)
    n_samples = x.shape[1]
    freqs = cwt_frequencies(n_scales, fmin, fmax)
    _check_fmax(freqs[-1], fs, "fmax", limit=1.0 / (2.0 * _WAVELET_REACH))
    n_time = check_positive_int(n_time, "n_time")
    if n_time > n_samples:
        raise ValueError(f"n_time={n_time} exceeds the {n_samples} samples of the signals")
    if n_samples / fs * freqs[0] < _MIN_CWT_CYCLES:
        raise ValueError(
            f"signals are too short for fmin={freqs[0]:g} Hz: {n_samples} samples "
            f"({n_samples / fs:.4g} s) hold fewer than {_MIN_CWT_CYCLES:g} periods; "
            f"raise fmin to at least {_MIN_CWT_CYCLES * fs / n_samples:.4g} Hz"
        )
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    factors = _decimation_factors(freqs, fs, n_samples, n_time)

    out = np.empty((x.shape[0], freqs.size, n_time), dtype=np.float32)
    for start in range(0, x.shape[0], chunk_size):
        current = np.asarray(x[start : start + chunk_size], dtype=np.float64)
        current = current - current.mean(axis=1, keepdims=True)
        q = 1
        for factor in np.unique(factors):
            while q < factor:
                current = sp_signal.decimate(current, 2, ftype="iir", zero_phase=True, axis=-1)
                q *= 2
            rows = np.flatnonzero(factors == factor)
            rate = fs / q
            scales = pywt.frequency2scale(CWT_WAVELET, freqs[rows] / rate)
            coefs, _ = pywt.cwt(
                current, scales, CWT_WAVELET, sampling_period=1.0 / rate, method="fft", axis=-1
            )
            magnitude = np.abs(coefs) * (2.0 / np.sqrt(scales))[:, None, None]  # (scales, n, samples)
            out[start : start + len(current), rows, :] = np.moveaxis(_pool_time(magnitude, n_time), 0, 1)
    return out
