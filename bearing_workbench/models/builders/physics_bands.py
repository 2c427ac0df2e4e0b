"""Characteristic frequency bands of journal-bearing conditions, for the physics-informed family.

A plain (hydrodynamic) journal bearing has no rolling elements, so there are no ball-pass or cage
frequencies (BPFO, BPFI, BSF, FTF). Its conditions show up in two kinds of band:

- order bands, in multiples of the record's own shaft speed (X): oil whirl 0.42-0.48X, the exact
  half orders 0.5X, 1.5X and 2.5X of a clearance fault, 1X (imbalance), 2X and 3X (misalignment)
  and the 4X-10X harmonic series of a loose or worn journal;
- bands fixed in Hz, set by the structure and the film: cavitation bursts 1.5-2.5 kHz, the contact
  resonance rung by asperity impacts 3.2-4.5 kHz, the broadband rise of wear 0.5-5 kHz and the
  stick-slip relaxation of a starved film 2-10 Hz.

The bands below are *atomic* and, apart from the order bands that may sit on top of the Hz bands,
disjoint: the wear broadband 0.5-5 kHz is the union of the five Hz bands that tile it (two of
which are the cavitation and contact bands). A signature (`SIGNATURE_BANDS`) names the bands it
must raise (all of them: wear raises the whole 0.5-5 kHz, a cavitation burst only 1.5-2.5 kHz, so
the two stay apart instead of both reading as "energy in 1.5-2.5 kHz") and companion bands its
mechanism also excites (filter skirts, a resonance's flanks), which count for it when raised.

A class's bands are the union of its signatures' bands (`data.catalogue` lists a class's
signatures), so a mixed class such as ``cavitation+clearance`` needs no entry of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bearing_workbench.data import catalogue

ORDER_REL_HALF_WIDTH = 0.02
"""Tonal order bands span +-2 % of the order frequency (1X at 54 Hz: 52.9-55.1 Hz, clear of 50 Hz
mains), and never less than +-2 spectral bins (the Hann main lobe) on short windows."""
MIN_HALF_WIDTH_BINS = 2.0

# Named Hz ranges of the journal-bearing faults; every Hz band lies inside one of these.
STICK_SLIP_HZ = (2.0, 10.0)
CAVITATION_HZ = (1500.0, 2500.0)
CONTACT_RESONANCE_HZ = (3200.0, 4500.0)
WEAR_BROADBAND_HZ = (500.0, 5000.0)
NAMED_HZ_RANGES: dict[str, tuple[float, float]] = {
    "stick_slip": STICK_SLIP_HZ,
    "cavitation": CAVITATION_HZ,
    "contact_resonance": CONTACT_RESONANCE_HZ,
    "wear_broadband": WEAR_BROADBAND_HZ,
}


@dataclass(frozen=True)
class Band:
    """One atomic band: a union of intervals in shaft orders (``unit="order"``) or in Hz.

    Order intervals move with the shaft speed; Hz intervals do not.
    """

    name: str
    unit: Literal["order", "hz"]
    intervals: tuple[tuple[float, float], ...]
    description: str

    def edges_hz(self, speed_hz: float) -> tuple[tuple[float, float], ...]:
        """The band's intervals in Hz at a shaft speed (before widening to the spectral resolution)."""
        if self.unit == "hz":
            return self.intervals
        return tuple((lo * speed_hz, hi * speed_hz) for lo, hi in self.intervals)


def _tone(order: float) -> tuple[float, float]:
    return (order * (1 - ORDER_REL_HALF_WIDTH), order * (1 + ORDER_REL_HALF_WIDTH))


BANDS: tuple[Band, ...] = (
    Band(
        "whirl",
        "order",
        ((0.41, 0.49),),
        "oil whirl 0.42-0.48X, widened by 0.01X for the line's wander",
    ),
    Band("half_order", "order", (_tone(0.5),), "exact 0.5X of a clearance fault (period doubling)"),
    Band("half_harmonics", "order", (_tone(1.5), _tone(2.5)), "1.5X and 2.5X of a clearance fault"),
    Band("order_1x", "order", (_tone(1.0),), "1X: imbalance (grows with speed squared)"),
    Band("order_2x", "order", (_tone(2.0),), "2X: misalignment (above 1X)"),
    Band("order_3x", "order", (_tone(3.0),), "3X: misalignment"),
    Band(
        "harmonics_4_10x",
        "order",
        tuple(_tone(float(k)) for k in range(4, 11)),
        "4X-10X harmonic series of a loose (clearance) or worn journal",
    ),
    Band("stick_slip", "hz", (STICK_SLIP_HZ,), "2-10 Hz stick-slip relaxation of a starved film"),
    Band("wear_low", "hz", ((500.0, 1500.0),), "wear broadband, part below the cavitation band"),
    Band("cavitation", "hz", (CAVITATION_HZ,), "1.5-2.5 kHz bursts of collapsing vapour bubbles"),
    Band("wear_mid", "hz", ((2500.0, 3200.0),), "wear broadband, between cavitation and contact bands"),
    Band("contact_resonance", "hz", (CONTACT_RESONANCE_HZ,), "3.2-4.5 kHz structural mode rung by contact"),
    Band("wear_high", "hz", ((4500.0, 5000.0),), "wear broadband, part above the contact band"),
)
BAND_NAMES: tuple[str, ...] = tuple(b.name for b in BANDS)

