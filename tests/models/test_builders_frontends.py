"""The spectrogram family's in-model STFT and CWT: tones land on the rows of their frequency."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bearing_workbench.features import spectrograms
from bearing_workbench.models.builders.frontends import CWTFrontend, STFTFrontend

FS = 20480.0


def _tone(freq: float, seconds: float = 0.5, amplitude: float = 1.0, noise: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * FS)) / FS
    return amplitude * np.sin(2 * np.pi * freq * t + 0.3) + noise * rng.standard_normal(t.size)


def _image(frontend: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return frontend(torch.tensor(x[None], dtype=torch.float32))[0, 0].numpy()


@pytest.mark.parametrize("window", [128, 256, 512])
@pytest.mark.parametrize("freq", [800.0, 3130.0])  # not halfway between two rows
def test_stft_rows_match_the_feature_spectrogram(window: int, freq: float) -> None:
    frontend = STFTFrontend(FS, window)
    x = _tone(freq, noise=0.01)
    image = _image(frontend, x)
    reference = spectrograms.stft_spectrogram(x, FS, window=window)[0]
    np.testing.assert_allclose(frontend.frequencies, spectrograms.stft_frequencies(FS, window))
    assert image.shape[0] == reference.shape[0] == window // 2 + 1
    assert image.shape[1] == (x.size - window) // (window // 4) + 1
    peak_rows = image.argmax(axis=0)
    assert np.all(peak_rows == reference.mean(axis=1).argmax())
    assert abs(frontend.frequencies[peak_rows[0]] - freq) <= FS / window / 2


def test_stft_power_scale_reads_zero_for_unit_white_noise() -> None:
    rng = np.random.default_rng(1)
    image = _image(STFTFrontend(FS, 256), rng.standard_normal(20480))
    mean_power = np.exp(image[1:-1]).mean()  # away from DC and Nyquist, which are real-valued
    assert 0.9 < mean_power < 1.1


@pytest.mark.parametrize("row", [2, 20, 40, 63])
def test_cwt_tone_peaks_on_its_scale(row: int) -> None:
    frontend = CWTFrontend(FS, n_scales=64)
    freq = float(frontend.frequencies[row])  # 10 Hz ... 5 kHz, log-spaced
    x = _tone(freq, seconds=1.0, amplitude=2.0)
    image = _image(frontend, x)
    assert image.shape == (64, int(FS) // 128)
    inner = image[:, 20:-20]  # away from the zero-padded edges
    assert np.all(inner.argmax(axis=0) == row)
    # Morlet kernels are normalised so an amplitude-A tone reads |c| = A: power A**2.
    np.testing.assert_allclose(np.exp(inner[row]).mean(), 4.0, rtol=0.05)
    reference = spectrograms.cwt_scalogram(x, FS, n_scales=64)[0]
    assert reference[:, 20:-20].mean(axis=1).argmax() == row


def test_cwt_decimation_does_not_alias_high_tones_into_low_rows() -> None:
    frontend = CWTFrontend(FS, n_scales=64)
    image = _image(frontend, _tone(4300.0, seconds=1.0))
    peak = image[:, 20:-20].mean(axis=1)
    low = frontend.frequencies < 2000.0
    assert peak.argmax() == np.abs(frontend.frequencies - 4300.0).argmin()
    assert peak[low].max() < peak.max() - np.log(1e4)  # at least 40 dB down


def test_cwt_range_follows_the_sampling_rate() -> None:
    frontend = CWTFrontend(6000.0, n_scales=32)
    assert frontend.frequencies[0] == pytest.approx(10.0)
    assert frontend.frequencies[-1] == pytest.approx(2000.0)  # fs / 3, below 5 kHz
    with pytest.raises(ValueError, match="too low"):
        CWTFrontend(24.0, n_scales=16)


def test_front_ends_pass_gradients_to_the_signal() -> None:
    x = torch.tensor(_tone(1000.0, seconds=0.2)[None], dtype=torch.float32, requires_grad=True)
    for frontend in (STFTFrontend(FS, 256), CWTFrontend(FS, n_scales=16)):
        x.grad = None
        frontend(x).sum().backward()
        assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
