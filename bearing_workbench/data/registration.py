"""Registering dataset files in the experiment store."""

from __future__ import annotations

import os
from pathlib import Path

from ..store import Store
from .dataset_file import read_info


def name_in_use(store: Store, name: str) -> str | None:
    """What holds `name` in the store ("already registered: ..."), or None when it is free.

    Callers check this before writing a file they mean to register, so that a taken name costs
    nothing; `register_dataset` still refuses (`DuplicateNameError`) if the name is taken meanwhile.
    """
    from ..store import NotFoundError

    try:
        record = store.get_dataset(name)
    except NotFoundError:
        return None
    return f"a dataset of that name is already registered (id {record.id}, {record.path})"


def register_dataset(store: Store, path: str | os.PathLike, name: str | None = None) -> int:
    """Record a dataset file (already validated and complete) in the store; returns its id.

    The file is read first, so a file that is not a readable dataset is never registered.
    """
    info = read_info(path)
    return store.add_dataset(
        name or Path(path).stem,
        Path(path).resolve(),
        n_records=info.n_records,
        n_classes=len(info.class_names),
        class_names=info.class_names,
        fs=info.fs,
        n_samples=info.n_samples,
        source=info.source if info.source in ("generated", "imported") else "imported",
        generator_version=info.generator_version or None,
        seed=info.seed if info.seed >= 0 else None,
        extra={"class_counts": info.class_counts, "split_sizes": info.split_sizes},
    )
