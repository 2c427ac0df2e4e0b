"""Physics-based generator of journal-bearing vibration datasets.

Each record draws an operating point (speed, load, oil temperature, clearance), an optional
transient (speed ramp, load step, thermal drift) and a fault severity, computes the bearing's
state over time with `physics` (viscosity, Sommerfeld number, eccentricity, Reynolds number),
sums the healthy baseline and its class's signatures (`signatures`), passes the result through the
measurement chain (`noise`) and a random sensor gain, and stores the metadata that shaped it.

Every record has its own random stream, seeded by (seed, record index): the content does not
depend on how records are spread over worker processes.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import catalogue, noise, physics, signatures, variants
from .dataset_file import STRING_DTYPE, DatasetWriter
from .splits import split_records

GENERATOR_VERSION = "1.0.0"

SEVERITY_LEVELS: dict[str, tuple[float, float]] = {
    "incipient": (0.20, 0.35),
    "mild": (0.35, 0.55),
    "moderate": (0.55, 0.80),
    "severe": (0.80, 1.00),
}
TRANSIENTS = ("speed_ramp", "load_step", "thermal_drift")
# Coarse time grid for the slowly varying operating point; interpolated to every sample.
_GRID = 128

METADATA_COLUMNS: dict[str, str] = {
    "speed_hz": "mean shaft speed over the record (Hz)",
    "speed_end_hz": "shaft speed at the end (differs from the start under a speed ramp)",
    "load_frac": "radial load at the start, fraction of rated",
    "load_end_frac": "radial load at the end (differs under a load step)",
    "temperature_c": "oil temperature at the start (degC)",
    "temperature_end_c": "oil temperature at the end (differs under thermal drift)",
    "viscosity_pa_s": "mean dynamic viscosity (Walther equation, ISO VG 46)",
    "sommerfeld": "mean Sommerfeld number",
    "eccentricity": "mean eccentricity ratio (short-bearing theory)",
    "reynolds": "mean film Reynolds number",
    "clearance_ratio": "radial clearance / journal radius (grows with a clearance fault)",
    "severity": "fault severity at the start, 0 (healthy) to 1",
    "severity_end": "fault severity at the end (differs when the fault progresses)",
    "severity_level": "incipient / mild / moderate / severe (none for healthy)",
    "transient": "none / speed_ramp / load_step / thermal_drift",
    "snr_db": "clean-signal to sensor-noise ratio (dB)",
    "sensor_gain": "transducer sensitivity / mounting factor applied to the whole record",
}
_STRING_COLUMNS = {"severity_level", "transient"}


Range = tuple[float, float]


class GeneratorConfig(BaseModel):
    """What to generate. Defaults: 11 classes x 130 records of 5 s at 20480 Hz."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fs: float = Field(20480.0, description="sampling rate (Hz)")
    duration_s: float = Field(5.0, gt=0, le=60, description="record length (s)")
    per_class: int = Field(130, ge=1, le=100_000, description="records per class")
    classes: tuple[str, ...] = Field(catalogue.DEFAULT_CLASSES, description="class names from the catalogue")
    seed: int = Field(0, ge=0, description="random seed")
    speed_hz: Range = Field((54.0, 66.0), description="shaft speed range (Hz), 60 Hz +/- 10 %")
    load_frac: Range = Field((0.30, 1.00), description="load range, fraction of rated")
    temperature_c: Range = Field((40.0, 80.0), description="oil temperature range (degC)")
    snr_db: Range = Field((15.0, 35.0), description="sensor SNR range (dB)")
    sensor_gain: Range = Field((0.5, 2.0), description="sensor gain range (log-uniform)")
    mains_hz: float = Field(50.0, gt=0, description="mains frequency of the hum layer (Hz)")
    transient_probability: float = Field(0.45, ge=0, le=1, description="share of records with a transient")
    progression_probability: float = Field(
        0.25, ge=0, le=1, description="share of fault records whose severity grows within the record"
    )
    split: tuple[float, float, float] = Field((0.70, 0.15, 0.15), description="train/val/test fractions")
    variant: variants.Variant = Field(
        "default",
        description="default: one machine; randomised: every record its own machine (domain "
        "randomisation, for training); heldout: a different machine kept for transfer tests",
    )

    @model_validator(mode="before")
    @classmethod
    def _variant_ranges(cls, data: object) -> object:
        # A variant brings its own operating ranges; ranges given explicitly still win.
        if isinstance(data, dict):
            ranges = variants.VARIANT_RANGES.get(str(data.get("variant", "default")), {})
            return {**ranges, **data}
        return data

    @field_validator("fs")
    @classmethod
    def _fs_covers_bands(cls, fs: float) -> float:
        # The highest signature band is the 3.2-4.5 kHz contact resonance.
        if fs < 10240:
            raise ValueError("must be at least 10240 Hz so the 4.5 kHz contact resonance is below Nyquist")
        return fs

    @field_validator("speed_hz", "load_frac", "temperature_c", "snr_db", "sensor_gain")
    @classmethod
    def _ordered(cls, r: Range) -> Range:
        if r[0] > r[1]:
            raise ValueError(f"range must be (low, high), got {r}")
        return r

    @field_validator("classes")
    @classmethod
    def _known_classes(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        if not names:
            raise ValueError("at least one class is needed")
        if len(set(names)) != len(names):
            raise ValueError("class names repeat")
        known = catalogue.class_names()
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"unknown classes {unknown}; known: {', '.join(known)}")
        return names

    @model_validator(mode="after")
    def _physical(self) -> GeneratorConfig:
        lo, hi = self.speed_hz
        if lo <= 0:
            raise ValueError("speed_hz: speeds must be positive")
        if not (0 < self.load_frac[0] and self.load_frac[1] <= 1.5):
            raise ValueError("load_frac: loads must be in (0, 1.5] of rated")
        # The mains line must not sit in the 1X band, or a hum would pass for imbalance (the
        # randomised variant picks each record's mains frequency away from its speed instead).
        if self.variant != "randomised" and 0.97 * lo <= self.mains_hz <= 1.03 * hi:
            raise ValueError(
                f"mains_hz: {self.mains_hz} Hz lies inside the 1X band {0.97 * lo:.1f}-{1.03 * hi:.1f} Hz "
                "of the speed range; choose a speed range away from the mains frequency"
            )
        if abs(sum(self.split) - 1.0) > 1e-6:
            raise ValueError(f"split: fractions must sum to 1, got {sum(self.split):.3f}")
        used = sum(1 for f in self.split if f > 0)
        if self.per_class < used:
            raise ValueError(
                f"per_class: {self.per_class} records per class cannot put every class in all {used} "
                f"splits; use at least {used}"
            )
        return self

    @property
    def n_samples(self) -> int:
        return int(round(self.fs * self.duration_s))

    @property
    def n_records(self) -> int:
        return self.per_class * len(self.classes)


