"""The tiny registered datasets the test packages train on (one helper, so they are made one way)."""

from __future__ import annotations

from pathlib import Path

from bearing_workbench.data.dataset_file import Dataset, write_dataset
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


def relabelled_dataset(
    store: Store, name: str, classes: tuple[str, ...], renamed: tuple[str, ...], *, seed: int
) -> None:
    """Register dataset `name`: the generator's `classes` (3 records each, 0.5 s) under the names
    `renamed`, as a plant that names its classes its own way would have them."""
    raw = generate_dataset(
        store.workspace / f"{name}-raw.h5",
        GeneratorConfig(per_class=3, duration_s=0.5, classes=classes, seed=seed),
        workers=1,
    )
    with Dataset(raw) as ds:
        path = write_dataset(
            store.workspace / "datasets" / f"{name}.h5",
            ds.signals(),
            ds.labels,
            fs=ds.fs,
            class_names=renamed,
            metadata=ds.metadata(),
            record_ids=[f"{name}-{r}" for r in ds.record_ids],
        )
    register_dataset(store, path, name=name)
