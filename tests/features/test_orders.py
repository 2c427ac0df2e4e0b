"""Order-normalised features: the feature set computed with the time axis scaled to a 60 Hz shaft."""

from __future__ import annotations

import numpy as np
import pytest

from bearing_workbench.features import FEATURE_NAMES, compute_features
from bearing_workbench.features.orders import (
    ORDER_FEATURE_NAMES,
    REFERENCE_HZ,
    compute_order_features,
)

from .conftest import FS, make_record

COLUMN = {name: j for j, name in enumerate(FEATURE_NAMES)}


def test_names_mirror_the_feature_set() -> None:
    assert ORDER_FEATURE_NAMES == (*(f"order_{name}" for name in FEATURE_NAMES), "shaft_speed_hz")


def test_order_features_are_the_features_at_the_order_sampling_rate() -> None:
    x = np.stack([make_record(45.0, {1: 1.0, 2: 0.5}, seed=1), make_record(75.0, {1: 1.0, 3: 0.4}, seed=2)])
    speeds = np.array([45.0, 75.0])
    got = compute_order_features(x, FS, speeds)
    for row, speed in enumerate(speeds):
        expected = compute_features(x[row : row + 1], FS * REFERENCE_HZ / speed, REFERENCE_HZ)
        np.testing.assert_allclose(got[row, :-1], expected[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got[:, -1], speeds)


def test_a_fault_reads_the_same_at_two_speeds_in_orders_but_not_in_hertz() -> None:
    # The same machine state at 40 Hz and 80 Hz: 2X and 3X lines and a burst band at 30-40X.
    def machine(speed: float, seed: int) -> np.ndarray:
        orders = {1: 0.3, 2: 1.0, 3: 0.5, **{k: 0.05 for k in range(30, 41)}}
        return make_record(speed, orders, seconds=3.0, seed=seed)

    x = np.stack([machine(40.0, 1), machine(80.0, 2)])
    speeds = np.array([40.0, 80.0])
    plain = compute_features(x, FS, speeds)
    orders = compute_order_features(x, FS, speeds)
    for name in ("spectral_centroid_hz", "cavitation_band_fraction", "spectral_rolloff_hz"):
        j = COLUMN[name]
        assert abs(orders[0, j] - orders[1, j]) < 0.1 * max(abs(orders[0, j]), 1e-3), name
        assert abs(plain[0, j] - plain[1, j]) > 0.3 * max(abs(plain[0, j]), abs(plain[1, j])), name
    # Order-band and time-shape features already follow the speed: both sets agree on them.
    for name in ("order_2x_fraction", "log_ratio_2x_1x", "kurtosis", "crest_factor"):
        np.testing.assert_allclose(orders[:, COLUMN[name]], plain[:, COLUMN[name]], rtol=0.05, atol=1e-3)


def test_without_a_speed_it_is_estimated_per_window() -> None:
    x = np.stack(
        [
            make_record(50.0, {1: 1.0, 2: 0.6, 3: 0.3}, seed=3),
            make_record(70.0, {1: 1.0, 2: 0.6, 3: 0.3}, seed=4),
        ]
    )
    np.testing.assert_allclose(
        compute_order_features(x, FS),
        compute_order_features(x, FS, np.array([50.0, 70.0])),
        rtol=0.05,
        atol=2e-3,
    )


@pytest.mark.parametrize("speed", [0.0, -3.0, np.nan])
def test_a_bad_speed_is_refused(speed: float) -> None:
    with pytest.raises(ValueError, match="order features: shaft speeds must be finite and > 0"):
        compute_order_features(make_record(50.0, {1: 1.0})[None, :], FS, speed)


def test_a_shaft_too_fast_for_the_sampling_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="too fast for fs=20480 Hz; speeds up to 491.5 Hz"):
        compute_order_features(make_record(50.0, {1: 1.0})[None, :], FS, 600.0)
