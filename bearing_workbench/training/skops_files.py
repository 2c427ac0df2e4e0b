"""scikit-learn objects on disk without pickle: skops files, read only when every type they hold is
on an explicit list.

skops itself trusts every scikit-learn estimator and a few containers by default; the workbench is
stricter: before skops reads a file, the types named in its ``schema.json`` are listed and compared
with the caller's list (the types its own pipelines contain), and a file naming any other type is
refused with the file and the types in the message. Nothing in the file is imported or run first.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Collection
from pathlib import Path
from typing import Any

from bearing_workbench.config.atomic_files import atomic_path
from bearing_workbench.training.stored_model import StoredModelError

SCHEMA_MEMBER = "schema.json"

# Plain values and numpy arrays and scalars, which any fitted estimator holds.
PLAIN_TYPES: tuple[str, ...] = (
    "builtins.bool",
    "builtins.dict",
    "builtins.float",
    "builtins.int",
    "builtins.list",
    "builtins.str",
    "builtins.tuple",
    "numpy.ndarray",
    "numpy.bool",
    "numpy.float32",
    "numpy.float64",
    "numpy.int32",
    "numpy.int64",
    "numpy.intp",
    "numpy.uint8",
    "numpy.uint32",
    "numpy.uint64",
)


def save_skops(obj: Any, path: str | os.PathLike[str]) -> Path:
    """Write `obj` to `path` as a skops file, atomically (nothing half-written is left)."""
    import skops.io as sio

    path = Path(path)
    with atomic_path(path) as tmp:
        sio.dump(obj, tmp)
    return path


def _walk_types(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        module, name = node.get("__module__"), node.get("__class__")
        if isinstance(module, str) and isinstance(name, str):
            found.add(f"{module}.{name}")
        for value in node.values():
            _walk_types(value, found)
    elif isinstance(node, list):
        for value in node:
            _walk_types(value, found)


def file_types(path: str | os.PathLike[str], label: str | None = None) -> set[str]:
    """Every type (``module.Name``) a skops file names, read from its schema without loading it."""
    label = label or str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            schema = json.loads(archive.read(SCHEMA_MEMBER))
    except FileNotFoundError:
        raise StoredModelError(f"{label} is missing") from None
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as exc:
        raise StoredModelError(
            f"{label} is not a readable skops file ({type(exc).__name__}: {exc})"
        ) from None
    found: set[str] = set()
    _walk_types(schema, found)
    return found


def load_skops(path: str | os.PathLike[str], trusted: Collection[str], label: str | None = None) -> Any:
    """Read a skops file whose types are all in `trusted` (or `PLAIN_TYPES`); refuse any other file.

    Args:
        label: how messages name the file (default: its path).
    """
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    label = label or str(path)
    allowed = set(trusted) | set(PLAIN_TYPES)
    foreign = sorted(file_types(path, label) - allowed)
    if foreign:
        raise StoredModelError(
            f"refusing to load {label}: it holds types the workbench does not trust ({', '.join(foreign)}); "
            "load only model files the workbench wrote"
        )
    try:
        return sio.load(path, trusted=sorted(allowed))
    except UntrustedTypesFoundException as exc:  # skops' own audit, after ours: should not happen
        raise StoredModelError(f"refusing to load {label}: {exc}") from None
    except Exception as exc:  # a damaged member, a schema skops cannot follow: not a usable file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoredModelError(f"{label} is not a readable skops file ({first})") from None
