"""Loaders for users' own signal files, and their import into the workbench's dataset format.

Supported: ``.h5/.hdf5`` (our dataset format, or a plain HDF5 file with ``signals``/``labels``),
``.mat`` (MATLAB v5 via scipy, v7.3 via h5py), ``.csv`` (one record per row), ``.npy`` (signals
only; labels passed separately) and ``.npz``. Files are untrusted: nothing is ever unpickled, and
every problem comes back as a `DataFileError` that names the file and says what is wrong.
"""

from __future__ import annotations

import csv
import io
import math
import os
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from bearing_workbench.config.arguments import SamplingRate, check

from .catalogue import class_names as catalogue_class_names
from .dataset_file import FORMAT_NAME, Dataset, DatasetFileError, write_dataset
from .splits import split_records, validate_fractions

SUPPORTED_EXTENSIONS = (".csv", ".h5", ".hdf5", ".mat", ".npy", ".npz")
METADATA_COLUMNS = ("speed_hz", "load_frac", "temperature_c")
MIN_RECORD_SAMPLES = 1024
_OBJECTS = "contains Python objects; save plain numeric arrays"
_CSV_ID_COLUMN = "record_id"
_MAT_VARIABLES = ("signals", "labels", "fs", "record_ids", "class_names", *METADATA_COLUMNS)
_MAT73_NUMERIC = {
    "double", "single", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "logical",
}  # fmt: skip


class DataFileError(DatasetFileError):
    """A user's data file cannot be loaded; the message is ``<file name>: <problem>``."""


@dataclass
class SignalSet:
    """Records loaded from a user's file, validated and ready to import or use."""

    signals: np.ndarray
    labels: np.ndarray | None  # class name per record; None for an unlabelled file
    fs: float
    metadata: dict[str, np.ndarray] = field(default_factory=dict)
    record_ids: np.ndarray | None = None
    source: Path | None = None

    def __post_init__(self) -> None:
        self.signals = np.asarray(self.signals, dtype=np.float32)
        if self.labels is not None:
            self.labels = np.asarray([str(x) for x in np.asarray(self.labels).ravel()], dtype=object)
        n_labels = len(self.signals) if self.labels is None else len(self.labels)
        if self.signals.ndim != 2 or n_labels != len(self.signals):
            raise ValueError(
                f"SignalSet: signals must be (records, samples) with one label per record (or none); "
                f"got signals {self.signals.shape} and {n_labels} labels"
            )
        if self.record_ids is None:
            self.record_ids = [f"rec-{i:05d}" for i in range(len(self.signals))]
        self.record_ids = np.asarray([str(r) for r in self.record_ids], dtype=object)
        self.metadata = {name: np.asarray(values) for name, values in self.metadata.items()}

    @property
    def n_records(self) -> int:
        return int(self.signals.shape[0])

    @property
    def n_samples(self) -> int:
        return int(self.signals.shape[1])

    @property
    def labelled(self) -> bool:
        return self.labels is not None

    def class_names(self, known_classes: Sequence[str] | None = None) -> tuple[str, ...]:
        """Classes present, in catalogue order, then new ones in order of first appearance.

        An unlabelled set has no classes present: ().
        """
        if self.labels is None:
            return ()
        known = tuple(catalogue_class_names() if known_classes is None else known_classes)
        present = dict.fromkeys(self.labels)
        return tuple(c for c in known if c in present) + tuple(c for c in present if c not in known)

    def label_indices(self, class_names: Sequence[str]) -> np.ndarray | None:
        """Labels as indices into `class_names`; None for an unlabelled set.

        Raises ValueError naming the labels that are not in `class_names`.
        """
        if self.labels is None:
            return None
        lookup = {name: i for i, name in enumerate(class_names)}
        unknown = [c for c in dict.fromkeys(self.labels) if c not in lookup]
        if unknown:
            raise ValueError(
                f"labels {', '.join(map(repr, unknown))} are not among the classes {', '.join(class_names)}"
            )
        return np.asarray([lookup[name] for name in self.labels], dtype=np.int64)


