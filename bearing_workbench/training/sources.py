"""Where signals to predict on come from: a dataset name, a file, a folder, or an array with its rate.

`load_source` turns any of these into one `SignalSource` (whole records, their rate, ids, optional
labels and operating metadata). It reads files only through the data layer (`data.lookup`,
`data.dataset_file`, `data.loaders`), so a user's file is checked here exactly as `import-data`
checks it, and nothing is ever unpickled.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    from bearing_workbench.data.dataset_file import Dataset
    from bearing_workbench.store import Store

Style = Literal["python", "cli"]
_MAX_LISTED = 5


class PredictionInputError(ValueError):
    """Signals, labels or options that a prediction cannot use; the message is one line.

    Args:
        problem: what is wrong and what is expected.
        option: the argument the problem is about (``split``, ``fs``, ``labels``), or None when it is
            about the source itself; `message("cli")` names it as a flag (``--split``), `str()` as a
            Python argument (``split=``).
    """

    def __init__(self, problem: str, *, option: str | None = None):
        self.problem = problem
        self.option = option
        super().__init__(self.message("python"))

    def message(self, style: Style = "python") -> str:
        if self.option is None:
            return self.problem
        name = f"--{self.option.replace('_', '-')}" if style == "cli" else f"{self.option}="
        return f"{name}: {self.problem}"


@dataclass(frozen=True)
class SignalSource:
    """Whole records to predict on, as found (before resampling or the model's checks).

    Args:
        signals: (n_records, n_samples) array as given; float32 once it came from a file.
        fs: sampling rate in Hz.
        record_ids: one id per record.
        labels: class name per record, or None when the source has no labels.
        meta: operating metadata by column name, each (n_records,).
        name: how the source is named in messages ("demo (test split)", "x.npz", "array").
    """

    signals: np.ndarray
    fs: float
    record_ids: tuple[str, ...]
    labels: tuple[str, ...] | None = None
    meta: Mapping[str, np.ndarray] = field(default_factory=dict)
    name: str = "array"

    @property
    def n_records(self) -> int:
        return int(self.signals.shape[0])


def listed(items: Sequence[object], limit: int = _MAX_LISTED) -> str:
    """`a, b, c and 4 more`: a short list for a one-line message."""
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def load_source(
    source: Any,
    *,
    store: Store | None = None,
    fs: float | None = None,
    labels: Sequence[str] | str | os.PathLike | None = None,
    split: str | None = None,
) -> SignalSource:
    """The records of `source`.

    Args:
        source: a dataset name registered in `store`, a dataset file, the folder that
            ``generate-data --out DIR`` wrote, any file `data.loaders.load_signals` reads (labels
            optional), a ``(signals, fs)`` pair, or a signals array with `fs` given.
        fs: sampling rate in Hz for a file or array that does not carry one.
        labels: class names per record for a source without labels (a list, or for a file the path
            of a text file with one label per line).
        split: a stored split of a dataset file (train, val, test); default every record.

    Raises `PredictionInputError`, or the loader's `DataFileError` for a signal file it refuses.
    """
    if isinstance(source, tuple):
        if len(source) != 2:
            raise PredictionInputError(f"expected a (signals, fs) pair, got a tuple of {len(source)} items")
        signals, pair_fs = source
        if fs is not None and float(fs) != float(pair_fs):
            raise PredictionInputError(f"{fs:g} Hz given, but the pair says {pair_fs:g} Hz", option="fs")
        return array_source(signals, pair_fs, labels=labels, split=split)
    if isinstance(source, np.ndarray | list):
        if fs is None:
            raise PredictionInputError("an array needs its sampling rate: give fs= or a (signals, fs) pair")
        return array_source(source, fs, labels=labels, split=split)
    if isinstance(source, str | os.PathLike):
        return _named_source(str(source), store=store, fs=fs, labels=labels, split=split)
    raise PredictionInputError(
        f"cannot predict on a {type(source).__name__}; expected a dataset name, a file or folder path, "
        "or a (signals, fs) pair"
    )


def array_source(
    signals: Any,
    fs: float,
    *,
    labels: Sequence[str] | None = None,
    split: str | None = None,
    name: str = "array",
) -> SignalSource:
    """A source from an in-memory array: (records, samples), or one record as a 1-D array."""
    if split is not None:
        raise PredictionInputError(
            "an array has no stored splits; give split= only with a dataset", option="split"
        )
    if isinstance(labels, str | os.PathLike):
        raise PredictionInputError("for an array give the labels as a list of class names", option="labels")
    arr = np.asarray(signals)
    if arr.dtype == object or arr.dtype.kind not in "fiu":
        raise PredictionInputError(f"{name}: signals must be real numbers, got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[np.newaxis, :]
    if arr.ndim != 2:
        raise PredictionInputError(
            f"{name}: expected one channel per record, a (records, samples) array; got shape {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise PredictionInputError(f"{name}: contains no records")
    try:
        rate = float(fs)
    except (TypeError, ValueError):
        raise PredictionInputError(f"expected a sampling rate in Hz, got {fs!r}", option="fs") from None
    if not np.isfinite(rate) or rate <= 0:
        raise PredictionInputError(f"expected a positive sampling rate in Hz, got {fs!r}", option="fs")
    names = None
    if labels is not None:
        names = tuple(str(label) for label in labels)
        if len(names) != arr.shape[0]:
            raise PredictionInputError(
                f"{len(names)} labels for {arr.shape[0]} records; expected one per record", option="labels"
            )
    width = max(5, len(str(arr.shape[0] - 1)))
    ids = tuple(f"rec-{i:0{width}d}" for i in range(arr.shape[0]))
    return SignalSource(signals=arr, fs=rate, record_ids=ids, labels=names, name=name)


def _named_source(
    source: str,
    *,
    store: Store | None,
    fs: float | None,
    labels: Any,
    split: str | None,
) -> SignalSource:
    from bearing_workbench.data.dataset_file import FORMAT_NAME

    path = _dataset_path(source, store)
    if path is None:
        path = Path(source).expanduser()
        if not path.exists():
            where = "no dataset of that name in the store and " if store is not None else ""
            raise PredictionInputError(
                f"{source}: {where}no file or folder of that name; expected a registered dataset name, "
                "a dataset file, the folder generate-data wrote, or a signal file (.csv .h5 .mat .npy .npz)"
            )
        if path.suffix.lower() in (".h5", ".hdf5") and _hdf5_format(path) == FORMAT_NAME:
            return _dataset_source(path, source, fs=fs, labels=labels, split=split)
        return _file_source(path, fs=fs, labels=labels, split=split)
    return _dataset_source(path, source, fs=fs, labels=labels, split=split)


def _dataset_path(source: str, store: Store | None) -> Path | None:
    """The dataset file of a registered name or of the folder generate-data wrote; None otherwise."""
    from bearing_workbench.data.lookup import DatasetNotFound, resolve_dataset_path

    path = Path(source).expanduser()
    if path.is_file():
        return None  # a file is read as what it is, below
    try:
        return resolve_dataset_path(source, store)
    except DatasetNotFound as exc:
        if path.is_dir():
            raise PredictionInputError(f"{source}: {exc.problem}") from None
        return None


def _hdf5_format(path: Path) -> str | None:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            value = f.attrs.get("format")
    except OSError:
        return None  # not HDF5 at all: the loader says so in its own words
    return value.decode() if isinstance(value, bytes) else value


def _dataset_source(
    path: Path, source: str, *, fs: float | None, labels: Any, split: str | None
) -> SignalSource:
    from bearing_workbench.data.dataset_file import SPLIT_NAMES, Dataset, DatasetFileError

    if labels is not None:
        raise PredictionInputError(
            f"{source} is a dataset with its own labels; give labels only for unlabelled files",
            option="labels",
        )
    try:
        with Dataset(path) as ds:
            if fs is not None and float(fs) != ds.fs:
                raise PredictionInputError(
                    f"{fs:g} Hz given, but {path.name} is sampled at {ds.fs:g} Hz", option="fs"
                )
            rows = _split_rows(ds, split, SPLIT_NAMES, source)
            signals = ds.signals(rows)
            names = np.asarray(ds.class_names, dtype=object)
            meta = {name: np.asarray(values)[rows] for name, values in ds.metadata().items()}
            return SignalSource(
                signals=signals,
                fs=ds.fs,
                record_ids=tuple(str(r) for r in ds.record_ids[rows]),
                labels=tuple(str(n) for n in names[ds.labels[rows]]),
                meta=meta,
                name=source if split is None else f"{source} ({split} split)",
            )
    except DatasetFileError as exc:
        raise PredictionInputError(str(exc)) from None


def _split_rows(ds: Dataset, split: str | None, split_names: Sequence[str], source: str) -> np.ndarray:
    if split is None:
        return np.arange(ds.n_records, dtype=np.int64)
    if split not in split_names:
        raise PredictionInputError(
            f"unknown split {split!r}; expected one of {', '.join(split_names)}", option="split"
        )
    splits = ds.splits()
    if splits is None:
        raise PredictionInputError(
            f"{source} has no stored splits; leave it out to use every record", option="split"
        )
    return np.sort(np.asarray(splits[split], dtype=np.int64))


def _file_source(path: Path, *, fs: float | None, labels: Any, split: str | None) -> SignalSource:
    from bearing_workbench.data.loaders import load_signals

    if split is not None:
        raise PredictionInputError(
            f"{path.name} is not a dataset file with stored splits; leave it out to use every record",
            option="split",
        )
    # The loader's own DataFileError goes up as it is: it names its options for Python and the CLI.
    loaded = load_signals(path, fs=fs, labels=labels, allow_new_classes=True, require_labels=False)
    return SignalSource(
        signals=loaded.signals,
        fs=loaded.fs,
        record_ids=tuple(str(r) for r in loaded.record_ids),
        labels=None if loaded.labels is None else tuple(str(label) for label in loaded.labels),
        meta=dict(loaded.metadata),
        name=path.name,
    )
