"""`.npz` archives: `signals`, `labels`, `fs`, `record_ids`, `class_names` and `meta_<column>` arrays."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .errors import OBJECTS, DataFileError
from .layout import Contents
from .limits import size_text
from .npy_file import np_load


def read_npz(path: Path, max_bytes: int) -> Contents:
    if not zipfile.is_zipfile(path):
        raise DataFileError(path, "is not a .npz archive (not a zip file)")
    with zipfile.ZipFile(path) as archive:  # members are compressed: check what they expand to
        expanded = sum(info.file_size for info in archive.infolist())
    if expanded > max_bytes:
        raise DataFileError(
            path, f"is too large: {size_text(expanded)} uncompressed, over max_bytes ({size_text(max_bytes)})"
        )
    npz = np_load(path)
    if isinstance(npz, np.ndarray):
        raise DataFileError(path, "is a .npy array, not a .npz archive (rename it to .npy)")
    with npz:
        if "signals" not in npz.files:
            raise DataFileError(path, f"has no 'signals' array (found: {', '.join(npz.files) or 'nothing'})")

        def get(name: str) -> Any:
            try:
                return npz[name]
            except ValueError as exc:
                if "pickle" in str(exc):
                    raise DataFileError(path, f"array {name!r} {OBJECTS}") from None
                raise

        contents = Contents(signals=get("signals"))
        for name in ("labels", "fs", "record_ids", "class_names"):
            if name in npz.files:
                setattr(contents, name, get(name))
        contents.metadata = {k[len("meta_") :]: get(k) for k in npz.files if k.startswith("meta_")}
    return contents
