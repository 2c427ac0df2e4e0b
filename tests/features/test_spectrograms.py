"""STFT spectrograms and CWT scalograms: shapes, tone positions, pooling, bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

from bearing_workbench.features import cwt_frequencies, cwt_scalogram, stft_frequencies, stft_spectrogram

FS = 20480.0


def tone(freq_hz: float, seconds: float = 1.0, amplitude: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * FS)) / FS
    return amplitude * np.sin(2 * np.pi * freq_hz * t)


# --- STFT -----------------------------------------------------------------------------------------


def test_stft_shape_dtype_finite_and_default_hop():
    signals = np.random.default_rng(0).standard_normal((3, 20480)).astype(np.float32)
    image = stft_spectrogram(signals, FS, window=256)
    # Frames lying wholly inside 20480 samples with hop 128: 159.
    assert image.shape == (3, 129, 159)
    assert image.dtype == np.float32
    assert np.isfinite(image).all()


def test_stft_tone_lands_on_its_bin():
    window = 256
    freqs = stft_frequencies(FS, window)
    target = freqs[30]  # 2400 Hz, a bin centre
    image = stft_spectrogram(tone(target), FS, window=window)[0]
    assert np.all(np.argmax(image, axis=0) == 30)


def test_stft_fmax_crops_rows_and_matches_frequencies():
    image = stft_spectrogram(tone(1000.0), FS, window=512, fmax=2000.0)
    freqs = stft_frequencies(FS, 512, fmax=2000.0)
    assert image.shape[1] == freqs.size
    assert freqs[-1] <= 2000.0 < freqs[-1] + FS / 512
    assert freqs[np.argmax(image[0].mean(axis=1))] == pytest.approx(1000.0, abs=FS / 512)


def test_stft_pooling_to_n_time_averages_power():
    x = np.concatenate([tone(1000.0, 0.5), tone(4000.0, 0.5)])
    image = stft_spectrogram(x, FS, window=256, n_time=2)[0]
    freqs = stft_frequencies(FS, 256)
    assert image.shape == (129, 2)
    assert freqs[np.argmax(image[:, 0])] == pytest.approx(1000.0, abs=80)
    assert freqs[np.argmax(image[:, 1])] == pytest.approx(4000.0, abs=80)


def test_stft_image_spans_at_most_100_db():
    x = tone(1000.0)
    image = stft_spectrogram(x, FS)[0]
    assert image.max() - image.min() <= 100.0 + 1e-3


def test_stft_scale_shifts_the_image_by_a_constant():
    x = np.random.default_rng(1).standard_normal(8192)
    np.testing.assert_allclose(stft_spectrogram(10 * x, FS) - stft_spectrogram(x, FS), 20.0, atol=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window": 1}, "window: must be an integer >= 4, got 1"),
        ({"window": 50000}, "window=50000 is longer than the signals"),
        ({"hop": 0}, "hop: must be an integer >= 1, got 0"),
        ({"hop": 512}, "hop=512 must not exceed window=256"),
        ({"fmax": 20000.0}, r"fmax must lie in \(0, 10240\]"),
        ({"fmax": -1.0}, "fmax must lie in"),
        ({"n_time": 10000}, "n_time=10000 exceeds the 159 frames"),
        ({"fs": 0}, r"fs: must be a positive number \(the sampling rate in Hz\)"),
    ],
)
def test_stft_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        stft_spectrogram(np.zeros(20480), **{"fs": FS, **kwargs})


# --- CWT ------------------------------------------------------------------------------------------


def test_cwt_shape_dtype_finite():
    signals = np.random.default_rng(0).standard_normal((2, 20480))
    image = cwt_scalogram(signals, FS, n_scales=32, n_time=64)
    assert image.shape == (2, 32, 64)
    assert image.dtype == np.float32
    assert np.isfinite(image).all()
    assert (image >= 0).all()


@pytest.mark.parametrize("row", [5, 30, 50, 63])
def test_cwt_peak_row_is_the_tone_frequency_at_every_decimation_stage(row):
    freqs = cwt_frequencies(64, 10.0, 5000.0)
    image = cwt_scalogram(tone(freqs[row], seconds=2.0), FS)[0]
    profile = image[:, 8:-8].mean(axis=1)  # away from the record's edges
    assert np.argmax(profile) == row
    # L1 normalisation: a unit sinusoid reads about the same at any frequency.
    assert 0.8 < profile[row] < 1.1


def test_cwt_time_pooling_follows_where_the_tone_is():
    freqs = cwt_frequencies(64, 10.0, 5000.0)
    x = np.concatenate([np.zeros(20480), tone(freqs[50])])
    image = cwt_scalogram(x, FS, n_time=4)[0]
    assert image[50, 3] > 10 * image[50, 0]


def test_cwt_frequencies_are_log_spaced():
    freqs = cwt_frequencies(5, 10.0, 10000.0)
    np.testing.assert_allclose(freqs, [10, 10**1.75, 10**2.5, 10**3.25, 10**4], rtol=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fmax": 9000.0}, r"fmax must lie in \(0, 6826\.67\]"),
        ({"fmin": 500.0, "fmax": 100.0}, "0 < fmin < fmax"),
        ({"n_scales": 1}, "n_scales: must be an integer >= 2, got 1"),
        ({"n_time": 0}, "n_time: must be an integer >= 1, got 0"),
        ({"n_time": 30000}, "n_time=30000 exceeds the 20480 samples"),
        ({"fmin": 1.0}, "too short for fmin=1 Hz"),
        ({"fs": -1.0}, r"fs: must be a positive number \(the sampling rate in Hz\)"),
    ],
)
def test_cwt_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        cwt_scalogram(np.zeros(20480), **{"fs": FS, **kwargs})