@dataclass(frozen=True)
class Record:
    """One generated record: signal, class index and metadata values."""

    signal: np.ndarray
    label: int
    metadata: dict[str, float | str]


def _record_rng(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, index]))


def _ramp(t: np.ndarray, start: float, end: float) -> np.ndarray:
    return start + (end - start) * (t / t[-1])


def generate_record(
    cfg: GeneratorConfig, index: int, geometry: physics.BearingGeometry | None = None
) -> Record:
    """Generate record number `index` of the dataset described by `cfg` (deterministic)."""
    geometry = geometry or physics.BearingGeometry()
    rng = _record_rng(cfg.seed, index)
    label = index // cfg.per_class
    cls = catalogue.get_class(cfg.classes[label])
    n = cfg.n_samples
    t = np.arange(n) / cfg.fs
    grid = np.linspace(0.0, t[-1], _GRID)

    # Operating point and transient.
    speed0 = rng.uniform(*cfg.speed_hz)
    load0 = rng.uniform(*cfg.load_frac)
    temp0 = rng.uniform(*cfg.temperature_c)
    speed1, load1, temp1 = speed0, load0, temp0
    transient = "none"
    speed_g = np.full(_GRID, speed0)
    load_g = np.full(_GRID, load0)
    temp_g = np.full(_GRID, temp0)
    if rng.random() < cfg.transient_probability:
        transient = TRANSIENTS[rng.integers(len(TRANSIENTS))]
        if transient == "speed_ramp":
            speed1 = float(
                np.clip(speed0 * (1 + rng.choice([-1, 1]) * rng.uniform(0.03, 0.08)), *cfg.speed_hz)
            )
            speed_g = _ramp(grid, speed0, speed1)
        elif transient == "load_step":
            load1 = float(np.clip(load0 + rng.choice([-1, 1]) * rng.uniform(0.2, 0.4), *cfg.load_frac))
            t_step = rng.uniform(0.25, 0.75) * t[-1]
            smooth = 0.5 * (1 + np.tanh((grid - t_step) / 0.02))  # a 50 ms load change
            load_g = load0 + (load1 - load0) * smooth
        else:
            temp1 = temp0 + rng.uniform(3.0, 8.0)
            temp_g = _ramp(grid, temp0, temp1)

    # Fault severity (a clearance fault also opens the clearance, which changes the film physics).
    if cls.signatures:
        level = list(SEVERITY_LEVELS)[rng.integers(len(SEVERITY_LEVELS))]
        sev0 = rng.uniform(*SEVERITY_LEVELS[level])
        sev1 = min(1.0, sev0 + rng.uniform(0.1, 0.3)) if rng.random() < cfg.progression_probability else sev0
    else:
        level, sev0, sev1 = "none", 0.0, 0.0
    clearance = geometry.clearance_m * rng.uniform(0.95, 1.05)
    if "clearance" in cls.signatures:
        clearance *= 1.0 + 1.0 * sev0

    mu_g = physics.dynamic_viscosity(temp_g, geometry.oil)
    som_g = physics.sommerfeld_number(mu_g, speed_g, load_g * geometry.rated_load_n, geometry, clearance)
    ecc_g = physics.eccentricity_ratio(som_g, geometry)
    re_g = physics.reynolds_number(mu_g, speed_g, geometry, clearance)

    shaft_hz = np.interp(t, grid, speed_g)
    # The machine comes from its own stream: the default variant draws nothing and stays as it was.
    machine = variants.machine_for(
        cfg.variant, np.random.default_rng(np.random.SeedSequence([cfg.seed, index, 1])), cfg.fs, speed0
    )
    ctx = signatures.RecordContext(
        fs=cfg.fs,
        t=t,
        shaft_hz=shaft_hz,
        shaft_phase=2 * np.pi * np.cumsum(shaft_hz) / cfg.fs,
        temperature_c=np.interp(t, grid, temp_g),
        eccentricity=np.interp(t, grid, ecc_g),
        sommerfeld=np.interp(t, grid, som_g),
        reynolds=np.interp(t, grid, re_g),
        severity=_ramp(t, sev0, sev1) if sev1 != sev0 else np.full(n, sev0),
        rated_speed_hz=60.0,
        machine=machine,
    )
    clean = signatures.healthy_baseline(ctx, rng)
    for name in cls.signatures:
        clean += machine.fault_gain * signatures.get_signature(name)(ctx, rng)
    clean = variants.colour_by_path(clean, cfg.fs, machine)

    snr = rng.uniform(*cfg.snr_db)
    gain = float(np.exp(rng.uniform(np.log(cfg.sensor_gain[0]), np.log(cfg.sensor_gain[1]))))
    mains = cfg.mains_hz if machine.mains_hz is None else machine.mains_hz
    noisy = noise.add_measurement_noise(
        clean, cfg.fs, snr, mains, rng, colour=machine.noise_colour, spike_rate_hz=machine.spike_rate_hz
    )
    measured = noise.quantise(gain * noisy)

    metadata: dict[str, float | str] = {
        "speed_hz": float(speed_g.mean()),
        "speed_end_hz": float(speed1),
        "load_frac": float(load0),
        "load_end_frac": float(load1),
        "temperature_c": float(temp0),
        "temperature_end_c": float(temp1),
        "viscosity_pa_s": float(mu_g.mean()),
        "sommerfeld": float(som_g.mean()),
        "eccentricity": float(ecc_g.mean()),
        "reynolds": float(re_g.mean()),
        "clearance_ratio": float(clearance / geometry.radius_m),
        "severity": float(sev0),
        "severity_end": float(sev1),
        "severity_level": level,
        "transient": transient,
        "snr_db": float(snr),
        "sensor_gain": gain,
    }
    return Record(measured.astype(np.float32), label, metadata)


