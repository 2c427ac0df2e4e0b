"""Measurement chain: the noise layers a real vibration acquisition adds, and the ADC.

Layers, each at a level relative to the clean machine signal so that the SNR means what it says:
sensor white noise (sets the SNR), mains hum at the mains frequency (kept outside the 1X band by
the generator's config check), slow baseline drift (thermal/charge-amplifier drift, < 1 Hz),
sparse impulsive spikes (electrical interference), and 16-bit quantisation by an auto-ranging ADC.
"""

from __future__ import annotations

import numpy as np


def add_measurement_noise(
    clean: np.ndarray,
    fs: float,
    snr_db: float,
    mains_hz: float,
    rng: np.random.Generator,
    *,
    colour: float = 0.0,
    spike_rate_hz: float = 0.5,
) -> np.ndarray:
    """Add sensor noise (at `snr_db` below the clean power), mains hum, drift and spikes.

    Args:
        colour: exponent a of the sensor noise's 1/f^a power spectrum (0 white, 1 pink).
        spike_rate_hz: mean number of electrical spikes per second.
    """
    n = clean.size
    t = np.arange(n) / fs
    rms = float(np.sqrt(np.mean(clean**2)))
    white = rng.standard_normal(n)
    if colour:
        white = coloured(white, colour)
    white = white * rms / 10 ** (snr_db / 20)
    mains = (
        rng.uniform(0.02, 0.06) * rms * np.sqrt(2) * np.sin(2 * np.pi * mains_hz * t + rng.uniform(0, 6.3))
    )
    # Drift is below 1 Hz: compute it on a coarse grid and interpolate (a sine per sample is wasted work).
    coarse = t[::64]
    drift_coarse = np.zeros(coarse.size)
    for f in rng.uniform(0.05, 0.8, size=3):
        drift_coarse += 0.04 * rms * np.sin(2 * np.pi * f * coarse + rng.uniform(0, 6.3))
    drift = np.interp(t, coarse, drift_coarse)
    spikes = np.zeros(n)
    n_spikes = rng.poisson(spike_rate_hz * n / fs)
    where = rng.integers(0, n - 1, size=n_spikes)
    heights = rng.uniform(3.0, 6.0, size=n_spikes) * rms * rng.choice([-1.0, 1.0], size=n_spikes)
    spikes[where] += heights
    spikes[where + 1] -= 0.5 * heights  # an electrical spike rings back across the input filter
    return clean + white + mains + drift + spikes


def coloured(white: np.ndarray, exponent: float) -> np.ndarray:
    """`white` shaped to a 1/f^exponent power spectrum, at unit standard deviation."""
    spectrum = np.fft.rfft(white)
    f = np.arange(spectrum.size, dtype=np.float64)
    f[0] = 1.0  # the DC bin keeps its (zero-mean) value instead of an infinite gain
    shaped = np.fft.irfft(spectrum * f ** (-exponent / 2.0), n=white.size)
    shaped -= shaped.mean()
    return shaped / (shaped.std() + 1e-12)


def quantise(x: np.ndarray, bits: int = 16, headroom: float = 1.25) -> np.ndarray:
    """Round to the steps of an ADC whose full scale auto-ranges to `headroom` x the peak."""
    full_scale = headroom * float(np.max(np.abs(x))) + 1e-12
    step = 2.0 * full_scale / 2**bits
    return np.round(x / step) * step
