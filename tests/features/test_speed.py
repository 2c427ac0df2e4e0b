"""Shaft-speed estimation: harmonic combs found despite mains hum, faults, ramps; bad input named."""

from __future__ import annotations

import numpy as np
import pytest

from bearing_workbench.features import estimate_shaft_speed

FS = 20480.0
SPEEDS = np.array([54.3, 57.9, 60.0, 62.4, 65.8])


def batch(record, orders, seconds=2.0, **kwargs):
    return np.stack(
        [record(shaft_hz=f, orders=orders, seed=i, seconds=seconds, **kwargs) for i, f in enumerate(SPEEDS)]
    )


def assert_within_one_percent(estimate, truth):
    assert estimate.shape == truth.shape
    np.testing.assert_array_less(np.abs(estimate / truth - 1.0), 0.01)


def test_harmonic_rich_signal(record):
    signals = batch(record, {k: 1.0 / k for k in range(1, 11)}, seconds=5.0)
    estimate = estimate_shaft_speed(signals, FS)
    assert_within_one_percent(estimate, SPEEDS)
    # Sub-bin precision from the interpolated harmonic peaks, well inside the 1 % asked.
    np.testing.assert_allclose(estimate, SPEEDS, rtol=1e-3)


def test_strong_mains_tone_is_not_taken_for_the_speed(record):
    signals = batch(record, {1: 0.5, 2: 0.3, 3: 0.2, 4: 0.1}, tones_hz={50.0: 2.0})
    assert_within_one_percent(estimate_shaft_speed(signals, FS), SPEEDS)


@pytest.mark.parametrize(
    "orders",
    [
        {1: 1.0, 2: 0.1},  # imbalance: one strong line, weak 2X
        {1: 0.2, 2: 1.0, 3: 0.4, 4: 0.1},  # misalignment: 2X dominates
        {0.45: 1.5, 1: 0.5, 2: 0.1},  # oil whirl line stronger than 1X
        # clearance: 0.5X stronger than 1X, half orders to 3.5X, integer orders to 10X
        {0.5: 0.6, 1.5: 0.3, 2.5: 0.2, 3.5: 0.1, **{k: 0.4 * k**-0.6 for k in range(1, 11)}},
    ],
    ids=["imbalance", "misalignment", "oil_whirl", "clearance"],
)
def test_fault_spectra(record, orders):
    assert_within_one_percent(estimate_shaft_speed(batch(record, orders), FS), SPEEDS)


def test_impacts_once_a_turn_do_not_read_as_a_multiple(record, impacts):
    signals = np.stack(
        [
            impacts(record(shaft_hz=f, orders={1: 0.5}, seed=i), np.arange(0.01, 1.95, 1 / f), 4000, 2.0)
            for i, f in enumerate(SPEEDS)
        ]
    )
    assert_within_one_percent(estimate_shaft_speed(signals, FS), SPEEDS)


def test_speed_ramp_gives_the_mean_speed(record):
    # 6 % linear run-up over 5 s: whole-record lines smear over 15+ bins; the 1 s segments do not.
    t = np.arange(int(5 * FS)) / FS
    rows = []
    for i, mean in enumerate(SPEEDS):
        speed = mean * (0.97 + 0.06 * t / t[-1])
        phase = 2 * np.pi * np.cumsum(speed) / FS
        x = sum(np.cos(k * phase + k) / k for k in range(1, 6))
        rows.append(
            x + 0.8 * np.sin(2 * np.pi * 50.0 * t) + 0.05 * np.random.default_rng(i).standard_normal(t.size)
        )
    assert_within_one_percent(estimate_shaft_speed(np.stack(rows), FS), SPEEDS)


def test_lone_line_is_located_to_a_fraction_of_a_bin(record):
    # 2 s record: 0.5 Hz bins; the interpolated peak lands within a tenth of a bin.
    x = record(shaft_hz=63.7, orders={1: 0.5}, noise=0.01)
    assert estimate_shaft_speed(x, FS)[0] == pytest.approx(63.7, abs=0.05)


def test_single_signal_and_float32(record):
    x = record(shaft_hz=61.0, orders={1: 1.0, 2: 0.5, 3: 0.2}).astype(np.float32)
    estimate = estimate_shaft_speed(x, FS)
    assert estimate.shape == (1,)
    assert estimate[0] == pytest.approx(61.0, rel=0.01)


def test_narrow_search_range_is_respected(record):
    x = record(shaft_hz=61.0, orders={1: 1.0, 2: 0.5, 3: 0.2})
    assert 100.0 <= estimate_shaft_speed(x, FS, search_hz=(100.0, 150.0))[0] <= 150.0 + 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"search_hz": (0.0, 100.0)}, "search_hz must satisfy 0 < low < high"),
        ({"search_hz": (80.0, 40.0)}, "search_hz must satisfy 0 < low < high"),
        ({"search_hz": (20.0, 20000.0)}, "below Nyquist"),
        ({"search_hz": "fast"}, "search_hz must be a pair"),
        ({"fs": float("nan")}, r"fs: must be a positive number \(the sampling rate in Hz\), got nan"),
        ({"chunk_size": 2.5}, "chunk_size: must be an integer >= 1, got 2.5"),
    ],
)
def test_bad_arguments_are_named(record, kwargs, message):
    with pytest.raises(ValueError, match=message):
        estimate_shaft_speed(record(orders={1: 1.0}), **{"fs": FS, **kwargs})


def test_too_short_for_the_slowest_candidate():
    with pytest.raises(ValueError, match="too short to estimate the shaft speed"):
        estimate_shaft_speed(np.ones(4096), FS, search_hz=(20.0, 200.0))