@dataclass
class _Contents:
    """What a reader found in a file, before validation."""

    signals: Any
    labels: Any = None
    fs: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)
    record_ids: Any = None
    class_names: Any = None


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
    _check_file(path, max_bytes)
    contents = _read(path, max_bytes)
    signals = _signal_matrix(path, contents.signals)
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
        raw_labels = _labels_argument(labels, known)
        where = f"labels file {Path(labels).name}" if isinstance(labels, str | os.PathLike) else "labels="
    else:
        raw_labels, where = contents.labels, "the file"
    if not unlabelled:
        index_classes = _string_list(path, contents.class_names, "class_names") or known
        names = _resolve_labels(path, raw_labels, n, where, index_classes, known, allow_new_classes)
    return SignalSet(
        signals=signals,
        labels=names,
        fs=_resolve_fs(path, contents.fs, fs, min_fs),
        metadata=_clean_metadata(path, contents.metadata, n),
        record_ids=_clean_record_ids(path, contents.record_ids, n),
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


# --- checks common to every format -------------------------------------------------------------


def _check_file(path: Path, max_bytes: int) -> None:
    if not path.exists():
        raise DataFileError(path, "no such file")
    if not path.is_file():
        raise DataFileError(path, "is not a file (a folder?)")
    if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
        raise DataFileError(
            path,
            f"unsupported file type {path.suffix or '(no extension)'!r}; "
            f"supported: {', '.join(SUPPORTED_EXTENSIONS)}",
        )
    size = path.stat().st_size
    if size == 0:
        raise DataFileError(path, "is empty (0 bytes)")
    if size > max_bytes:
        raise DataFileError(
            path, f"is too large: {_size(size)}, over the limit of {_size(max_bytes)} (max_bytes)"
        )


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _check_expanded(path: Path, n_values: int, max_bytes: int) -> None:
    """Refuse compressed content that would expand beyond max_bytes as float32 signals."""
    if n_values * 4 > max_bytes:
        raise DataFileError(
            path,
            f"is too large: its signals take {_size(n_values * 4)} in memory, "
            f"over max_bytes ({_size(max_bytes)})",
        )


def _read(path: Path, max_bytes: int) -> _Contents:
    readers = {
        ".csv": _read_csv,
        ".h5": _read_hdf5,
        ".hdf5": _read_hdf5,
        ".mat": _read_mat,
        ".npy": _read_npy,
        ".npz": _read_npz,
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


def _signal_matrix(path: Path, raw: Any) -> np.ndarray:
    """Signals as a float32 (records, samples) array, refusing anything else."""
    arr = raw if isinstance(raw, np.ndarray) else np.asarray(raw)
    if arr.dtype == object:  # a cell array / vlen dataset: one array per record
        arr = _stack_records(path, arr)
    if arr.dtype.names is not None:
        raise DataFileError(
            path, f"signals must be a plain numeric array, not a structured one ({arr.dtype})"
        )
    if arr.dtype.kind in "USa":
        raise DataFileError(path, "signals are text, not numbers")
    if arr.dtype.kind == "c":
        raise DataFileError(path, "signals are complex numbers; save the real-valued signals")
    if arr.dtype.kind not in "fiu":
        raise DataFileError(path, f"signals must be numbers, got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[np.newaxis, :]  # a single record
    if arr.ndim != 2:
        raise DataFileError(
            path, f"signals must be 2-D (records x samples), got a {arr.ndim}-D array of shape {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise DataFileError(path, "contains no records")
    if arr.shape[1] < MIN_RECORD_SAMPLES:
        raise DataFileError(
            path,
            f"records are too short: {arr.shape[1]} samples, at least {MIN_RECORD_SAMPLES} are needed",
        )
    bad = np.flatnonzero(~np.isfinite(arr).all(axis=1)) if arr.dtype.kind == "f" else np.empty(0, int)
    if bad.size:
        raise DataFileError(path, f"NaN or infinite samples in {_records(bad)}")
    with np.errstate(over="ignore"):
        signals = np.ascontiguousarray(arr, dtype=np.float32)
    bad = np.flatnonzero(~np.isfinite(signals).all(axis=1))
    if bad.size:
        raise DataFileError(
            path, f"samples too large for float32 (infinite after conversion) in {_records(bad)}"
        )
    return signals


def _records(indices: Sequence[int] | np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(int(i)) for i in indices[:limit])
    more = f" and {len(indices) - limit} more" if len(indices) > limit else ""
    return f"record{'s' if len(indices) > 1 else ''} {shown}{more}"


def _stack_records(path: Path, cells: np.ndarray) -> np.ndarray:
    """Stack a 1-D collection of per-record arrays, refusing ragged lengths."""
    if cells.ndim > 1 and sorted(cells.shape)[:-1] != [1] * (cells.ndim - 1):
        raise DataFileError(path, f"signals: expected a list of records, got a {cells.shape} cell array")
    records = []
    for i, cell in enumerate(cells.ravel()):
        record = np.asarray(cell)
        if record.dtype == object or record.dtype.kind not in "fiu":
            raise DataFileError(path, f"record {i} is not an array of numbers")
        record = record.ravel()
        if records and len(record) != len(records[0]):
            raise DataFileError(
                path,
                f"records have different lengths (ragged): record {i} has {len(record)} samples, "
                f"record 0 has {len(records[0])}",
            )
        records.append(record)
    if not records:
        raise DataFileError(path, "contains no records")
    return np.stack(records)


def _text(value: Any) -> str | None:
    """One label-like value as text (None when missing); MATLAB cells arrive as 1-element arrays."""
    if isinstance(value, np.ndarray):
        if value.size == 0:
            return ""
        if value.size != 1:
            if value.dtype.kind == "U" and value.ndim == 1:
                return "".join(value.tolist()).strip()
            return None
        value = value.ravel()[0]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace").strip()
    if isinstance(value, str):
        return value.strip()
    return None


def _vector(path: Path, raw: Any, what: str) -> np.ndarray:
    """A 1-D array from a list or a MATLAB row/column vector."""
    arr = np.asarray(raw)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise DataFileError(path, f"{what}: expected a list (one value per record), got shape {arr.shape}")
    return arr


def _string_list(path: Path, raw: Any, what: str) -> list[str] | None:
    if raw is None:
        return None
    arr = _vector(path, raw, what)
    if arr.dtype.kind == "S":
        return [v.decode("utf-8", errors="replace").strip() for v in arr]
    if arr.dtype.kind == "U":
        return [v.strip() for v in arr]
    out = [_text(v) for v in arr] if arr.dtype == object else []
    if arr.dtype != object or any(v is None for v in out):
        raise DataFileError(path, f"{what}: expected text values")
    return out  # type: ignore[return-value]


def _resolve_labels(
    path: Path,
    raw: Any,
    n: int,
    where: str,
    index_classes: Sequence[str],
    known: Sequence[str],
    allow_new: bool,
) -> np.ndarray:
    """Class names, one per record, from text labels or indices into `index_classes`."""
    arr = _vector(path, raw, f"labels in {where}")
    if len(arr) != n:
        raise DataFileError(
            path, f"{len(arr)} labels in {where} for {n} records (expected one label per record)"
        )
    if arr.dtype == object and all(isinstance(v, int | float | np.number) for v in arr):
        arr = arr.astype(np.float64)
    if arr.dtype.kind == "b":
        raise DataFileError(path, f"labels in {where} are true/false values; expected class names or indices")
    if arr.dtype.kind in "iuf":
        values = arr.astype(np.float64)
        bad = np.flatnonzero(~np.isfinite(values) | (values != np.round(values)))
        if bad.size:
            raise DataFileError(
                path, f"labels in {where} must be class names or whole-number indices; see {_records(bad)}"
            )
        out_of_range = np.flatnonzero((values < 0) | (values >= len(index_classes)))
        if out_of_range.size:
            i = out_of_range[0]
            raise DataFileError(
                path,
                f"label index {int(values[i])} (record {i}) is out of range: indices count from 0 into "
                f"{len(index_classes)} classes ({', '.join(index_classes)})",
            )
        names = [index_classes[int(v)] for v in values]
    else:
        names = [_text(v) for v in arr]
        missing = [i for i, v in enumerate(names) if not v]
        if missing:
            raise DataFileError(path, f"empty label in {_records(missing)} ({where})")
    unknown = [c for c in dict.fromkeys(names) if c not in set(known)]
    if unknown and not allow_new:
        first = names.index(unknown[0])
        shown = ", ".join(repr(c) for c in unknown[:5]) + (
            f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        )
        raise DataFileError(
            path,
            f"unknown class {shown} (first in record {first}); known classes: {', '.join(known)}. "
            f"Fix the labels, or pass allow_new_classes=True to import new classes",
        )
    return np.asarray(names, dtype=object)


def _labels_argument(labels: Sequence[str] | str | os.PathLike, known: Sequence[str]) -> Any:
    if not isinstance(labels, str | os.PathLike):
        return list(labels) if not isinstance(labels, np.ndarray) else labels
    lpath = Path(labels)
    if not lpath.is_file():
        hint = ""
        if isinstance(labels, str) and labels in known:
            hint = f"; a string is read as a file name: for one class, pass a list like [{labels!r}] * n"
        raise DataFileError(lpath, f"no such file (labels= names a file with one label per line){hint}")
    try:
        text = lpath.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(lpath, f"labels file could not be read as UTF-8 text ({exc})") from None
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows:
        raise DataFileError(lpath, "labels file has no labels")
    header = [cell.strip().lower() for cell in rows[0]]
    if "label" in header or "labels" in header:
        column = header.index("label") if "label" in header else header.index("labels")
        rows = rows[1:]
    elif max(len(row) for row in rows) > 1:
        raise DataFileError(lpath, "labels file has several columns but none is named 'label'")
    else:
        column = 0
    values = [row[column].strip() if column < len(row) else "" for row in rows]
    if all(v.isdigit() for v in values):  # class indices, as a CSV label column of numbers would be read
        return np.asarray([int(v) for v in values])
    return np.asarray(values, dtype=object)


def _resolve_fs(path: Path, in_file: Any, given: float | None, min_fs: float) -> float:
    file_fs = None
    if in_file is not None:
        arr = np.asarray(in_file)
        if (
            arr.size != 1
            or arr.dtype.kind not in "fiu"
            or not np.isfinite(arr).all()
            or float(arr.ravel()[0]) <= 0
        ):
            raise DataFileError(path, f"fs in the file must be one positive number (Hz), got {in_file!r}")
        file_fs = float(arr.ravel()[0])
    if file_fs is not None and given is not None and not math.isclose(file_fs, given, rel_tol=1e-9):
        raise DataFileError(
            path, f"wrong sampling rate: the file says fs = {file_fs:g} Hz but fs={given:g} Hz was passed"
        )
    rate = file_fs if file_fs is not None else given
    if rate is None:
        raise DataFileError(path, "no sampling rate: the file has no fs; pass fs= (in Hz)")
    if rate < min_fs:
        raise DataFileError(
            path,
            f"sampling rate too low: fs = {rate:g} Hz, but the cavitation band (1.5-2.5 kHz) needs "
            f"fs >= {min_fs:g} Hz",
        )
    return float(rate)


def _clean_metadata(path: Path, metadata: Mapping[str, Any], n: int) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, raw in metadata.items():
        if not name or "/" in name:
            raise DataFileError(path, f"metadata column name {name!r}: use a non-empty name without '/'")
        arr = _vector(path, raw, f"metadata column {name!r}")
        if len(arr) != n:
            raise DataFileError(path, f"metadata column {name!r} has {len(arr)} values for {n} records")
        if arr.dtype.kind in "fiub":
            out[name] = arr.astype(np.float64) if arr.dtype.kind in "fb" else arr.astype(np.int64)
        elif arr.dtype.kind in "USO":
            out[name] = np.asarray(_string_list(path, arr, f"metadata column {name!r}"), dtype=object)
        else:
            raise DataFileError(path, f"metadata column {name!r}: expected numbers or text, got {arr.dtype}")
    return out


def _clean_record_ids(path: Path, raw: Any, n: int) -> np.ndarray:
    if raw is None:
        width = max(5, len(str(n - 1)))
        return np.asarray([f"{path.stem}-{i:0{width}d}" for i in range(n)], dtype=object)
    arr = _vector(path, raw, "record_ids")
    if arr.dtype.kind in "iu":
        arr = arr.astype(str)
    ids = _string_list(path, arr, "record_ids") or []
    if len(ids) != n:
        raise DataFileError(path, f"{len(ids)} record ids for {n} records")
    if not all(ids):
        raise DataFileError(path, f"empty record id in {_records([i for i, r in enumerate(ids) if not r])}")
    seen: dict[str, int] = {}
    for i, rid in enumerate(ids):
        if rid in seen:
            raise DataFileError(path, f"duplicate record id {rid!r} (records {seen[rid]} and {i})")
        seen[rid] = i
    return np.asarray(ids, dtype=object)


# --- readers, one per format -------------------------------------------------------------------


def _read_npy(path: Path, max_bytes: int) -> _Contents:
    arr = _np_load(path)
    if not isinstance(arr, np.ndarray):
        arr.close()
        raise DataFileError(path, "is a .npz archive, not a .npy array (rename it to .npz)")
    return _Contents(signals=arr)


def _np_load(path: Path) -> Any:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc):
            raise DataFileError(path, _OBJECTS) from None
        raise DataFileError(path, f"is damaged or not a NumPy file ({exc})") from None
    except (OSError, EOFError) as exc:
        raise DataFileError(path, f"is damaged or not a NumPy file ({exc})") from None


def _read_npz(path: Path, max_bytes: int) -> _Contents:
    if not zipfile.is_zipfile(path):
        raise DataFileError(path, "is not a .npz archive (not a zip file)")
    with zipfile.ZipFile(path) as archive:  # members are compressed: check what they expand to
        expanded = sum(info.file_size for info in archive.infolist())
    if expanded > max_bytes:
        raise DataFileError(
            path, f"is too large: {_size(expanded)} uncompressed, over max_bytes ({_size(max_bytes)})"
        )
    npz = _np_load(path)
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
                    raise DataFileError(path, f"array {name!r} {_OBJECTS}") from None
                raise

        contents = _Contents(signals=get("signals"))
        for name in ("labels", "fs", "record_ids", "class_names"):
            if name in npz.files:
                setattr(contents, name, get(name))
        contents.metadata = {k[len("meta_") :]: get(k) for k in npz.files if k.startswith("meta_")}
    return contents


def _read_csv(path: Path, max_bytes: int) -> _Contents:
    import pandas as pd

    with warnings.catch_warnings():
        # pandas only warns when a row is longer than the header (and drops the extra cells).
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            frame = pd.read_csv(path, index_col=False, skipinitialspace=True)
        except pd.errors.EmptyDataError:
            raise DataFileError(path, "contains no data") from None
        except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
            _raise_if_ragged_csv(path)
            raise DataFileError(path, f"is not a readable CSV file ({exc})") from None
        except UnicodeDecodeError:
            raise DataFileError(path, "is not a UTF-8 text CSV file") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame) == 0:
        raise DataFileError(path, "contains no records (only a header)")
    label_columns = [c for c in frame.columns if c.lower() == "label"]
    extra = {*METADATA_COLUMNS, _CSV_ID_COLUMN}
    sample_columns = [c for c in frame.columns if c not in extra and c not in label_columns]
    if not sample_columns:
        raise DataFileError(
            path, "has no sample columns (expected label, metadata columns, then the samples)"
        )
    samples = frame[sample_columns]
    if not label_columns and not pd.api.types.is_numeric_dtype(samples[sample_columns[0]]):
        raise DataFileError(
            path,
            f"has no 'label' column (the first column, {sample_columns[0]!r}, holds text: name it 'label')",
        )
    for column in sample_columns:
        if not pd.api.types.is_numeric_dtype(samples[column]) or samples[column].dtype == bool:
            _raise_non_numeric(path, samples, sample_columns)
    values = samples.to_numpy(dtype=np.float64)
    if np.isnan(values).any():
        _raise_if_ragged_csv(path)  # pandas fills a short row with NaN
        missing = np.flatnonzero(np.isnan(values).any(axis=1))
        raise DataFileError(path, f"empty or NaN sample cells in {_records(missing)}")
    metadata = {}
    for name in METADATA_COLUMNS:
        if name in frame.columns:
            column = pd.to_numeric(frame[name], errors="coerce")
            bad = np.flatnonzero(column.isna() & frame[name].notna())
            if bad.size:
                raise DataFileError(
                    path,
                    f"record {bad[0]} (line {bad[0] + 2}), column {name!r}: "
                    f"{frame[name].iloc[bad[0]]!r} is not a number",
                )
            metadata[name] = column.to_numpy(dtype=np.float64)
    record_ids = None
    if _CSV_ID_COLUMN in frame.columns:
        ids = frame[_CSV_ID_COLUMN]
        if ids.isna().any():
            raise DataFileError(path, f"empty record_id in {_records(np.flatnonzero(ids.isna()))}")
        record_ids = np.asarray([str(v) for v in ids], dtype=object)
    labels = None
    if label_columns:
        column = frame[label_columns[0]]
        labels = column.to_numpy() if pd.api.types.is_numeric_dtype(column) else column.to_numpy(dtype=object)
        if labels.dtype == object:
            labels = np.asarray(["" if v is None or v != v else str(v) for v in labels], dtype=object)
    return _Contents(signals=values, labels=labels, metadata=metadata, record_ids=record_ids)


def _raise_non_numeric(path: Path, samples: Any, columns: Sequence[str]) -> None:
    import pandas as pd

    first: tuple[int, str] | None = None
    for column in columns:
        coerced = pd.to_numeric(samples[column], errors="coerce")
        bad = np.flatnonzero(coerced.isna().to_numpy() & samples[column].notna().to_numpy())
        if bad.size and (first is None or bad[0] < first[0]):
            first = (int(bad[0]), column)
    if first is None:  # e.g. a column of true/false
        raise DataFileError(path, "sample cells must be numbers")
    row, column = first
    raise DataFileError(
        path,
        f"non-numeric sample in record {row} (line {row + 2}), column {column!r}: "
        f"{samples[column].iloc[row]!r} is not a number",
    )


def _raise_if_ragged_csv(path: Path) -> None:
    """Find the first row whose number of cells differs from the header's, and say so."""
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        record = 0
        for row in reader:
            if not row:  # pandas skips blank lines too
                continue
            if len(row) != len(header):
                raise DataFileError(
                    path,
                    f"rows have different lengths (ragged): record {record} (line {reader.line_num}) has "
                    f"{len(row)} cells, the header has {len(header)}",
                )
            record += 1


def _read_hdf5(path: Path, max_bytes: int) -> _Contents:
    if _is_matlab73(path):
        return _read_mat73(path, max_bytes)
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
            _check_expanded(path, signals.size, max_bytes)
        contents = _Contents(signals=signals[()])
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


def _read_dataset_file(path: Path, max_bytes: int) -> _Contents:
    with Dataset(path) as ds:
        _check_expanded(path, ds.n_records * ds.n_samples, max_bytes)
        names = np.asarray(ds.class_names, dtype=object)
        return _Contents(
            signals=ds.signals(),
            labels=names[ds.labels],
            fs=ds.fs,
            metadata=ds.metadata(),
            record_ids=ds.record_ids,
        )


def _is_matlab73(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(10) == b"MATLAB 7.3"


def _read_mat(path: Path, max_bytes: int) -> _Contents:
    if _is_matlab73(path) or h5py.is_hdf5(path):
        return _read_mat73(path, max_bytes)
    import scipy.io

    try:
        listing = {name: (shape, kind) for name, shape, kind in scipy.io.whosmat(path)}
    except Exception as exc:  # scipy raises several types for a file that is not a MAT file
        raise DataFileError(path, f"is not a MATLAB .mat file ({type(exc).__name__}: {exc})") from None
    if "signals" not in listing:
        raise DataFileError(path, f"has no 'signals' variable (found: {', '.join(listing) or 'nothing'})")
    shape, kind = listing["signals"]
    if kind not in ("cell", "struct", "object", "function_handle", "char", "sparse"):
        _check_expanded(path, math.prod(shape), max_bytes)
    if kind in ("struct", "object", "function_handle", "sparse"):
        raise DataFileError(
            path, f"'signals' is a MATLAB {kind}; save it as a numeric matrix (records x samples)"
        )
    wanted = [name for name in _MAT_VARIABLES if name in listing]
    # Plain loadmat: reads data only (MATLAB objects come back as opaque bytes, nothing is run).
    data = scipy.io.loadmat(path, variable_names=wanted, chars_as_strings=True)
    return _mat_contents(path, data)


def _mat_contents(path: Path, data: Mapping[str, Any]) -> _Contents:
    signals = data["signals"]
    if (
        isinstance(signals, np.ndarray)
        and signals.ndim == 2
        and signals.shape[1] == 1
        and signals.shape[0] > 1
    ):
        signals = signals.T  # a MATLAB column vector is one record
    return _Contents(
        signals=signals,
        labels=data.get("labels"),
        fs=data.get("fs"),
        record_ids=data.get("record_ids"),
        class_names=data.get("class_names"),
        metadata={name: data[name] for name in METADATA_COLUMNS if name in data},
    )


def _read_mat73(path: Path, max_bytes: int) -> _Contents:
    """MATLAB v7.3 files are HDF5; MATLAB writes arrays column-major, so each one reads transposed."""
    with h5py.File(path, "r") as f:
        if not isinstance(f.get("signals"), h5py.Dataset):
            found = ", ".join(k for k in f.keys() if not k.startswith("#")) or "nothing"
            raise DataFileError(path, f"has no 'signals' variable (found: {found})")
        if f["signals"].dtype.kind in "fiu":
            _check_expanded(path, f["signals"].size, max_bytes)
        data = {
            name: _mat73_value(path, f, f[name], name)
            for name in _MAT_VARIABLES
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