def _generate_block(cfg: GeneratorConfig, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, dict]:
    records = [generate_record(cfg, i) for i in range(start, stop)]
    signals = np.stack([r.signal for r in records])
    labels = np.array([r.label for r in records], dtype=np.int16)
    meta = {k: np.array([r.metadata[k] for r in records]) for k in METADATA_COLUMNS}
    return signals, labels, meta


def generate_arrays(
    cfg: GeneratorConfig, indices: Sequence[int] | None = None
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Generate records in memory (all, or the given indices): signals, labels, metadata columns."""
    idx = range(cfg.n_records) if indices is None else indices
    records = [generate_record(cfg, i) for i in idx]
    signals = np.stack([r.signal for r in records])
    labels = np.array([r.label for r in records], dtype=np.int64)
    meta = {k: np.array([r.metadata[k] for r in records]) for k in METADATA_COLUMNS}
    return signals, labels, meta


def _default_workers() -> int:
    # A daemonic process (e.g. a Dask worker) may not start children: generate in-process there.
    if multiprocessing.current_process().daemon:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def generate_dataset(
    out_path: str | os.PathLike,
    cfg: GeneratorConfig | None = None,
    *,
    workers: int | None = None,
    block_size: int = 16,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Generate a dataset file (HDF5, with its record-level split); returns its path.

    The file appears only when complete. `progress(n)` is called with each block's record count.
    """
    cfg = cfg or GeneratorConfig()
    workers = _default_workers() if workers is None else max(1, workers)
    columns = {k: (STRING_DTYPE if k in _STRING_COLUMNS else np.float64) for k in METADATA_COLUMNS}
    blocks = [(s, min(s + block_size, cfg.n_records)) for s in range(0, cfg.n_records, block_size)]
    labels_all = np.repeat(np.arange(len(cfg.classes)), cfg.per_class)
    splits = split_records(labels_all, fractions=cfg.split, seed=cfg.seed)

    with DatasetWriter(
        out_path,
        n_records=cfg.n_records,
        n_samples=cfg.n_samples,
        fs=cfg.fs,
        class_names=cfg.classes,
        metadata_columns=columns,
        source="generated",
        generator_version=GENERATOR_VERSION,
        seed=cfg.seed,
        config=cfg.model_dump(mode="json"),
        overwrite=overwrite,
    ) as writer:

        def store(start: int, block: tuple[np.ndarray, np.ndarray, dict]) -> None:
            signals, labels, meta = block
            ids = [f"rec-{i:05d}" for i in range(start, start + len(signals))]
            writer.write(start, signals, labels, ids, meta)
            if progress:
                progress(len(signals))

        if workers == 1:
            for start, stop in blocks:
                store(start, _generate_block(cfg, start, stop))
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(_generate_block, cfg, s, e) for s, e in blocks]
                for (start, _), fut in zip(blocks, futures, strict=True):
                    store(start, fut.result())
        writer.set_splits(splits, seed=cfg.seed, fractions=cfg.split)
    return Path(out_path)
