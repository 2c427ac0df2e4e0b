"""The robustness sweep's perturbations do what their names say: measured SNR, gain, frequency shift."""

from __future__ import annotations

import numpy as np
import pytest

from bearing_workbench.training.perturbations import (
    CONDITIONS,
    add_noise,
    apply_gain,
    change_speed,
    condition_rngs,
    scale_speed_meta,
)

FS = 20_480.0


def _tone(freq: float, n: int = 20_480, amplitude: float = 1.0) -> np.ndarray:
    return (amplitude * np.sin(2 * np.pi * freq * np.arange(n) / FS)).astype(np.float32)


def _peak_hz(signal: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(signal.size)))
    return float(np.fft.rfftfreq(signal.size, 1 / FS)[np.argmax(spectrum)])


def test_the_conditions_are_the_sweep_in_order() -> None:
    assert [(c.group, c.name) for c in CONDITIONS] == [
        ("clean", "clean"),
        ("noise", "SNR 20 dB"),
        ("noise", "SNR 10 dB"),
        ("noise", "SNR 5 dB"),
        ("gain", "gain x0.5"),
        ("gain", "gain x2"),
        ("speed", "speed -10 %"),
        ("speed", "speed +10 %"),
    ]


@pytest.mark.parametrize("snr_db", [20.0, 10.0, 5.0])
def test_noise_is_at_the_asked_snr_of_each_record(snr_db: float) -> None:
    # Records of very different power: each gets noise relative to its own.
    signals = np.stack([_tone(300.0, amplitude=0.01), _tone(700.0, amplitude=5.0)])
    noisy = add_noise(signals, snr_db, np.random.default_rng(0))
    assert noisy.shape == signals.shape and noisy.dtype == np.float32
    noise = noisy.astype(np.float64) - signals
    measured = 10 * np.log10(np.mean(signals.astype(np.float64) ** 2, axis=1) / np.mean(noise**2, axis=1))
    np.testing.assert_allclose(measured, snr_db, atol=0.2)
    # White: flat spectrum, not a tone (its largest bin holds a tiny share of the power).
    spectrum = np.abs(np.fft.rfft(noise[1])) ** 2
    assert spectrum.max() / spectrum.sum() < 0.01


def test_noise_is_seeded() -> None:
    signals = np.stack([_tone(300.0)])
    a = add_noise(signals, 10.0, np.random.default_rng(4))
    assert np.array_equal(a, add_noise(signals, 10.0, np.random.default_rng(4)))
    assert not np.array_equal(a, add_noise(signals, 10.0, np.random.default_rng(5)))
    # One generator per condition, the same for the same seed, different from each other.
    first, again = condition_rngs(7), condition_rngs(7)
    draws = [rng.standard_normal(3) for rng in first]
    assert all(np.array_equal(d, rng.standard_normal(3)) for d, rng in zip(draws, again, strict=True))
    assert len({tuple(d) for d in draws}) == len(CONDITIONS)


def test_a_silent_record_gets_no_noise() -> None:
    silent = np.zeros((1, 100), np.float32)
    assert np.array_equal(add_noise(silent, 5.0, np.random.default_rng(0)), silent)


@pytest.mark.parametrize("gain", [0.5, 2.0])
def test_gain_scales_every_sample(gain: float) -> None:
    signals = np.stack([_tone(300.0), _tone(900.0, amplitude=0.3)])
    np.testing.assert_allclose(apply_gain(signals, gain), signals * gain, rtol=1e-6)


@pytest.mark.parametrize(("factor", "expected_hz"), [(1.1, 550.0), (0.9, 450.0)])
def test_a_speed_change_moves_every_frequency_by_the_factor(factor: float, expected_hz: float) -> None:
    signals = np.stack([_tone(500.0), _tone(500.0) + _tone(2_000.0, amplitude=0.5)])
    changed = change_speed(signals, factor)
    assert changed.shape == signals.shape and changed.dtype == np.float32
    assert _peak_hz(changed[0]) == pytest.approx(expected_hz, abs=1.0)  # 1 Hz bins
    # The second tone moves too: its peak, with the first one masked off.
    spectrum = np.abs(np.fft.rfft(changed[1] * np.hanning(changed.shape[1])))
    freqs = np.fft.rfftfreq(changed.shape[1], 1 / FS)
    spectrum[freqs < 1_000.0] = 0
    assert freqs[np.argmax(spectrum)] == pytest.approx(2_000.0 * factor, abs=2.0)
    # Amplitude kept: a resampled tone has the same RMS.
    assert np.sqrt(np.mean(changed[0] ** 2)) == pytest.approx(np.sqrt(0.5), rel=0.02)


def test_a_speed_change_scales_the_speed_metadata_only() -> None:
    meta = {"speed_hz": np.array([50.0, 60.0]), "load_frac": np.array([0.5, 0.7]), "sommerfeld": np.ones(2)}
    scaled = scale_speed_meta(meta, 1.1)
    np.testing.assert_allclose(scaled["speed_hz"], [55.0, 66.0])
    np.testing.assert_allclose(scaled["sommerfeld"], [1.1, 1.1])
    np.testing.assert_array_equal(scaled["load_frac"], meta["load_frac"])
    np.testing.assert_array_equal(meta["speed_hz"], [50.0, 60.0])  # the input is left alone


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match=r"signals: expected \(n_records, n_samples\), got shape \(5,\)"):
        apply_gain(np.zeros(5), 2.0)
    with pytest.raises(ValueError, match="factor: the speed factor must be positive, got 0"):
        change_speed(np.zeros((1, 10)), 0)