WEAR_BROADBAND_BANDS = ("wear_low", "cavitation", "wear_mid", "contact_resonance", "wear_high")
"""The atomic bands tiling the wear broadband 0.5-5 kHz."""


@dataclass(frozen=True)
class SignatureBands:
    """The bands of one fault signature.

    Args:
        defining: bands the fault must raise, all of them (the signature is as present as its weakest
            defining band).
        companions: bands the same mechanism also excites (filter skirts, a resonance's flanks, a
            line's main lobe on short windows): raised companions count for the class, absent ones
            cost nothing.
    """

    defining: tuple[str, ...]
    companions: tuple[str, ...] = ()
    why: str = ""


SIGNATURE_BANDS: dict[str, SignatureBands] = {
    "imbalance": SignatureBands(("order_1x",), (), "centrifugal force at 1X, growing with speed squared"),
    "misalignment": SignatureBands(
        ("order_2x", "order_3x"), ("order_1x", "harmonics_4_10x"), "2X above 1X with 3X; 1X and 4X raised"
    ),
    "clearance": SignatureBands(
        ("half_order", "half_harmonics", "harmonics_4_10x"),
        ("whirl", "order_1x", "order_2x", "order_3x", "wear_low"),
        "period doubling: exact 0.5X, 1.5X, 2.5X and integer harmonics to 10X (the 0.5X line's main "
        "lobe reaches the whirl band on short windows; 10X of 60 Hz lies in 0.5-1.5 kHz)",
    ),
    "oil_whirl": SignatureBands(
        ("whirl",), ("half_order",), "sub-synchronous 0.42-0.48X line (its main lobe can reach 0.5X)"
    ),
    "cavitation": SignatureBands(
        ("cavitation",), ("wear_low", "wear_mid"), "1.5-2.5 kHz bursts; the band-limited noise spills over"
    ),
    "wear": SignatureBands(
        ("cavitation", "wear_mid", "contact_resonance", "wear_high"),
        ("wear_low", "harmonics_4_10x", "order_1x", "order_2x", "order_3x"),
        "broadband 0.5-5 kHz rise with 1X-8X harmonics of the worn bore",
    ),
    "lubrication": SignatureBands(
        ("contact_resonance", "stick_slip"),
        ("cavitation", "wear_mid", "wear_high"),
        "contact impacts ring the 3.2-4.5 kHz mode (whose flanks reach the neighbouring bands) and "
        "stick-slip relaxes at 4-9 Hz",
    ),
}
"""Bands each fault signature of `data.signatures` raises above a healthy bearing."""


def class_signatures(class_name: str) -> tuple[str, ...]:
    """Signatures of a class: from the catalogue, else its ``+``-separated parts; () for healthy.

    Raises ValueError naming the class when one of its signatures has no known band signature.
    """
    try:
        signatures = catalogue.get_class(class_name).signatures
    except KeyError:
        signatures = () if class_name == "healthy" else tuple(p for p in class_name.split("+") if p)
    for signature in signatures:
        if signature not in SIGNATURE_BANDS:
            raise ValueError(
                f"class {class_name!r}: no frequency-band signature is known for {signature!r}; the "
                f"physics-informed family knows {', '.join(SIGNATURE_BANDS)} (add it to "
                "models.builders.physics_bands.SIGNATURE_BANDS)"
            )
    return signatures


def class_bands(class_name: str) -> tuple[str, ...]:
    """Characteristic (defining) bands of a class, union over its signatures; () for healthy."""
    names = {b for s in class_signatures(class_name) for b in SIGNATURE_BANDS[s].defining}
    return tuple(b for b in BAND_NAMES if b in names)


def class_explained_bands(class_name: str) -> tuple[str, ...]:
    """Bands a class accounts for: its signatures' defining and companion bands."""
    names = {
        b
        for s in class_signatures(class_name)
        for b in (*SIGNATURE_BANDS[s].defining, *SIGNATURE_BANDS[s].companions)
    }
    return tuple(b for b in BAND_NAMES if b in names)
