"""The catalogue of bearing conditions: a class name -> the fault signatures that make it.

A class is a list of signature names (see `signatures.py`); mixed classes list several. Adding a
condition (oil whip, rub...) is one `register_signature` for its physics plus one
`register_class` here or in user code; the generator, loaders and features pick it up.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConditionClass:
    """One class of the catalogue."""

    name: str
    signatures: tuple[str, ...]
    description: str


_CLASSES: dict[str, ConditionClass] = {}


def register_class(name: str, signatures: tuple[str, ...] | list[str], description: str) -> ConditionClass:
    """Add a class to the catalogue (refuses a duplicate name)."""
    if not name or not name.replace("+", "").replace("_", "").isalnum():
        raise ValueError(f"class name {name!r}: use letters, digits, '_' and '+' only")
    if name in _CLASSES:
        raise ValueError(f"class {name!r} is already registered")
    cls = ConditionClass(name, tuple(signatures), description)
    _CLASSES[name] = cls
    return cls


def unregister_class(name: str) -> None:
    """Remove a class (for tests and user experiments with the catalogue)."""
    _CLASSES.pop(name, None)


def get_class(name: str) -> ConditionClass:
    try:
        return _CLASSES[name]
    except KeyError:
        known = ", ".join(_CLASSES)
        raise KeyError(f"unknown class {name!r}; known classes: {known}") from None


def class_names() -> tuple[str, ...]:
    """Names of all registered classes, in registration order (the label order of new datasets)."""
    return tuple(_CLASSES)


DEFAULT_CLASSES: tuple[str, ...] = (
    "healthy",
    "misalignment",
    "imbalance",
    "clearance",
    "lubrication",
    "cavitation",
    "wear",
    "oil_whirl",
    "misalignment+imbalance",
    "wear+lubrication",
    "cavitation+clearance",
)

register_class("healthy", (), "normal operation: small residual 1X/2X and fluid-film flow noise")
register_class("misalignment", ("misalignment",), "shaft misalignment: strong 2X and 3X")
register_class("imbalance", ("imbalance",), "rotor mass imbalance: 1X growing with speed squared")
register_class("clearance", ("clearance",), "excess bearing clearance / looseness: 0.5X and many harmonics")
register_class("lubrication", ("lubrication",), "insufficient lubrication: stick-slip and contact impacts")
register_class("cavitation", ("cavitation",), "oil-film cavitation: high-frequency bursts around 1.5-2.5 kHz")
register_class("wear", ("wear",), "bearing surface wear: broadband rise, harmonics, modulation")
register_class(
    "oil_whirl", ("oil_whirl",), "oil whirl: sub-synchronous 0.42-0.48X, worse when lightly loaded"
)
register_class("misalignment+imbalance", ("misalignment", "imbalance"), "misalignment and imbalance together")
register_class("wear+lubrication", ("wear", "lubrication"), "wear and insufficient lubrication together")
register_class(
    "cavitation+clearance", ("cavitation", "clearance"), "cavitation and excess clearance together"
)
