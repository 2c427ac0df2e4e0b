"""Per-window normalisation of raw signals (the classical family applies it before its features)."""

from __future__ import annotations

import numpy as np
import pytest

from bearing_workbench.features import compute_features
from bearing_workbench.features.normalisation import normalise_windows

from .conftest import FS, make_record


def test_standardise_and_rms_scale_each_window() -> None:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((4, 2048)) * np.array([[0.01], [1.0], [30.0], [1e4]]) + 5.0).astype(np.float32)
    standard = normalise_windows(x, "standardise")
    np.testing.assert_allclose(standard.mean(axis=1), 0.0, atol=1e-4)
    np.testing.assert_allclose(standard.std(axis=1), 1.0, rtol=1e-4)
    rms = normalise_windows(x, "rms")
    np.testing.assert_allclose(np.sqrt(np.mean(rms.astype(np.float64) ** 2, axis=1)), 1.0, rtol=1e-4)
    assert normalise_windows(x, "none") is x


def test_a_silent_window_stays_finite() -> None:
    silent = np.zeros((1, 1024), dtype=np.float32)
    for mode in ("standardise", "rms"):
        assert np.all(np.isfinite(normalise_windows(silent, mode)))


def test_after_normalisation_the_features_ignore_the_sensor_gain() -> None:
    x = make_record(60.0, {1: 1.0, 2: 0.4})[None, :]
    loud = compute_features(normalise_windows(x * 250.0, "rms"), FS, 60.0)
    quiet = compute_features(normalise_windows(x * 0.01, "rms"), FS, 60.0)
    np.testing.assert_allclose(loud, quiet, rtol=1e-3, atol=1e-5)
    assert not np.allclose(compute_features(x * 250.0, FS, 60.0), compute_features(x * 0.01, FS, 60.0))


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="normalisation must be one of none, standardise, rms; got 'peak'"):
        normalise_windows(np.ones((1, 8)), "peak")
