"""Machines the generator can imitate: the default one, a domain-randomised family, a held-out one.

A `Machine` holds the constants that make one installation sound like itself rather than like
another: where its structural modes sit (the casing mode that shapes fluid-film flow noise, the
mode rung by contact impacts, the band of cavitation bursts and of wear), how loud the healthy
baseline is, how strongly faults show, how the mounting and transmission path colour the signal on
its way to the sensor, and the sensor noise's colour and spike rate. The fault physics itself (the
orders, the once-per-turn timing, the sub-synchronous ratios) is the same for every machine.

Variants (`GeneratorConfig.variant`):

- ``default``: the constants the generator always had; records are bit-identical to before.
- ``randomised``: every record draws its own machine from wide ranges, so a model trained on it sees
  many machines and has to learn the physics shared by all of them (domain randomisation).
- ``heldout``: one deliberately different machine (other modes, a coloured transmission path, pink
  sensor noise, many spikes, another amplitude scale, speed and mains frequency). It is a test bed
  for transfer and is never meant for training.

A variant also sets the operating ranges (speed, load, temperature, SNR, sensor gain, mains) that
`GeneratorConfig` uses when they are not given (`VARIANT_RANGES`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

Variant = Literal["default", "randomised", "heldout"]
VARIANTS: tuple[str, ...] = ("default", "randomised", "heldout")
Range = tuple[float, float]
# (centre Hz, gain dB, width in octaves) of one resonance or antiresonance of the transmission path.
Bump = tuple[float, float, float]
MAINS_CHOICES = (50.0, 60.0)
# Lowest frequency the path's tilt applies to: below it the gain is held, so a falling tilt cannot
# blow the sub-hertz drift up.
_TILT_FLOOR_HZ = 20.0


@dataclass(frozen=True)
class Machine:
    """Constants of one machine (see the module docstring); defaults are the default variant."""

    flow_mode_hz: Range = (500.0, 1200.0)
    cavitation_centre_hz: Range = (1700.0, 2300.0)
    cavitation_half_width_hz: float = 400.0
    contact_mode_hz: Range = (3200.0, 4500.0)
    wear_band_hz: Range = (500.0, 5000.0)
    baseline_1x: float = 0.20
    baseline_2x: float = 0.06
    baseline_3x: float = 0.025
    flow_level: float = 0.05
    fault_gain: float = 1.0
    path_tilt_db_per_octave: float = 0.0
    path_bumps: tuple[Bump, ...] = ()
    noise_colour: float = 0.0  # exponent a of a 1/f^a sensor-noise spectrum: 0 white, 1 pink
    spike_rate_hz: float = 0.5
    mains_hz: float | None = None  # None: the config's mains frequency

    @property
    def colours_path(self) -> bool:
        return self.path_tilt_db_per_octave != 0.0 or bool(self.path_bumps)


DEFAULT_MACHINE = Machine()

HELDOUT_MACHINE = Machine(
    flow_mode_hz=(1400.0, 1900.0),
    cavitation_centre_hz=(2400.0, 2800.0),
    cavitation_half_width_hz=500.0,
    contact_mode_hz=(5000.0, 5800.0),
    wear_band_hz=(300.0, 6500.0),
    baseline_1x=0.30,
    baseline_2x=0.09,
    baseline_3x=0.04,
    flow_level=0.08,
    fault_gain=0.8,
    path_tilt_db_per_octave=-2.0,
    path_bumps=((700.0, 6.0, 0.5),),
    noise_colour=1.0,
    spike_rate_hz=2.0,
)

# Operating ranges a variant brings; the default variant's are GeneratorConfig's field defaults.
VARIANT_RANGES: dict[str, dict[str, object]] = {
    "default": {},
    "randomised": {
        "speed_hz": (25.0, 95.0),
        "load_frac": (0.15, 1.2),
        "temperature_c": (30.0, 95.0),
        "snr_db": (6.0, 40.0),
        "sensor_gain": (0.01, 100.0),
    },
    "heldout": {
        "speed_hz": (36.0, 48.0),
        "load_frac": (0.2, 0.9),
        "temperature_c": (45.0, 85.0),
        "snr_db": (10.0, 25.0),
        "sensor_gain": (0.02, 0.1),
        "mains_hz": 60.0,
    },
}


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _around(centre: float, rel: float) -> Range:
    return (centre * (1 - rel), centre * (1 + rel))


def random_machine(rng: np.random.Generator, fs: float, speed_hz: float) -> Machine:
    """One machine drawn from the randomised variant's ranges (modes kept below 0.45 fs)."""
    top = 0.45 * fs
    cavitation = _log_uniform(rng, 1100.0, 3600.0)
    half_width = rng.uniform(250.0, 600.0)
    contact = min(_log_uniform(rng, 2200.0, 7000.0), top / 1.08)
    bumps = tuple(
        (_log_uniform(rng, 100.0, 0.8 * top), rng.uniform(-10.0, 10.0), rng.uniform(0.3, 1.0))
        for _ in range(2)
    )
    # The mains line must stay out of the 1X band, or a hum would pass for imbalance.
    mains = max(MAINS_CHOICES, key=lambda m: abs(m - speed_hz) / speed_hz)
    level = _log_uniform(rng, 0.7, 1.5)
    return Machine(
        flow_mode_hz=_around(_log_uniform(rng, 250.0, 2500.0), 0.2),
        cavitation_centre_hz=_around(min(cavitation, top - 1.1 * half_width - 200.0), 0.08),
        cavitation_half_width_hz=half_width,
        contact_mode_hz=_around(contact, 0.08),
        wear_band_hz=(rng.uniform(200.0, 900.0), rng.uniform(3000.0, min(7500.0, top))),
        # The residual harmonics scale together (one structure's mobility) with a little play
        # between them: drawn apart, a healthy machine's 2X/1X pattern would pass for misalignment.
        baseline_1x=0.20 * level * rng.uniform(0.85, 1.15),
        baseline_2x=0.06 * level * rng.uniform(0.8, 1.25),
        baseline_3x=0.025 * level * rng.uniform(0.8, 1.25),
        flow_level=0.05 * _log_uniform(rng, 0.7, 1.6),
        fault_gain=_log_uniform(rng, 0.75, 1.35),
        path_tilt_db_per_octave=rng.uniform(-4.0, 4.0),
        path_bumps=bumps,
        noise_colour=rng.uniform(0.0, 1.5),
        spike_rate_hz=rng.uniform(0.0, 2.0),
        mains_hz=mains,
    )


