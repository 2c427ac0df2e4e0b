"""`.mat` files: MATLAB v5 (scipy) and v7.3 (HDF5) with `signals`, `labels`, `fs`, ... variables."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from .errors import DataFileError
from .layout import MAT_VARIABLES, METADATA_COLUMNS, Contents
from .limits import check_expanded

_MAT73_NUMERIC = {
    "double", "single", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "logical",
}  # fmt: skip


def is_matlab73(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(10) == b"MATLAB 7.3"


def read_mat(path: Path, max_bytes: int) -> Contents:
    if is_matlab73(path) or h5py.is_hdf5(path):
        return read_mat73(path, max_bytes)
    import scipy.io

    try:
        listing = {name: (shape, kind) for name, shape, kind in scipy.io.whosmat(path)}
    except Exception as exc:  # scipy raises several types for a file that is not a MAT file
        raise DataFileError(path, f"is not a MATLAB .mat file ({type(exc).__name__}: {exc})") from None
    if "signals" not in listing:
        raise DataFileError(path, f"has no 'signals' variable (found: {', '.join(listing) or 'nothing'})")
    shape, kind = listing["signals"]
    if kind not in ("cell", "struct", "object", "function_handle", "char", "sparse"):
        check_expanded(path, math.prod(shape), max_bytes)
    if kind in ("struct", "object", "function_handle", "sparse"):
        raise DataFileError(
            path, f"'signals' is a MATLAB {kind}; save it as a numeric matrix (records x samples)"
        )
    wanted = [name for name in MAT_VARIABLES if name in listing]
    # Plain loadmat: reads data only (MATLAB objects come back as opaque bytes, nothing is run).
    data = scipy.io.loadmat(path, variable_names=wanted, chars_as_strings=True)
    return _mat_contents(path, data)


def _mat_contents(path: Path, data: Mapping[str, Any]) -> Contents:
    signals = data["signals"]
    if (
        isinstance(signals, np.ndarray)
        and signals.ndim == 2
        and signals.shape[1] == 1
        and signals.shape[0] > 1
    ):
        signals = signals.T  # a MATLAB column vector is one record
    return Contents(
        signals=signals,
        labels=data.get("labels"),
        fs=data.get("fs"),
        record_ids=data.get("record_ids"),
        class_names=data.get("class_names"),
        metadata={name: data[name] for name in METADATA_COLUMNS if name in data},
    )


def read_mat73(path: Path, max_bytes: int) -> Contents:
    """MATLAB v7.3 files are HDF5; MATLAB writes arrays column-major, so each one reads transposed."""
    with h5py.File(path, "r") as f:
        if not isinstance(f.get("signals"), h5py.Dataset):
            found = ", ".join(k for k in f.keys() if not k.startswith("#")) or "nothing"
            raise DataFileError(path, f"has no 'signals' variable (found: {found})")
        if f["signals"].dtype.kind in "fiu":
            check_expanded(path, f["signals"].size, max_bytes)
        data = {
            name: _mat73_value(path, f, f[name], name)
            for name in MAT_VARIABLES
            if isinstance(f.get(name), h5py.Dataset)
        }
    return _mat_contents(path, data)


def _mat73_value(path: Path, f: h5py.File, ds: h5py.Dataset, name: str, depth: int = 0) -> Any:
    kind = ds.attrs.get("MATLAB_class", b"double")
    kind = kind.decode() if isinstance(kind, bytes) else str(kind)
    if ds.attrs.get("MATLAB_empty", 0):
        return np.zeros((0, 0))
    if kind == "char":
        codes = np.atleast_2d(ds[()]).T  # (rows, characters)
        return np.asarray(["".join(map(chr, row)).rstrip("\x00 ") for row in codes], dtype=object)
    if kind == "cell" and depth == 0:
        refs = ds[()].T
        cells = [_mat73_value(path, f, f[ref], name, depth + 1) for ref in refs.ravel()]
        out = np.empty(len(cells), dtype=object)
        for i, cell in enumerate(cells):  # element-wise: numpy would stack equal-shape cells
            out[i] = cell
        return out.reshape(refs.shape)
    if kind in _MAT73_NUMERIC:
        return ds[()].T
    raise DataFileError(path, f"variable {name!r} is a MATLAB {kind}; expected numbers, text or a cell array")
