"""Loading a user's file (`load_signals`) and importing it as a workbench dataset (`import_file`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bearing_workbench.config.arguments import ArgumentError, NonNegativeInt, SamplingRate, check

from ..catalogue import class_names as catalogue_class_names
from ..dataset_file import DatasetFileError, write_dataset
from ..splits import split_records, validate_fractions
from .csv_file import read_csv
from .errors import DataFileError, OptionError
from .hdf5_file import read_hdf5
from .layout import Contents, Keys, ReadOptions
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
    signals_key: str | None = None,
    labels_key: str | None = None,
    fs_key: str | None = None,
) -> SignalSet:
    """Load and validate a user's signal file (.h5/.hdf5, .mat, .csv, .npy, .npz).

    The layouts are described in docs/bring-your-own-data.md. Errors are `DataFileError` (the file)
    or `OptionError` (an argument), each naming the option it concerns in `option`.

    Args:
        fs: sampling rate in Hz; needed when the file has none, checked against the file's otherwise.
        labels: for files without labels (e.g. .npy): a list of class names (or indices into the
            class list), or the path of a text/CSV file with one label per line.
        known_classes: the class list labels are checked against (default: the catalogue).
        allow_new_classes: accept labels that are not known classes instead of refusing them.
        max_bytes: refuse files larger than this (on disk or inflated), before reading them.
        min_fs: lowest sampling rate accepted (the cavitation band needs 5120 Hz).
        require_labels: refuse a file without labels; with False it loads with ``labels=None``
            (records to predict on).
        signals_key, labels_key, fs_key: the names the file gives its signals, labels and sampling
            rate, where they are not ``signals``, ``labels`` (``label`` column in a CSV) and ``fs``.
    """
    path = Path(path)
    known = tuple(catalogue_class_names() if known_classes is None else known_classes)
    if fs is not None:
        fs = _checked_option(SamplingRate, fs, "fs")
    keys = Keys.from_options(signals_key=signals_key, labels_key=labels_key, fs_key=fs_key)
    check_file(path, max_bytes)
    contents = _read(path, ReadOptions(max_bytes=max_bytes, keys=keys))
    signals = signal_matrix(path, contents.signals)
    n = len(signals)
    if contents.labels is not None and labels is not None:
        raise DataFileError(path, "has its own labels; pass {option} only for files without them", "labels")
    unlabelled = contents.labels is None and labels is None
    if unlabelled and require_labels:
        raise DataFileError(path, _no_labels(path.suffix.lower(), keys), "labels")
    names = None
    if not unlabelled:
        if labels is not None:
            raw_labels, option = labels_argument(labels, known), "labels"
            is_file = isinstance(labels, str | os.PathLike)
            where = f"labels file {Path(labels).name}" if is_file else "{option}"
        else:
            raw_labels, where = contents.labels, "the file"
            option = "labels_key" if "labels_key" in keys.given else None
        index_classes = string_list(path, contents.class_names, "class_names") or known
        names = resolve_labels(path, raw_labels, n, where, index_classes, known, allow_new_classes, option)
    return SignalSet(
        signals=signals,
        labels=names,
        fs=resolve_fs(path, contents.fs, fs, min_fs, keys.fs),
        metadata=clean_metadata(path, contents.metadata, n),
        record_ids=clean_record_ids(path, contents.record_ids, n),
        source=path,
    )


def _no_labels(suffix: str, keys: Keys) -> str:
    """Why a file without labels is refused, and the ways to give them for its format."""
    give = "pass {option} (one label per record)"
    if suffix == ".npy":
        return f"has no labels (a .npy file holds only the signals): {give}"
    if suffix == ".csv":
        return f"has no 'label' column: add one, name yours with {{option:labels_key}}, or {give}"
    name_yours = "name yours with {option:labels_key}"
    return f"has no labels (no {keys.labels!r} in it): add them, {name_yours}, or {give}"


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
    fractions = check_split(split_fractions, split_seed)
    src, dest = Path(src), Path(dest)
    if dest.exists() and not overwrite:
        raise DataFileError(dest, "already exists (choose another name or pass {option})", "overwrite")
    signal_set = load_signals(src, **load_kwargs)
    class_names = signal_set.class_names(load_kwargs.get("known_classes"))
    try:
        splits = split_records(signal_set.labels, fractions, split_seed)
    except ValueError as exc:
        raise DataFileError(src, f"{exc}; the fractions are {{option}}", "split_fractions") from None
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


def check_split(fractions: Sequence[float], seed: int) -> tuple[float, float, float]:
    """The split fractions (train, val, test) and seed checked; `OptionError` naming the bad one."""
    _checked_option(NonNegativeInt, seed, "split_seed")
    try:
        plain = [v.item() if hasattr(v, "item") else v for v in fractions]  # numpy scalars shown plainly
        return validate_fractions(plain)
    except (TypeError, ValueError) as exc:
        raise OptionError("split_fractions", str(exc).removeprefix("fractions: ")) from None


def _checked_option(kind: Any, value: object, option: str) -> Any:
    try:
        return check(kind, value, option)
    except ArgumentError as exc:
        raise OptionError(option, str(exc).removeprefix(f"{option}: ")) from None


READERS = {
    ".csv": read_csv,
    ".h5": read_hdf5,
    ".hdf5": read_hdf5,
    ".mat": read_mat,
    ".npy": read_npy,
    ".npz": read_npz,
}


def _read(path: Path, options: ReadOptions) -> Contents:
    try:
        return READERS[path.suffix.lower()](path, options)
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
