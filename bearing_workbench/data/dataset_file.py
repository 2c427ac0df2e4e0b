"""The workbench's dataset file: one HDF5 file per dataset.

Layout (format version 1):

- attributes: ``format`` (= ``bearing-workbench-dataset``), ``format_version``, ``fs`` (Hz),
  ``n_samples``, ``class_names`` (JSON list), ``source`` (generated/imported), ``generator_version``,
  ``seed`` (-1 when not generated), ``config`` (JSON of what made the file).
- ``signals``: float32 (n_records, n_samples), chunked one record per chunk so a loader reads a
  record without touching the rest.
- ``labels``: int16 (n_records,), indices into ``class_names``.
- ``record_ids``: UTF-8 strings (n_records,).
- ``metadata/<column>``: one 1-D dataset per metadata column (float64, int64 or UTF-8 strings).
- ``splits/{train,val,test}``: int64 record indices; attributes ``seed`` and ``fractions``.

Files are written to ``<name>.partial`` beside the target and renamed into place on success, so a
crash or a bad record never leaves a half-written dataset where a reader would find it.
Timestamps are not stored (``track_times=False``): the same content gives the same bytes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

FORMAT_NAME = "bearing-workbench-dataset"
FORMAT_VERSION = 1
SPLIT_NAMES = ("train", "val", "test")
STRING_DTYPE = h5py.string_dtype("utf-8")


class DatasetFileError(ValueError):
    """A dataset file is missing, unreadable or not in the expected format."""

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path.name}: {problem}")


@dataclass(frozen=True)
class DatasetInfo:
    """Summary of a dataset file, read without loading the signals."""

    path: Path
    fs: float
    n_records: int
    n_samples: int
    class_names: tuple[str, ...]
    class_counts: dict[str, int]
    source: str
    generator_version: str
    seed: int
    metadata_columns: tuple[str, ...]
    split_sizes: dict[str, int]
    config: dict[str, Any] = field(default_factory=dict)
    split_fractions: tuple[float, ...] = ()  # of the stored split; () when the file has none

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.fs

    @property
    def size_bytes(self) -> int:
        return self.path.stat().st_size


def _column_dtype(values: np.ndarray) -> Any:
    if values.dtype.kind in "USO":
        return STRING_DTYPE
    if values.dtype.kind in "iub":
        return np.int64
    return np.float64


class DatasetWriter:
    """Streams records into a new dataset file; the file appears only when `commit()` succeeds.

    Use as a context manager: leaving the block with an exception removes the partial file.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        n_records: int,
        n_samples: int,
        fs: float,
        class_names: Sequence[str],
        metadata_columns: Mapping[str, Any] = (),
        source: str = "generated",
        generator_version: str = "",
        seed: int = -1,
        config: Mapping[str, Any] | None = None,
        overwrite: bool = False,
    ):
        self.path = Path(path)
        if self.path.exists() and not overwrite:
            raise DatasetFileError(self.path, "already exists (choose another name or pass overwrite)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._partial = self.path.with_name(self.path.name + ".partial")
        self.n_records = int(n_records)
        self._written = np.zeros(self.n_records, dtype=bool)
        self._splits_set = False
        self._file = h5py.File(self._partial, "w", track_order=True)
        f = self._file
        f.attrs["format"] = FORMAT_NAME
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["fs"] = float(fs)
        f.attrs["n_samples"] = int(n_samples)
        f.attrs["class_names"] = json.dumps(list(class_names))
        f.attrs["source"] = source
        f.attrs["generator_version"] = generator_version
        f.attrs["seed"] = int(seed)
        f.attrs["config"] = json.dumps(dict(config or {}), sort_keys=True)
        f.create_dataset(
            "signals",
            shape=(self.n_records, int(n_samples)),
            dtype=np.float32,
            chunks=(1, int(n_samples)),
            track_times=False,
        )
        # Labels, ids and metadata are small: keep them in memory and write each once at commit, so
        # the file's layout (HDF5's string heap included) does not depend on how records were batched.
        self._labels = np.zeros(self.n_records, dtype=np.int16)
        self._record_ids = np.empty(self.n_records, dtype=object)
        self._columns = dict(metadata_columns)
        self._metadata = {
            name: np.empty(self.n_records, dtype=object if dtype == STRING_DTYPE else dtype)
            for name, dtype in self._columns.items()
        }

    def write(
        self,
        start: int,
        signals: np.ndarray,
        labels: np.ndarray,
        record_ids: Sequence[str],
        metadata: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        """Write records ``start .. start+len(signals)``."""
        stop = start + len(signals)
        self._file["signals"][start:stop] = np.asarray(signals, dtype=np.float32)
        self._labels[start:stop] = np.asarray(labels, dtype=np.int16)
        self._record_ids[start:stop] = list(record_ids)
        for name, values in (metadata or {}).items():
            self._metadata[name][start:stop] = values
        self._written[start:stop] = True

    def set_splits(self, splits: Mapping[str, np.ndarray], *, seed: int, fractions: Sequence[float]) -> None:
        group = self._file.require_group("splits")
        for name in SPLIT_NAMES:
            group.create_dataset(name, data=np.asarray(splits[name], dtype=np.int64), track_times=False)
        group.attrs["seed"] = int(seed)
        group.attrs["fractions"] = np.asarray(fractions, dtype=np.float64)
        self._splits_set = True

    def commit(self) -> Path:
        """Write the small tables, close the file and move it into place (removed on failure)."""
        try:
            if not self._written.all():
                missing = int((~self._written).sum())
                raise DatasetFileError(self.path, f"{missing} records were never written")
            f = self._file
            f.create_dataset("labels", data=self._labels, track_times=False)
            f.create_dataset(
                "record_ids",
                data=self._record_ids.astype(str).astype(object),
                dtype=STRING_DTYPE,
                track_times=False,
            )
            meta = f.create_group("metadata", track_order=True)
            for name, dtype in self._columns.items():
                values = self._metadata[name]
                if dtype == STRING_DTYPE:
                    values = values.astype(str).astype(object)
                meta.create_dataset(name, data=values, dtype=dtype, track_times=False)
            f.close()
            os.replace(self._partial, self.path)
        except BaseException:
            self.abort()
            raise
        return self.path

    def abort(self) -> None:
        if self._file.id.valid:
            self._file.close()
        self._partial.unlink(missing_ok=True)

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()
        elif self._file.id.valid:
            self.commit()


def write_dataset(
    path: str | os.PathLike,
    signals: np.ndarray,
    labels: np.ndarray,
    *,
    fs: float,
    class_names: Sequence[str],
    metadata: Mapping[str, np.ndarray] | None = None,
    record_ids: Sequence[str] | None = None,
    splits: Mapping[str, np.ndarray] | None = None,
    split_seed: int = 0,
    split_fractions: Sequence[float] = (0.7, 0.15, 0.15),
    **attrs: Any,
) -> Path:
    """Write a whole in-memory dataset in one go (atomically)."""
    signals = np.asarray(signals)
    metadata = {k: np.asarray(v) for k, v in (metadata or {}).items()}
    if record_ids is None:
        record_ids = [f"rec-{i:05d}" for i in range(len(signals))]
    columns = {k: _column_dtype(v) for k, v in metadata.items()}
    with DatasetWriter(
        path,
        n_records=len(signals),
        n_samples=signals.shape[1],
        fs=fs,
        class_names=class_names,
        metadata_columns=columns,
        **attrs,
    ) as writer:
        writer.write(0, signals, labels, record_ids, metadata)
        if splits is not None:
            writer.set_splits(splits, seed=split_seed, fractions=split_fractions)
    return Path(path)


def _open(path: str | os.PathLike) -> h5py.File:
    path = Path(path)
    if not path.is_file():
        raise DatasetFileError(path, "no such file")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise DatasetFileError(path, f"not a readable HDF5 file ({exc})") from None
    if f.attrs.get("format") != FORMAT_NAME:
        f.close()
        raise DatasetFileError(path, f"not a {FORMAT_NAME} file (missing 'format' attribute)")
    version = int(f.attrs.get("format_version", -1))
    if version > FORMAT_VERSION:
        f.close()
        raise DatasetFileError(
            path, f"format version {version} is newer than this workbench reads ({FORMAT_VERSION})"
        )
    return f


class Dataset:
    """A dataset file opened for reading. Signals are read lazily, by record index."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._file = _open(self.path)
        f = self._file
        self.fs = float(f.attrs["fs"])
        self.class_names: tuple[str, ...] = tuple(json.loads(f.attrs["class_names"]))
        self.labels: np.ndarray = f["labels"][:].astype(np.int64)
        self.record_ids: np.ndarray = np.asarray(f["record_ids"].asstr()[:], dtype=object)
        self.n_records, self.n_samples = f["signals"].shape

    def signals(self, indices: Sequence[int] | np.ndarray | slice | None = None) -> np.ndarray:
        """float32 signals of the given records (all when None), in the order asked."""
        ds = self._file["signals"]
        if indices is None:
            return ds[:]
        if isinstance(indices, slice):
            return ds[indices]
        idx = np.asarray(indices, dtype=np.int64)
        if idx.size == 0:
            return np.empty((0, self.n_samples), dtype=np.float32)
        # h5py fancy indexing wants increasing unique indices; read sorted and put back in order.
        uniq, inverse = np.unique(idx, return_inverse=True)
        return ds[uniq][inverse]

    def metadata(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for name, ds in self._file["metadata"].items():
            out[name] = np.asarray(ds.asstr()[:], dtype=object) if ds.dtype == STRING_DTYPE else ds[:]
        return out

    def metadata_frame(self):
        """Metadata as a pandas DataFrame indexed by record id (pandas imported on use)."""
        import pandas as pd

        frame = pd.DataFrame(self.metadata())
        frame.insert(0, "label", [self.class_names[i] for i in self.labels])
        frame.index = pd.Index(self.record_ids, name="record_id")
        return frame

    def splits(self) -> dict[str, np.ndarray] | None:
        if "splits" not in self._file:
            return None
        return {name: self._file["splits"][name][:] for name in SPLIT_NAMES}

    def split_attrs(self) -> tuple[tuple[float, ...], int | None]:
        """(fractions, seed) of the stored split; ((), None) when the file has no split."""
        if "splits" not in self._file:
            return (), None
        attrs = self._file["splits"].attrs
        fractions = tuple(float(v) for v in np.atleast_1d(attrs.get("fractions", [])))
        return fractions, (int(attrs["seed"]) if "seed" in attrs else None)

    @property
    def attrs(self) -> dict[str, Any]:
        return dict(self._file.attrs)

    def close(self) -> None:
        if self._file.id.valid:
            self._file.close()

    def __enter__(self) -> Dataset:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_info(path: str | os.PathLike) -> DatasetInfo:
    """Summarise a dataset file without reading its signals."""
    with Dataset(path) as ds:
        attrs = ds.attrs
        counts = np.bincount(ds.labels, minlength=len(ds.class_names))
        splits = ds.splits()
        return DatasetInfo(
            path=ds.path,
            fs=ds.fs,
            n_records=int(ds.n_records),
            n_samples=int(ds.n_samples),
            class_names=ds.class_names,
            class_counts={name: int(c) for name, c in zip(ds.class_names, counts, strict=True)},
            source=str(attrs.get("source", "")),
            generator_version=str(attrs.get("generator_version", "")),
            seed=int(attrs.get("seed", -1)),
            metadata_columns=tuple(ds._file["metadata"].keys()),
            split_sizes={k: int(len(v)) for k, v in splits.items()} if splits else {},
            config=json.loads(attrs.get("config", "{}")),
            split_fractions=ds.split_attrs()[0],
        )
