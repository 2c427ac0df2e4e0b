"""The tiny registered datasets the test packages train on (one helper, so they are made one way)."""

from __future__ import annotations

from pathlib import Path

from bearing_workbench.data.generator import GeneratorConfig, generate_dataset
from bearing_workbench.data.registration import register_dataset
from bearing_workbench.store import Store

CLASSES = ("healthy", "imbalance", "misalignment")


def tiny_store(
    root: Path,
    *,
    per_class: int,
    duration_s: float,
    seed: int,
    name: str = "tiny",
    classes: tuple[str, ...] = CLASSES,
) -> Store:
    """A store in workspace `root` with dataset `name` generated (one process) and registered."""
    store = Store(workspace=root)
    path = generate_dataset(
        root / "datasets" / f"{name}.h5",
        GeneratorConfig(per_class=per_class, duration_s=duration_s, classes=classes, seed=seed),
        workers=1,
    )
    register_dataset(store, path, name=name)
    return store
