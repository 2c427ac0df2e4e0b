"""`.h5`/`.hdf5` files: our dataset format, or a plain file with a `signals` dataset, `labels`,
`record_ids` and `class_names` datasets, `fs` as an attribute (of the file or of `signals`) or a
dataset, and a `metadata` group of one dataset per column. The names of `signals`, `labels` and
`fs` can be chosen (`Keys`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..dataset_file import FORMAT_NAME, Dataset
from .errors import DataFileError
from .layout import Contents, ReadOptions
from .limits import check_expanded
from .mat_file import is_matlab73, read_mat73


def read_hdf5(path: Path, options: ReadOptions) -> Contents:
    if is_matlab73(path):
        return read_mat73(path, options)
    if not h5py.is_hdf5(path):
        raise DataFileError(path, "is not an HDF5 file")
    with h5py.File(path, "r") as f:
        ours = f.attrs.get("format") == FORMAT_NAME
    if ours:
        options.keys.refuse_given(path, "a workbench dataset file names its arrays itself")
        return _read_dataset_file(path, options.max_bytes)
    keys = options.keys
    with h5py.File(path, "r") as f:
        signals = f.get(keys.signals)
        if not isinstance(signals, h5py.Dataset):
            raise keys.missing(path, "signals_key", "dataset", list(f.keys()))
        if signals.dtype.kind in "fiu":
            check_expanded(path, signals.size, options.max_bytes)
        contents = Contents(signals=signals[()])
        named = {"labels": keys.labels, "record_ids": "record_ids", "class_names": "class_names"}
        for field, name in named.items():
            if isinstance(f.get(name), h5py.Dataset):
                setattr(contents, field, _h5_values(f[name]))
        if "labels_key" in keys.given and contents.labels is None:
            raise keys.missing(path, "labels_key", "dataset", list(f.keys()))
        if "class_names" in f.attrs:
            contents.class_names = _h5_attr_list(f.attrs["class_names"])
        for holder in (f.attrs, signals.attrs):
            if keys.fs in holder:
                contents.fs = holder[keys.fs]
        if isinstance(f.get(keys.fs), h5py.Dataset):
            contents.fs = f[keys.fs][()]
        if "fs_key" in keys.given and contents.fs is None:
            found = [*f.keys(), *(f"attribute {a}" for a in f.attrs)]
            raise keys.missing(path, "fs_key", "dataset or attribute", found)
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
