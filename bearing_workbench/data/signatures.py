"""Vibration signatures of journal-bearing conditions, one registered function each.

A signature takes the record's `RecordContext` (time base, shaft phase, operating point over time,
severity envelope) and a random generator, and returns its additive vibration component. Amplitudes
are in the units of the healthy baseline (an accelerometer-like signal whose healthy 1X is ~0.2);
at full severity a fault adds roughly one to three times the healthy RMS, so the overall level is a
weak cue and the class lives in the spectral shape.

Register a new condition's physics with `@register_signature("name")` and list it in a class of
`catalogue.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import signal as sps

from . import physics
from .variants import DEFAULT_MACHINE, Machine

SignatureFn = Callable[["RecordContext", np.random.Generator], np.ndarray]
_SIGNATURES: dict[str, SignatureFn] = {}


def register_signature(name: str) -> Callable[[SignatureFn], SignatureFn]:
    """Decorator registering a signature function under a name."""

    def decorate(fn: SignatureFn) -> SignatureFn:
        if name in _SIGNATURES:
            raise ValueError(f"signature {name!r} is already registered")
        _SIGNATURES[name] = fn
        return fn

    return decorate


def get_signature(name: str) -> SignatureFn:
    try:
        return _SIGNATURES[name]
    except KeyError:
        raise KeyError(f"unknown signature {name!r}; known: {', '.join(_SIGNATURES)}") from None


def signature_names() -> tuple[str, ...]:
    return tuple(_SIGNATURES)


@dataclass
class RecordContext:
    """What a signature may use: time base and the operating point, per sample."""

    fs: float
    t: np.ndarray  # seconds
    shaft_hz: np.ndarray  # instantaneous shaft speed
    shaft_phase: np.ndarray  # radians, integral of 2 pi shaft_hz
    temperature_c: np.ndarray
    eccentricity: np.ndarray
    sommerfeld: np.ndarray
    reynolds: np.ndarray
    severity: np.ndarray  # 0..1 envelope (constant or progressing)
    rated_speed_hz: float
    machine: Machine = DEFAULT_MACHINE  # where this machine's modes sit, how loud it is
    _half_order: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return self.t.size

    def _half_power(self, k: int) -> np.ndarray:
        """exp(i k phase / 2), built by repeated multiplication (cheaper than a cos per order)."""
        cache = self._half_order
        if not cache:
            # complex64 halves memory traffic; 20 products keep the error near 1e-6, far below noise.
            cache[1] = np.exp(0.5j * self.shaft_phase).astype(np.complex64)
        top = max(cache)
        while top < k:
            cache[top + 1] = cache[top] * cache[1]
            top += 1
        return cache[k]

    def order_tone(self, order: float, amplitude: np.ndarray | float, phase: float) -> np.ndarray:
        """amplitude * cos(order * shaft_phase + phase) for an order that is a multiple of 0.5."""
        k = int(round(order * 2))
        if abs(k / 2 - order) > 1e-9 or k < 1:
            raise ValueError(f"order {order} is not a positive multiple of 0.5")
        z = self._half_power(k)
        return amplitude * (z.real * np.float32(np.cos(phase)) - z.imag * np.float32(np.sin(phase)))


def resonator(fn_hz: float, damping: float, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """IIR coefficients of a single structural mode (impulse response: decaying sinusoid)."""
    r = np.exp(-damping * 2 * np.pi * fn_hz / fs)
    theta = 2 * np.pi * fn_hz * np.sqrt(1 - damping**2) / fs
    return np.array([1 - r]), np.array([1.0, -2 * r * np.cos(theta), r * r])


def healthy_baseline(ctx: RecordContext, rng: np.random.Generator) -> np.ndarray:
    """Every machine's floor: residual unbalance (1X ~ speed^2), small 2X/3X, fluid-film flow noise.

    Flow noise is broadband (shaped by a heavily damped 0.5-1.2 kHz casing mode) with a level growing with the
    film Reynolds number; the synchronous response is scaled by the oil film's eccentricity.
    """
    speed_sq = (ctx.shaft_hz / ctx.rated_speed_hz) ** 2
    film = physics.film_response_factor(ctx.eccentricity)
    m = ctx.machine
    amp_1x = m.baseline_1x * rng.uniform(0.85, 1.15) * speed_sq * film
    x = ctx.order_tone(1, amp_1x, rng.uniform(0, 2 * np.pi))
    x += ctx.order_tone(2, m.baseline_2x * rng.uniform(0.6, 1.4), rng.uniform(0, 2 * np.pi))
    x += ctx.order_tone(3, m.baseline_3x * rng.uniform(0.6, 1.4), rng.uniform(0, 2 * np.pi))
    b, a = resonator(rng.uniform(*m.flow_mode_hz), 0.15, ctx.fs)
    flow = sps.lfilter(b, a, rng.standard_normal(ctx.n))
    flow *= m.flow_level * np.sqrt(ctx.reynolds / 25.0) / (flow.std() + 1e-12)
    return x + flow


@register_signature("imbalance")
def imbalance(ctx: RecordContext, rng: np.random.Generator) -> np.ndarray:
    """Mass imbalance: a centrifugal force m e omega^2 at 1X, so the 1X amplitude grows with speed^2.

    Below the first critical speed the response follows the force, hence (speed/rated)^2.
    """
    speed_sq = (ctx.shaft_hz / ctx.rated_speed_hz) ** 2
    film = physics.film_response_factor(ctx.eccentricity)
    amp = 1.2 * rng.uniform(0.85, 1.15) * ctx.severity * speed_sq * film
    return ctx.order_tone(1, amp, rng.uniform(0, 2 * np.pi)) + ctx.order_tone(
        2, 0.05 * ctx.severity, rng.uniform(0, 2 * np.pi)
    )


@register_signature("misalignment")
def misalignment(ctx: RecordContext, rng: np.random.Generator) -> np.ndarray:
    """Shaft misalignment: the coupling bends the shaft twice per turn, so 2X dominates, with 3X.

    Classic rule (ISO 13373-2, Piotrowski): 2X above 1X, 3X clearly present, 1X moderately raised.
    """
    sev = ctx.severity
    x = ctx.order_tone(2, 1.2 * rng.uniform(0.85, 1.15) * sev, rng.uniform(0, 2 * np.pi))
    x += ctx.order_tone(3, 0.55 * rng.uniform(0.8, 1.2) * sev, rng.uniform(0, 2 * np.pi))
    x += ctx.order_tone(1, 0.12 * sev, rng.uniform(0, 2 * np.pi))
    x += ctx.order_tone(4, 0.10 * sev, rng.uniform(0, 2 * np.pi))
    return x


@register_signature("clearance")
def clearance(ctx: RecordContext, rng: np.random.Generator) -> np.ndarray:
    """Excess clearance / looseness: the journal loses contact once per two turns.

    That period doubling puts lines at exactly 0.5X, 1.5X, 2.5X (and 1/3X for the 1/3-order case,
    here folded into 0.5X families), and the truncated, impacting motion gives a long series of
    integer harmonics up to 10X that decay slowly. Unlike oil whirl the sub-harmonic is locked at
    exactly half speed, not 0.42-0.48X.
    """
    sev = ctx.severity
    x = np.zeros(ctx.n)
    for order, base in ((0.5, 0.40), (1.5, 0.22), (2.5, 0.14), (3.5, 0.08)):
        x += ctx.order_tone(order, base * rng.uniform(0.8, 1.2) * sev, rng.uniform(0, 2 * np.pi))
    for k in range(1, 11):
        amp = 0.22 * k**-0.6 * rng.uniform(0.7, 1.3) * sev
        x += ctx.order_tone(k, amp, rng.uniform(0, 2 * np.pi))
    return x


@register_signature("oil_whirl")
def oil_whirl(ctx: RecordContext, rng: np.random.Generator) -> np.ndarray:
    """Oil whirl: the journal precesses at 0.42-0.48 of shaft speed.

    The ratio falls from 0.48 (centred) to 0.42 as eccentricity grows, and the amplitude is largest
    at high Sommerfeld number (lightly loaded, low eccentricity), where the film's cross-coupled
    stiffness is least restrained (see physics.whirl_frequency_ratio / whirl_tendency). The line is
    narrow-band: the whirl frequency wanders slightly.
    """
    ratio = physics.whirl_frequency_ratio(ctx.eccentricity)
    wander = np.cumsum(rng.standard_normal(ctx.n)) * (0.02 / np.sqrt(ctx.fs))
    phase = 2 * np.pi * np.cumsum(ratio * ctx.shaft_hz) / ctx.fs + wander
    amp = 0.85 * rng.uniform(0.85, 1.15) * ctx.severity * physics.whirl_tendency(ctx.eccentricity)
    return amp * np.cos(phase + rng.uniform(0, 2 * np.pi))


@register_signature("cavitation")
def cavitation(ctx: RecordContext, rng: np.random.Generator) -> np.ndarray:
    """Film cavitation: vapour bubbles collapse in the diverging film, giving bursts of 1.5-2.5 kHz.

    Bursts come at the once-per-turn passage of the low-pressure zone with a probability that
    grows with severity and with oil temperature (higher vapour pressure); at 54-66 Hz that is
    tens of bursts per second, so every 1 s window holds many. Each burst is band-limited noise
    under a 3-10 ms envelope.
    """
    sev = ctx.severity
    period = 1.0 / ctx.shaft_hz.mean()
    temp_factor = np.clip(1.0 + 0.01 * (ctx.temperature_c.mean() - 60.0), 0.8, 1.2)
    turns = np.arange(0.0, ctx.t[-1], period)
    p = np.clip((0.35 + 0.55 * np.interp(turns, ctx.t, sev)) * temp_factor, 0.0, 0.95)
    starts = turns[rng.random(turns.size) < p]
    starts = starts + rng.normal(0.0, 0.08 * period, size=starts.size)
    gate = np.zeros(ctx.n)
    for s, dur in zip(starts, rng.uniform(0.003, 0.010, size=starts.size), strict=True):
        i0 = int(s * ctx.fs)
        m = int(dur * ctx.fs)
        if 0 <= i0 < ctx.n - 1:
            seg = np.hanning(m)[: ctx.n - i0] * rng.uniform(0.7, 1.3)
            gate[i0 : i0 + seg.size] += seg
    centre = rng.uniform(*ctx.machine.cavitation_centre_hz)
    half = ctx.machine.cavitation_half_width_hz
    sos = sps.butter(4, [centre - half, centre + half], btype="bandpass", fs=ctx.fs, output="sos")
    carrier = sps.sosfilt(sos, rng.standard_normal(ctx.n))
    carrier /= carrier.std() + 1e-12
    return 1.1 * rng.uniform(0.85, 1.15) * sev * gate * carrier


@register_signature("wear")
def wear(ctx: RecordContext, rng: np.random.Generator) -> np.ndarray:
    """Surface wear: rougher surfaces raise the broadband floor (0.5-5 kHz), add 1X-8X harmonics
    from the worn, non-circular bore, and modulate the broadband at shaft rate (sidebands)."""
    sev = ctx.severity
    sos = sps.butter(4, list(ctx.machine.wear_band_hz), btype="bandpass", fs=ctx.fs, output="sos")
    broad = sps.sosfilt(sos, rng.standard_normal(ctx.n))
    broad /= broad.std() + 1e-12
    modulation = 1.0 + 0.6 * np.cos(ctx.shaft_phase + rng.uniform(0, 2 * np.pi))
    x = 0.30 * rng.uniform(0.85, 1.15) * sev * modulation * broad
    for k in range(1, 9):
        x += ctx.order_tone(k, 0.16 / k * rng.uniform(0.7, 1.3) * sev, rng.uniform(0, 2 * np.pi))
    return x


@register_signature("lubrication")
def lubrication(ctx: RecordContext, rng: np.random.Generator) -> np.ndarray:
    """Insufficient lubrication: the film breaks down and asperities touch.

    Contact impacts occur near the minimum-film angle once per turn (with a probability growing
    with severity and with lower viscosity, i.e. hotter oil) and ring a 3.2-4.5 kHz structural mode;
    stick-slip friction adds a slow relaxation (sawtooth-like) oscillation at 4-9 Hz.
    """
    sev = ctx.severity
    period = 1.0 / ctx.shaft_hz.mean()
    turns = np.arange(rng.uniform(0, period), ctx.t[-1], period)
    thin_film = np.clip((ctx.temperature_c.mean() - 40.0) / 40.0, 0.0, 1.0)
    p = np.clip(0.30 + 0.45 * np.interp(turns, ctx.t, sev) + 0.2 * thin_film, 0.0, 0.95)
    hits = turns[rng.random(turns.size) < p]
    hits = hits + rng.normal(0.0, 0.03 * period, size=hits.size)
    impulses = np.zeros(ctx.n)
    idx = (hits * ctx.fs).astype(int)
    idx = idx[(idx >= 0) & (idx < ctx.n)]
    impulses[idx] = rng.uniform(0.6, 1.4, size=idx.size)
    b, a = resonator(rng.uniform(*ctx.machine.contact_mode_hz), 0.03, ctx.fs)
    ring = sps.lfilter(b, a, impulses)
    ring *= 1.0 / (np.abs(ring).max() + 1e-12)
    f_ss = rng.uniform(4.0, 9.0)
    saw = sps.sawtooth(2 * np.pi * f_ss * ctx.t + rng.uniform(0, 2 * np.pi), width=0.85)
    return sev * (1.6 * rng.uniform(0.85, 1.15) * ring + 0.15 * saw)


def unregister_signature(name: str) -> None:
    """Remove a signature (for tests and experiments with the catalogue)."""
    _SIGNATURES.pop(name, None)
