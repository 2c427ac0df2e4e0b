"""Loading a user's file (`load_signals`) and importing it as a workbench dataset (`import_file`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bearing_workbench.config.arguments import SamplingRate, check

from ..catalogue import class_names as catalogue_class_names
from ..dataset_file import DatasetFileError, write_dataset
from ..splits import split_records, validate_fractions
from .csv_file import read_csv
from .errors import DataFileError
from .hdf5_file import read_hdf5
from .layout import Contents
from .limits import check_file
from .mat_file import read_mat
from .npy_file import read_npy
from .npz_file import read_npz
from .signal_set import SignalSet
from .validation import (
    clean_metadata,
    clean_record_ids,
    labels_argument,
    resolve_fs,
    resolve_labels,
    signal_matrix,
    string_list,
)


def load_signals(
    path: str | os.PathLike,
    *,
    fs: float | None = None,
    labels: Sequence[str] | str | os.PathLike | None = None,
    known_classes: Sequence[str] | None = None,
    allow_new_classes: bool = False,
    max_bytes: int = 4 * 1024**3,
    min_fs: float = 5120.0,
    require_labels: bool = True,
) -> SignalSet:
    """Load and validate a user's signal file (.h5/.hdf5, .mat, .csv, .npy, .npz).

    Args:
        fs: sampling rate in Hz; needed when the file has none, checked against the file's otherwise.
        labels: for files without labels (e.g. .npy): a list of class names (or indices into the
            class list), or the path of a text/CSV file with one label per line.
        known_classes: the class list labels are checked against (default: the catalogue).
        allow_new_classes: accept labels that are not known classes instead of refusing them.
        max_bytes: refuse files larger than this, before reading them.
        min_fs: lowest sampling rate accepted (the cavitation band needs 5120 Hz).
        require_labels: refuse a file without labels; with False it loads with ``labels=None``
            (records to predict on).
    """
    path = Path(path)
    known = tuple(catalogue_class_names() if known_classes is None else known_classes)
    if fs is not None:
        fs = check(SamplingRate, fs, "fs")
    check_file(path, max_bytes)
    contents = _read(path, max_bytes)
    signals = signal_matrix(path, contents.signals)
    n = len(signals)
    if contents.labels is not None and labels is not None:
        raise DataFileError(path, "has its own labels; pass labels= only for files without them")
    unlabelled = contents.labels is None and labels is None
    if unlabelled and require_labels:
        missing = "no 'label' column: add one" if path.suffix.lower() == ".csv" else "no labels: add them"
        raise DataFileError(
            path, f"has {missing}, or pass labels= (a list, or a file with one label per line)"
        )
    names = None
    if labels is not None:
        raw_labels = labels_argument(labels, known)
        where = f"labels file {Path(labels).name}" if isinstance(labels, str | os.PathLike) else "labels="
    else:
        raw_labels, where = contents.labels, "the file"
    if not unlabelled:
        index_classes = string_list(path, contents.class_names, "class_names") or known
        names = resolve_labels(path, raw_labels, n, where, index_classes, known, allow_new_classes)
    return SignalSet(
        signals=signals,
        labels=names,
        fs=resolve_fs(path, contents.fs, fs, min_fs),
        metadata=clean_metadata(path, contents.metadata, n),
        record_ids=clean_record_ids(path, contents.record_ids, n),
        source=path,
    )


def import_file(
    src: str | os.PathLike,
    dest: str | os.PathLike,
    *,
    split_fractions: Sequence[float] = (0.7, 0.15, 0.15),
    split_seed: int = 0,
    overwrite: bool = False,
    **load_kwargs: Any,
) -> Path:
    """Load and validate `src`, then write it as a workbench dataset at `dest` with record-level splits.

    Everything is checked before writing, and the file is written beside `dest` and renamed into
    place, so a failure leaves nothing at `dest`. `load_kwargs` go to `load_signals`.
    """
    fractions = validate_fractions(split_fractions)
    src, dest = Path(src), Path(dest)
    if dest.exists() and not overwrite:
        raise DataFileError(dest, "already exists (choose another name or pass overwrite=True)")
    signal_set = load_signals(src, **load_kwargs)
    class_names = signal_set.class_names(load_kwargs.get("known_classes"))
    try:
        splits = split_records(signal_set.labels, fractions, split_seed)
    except ValueError as exc:
        raise DataFileError(src, str(exc)) from None
    write_dataset(
        dest,
        signal_set.signals,
        signal_set.label_indices(class_names),
        fs=signal_set.fs,
        class_names=class_names,
        metadata=signal_set.metadata,
        record_ids=list(signal_set.record_ids),
        splits=splits,
        split_seed=split_seed,
        split_fractions=fractions,
        source="imported",
        config={"imported_from": src.name, "source_format": src.suffix.lower()},
        overwrite=overwrite,
    )
    return dest


def _read(path: Path, max_bytes: int) -> Contents:
    readers = {
        ".csv": read_csv,
        ".h5": read_hdf5,
        ".hdf5": read_hdf5,
        ".mat": read_mat,
        ".npy": read_npy,
        ".npz": read_npz,
    }
    try:
        return readers[path.suffix.lower()](path, max_bytes)
    except DataFileError:
        raise
    except DatasetFileError as exc:
        raise DataFileError(path, exc.problem) from None
    except MemoryError:
        raise DataFileError(path, "does not fit in memory") from None
    except Exception as exc:  # parsers of untrusted files raise many types; the user gets one kind
        raise DataFileError(
            path, f"could not be read as a {path.suffix.lower()} file ({type(exc).__name__}: {exc})"
        ) from None
