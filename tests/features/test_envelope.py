"""Envelope demodulation of the band-passed signal."""

from __future__ import annotations

import numpy as np
import pytest

from bearing_workbench.features import envelope

FS = 20480.0


def test_recovers_amplitude_modulation_of_a_carrier():
    t = np.arange(int(FS)) / FS
    modulation = 1.0 + 0.5 * np.cos(2 * np.pi * 30.0 * t)
    x = modulation * np.sin(2 * np.pi * 3000.0 * t) + 2.0 * np.sin(
        2 * np.pi * 60.0 * t
    )  # 60 Hz is out of band
    env = envelope(x, FS)
    assert env.shape == (1, t.size)
    inner = slice(1000, -1000)  # away from the filter's edge transients
    np.testing.assert_allclose(env[0, inner], modulation[inner], atol=0.03)


def test_upper_edge_follows_low_sampling_rates():
    x = np.random.default_rng(0).standard_normal(10240)
    assert np.isfinite(envelope(x, 10240.0, band_hz=(1000.0, 5000.0))).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"band_hz": (3000.0, 2000.0)}, "band_hz must satisfy 0 < low < high"),
        ({"band_hz": (9500.0, 12000.0)}, "band_hz low edge"),
        ({"band_hz": None}, "band_hz must be a pair"),
        ({"order": 0}, "order: must be an integer >= 1, got 0"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        envelope(np.zeros(4096), FS, **kwargs)


def test_too_short_for_the_filter():
    with pytest.raises(ValueError, match="too short for the envelope filter"):
        envelope(np.zeros(20), FS)