def machine_for(variant: str, rng: np.random.Generator, fs: float, speed_hz: float) -> Machine:
    """The machine of one record: fixed for default and heldout, drawn for randomised.

    `rng` is the record's own machine stream, separate from the signal's, so that the default
    variant draws nothing extra and stays bit-identical.
    """
    if variant == "randomised":
        return random_machine(rng, fs, speed_hz)
    if variant == "heldout":
        # Units of one type differ a little; the held-out machine is one type, not one unit.
        return replace(HELDOUT_MACHINE, fault_gain=HELDOUT_MACHINE.fault_gain * rng.uniform(0.9, 1.1))
    return DEFAULT_MACHINE


def path_gain_db(machine: Machine, freqs: np.ndarray) -> np.ndarray:
    """Gain (dB) of the machine's transmission path at `freqs` (Hz): a tilt plus smooth bumps."""
    f = np.maximum(freqs, _TILT_FLOOR_HZ)
    gain = machine.path_tilt_db_per_octave * np.log2(f / 1000.0)
    for centre, gain_db, width in machine.path_bumps:
        gain = gain + gain_db * np.exp(-0.5 * (np.log2(f / centre) / width) ** 2)
    return gain


def colour_by_path(x: np.ndarray, fs: float, machine: Machine) -> np.ndarray:
    """`x` passed through the machine's transmission path (zero-phase, in the frequency domain)."""
    if not machine.colours_path:
        return x
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(x.size, 1.0 / fs)
    return np.fft.irfft(spectrum * 10.0 ** (path_gain_db(machine, freqs) / 20.0), n=x.size)
