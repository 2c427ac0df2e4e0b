"""Synthetic vibration records for the feature tests: order tones, noise, bursts and impacts."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy import signal as sp_signal

FS = 20480.0


def make_record(
    shaft_hz: float = 60.0,
    orders: dict[float, float] | None = None,
    noise: float = 0.05,
    seconds: float = 2.0,
    seed: int = 0,
    tones_hz: dict[float, float] | None = None,
    fs: float = FS,
) -> np.ndarray:
    """Sum of sinusoids at shaft orders {order: amplitude} and absolute frequencies, plus white noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(seconds * fs))) / fs
    x = noise * rng.standard_normal(t.size)
    for order, amp in (orders or {}).items():
        x += amp * np.sin(2 * np.pi * order * shaft_hz * t + rng.uniform(0, 2 * np.pi))
    for freq, amp in (tones_hz or {}).items():
        x += amp * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi))
    return x


def add_bursts(
    x: np.ndarray,
    band_hz: tuple[float, float],
    times_s: np.ndarray,
    amplitude: float,
    duration_s: float = 0.005,
    seed: int = 1,
    fs: float = FS,
) -> np.ndarray:
    """Add band-limited noise bursts (Hann-gated) starting at ``times_s``."""
    rng = np.random.default_rng(seed)
    sos = sp_signal.butter(4, band_hz, btype="bandpass", fs=fs, output="sos")
    carrier = sp_signal.sosfilt(sos, rng.standard_normal(x.size))
    carrier /= carrier.std()
    gate = np.zeros(x.size)
    width = int(duration_s * fs)
    for start in (times_s * fs).astype(int):
        seg = np.hanning(width)[: x.size - start]
        gate[start : start + seg.size] += seg
    return x + amplitude * gate * carrier


def add_impacts(
    x: np.ndarray, times_s: np.ndarray, resonance_hz: float, amplitude: float, fs: float = FS
) -> np.ndarray:
    """Add impacts at ``times_s`` that ring a lightly damped resonance (contact of a starved film)."""
    impulses = np.zeros(x.size)
    impulses[(times_s * fs).astype(int)] = 1.0
    r = np.exp(-2 * np.pi * resonance_hz * 0.03 / fs)
    theta = 2 * np.pi * resonance_hz / fs
    ring = sp_signal.lfilter([1 - r], [1.0, -2 * r * np.cos(theta), r * r], impulses)
    return x + amplitude * ring / np.abs(ring).max()


@pytest.fixture
def record() -> Callable[..., np.ndarray]:
    return make_record


@pytest.fixture
def bursts() -> Callable[..., np.ndarray]:
    return add_bursts


@pytest.fixture
def impacts() -> Callable[..., np.ndarray]:
    return add_impacts


@pytest.fixture(scope="session")
def mixed_batch() -> tuple[np.ndarray, np.ndarray]:
    """Six 2 s records of different kinds and speeds, float32 like stored datasets."""
    speeds = np.array([55.0, 58.5, 60.0, 61.3, 63.7, 65.9])
    rows = [
        make_record(speeds[0], {1: 1.0, 2: 0.2, 3: 0.1}, seed=1),
        make_record(speeds[1], {1: 0.3, 2: 1.0, 3: 0.5}, seed=2),
        make_record(speeds[2], {0.5: 0.5, 1.5: 0.3, 2.5: 0.2, **{k: 1.0 / k for k in range(1, 9)}}, seed=3),
        make_record(speeds[3], {0.45: 0.8, 1: 0.5, 2: 0.1}, seed=4),
        add_bursts(make_record(speeds[4], {1: 0.5}, seed=5), (1500, 2500), np.arange(0.01, 1.9, 0.05), 1.0),
        add_impacts(
            make_record(speeds[5], {1: 0.5}, seed=6), np.arange(0.01, 1.95, 1 / speeds[5]), 4000, 2.0
        ),
    ]
    return np.stack(rows).astype(np.float32), speeds
