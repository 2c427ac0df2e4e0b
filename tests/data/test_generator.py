"""The generator: spectral signatures per class, physics consistency, determinism, validation."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError
from scipy import signal as sps

from bearing_workbench.data import catalogue, physics, signatures
from bearing_workbench.data.generator import GeneratorConfig, generate_arrays, generate_record

FS = 20480.0


@pytest.fixture(scope="module")
def records():
    """Six 2-second records of every default class (mild to severe and incipient alike)."""
    cfg = GeneratorConfig(per_class=6, duration_s=2.0, seed=7)
    signals, labels, meta = generate_arrays(cfg)
    return cfg, signals.astype(np.float64), labels, meta


def _spectrum(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = x - x.mean()
    power = np.abs(np.fft.rfft(x * np.hanning(x.size))) ** 2
    return np.fft.rfftfreq(x.size, 1 / FS), power


def _line(freqs, power, f0: float, half_width: float) -> float:
    """Power of the strongest bin within +/- half_width Hz of f0."""
    sel = (freqs >= f0 - half_width) & (freqs <= f0 + half_width)
    return float(power[sel].max())


def _band(freqs, power, lo, hi) -> float:
    return float(power[(freqs >= lo) & (freqs <= hi)].sum())


def _of(records, name):
    cfg, signals, labels, meta = records
    k = cfg.classes.index(name)
    idx = np.flatnonzero(labels == k)
    return signals[idx], {c: v[idx] for c, v in meta.items()}


def test_eleven_default_classes_in_order():
    assert catalogue.DEFAULT_CLASSES == catalogue.class_names()[:11]
    assert len(GeneratorConfig().classes) == 11
    assert GeneratorConfig().n_records == 1430
    assert GeneratorConfig().n_samples == 102400


def test_oil_whirl_dominant_subsynchronous_peak_in_042_048x(records):
    signals, meta = _of(records, "oil_whirl")
    for x, speed, transient in zip(signals, meta["speed_hz"], meta["transient"], strict=True):
        if transient == "speed_ramp":
            continue  # the line is smeared over the ramp; checked on steady records
        freqs, power = _spectrum(x)
        sub = (freqs > 0.1 * speed) & (freqs < 0.9 * speed)
        peak = freqs[sub][np.argmax(power[sub])] / speed
        assert 0.41 <= peak <= 0.49, peak


def test_clearance_subharmonic_is_exactly_half_order_not_whirl(records):
    signals, meta = _of(records, "clearance")
    for x, speed, transient in zip(signals, meta["speed_hz"], meta["transient"], strict=True):
        if transient == "speed_ramp":
            continue
        freqs, power = _spectrum(x)
        sub = (freqs > 0.1 * speed) & (freqs < 0.9 * speed)
        peak = freqs[sub][np.argmax(power[sub])] / speed
        assert abs(peak - 0.5) < 0.01, peak
        # many harmonics: lines at 4X..8X stand clearly above the floor between them
        floor = np.median(power[(freqs > 4 * speed) & (freqs < 8 * speed)])
        assert sum(_line(freqs, power, k * speed, 1.0) > 20 * floor for k in range(4, 9)) >= 4


def test_misalignment_2x_above_1x_and_strong_3x(records):
    signals, meta = _of(records, "misalignment")
    checked = 0
    for x, speed, transient in zip(signals, meta["speed_hz"], meta["transient"], strict=True):
        if transient == "speed_ramp":
            continue
        freqs, power = _spectrum(x)
        one, two, three = (_line(freqs, power, k * speed, 1.0) for k in (1, 2, 3))
        assert two > one
        assert three > 0.05 * two
        checked += 1
    assert checked >= 3


def test_imbalance_1x_grows_with_speed_squared():
    """Same record, two speeds: the 1X amplitude ratio is (66/54)^2 (the film factor held fixed)."""
    amps = []
    for speed in (54.0, 66.0):
        n = int(FS)
        t = np.arange(n) / FS
        shaft = np.full(n, speed)
        ctx = signatures.RecordContext(
            fs=FS,
            t=t,
            shaft_hz=shaft,
            shaft_phase=2 * np.pi * np.cumsum(shaft) / FS,
            temperature_c=np.full(n, 60.0),
            eccentricity=np.full(n, 0.3),
            sommerfeld=np.full(n, 0.2),
            reynolds=np.full(n, 20.0),
            severity=np.full(n, 0.8),
            rated_speed_hz=60.0,
        )
        x = signatures.get_signature("imbalance")(ctx, np.random.default_rng(3))
        freqs = np.fft.rfftfreq(n, 1 / FS)
        amps.append(np.abs(np.fft.rfft(x))[np.argmin(np.abs(freqs - speed))])
    assert amps[1] / amps[0] == pytest.approx((66 / 54) ** 2, rel=0.02)


def _whirl_ctx(eccentricity: float) -> signatures.RecordContext:
    n = int(2 * FS)
    t = np.arange(n) / FS
    shaft = np.full(n, 60.0)
    return signatures.RecordContext(
        fs=FS,
        t=t,
        shaft_hz=shaft,
        shaft_phase=2 * np.pi * np.cumsum(shaft) / FS,
        temperature_c=np.full(n, 60.0),
        eccentricity=np.full(n, eccentricity),
        sommerfeld=np.full(n, 0.2),
        reynolds=np.full(n, 20.0),
        severity=np.full(n, 0.7),
        rated_speed_hz=60.0,
    )


def test_oil_whirl_stronger_when_lightly_loaded():
    """Whirl is a lightly-loaded instability: high Sommerfeld number (low eccentricity) -> stronger."""
    geometry = physics.BearingGeometry()
    light = physics.eccentricity_ratio(0.8, geometry)
    heavy = physics.eccentricity_ratio(0.06, geometry)
    assert light < heavy
    rms = [
        signatures.get_signature("oil_whirl")(_whirl_ctx(e), np.random.default_rng(1)).std()
        for e in (light, heavy)
    ]
    assert rms[0] > 1.5 * rms[1]
    ratios = physics.whirl_frequency_ratio(np.array([light, heavy]))
    assert np.all((ratios >= 0.42) & (ratios <= 0.48))
    assert ratios[0] > ratios[1]  # the ratio falls as the journal runs more eccentric


def test_cavitation_bursts_in_band_and_in_every_window(records):
    healthy, _ = _of(records, "healthy")
    cav, _ = _of(records, "cavitation")

    def band_fraction(x):
        freqs, power = _spectrum(x)
        return _band(freqs, power, 1500, 2500) / power.sum()

    assert min(band_fraction(x) for x in cav) > 5 * max(band_fraction(x) for x in healthy)
    sos = sps.butter(4, [1500, 2500], btype="bandpass", fs=FS, output="sos")
    for x in cav:
        env = np.abs(sps.hilbert(sps.sosfiltfilt(sos, x)))
        for second in np.split(env[: int(2 * FS)], 2):  # every 1 s window
            smooth = np.convolve(second, np.ones(41) / 41, mode="same")
            above = smooth > 4 * np.median(smooth)
            bursts = np.count_nonzero(np.diff(above.astype(int)) == 1)
            assert bursts >= 5


def test_wear_raises_broadband_and_lubrication_impacts_are_synchronous(records):
    healthy, _ = _of(records, "healthy")
    wear, _ = _of(records, "wear")
    lub, lub_meta = _of(records, "lubrication")

    def broadband(x):
        freqs, power = _spectrum(x)
        return _band(freqs, power, 1400, 5000) / power.sum()

    assert min(broadband(x) for x in wear) > 5 * max(broadband(x) for x in healthy)
    sos = sps.butter(4, [3000, 5000], btype="bandpass", fs=FS, output="sos")
    for x, speed in zip(lub, lub_meta["speed_hz"], strict=True):
        env = np.abs(sps.hilbert(sps.sosfiltfilt(sos, x)))
        freqs, power = _spectrum(env)
        sel = (freqs > 5) & (freqs < 200)
        peak = freqs[sel][np.argmax(power[sel])]
        assert min(abs(peak - speed), abs(peak - 2 * speed)) < 0.05 * speed


def test_mixed_classes_carry_both_parts(records):
    mixed, meta = _of(records, "misalignment+imbalance")
    for x, speed, transient in zip(mixed, meta["speed_hz"], meta["transient"], strict=True):
        if transient == "speed_ramp":
            continue
        freqs, power = _spectrum(x)
        floor = np.median(power[(freqs > 10) & (freqs < 500)])
        assert _line(freqs, power, 2 * speed, 1.0) > 1000 * floor
        assert _line(freqs, power, speed, 1.0) > 1000 * floor
    cc, meta = _of(records, "cavitation+clearance")
    for x, speed in zip(cc, meta["speed_hz"], strict=True):
        freqs, power = _spectrum(x)
        assert _band(freqs, power, 1500, 2500) / power.sum() > 0.05
        assert _line(freqs, power, 0.5 * speed, 1.5) > 100 * np.median(power[(freqs > 10) & (freqs < 500)])


def test_metadata_is_what_shaped_the_signal(records):
    """Recompute the stored physics from the stored operating point (steady records)."""
    _, _, _, meta = records
    geometry = physics.BearingGeometry()
    steady = meta["transient"] == "none"
    mu = physics.dynamic_viscosity(meta["temperature_c"][steady])
    np.testing.assert_allclose(mu, meta["viscosity_pa_s"][steady], rtol=1e-9)
    clearance = meta["clearance_ratio"][steady] * geometry.radius_m
    som = physics.sommerfeld_number(
        mu, meta["speed_hz"][steady], meta["load_frac"][steady] * geometry.rated_load_n, geometry, clearance
    )
    np.testing.assert_allclose(som, meta["sommerfeld"][steady], rtol=1e-9)
    np.testing.assert_allclose(
        physics.eccentricity_ratio(som, geometry), meta["eccentricity"][steady], rtol=1e-6
    )
    re = physics.reynolds_number(mu, meta["speed_hz"][steady], geometry, clearance)
    np.testing.assert_allclose(re, meta["reynolds"][steady], rtol=1e-9)
    # a clearance fault opens the clearance, in proportion to its severity
    cfg = records[0]
    labels = records[2]
    loose = np.isin(labels, [cfg.classes.index("clearance"), cfg.classes.index("cavitation+clearance")])
    assert np.corrcoef(meta["severity"][loose], meta["clearance_ratio"][loose])[0, 1] > 0.8
    assert meta["clearance_ratio"][loose].mean() > 1.3 * meta["clearance_ratio"][~loose].mean()


def test_severity_levels_transients_and_ranges(records):
    cfg, _, labels, meta = records
    healthy = labels == cfg.classes.index("healthy")
    assert set(meta["severity_level"][healthy]) == {"none"}
    assert set(meta["severity_level"][~healthy]) <= {"incipient", "mild", "moderate", "severe"}
    assert (meta["severity_end"] >= meta["severity"]).all()
    assert set(meta["transient"]) <= {"none", "speed_ramp", "load_step", "thermal_drift"}
    assert (meta["speed_hz"] >= 54).all() and (meta["speed_hz"] <= 66).all()
    assert (meta["load_frac"] >= 0.3).all() and (meta["load_frac"] <= 1.0).all()
    assert (meta["temperature_c"] >= 40).all() and (meta["temperature_c"] <= 80).all()
    drift = meta["transient"] == "thermal_drift"
    assert (meta["temperature_end_c"][drift] > meta["temperature_c"][drift]).all()


def test_amplitude_alone_does_not_give_the_class_away():
    """A classifier on the overall level (RMS, peak) stays far below one on the spectrum's shape."""
    from sklearn.model_selection import cross_val_score
    from sklearn.tree import DecisionTreeClassifier

    cfg = GeneratorConfig(per_class=24, duration_s=0.5, seed=11)
    signals, labels, _ = generate_arrays(cfg)
    level = np.column_stack([np.log(signals.std(axis=1)), np.log(np.abs(signals).max(axis=1))])
    acc = cross_val_score(DecisionTreeClassifier(max_depth=4, random_state=0), level, labels, cv=4).mean()
    assert acc < 0.30, acc  # chance is 1/11 = 0.09


