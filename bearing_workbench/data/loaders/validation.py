"""Checks common to every format: signals, labels, sampling rate, metadata and record ids."""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataFileError
from .layout import MIN_RECORD_SAMPLES


def signal_matrix(path: Path, raw: Any) -> np.ndarray:
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
        raise DataFileError(path, f"NaN or infinite samples in {records_text(bad)}")
    with np.errstate(over="ignore"):
        signals = np.ascontiguousarray(arr, dtype=np.float32)
    bad = np.flatnonzero(~np.isfinite(signals).all(axis=1))
    if bad.size:
        raise DataFileError(
            path, f"samples too large for float32 (infinite after conversion) in {records_text(bad)}"
        )
    return signals


def records_text(indices: Sequence[int] | np.ndarray, limit: int = 5) -> str:
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


def text_value(value: Any) -> str | None:
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


def vector(path: Path, raw: Any, what: str) -> np.ndarray:
    """A 1-D array from a list or a MATLAB row/column vector."""
    arr = np.asarray(raw)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise DataFileError(path, f"{what}: expected a list (one value per record), got shape {arr.shape}")
    return arr


def string_list(path: Path, raw: Any, what: str) -> list[str] | None:
    if raw is None:
        return None
    arr = vector(path, raw, what)
    if arr.dtype.kind == "S":
        return [v.decode("utf-8", errors="replace").strip() for v in arr]
    if arr.dtype.kind == "U":
        return [v.strip() for v in arr]
    out = [text_value(v) for v in arr] if arr.dtype == object else []
    if arr.dtype != object or any(v is None for v in out):
        raise DataFileError(path, f"{what}: expected text values")
    return out  # type: ignore[return-value]


def resolve_labels(
    path: Path,
    raw: Any,
    n: int,
    where: str,
    index_classes: Sequence[str],
    known: Sequence[str],
    allow_new: bool,
) -> np.ndarray:
    """Class names, one per record, from text labels or indices into `index_classes`."""
    arr = vector(path, raw, f"labels in {where}")
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
                path,
                f"labels in {where} must be class names or whole-number indices; see {records_text(bad)}",
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
        names = [text_value(v) for v in arr]
        missing = [i for i, v in enumerate(names) if not v]
        if missing:
            raise DataFileError(path, f"empty label in {records_text(missing)} ({where})")
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


def labels_argument(labels: Sequence[str] | str | os.PathLike, known: Sequence[str]) -> Any:
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


def resolve_fs(path: Path, in_file: Any, given: float | None, min_fs: float) -> float:
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


def clean_metadata(path: Path, metadata: Mapping[str, Any], n: int) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, raw in metadata.items():
        if not name or "/" in name:
            raise DataFileError(path, f"metadata column name {name!r}: use a non-empty name without '/'")
        arr = vector(path, raw, f"metadata column {name!r}")
        if len(arr) != n:
            raise DataFileError(path, f"metadata column {name!r} has {len(arr)} values for {n} records")
        if arr.dtype.kind in "fiub":
            out[name] = arr.astype(np.float64) if arr.dtype.kind in "fb" else arr.astype(np.int64)
        elif arr.dtype.kind in "USO":
            out[name] = np.asarray(string_list(path, arr, f"metadata column {name!r}"), dtype=object)
        else:
            raise DataFileError(path, f"metadata column {name!r}: expected numbers or text, got {arr.dtype}")
    return out


def clean_record_ids(path: Path, raw: Any, n: int) -> np.ndarray:
    if raw is None:
        width = max(5, len(str(n - 1)))
        return np.asarray([f"{path.stem}-{i:0{width}d}" for i in range(n)], dtype=object)
    arr = vector(path, raw, "record_ids")
    if arr.dtype.kind in "iu":
        arr = arr.astype(str)
    ids = string_list(path, arr, "record_ids") or []
    if len(ids) != n:
        raise DataFileError(path, f"{len(ids)} record ids for {n} records")
    if not all(ids):
        raise DataFileError(
            path, f"empty record id in {records_text([i for i, r in enumerate(ids) if not r])}"
        )
    seen: dict[str, int] = {}
    for i, rid in enumerate(ids):
        if rid in seen:
            raise DataFileError(path, f"duplicate record id {rid!r} (records {seen[rid]} and {i})")
        seen[rid] = i
    return np.asarray(ids, dtype=object)
