"""`.h5`/`.hdf5` files: our dataset format, or a plain file with `signals`, `labels`, `fs` and a
`metadata` group."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..dataset_file import FORMAT_NAME, Dataset
from .errors import DataFileError
from .layout import Contents
from .limits import check_expanded
from .mat_file import is_matlab73, read_mat73


def read_hdf5(path: Path, max_bytes: int) -> Contents:
    if is_matlab73(path):
        return read_mat73(path, max_bytes)
    if not h5py.is_hdf5(path):
        raise DataFileError(path, "is not an HDF5 file")
    with h5py.File(path, "r") as f:
        ours = f.attrs.get("format") == FORMAT_NAME
    if ours:
        return _read_dataset_file(path, max_bytes)
    with h5py.File(path, "r") as f:
        signals = f.get("signals")
        if not isinstance(signals, h5py.Dataset):
            raise DataFileError(path, f"has no 'signals' dataset (found: {', '.join(f.keys()) or 'nothing'})")
        if signals.dtype.kind in "fiu":
            check_expanded(path, signals.size, max_bytes)
        contents = Contents(signals=signals[()])
        for name in ("labels", "record_ids", "class_names"):
            if isinstance(f.get(name), h5py.Dataset):
                setattr(contents, name, _h5_values(f[name]))
        if "class_names" in f.attrs:
            contents.class_names = _h5_attr_list(f.attrs["class_names"])
        for holder in (f.attrs, signals.attrs):
            if "fs" in holder:
                contents.fs = holder["fs"]
        if isinstance(f.get("fs"), h5py.Dataset):
            contents.fs = f["fs"][()]
        meta = f.get("metadata")
        if isinstance(meta, h5py.Group):
            contents.metadata = {k: _h5_values(v) for k, v in meta.items() if isinstance(v, h5py.Dataset)}
    return contents


def _h5_values(ds: h5py.Dataset) -> np.ndarray:
    if h5py.check_string_dtype(ds.dtype) is not None:
        return np.asarray(ds.asstr()[()], dtype=object)
    return ds[()]


def _h5_attr_list(value: Any) -> Any:
    import json

    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if isinstance(value, str):
        return json.loads(value) if value.startswith("[") else [value]
    return value


def _read_dataset_file(path: Path, max_bytes: int) -> Contents:
    with Dataset(path) as ds:
        check_expanded(path, ds.n_records * ds.n_samples, max_bytes)
        names = np.asarray(ds.class_names, dtype=object)
        return Contents(
            signals=ds.signals(),
            labels=names[ds.labels],
            fs=ds.fs,
            metadata=ds.metadata(),
            record_ids=ds.record_ids,
        )
