"""The 36 hand-crafted features: catalogue, vectorisation, invariances, fault signatures, bad input."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from bearing_workbench.features import (
    FEATURE_NAMES,
    FEATURES,
    MIN_FS_HZ,
    N_FEATURES,
    compute_features,
    feature_frame,
)

FS = 20480.0
SCALED = {"std", "rms", "peak", "peak_to_peak"}


def column(values: np.ndarray, name: str) -> np.ndarray:
    return values[:, FEATURE_NAMES.index(name)]


def features_of(x: np.ndarray, shaft_hz: float = 60.0) -> dict[str, float]:
    return dict(zip(FEATURE_NAMES, compute_features(x, FS, shaft_hz)[0].tolist(), strict=True))


# --- catalogue -------------------------------------------------------------------------------------


def test_exactly_36_unique_snake_case_names_each_documented():
    assert N_FEATURES == 36
    assert len(FEATURES) == 36
    assert len(set(FEATURE_NAMES)) == 36
    assert FEATURE_NAMES == tuple(f.name for f in FEATURES)
    for info in FEATURES:
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", info.name), info.name
        assert info.domain in {"time", "frequency", "envelope", "wavelet"}
        assert info.description and "\n" not in info.description
    assert {f.domain for f in FEATURES} == {"time", "frequency", "envelope", "wavelet"}


def test_import_is_light():
    code = "import sys, bearing_workbench.features; print('torch' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# --- shape, vectorisation ----------------------------------------------------------------------------


def test_shape_dtype_and_finite(mixed_batch):
    signals, speeds = mixed_batch
    values = compute_features(signals, FS, speeds)
    assert values.shape == (len(signals), 36)
    assert values.dtype == np.float32
    assert np.isfinite(values).all()


def test_single_1d_signal_is_a_batch_of_one(mixed_batch):
    signals, speeds = mixed_batch
    one = compute_features(signals[2], FS, speeds[2])
    assert one.shape == (1, 36)
    np.testing.assert_allclose(one[0], compute_features(signals, FS, speeds)[2], rtol=1e-5, atol=1e-9)


def test_batch_equals_per_signal(mixed_batch):
    signals, speeds = mixed_batch
    batch = compute_features(signals, FS, speeds)
    single = np.concatenate(
        [compute_features(s[None], FS, float(v)) for s, v in zip(signals, speeds, strict=True)]
    )
    np.testing.assert_allclose(batch, single, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("chunk_size", [1, 4])
def test_chunk_size_does_not_change_results(mixed_batch, chunk_size):
    signals, speeds = mixed_batch
    reference = compute_features(signals, FS, speeds, chunk_size=64)
    np.testing.assert_allclose(
        compute_features(signals, FS, speeds, chunk_size=chunk_size), reference, rtol=1e-5, atol=1e-9
    )


def test_progress_reports_every_signal_once(mixed_batch):
    signals, speeds = mixed_batch
    calls: list[int] = []
    compute_features(signals, FS, speeds, chunk_size=4, progress=calls.append)
    assert calls == [4, 2]


def test_scalar_speed_applies_to_all(mixed_batch):
    signals, _ = mixed_batch
    np.testing.assert_allclose(
        compute_features(signals[:3], FS, 60.0),
        compute_features(signals[:3], FS, np.full(3, 60.0)),
        rtol=1e-6,
    )


def test_estimated_speed_gives_the_same_features_as_the_true_one(mixed_batch):
    signals, speeds = mixed_batch
    np.testing.assert_allclose(
        compute_features(signals, FS, None), compute_features(signals, FS, speeds), rtol=2e-2, atol=1e-4
    )


def test_constant_and_zero_signals_give_finite_features():
    values = compute_features(np.stack([np.zeros(20480), np.full(20480, 3.0)]), FS, 60.0)
    assert np.isfinite(values).all()
    assert column(values, "rms")[1] == pytest.approx(3.0)
    assert column(values, "std")[1] == pytest.approx(0.0, abs=1e-6)


def test_integer_input_accepted(record):
    x = np.round(record(orders={1: 1.0}) * 1000).astype(np.int16)
    assert np.isfinite(compute_features(x, FS, 60.0)).all()


# --- invariances ---------------------------------------------------------------------------------------


def test_scale_changes_only_level_features(mixed_batch):
    signals, speeds = mixed_batch
    base = compute_features(signals, FS, speeds)
    scaled = compute_features(signals * 10.0, FS, speeds)
    for i, name in enumerate(FEATURE_NAMES):
        if name in SCALED:
            np.testing.assert_allclose(scaled[:, i], 10.0 * base[:, i], rtol=1e-4, err_msg=name)
        else:
            np.testing.assert_allclose(scaled[:, i], base[:, i], rtol=1e-4, atol=1e-7, err_msg=name)


def test_moments_match_scipy(impacts, record):
    x = impacts(record(orders={1: 1.0}, noise=0.3), np.arange(0.01, 1.9, 0.1), 4000, 3.0)
    f = features_of(x)
    assert f["kurtosis"] == pytest.approx(stats.kurtosis(x), rel=1e-4)
    assert f["skewness"] == pytest.approx(stats.skew(x), rel=1e-4, abs=1e-6)


# --- fault signatures ----------------------------------------------------------------------------------


def test_whirl_tone_raises_whirl_band_not_half_order(record):
    whirl = features_of(record(orders={1: 0.5, 0.45: 1.0}))
    half = features_of(record(orders={1: 0.5, 0.5: 1.0}))
    assert whirl["whirl_band_fraction"] > 0.5
    assert whirl["half_order_fraction"] < 0.01
    assert half["half_order_fraction"] > 0.5
    assert half["whirl_band_fraction"] < 0.01
    assert whirl["subsync_fraction"] > 0.5 and half["subsync_fraction"] > 0.5
    assert whirl["dominant_order"] == pytest.approx(0.45, abs=0.01)


def test_two_x_dominant_gives_positive_log_ratio(record):
    misaligned = features_of(record(orders={1: 0.3, 2: 1.0, 3: 0.5}))
    imbalanced = features_of(record(orders={1: 1.0, 2: 0.1}))
    assert misaligned["log_ratio_2x_1x"] > 0.5
    assert imbalanced["log_ratio_2x_1x"] < -1.0
    assert misaligned["order_3x_fraction"] > 10 * imbalanced["order_3x_fraction"]
    assert imbalanced["order_1x_fraction"] > 0.9
    assert misaligned["dominant_order"] == pytest.approx(2.0, abs=0.01)


def test_clearance_harmonics(record):
    loose = features_of(
        record(orders={0.5: 0.4, 1: 1.0, 1.5: 0.3, 2.5: 0.2, **{k: 0.2 for k in range(4, 11)}})
    )
    healthy = features_of(record(orders={1: 1.0, 2: 0.1}))
    assert loose["half_harmonics_fraction"] > 100 * healthy["half_harmonics_fraction"]
    assert loose["orders_4_10x_fraction"] > 100 * healthy["orders_4_10x_fraction"]


def test_mains_hum_stays_out_of_the_1x_band(record):
    # Slowest speed of the datasets (54 Hz) next to a strong 50 Hz hum.
    f = features_of(record(shaft_hz=54.0, orders={1: 0.1}, tones_hz={50.0: 1.0}), shaft_hz=54.0)
    assert f["order_1x_fraction"] < 0.02
    assert f["subsync_fraction"] < 0.01


def test_cavitation_bursts_raise_the_cavitation_band(record, bursts):
    quiet = record(orders={1: 1.0})
    noisy = bursts(quiet, (1500, 2500), np.arange(0.01, 1.9, 0.04), 1.0)
    assert (
        features_of(noisy)["cavitation_band_fraction"] > 20 * features_of(quiet)["cavitation_band_fraction"]
    )
    assert features_of(noisy)["wavelet_d3_energy"] > 10 * features_of(quiet)["wavelet_d3_energy"]


def test_impacts_raise_kurtosis_crest_and_resonance(record, impacts):
    smooth = record(orders={1: 1.0}, noise=0.2)
    hit = impacts(smooth, np.arange(0.01, 1.95, 1 / 60.0), 4000, 3.0)
    a, b = features_of(smooth), features_of(hit)
    assert b["kurtosis"] > a["kurtosis"] + 3
    assert b["crest_factor"] > 1.5 * a["crest_factor"]
    assert b["impulse_factor"] > a["impulse_factor"]
    assert b["resonance_band_fraction"] > 10 * a["resonance_band_fraction"]
    assert b["envelope_kurtosis"] > a["envelope_kurtosis"] + 3
    assert b["wavelet_d2_energy"] > a["wavelet_d2_energy"]


def test_impacts_once_a_turn_show_in_the_envelope_spectrum(record, impacts):
    base = record(orders={1: 1.0}, noise=0.2)
    once_a_turn = np.arange(0.01, 1.95, 1 / 60.0)
    periodic = impacts(base, once_a_turn, 4000, 3.0)
    scattered = impacts(base, np.random.default_rng(3).uniform(0.01, 1.95, once_a_turn.size), 4000, 3.0)
    assert features_of(periodic)["envelope_1x_fraction"] > 5 * features_of(scattered)["envelope_1x_fraction"]


def test_modulation_at_shaft_rate_is_the_envelope_1x_line(record):
    # Wear modulates the high-frequency floor once a turn: the envelope is then a 1X tone.
    t = np.arange(40960) / FS
    carrier = np.sin(2 * np.pi * 3000.0 * t) * (1.0 + 0.8 * np.cos(2 * np.pi * 60.0 * t))
    f = features_of(carrier + record(orders={1: 1.0}))
    assert f["envelope_1x_fraction"] > 0.8


def test_stick_slip_raises_the_low_band(record):
    t = np.arange(40960) / FS
    smooth = record(orders={1: 1.0})
    slipping = smooth + 0.5 * np.sign(np.sin(2 * np.pi * 6.0 * t))
    assert (
        features_of(slipping)["stick_slip_band_fraction"]
        > 0.1
        > features_of(smooth)["stick_slip_band_fraction"]
    )


def test_broadband_rise_moves_spectral_shape(record):
    tonal = features_of(record(orders={1: 1.0, 2: 0.3}, noise=0.01))
    broad = features_of(record(orders={1: 1.0, 2: 0.3}, noise=1.0))
    assert broad["spectral_entropy"] > tonal["spectral_entropy"]
    assert broad["spectral_flatness"] > tonal["spectral_flatness"]
    assert broad["spectral_centroid_hz"] > tonal["spectral_centroid_hz"]
    assert broad["spectral_rolloff_hz"] > tonal["spectral_rolloff_hz"]
    assert broad["wavelet_d1_energy"] > tonal["wavelet_d1_energy"]


def test_per_record_speeds_place_each_records_bands(record):
    signals = np.stack([record(shaft_hz=55.0, orders={1: 1.0}), record(shaft_hz=65.0, orders={1: 1.0})])
    right = compute_features(signals, FS, np.array([55.0, 65.0]))
    swapped = compute_features(signals, FS, np.array([65.0, 55.0]))
    assert (column(right, "order_1x_fraction") > 0.9).all()
    assert (column(swapped, "order_1x_fraction") < 0.01).all()


# --- feature_frame ------------------------------------------------------------------------------------


def test_feature_frame_columns_and_index(mixed_batch):
    signals, speeds = mixed_batch
    frame = feature_frame(signals, FS, speeds, record_ids=[f"r{i}" for i in range(len(signals))])
    assert list(frame.columns) == list(FEATURE_NAMES)
    assert list(frame.index) == [f"r{i}" for i in range(len(signals))]
    np.testing.assert_array_equal(frame.to_numpy(), compute_features(signals, FS, speeds))


def test_feature_frame_rejects_wrong_number_of_ids(mixed_batch):
    signals, speeds = mixed_batch
    with pytest.raises(ValueError, match="record_ids has 2 entries but there are 6 signals"):
        feature_frame(signals, FS, speeds, record_ids=["a", "b"])


# --- bad input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signals", "kwargs", "message"),
    [
        (np.zeros((2, 3, 20480)), {}, "must be 1-D .* or 2-D"),
        (np.zeros((0, 20480)), {}, "holds no signals"),
        (np.array([["a"] * 20480]), {}, "real numeric array"),
        (np.where(np.arange(20480) == 7, np.nan, 0.0), {}, "NaN or infinite .* signal index 0"),
        (np.stack([np.zeros(20480), np.where(np.arange(20480) == 3, np.inf, 0.0)]), {}, "signal index 1"),
        (np.zeros(20480), {"fs": 0.0}, r"fs: must be a positive number \(the sampling rate in Hz\)"),
        (np.zeros(20480), {"fs": -5.0}, r"fs: must be a positive number \(the sampling rate in Hz\)"),
        (np.zeros(20480), {"fs": "fast"}, r"fs: must be a positive number \(the sampling rate in Hz\)"),
        (np.zeros(20480), {"fs": 8000.0}, f"below the {MIN_FS_HZ:g} Hz"),
        (np.zeros(1000), {}, "too short"),
        (
            np.zeros((2, 20480)),
            {"shaft_hz": np.ones(3) * 60},
            "shaft_hz has 3 speeds but there are 2 signals",
        ),
        (
            np.zeros((2, 20480)),
            {"shaft_hz": np.ones((2, 2)) * 60},
            "shaft_hz must be a number or a 1-D array",
        ),
        (np.zeros((2, 20480)), {"shaft_hz": [60.0, -1.0]}, "shaft_hz must be finite and > 0 .* index 1"),
        (np.zeros((2, 20480)), {"shaft_hz": [60.0, np.nan]}, "shaft_hz must be finite"),
        (np.zeros(20480), {"shaft_hz": 2000.0}, "too fast"),
        (np.zeros(20480), {"chunk_size": 0}, "chunk_size: must be an integer >= 1, got 0"),
        (np.zeros(20480), {"shaft_hz": None, "speed_search_hz": (50.0, 10.0)}, "search_hz must satisfy"),
        (np.zeros(20480), {"envelope_band_hz": (6000.0, 9000.0), "fs": 10240.0}, "band_hz low edge"),
    ],
)
def test_bad_input_is_named(signals, kwargs, message):
    args = {"fs": FS, "shaft_hz": 60.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        compute_features(signals, **args)
