"""Generator variants: domain-randomised and held-out machines (determinism, difference, physics kept)."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from bearing_workbench.data import variants
from bearing_workbench.data.generator import GeneratorConfig, generate_arrays

CLASSES = ("healthy", "misalignment", "clearance", "oil_whirl", "cavitation")


def _arrays(variant: str, seed: int = 5, per_class: int = 6):
    cfg = GeneratorConfig(variant=variant, classes=CLASSES, per_class=per_class, duration_s=2.0, seed=seed)
    return cfg, *generate_arrays(cfg)


@pytest.fixture(scope="module")
def generated():
    return {v: _arrays(v) for v in variants.VARIANTS}


def _of(arrays, name):
    cfg, signals, labels, meta = arrays
    idx = np.flatnonzero(labels == cfg.classes.index(name))
    return signals[idx].astype(np.float64), {k: v[idx] for k, v in meta.items()}


def _spectrum(x: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    x = x - x.mean()
    return np.fft.rfftfreq(x.size, 1 / fs), np.abs(np.fft.rfft(x * np.hanning(x.size))) ** 2


def _subsync_peak_order(x: np.ndarray, fs: float, speed: float) -> float:
    freqs, power = _spectrum(x, fs)
    sub = (freqs > 0.1 * speed) & (freqs < 0.9 * speed)
    return float(freqs[sub][np.argmax(power[sub])] / speed)


def _line(freqs, power, f0: float) -> float:
    return float(power[(freqs >= f0 - 1.0) & (freqs <= f0 + 1.0)].max())


@pytest.mark.parametrize("variant", ["randomised", "heldout"])
def test_a_variant_is_deterministic_by_seed(variant: str) -> None:
    _, first, labels, meta = _arrays(variant, seed=9, per_class=3)
    _, again, labels_again, meta_again = _arrays(variant, seed=9, per_class=3)
    _, other, _, _ = _arrays(variant, seed=10, per_class=3)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(labels, labels_again)
    np.testing.assert_array_equal(meta["speed_hz"], meta_again["speed_hz"])
    assert not np.array_equal(first, other)


def test_the_default_variant_is_the_generator_as_it_was(generated) -> None:
    cfg = GeneratorConfig(classes=CLASSES, per_class=6, duration_s=2.0, seed=5)
    assert cfg.variant == "default" and cfg.speed_hz == (54.0, 66.0) and cfg.mains_hz == 50.0
    signals, _, _ = generate_arrays(cfg)
    np.testing.assert_array_equal(signals, generated["default"][1])


def test_a_variant_brings_its_ranges_and_explicit_ranges_win() -> None:
    held = GeneratorConfig(variant="heldout")
    assert held.speed_hz == (36.0, 48.0) and held.mains_hz == 60.0 and held.sensor_gain == (0.02, 0.1)
    assert GeneratorConfig(variant="heldout", speed_hz=(40.0, 45.0)).speed_hz == (40.0, 45.0)
    wide = GeneratorConfig(variant="randomised")
    assert wide.speed_hz[1] / wide.speed_hz[0] > 3  # spans the mains frequency: each record avoids it
    with pytest.raises(ValidationError, match="variant"):
        GeneratorConfig(variant="plant-b")
    with pytest.raises(ValidationError, match="mains_hz"):
        GeneratorConfig(variant="default", speed_hz=(45.0, 55.0))


def test_the_heldout_machine_differs_measurably(generated) -> None:
    fs = 20480.0
    default_healthy, default_meta = _of(generated["default"], "healthy")
    held_healthy, held_meta = _of(generated["heldout"], "healthy")
    # Amplitude scale: the held-out sensor chain reads about ten times lower.
    ratio = np.median(held_healthy.std(axis=1)) / np.median(default_healthy.std(axis=1))
    assert ratio < 0.2, ratio
    # Speed range.
    assert held_meta["speed_hz"].max() < 49 < 53 < default_meta["speed_hz"].min()

    # The casing mode that shapes the flow noise sits higher: 1.4-1.9 kHz instead of 0.5-1.2 kHz.
    def high_over_low(signals: np.ndarray) -> float:
        freqs, _ = _spectrum(signals[0], fs)
        power = np.mean([_spectrum(x, fs)[1] for x in signals], axis=0)
        return power[(freqs > 1400) & (freqs < 1900)].sum() / power[(freqs > 500) & (freqs < 1200)].sum()

    assert high_over_low(held_healthy) > 3 * high_over_low(default_healthy)


def test_the_randomised_variant_spans_many_machines(generated) -> None:
    default_signals = generated["default"][1]
    wide_signals = generated["randomised"][1]
    spread = np.std(np.log10(wide_signals.std(axis=1)))
    assert spread > 3 * np.std(np.log10(default_signals.std(axis=1)))
    speeds = generated["randomised"][3]["speed_hz"]
    assert speeds.min() < 50 and speeds.max() > 70


def test_random_machines_differ_and_keep_modes_below_nyquist() -> None:
    rng = np.random.default_rng(0)
    machines = [variants.random_machine(rng, 20480.0, 60.0) for _ in range(50)]
    assert len({m.flow_mode_hz for m in machines}) == 50
    for m in machines:
        assert m.contact_mode_hz[1] < 0.45 * 20480.0
        assert m.cavitation_centre_hz[1] + m.cavitation_half_width_hz < 0.45 * 20480.0
        assert m.mains_hz in variants.MAINS_CHOICES
    # The mains line never falls in the 1X band.
    for speed in (49.0, 51.0, 55.0, 59.0, 61.0):
        m = variants.random_machine(rng, 20480.0, speed)
        assert abs(m.mains_hz - speed) > 0.03 * speed


@pytest.mark.parametrize("variant", ["randomised", "heldout"])
def test_class_physics_holds_on_every_machine(generated, variant: str) -> None:
    arrays = generated[variant]
    fs = arrays[0].fs
    whirl, whirl_meta = _of(arrays, "oil_whirl")
    for x, speed, transient in zip(whirl, whirl_meta["speed_hz"], whirl_meta["transient"], strict=True):
        if transient != "speed_ramp":
            assert 0.41 <= _subsync_peak_order(x, fs, speed) <= 0.49
    loose, loose_meta = _of(arrays, "clearance")
    for x, speed, transient in zip(loose, loose_meta["speed_hz"], loose_meta["transient"], strict=True):
        if transient != "speed_ramp":
            assert abs(_subsync_peak_order(x, fs, speed) - 0.5) < 0.01

    # Misalignment raises 2X against 1X far above what the same machines' healthy records show (the
    # transmission path may tilt the two lines, so the comparison is against healthy, not 1).
    def log_2x_over_1x(name: str) -> float:
        signals, meta = _of(arrays, name)
        ratios = []
        for x, speed in zip(signals, meta["speed_hz"], strict=True):
            freqs, power = _spectrum(x, fs)
            ratios.append(np.log10(_line(freqs, power, 2 * speed) / _line(freqs, power, speed)))
        return float(np.median(ratios))

    assert log_2x_over_1x("misalignment") > log_2x_over_1x("healthy") + 1.0


def test_path_colouring_and_coloured_noise_shape_the_spectrum() -> None:
    from bearing_workbench.data.noise import coloured

    rng = np.random.default_rng(1)
    white = rng.standard_normal(2**15)
    pink = coloured(white, 1.0)
    freqs, power = _spectrum(pink, 20480.0)
    low, high = power[(freqs > 50) & (freqs < 200)].mean(), power[(freqs > 5000) & (freqs < 8000)].mean()
    assert low > 10 * high and abs(pink.std() - 1.0) < 1e-6
    machine = variants.Machine(path_bumps=((1000.0, 12.0, 0.3),))
    shaped = variants.colour_by_path(white, 20480.0, machine)
    freqs, before = _spectrum(white, 20480.0)
    _, after = _spectrum(shaped, 20480.0)
    at = (freqs > 950) & (freqs < 1050)
    away = (freqs > 4000) & (freqs < 6000)
    assert after[at].sum() / before[at].sum() == pytest.approx(10**1.2, rel=0.1)
    assert after[away].sum() / before[away].sum() == pytest.approx(1.0, rel=0.05)
    assert variants.colour_by_path(white, 20480.0, variants.DEFAULT_MACHINE) is white
