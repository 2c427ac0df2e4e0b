"""`.npz` archives: `signals`, `labels`, `fs`, `record_ids`, `class_names` and `meta_<column>` arrays.

An archive's members may be compressed, so what they inflate to is checked before anything is
inflated: the sizes the zip directory declares, then each member's .npy header (its shape and
dtype) against the size declared for it, since numpy allocates what the header says.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .errors import OBJECTS, DataFileError
from .layout import Contents, ReadOptions
from .limits import check_inflation, size_text
from .npy_file import np_load

META_PREFIX = "meta_"


def read_npz(path: Path, options: ReadOptions) -> Contents:
    if not zipfile.is_zipfile(path):
        raise DataFileError(path, "is not a .npz archive (not a zip file)")
    _check_declared_sizes(path, options.max_bytes)
    npz = np_load(path)
    if isinstance(npz, np.ndarray):
        raise DataFileError(path, "is a .npy array, not a .npz archive (rename it to .npy)")
    keys = options.keys
    with npz:
        if keys.signals not in npz.files:
            raise keys.missing(path, "signals_key", "array", list(npz.files))
        for option in ("labels_key", "fs_key"):
            if option in keys.given and getattr(keys, option.removesuffix("_key")) not in npz.files:
                raise keys.missing(path, option, "array", list(npz.files))

        def get(name: str) -> Any:
            try:
                return npz[name]
            except ValueError as exc:
                if "pickle" in str(exc):
                    raise DataFileError(path, f"array {name!r} {OBJECTS}") from None
                raise

        contents = Contents(signals=get(keys.signals))
        named = {"labels": keys.labels, "fs": keys.fs}
        named |= {"record_ids": "record_ids", "class_names": "class_names"}
        for field, name in named.items():
            if name in npz.files:
                setattr(contents, field, get(name))
        contents.metadata = {k[len(META_PREFIX) :]: get(k) for k in npz.files if k.startswith(META_PREFIX)}
    return contents


def _check_declared_sizes(path: Path, max_bytes: int) -> None:
    """Refuse an archive whose members would inflate too far, reading only the zip directory and
    the members' .npy headers."""
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        check_inflation(path, sum(info.file_size for info in infos), max_bytes, what="its arrays")
        for info in infos:
            if info.filename.endswith(".npy"):
                _check_header(path, archive, info)


def _check_header(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """A member's .npy header must describe no more data than the zip directory declares for it."""
    name = info.filename.removesuffix(".npy")
    try:
        with archive.open(info) as member:  # inflates only the first block, for the header
            version = np.lib.format.read_magic(member)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            header = read_header(member)
    except Exception:  # numpy and zipfile raise several types for a damaged header
        return  # np.load below refuses the member with numpy's own reason
    shape, _, dtype = header
    if dtype.hasobject:
        return  # refused below as Python objects, without unpickling
    needed = math.prod(shape) * dtype.itemsize
    if needed > info.file_size:
        raise DataFileError(
            path,
            f"array {name!r} is damaged or crafted: its header describes {shape} {dtype} "
            f"({size_text(needed)}) but the archive holds {size_text(info.file_size)} for it",
        )