def test_mains_in_the_1x_band_is_refused():
    with pytest.raises(ValidationError, match="mains_hz: 60.0 Hz lies inside the 1X band"):
        GeneratorConfig(mains_hz=60.0)
    GeneratorConfig(mains_hz=60.0, speed_hz=(20.0, 40.0))  # fine away from the mains line


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fs": 8000.0}, "at least 10240 Hz"),
        ({"classes": ("healthy", "rub")}, "unknown classes ['rub']"),
        ({"speed_hz": (66.0, 54.0)}, "range must be (low, high)"),
        ({"per_class": 0}, "greater than or equal to 1"),
        ({"split": (0.5, 0.2, 0.2)}, "must sum to 1"),
        ({"per_class": 2}, "per_class: 2 records per class cannot put every class in all 3 splits"),
        ({"typo_field": 1}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_generator_configs(kwargs, message):
    with pytest.raises(ValidationError) as err:
        GeneratorConfig(**kwargs)
    assert message in str(err.value)


def test_records_are_deterministic_and_independent_of_batching():
    cfg = GeneratorConfig(per_class=3, duration_s=0.5, seed=3)
    a = generate_record(cfg, 5)
    b = generate_record(cfg, 5)
    np.testing.assert_array_equal(a.signal, b.signal)
    assert a.metadata == b.metadata
    signals, _, _ = generate_arrays(cfg, [5, 1])
    np.testing.assert_array_equal(signals[0], a.signal)
    other = generate_record(GeneratorConfig(per_class=3, duration_s=0.5, seed=4), 5)
    assert not np.array_equal(other.signal, a.signal)


def test_a_new_condition_is_one_signature_and_one_class():
    """Oil whip: whirl that locks onto the first critical speed instead of following the shaft."""

    @signatures.register_signature("oil_whip_test")
    def oil_whip(ctx, rng):
        """Whirl locked at the first critical speed (here 26 Hz), independent of shaft speed."""
        return 0.8 * ctx.severity * np.cos(2 * np.pi * 26.0 * ctx.t + rng.uniform(0, 6.3))

    catalogue.register_class("oil_whip_test", ("oil_whip_test",), "oil whip (test)")
    try:
        cfg = GeneratorConfig(classes=("healthy", "oil_whip_test"), per_class=3, duration_s=2.0)
        rec = generate_record(cfg, 3)
        freqs, power = _spectrum(rec.signal.astype(np.float64))
        sub = (freqs > 5) & (freqs < 45)
        assert abs(freqs[sub][np.argmax(power[sub])] - 26.0) < 1.0
    finally:
        catalogue.unregister_class("oil_whip_test")
        signatures.unregister_signature("oil_whip_test")
