"""Builders of every family (torch and scikit-learn), registered on import.

Importing this package imports torch; `bearing_workbench.models` itself stays light and loads it
through `build_model` on first use.
"""

from __future__ import annotations

import importlib

from bearing_workbench.models.inputs import InputSpec
from bearing_workbench.models.registry import get_family, list_families

# One module per family; each calls models.registry.set_builder(name, build) at import.
_BUILDER_MODULES = ("cnn1d", "resnet1d", "transformer", "spectrogram", "pinn", "classical", "ensemble")


def load_builders() -> None:
    """Import every builder module (each registers its family's builder)."""
    for name in _BUILDER_MODULES:
        importlib.import_module(f"{__name__}.{name}")


def build_model(family: str, params: object, spec: InputSpec):
    """Build a model of `family` from its validated params for inputs described by `spec`."""
    load_builders()
    fam = get_family(family)
    if fam.builder is None:
        raise NotImplementedError(
            f"model family {family!r} has no builder yet; families with builders: "
            + ", ".join(f for f in list_families() if get_family(f).builder is not None)
        )
    return fam.builder(params, spec)
