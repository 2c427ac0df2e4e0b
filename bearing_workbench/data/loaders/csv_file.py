"""`.csv` files: a header row, then one record per row: `label`, `record_id` and metadata columns,
then the samples. The label column's name can be chosen (`labels_key`)."""

from __future__ import annotations

import csv
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataFileError, shown
from .layout import CSV_ID_COLUMN, CSV_LABEL_COLUMN, METADATA_COLUMNS, Contents, Keys, ReadOptions
from .validation import records_text

NO_HEADER = "has no header row: the first line must name the columns (label, record_id, s0...)"
_FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class _Layout:
    """How to read the rows: whether line 1 is a header, and which column holds the labels."""

    header: bool
    label: str | None  # the label column's name; None: the column named 'label', any case

    @property
    def first_line(self) -> int:
        """The line of record 0 (1-based)."""
        return 2 if self.header else 1


def read_csv(path: Path, options: ReadOptions) -> Contents:
    keys = options.keys
    if "signals_key" in keys.given:
        raise DataFileError(
            path,
            "a .csv file's samples are its columns after label, record_id and the metadata: "
            "{option} does not apply",
            "signals_key",
        )
    if "fs_key" in keys.given:
        raise DataFileError(
            path, "a .csv file holds no sampling rate: {option} does not apply; pass {option:fs}", "fs_key"
        )
    label = keys.labels if "labels_key" in keys.given else None
    first = _first_row(path)
    if first is not None and _is_data_row(first):
        # Say so first; then whatever else is wrong with the rows, so one fix is not followed by another.
        problem = NO_HEADER
        try:
            _parse(path, _Layout(header=False, label=None), keys)
        except DataFileError as exc:
            problem += f"; the rows also have a fault: {exc.problem}"
        raise DataFileError(path, problem)
    return _parse(path, _Layout(header=True, label=label), keys)


def _first_row(path: Path) -> list[str] | None:
    """The first non-blank line's cells (None for a file without one, or one that is not UTF-8)."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                if any(cell.strip() for cell in row):
                    return [cell.strip() for cell in row]
    except (UnicodeDecodeError, csv.Error):
        return None
    return None


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _is_data_row(cells: Sequence[str]) -> bool:
    """Whether a first line holds samples rather than column names.

    Mostly numbers means data, except numbers that strictly increase: those are sample indices or
    times written as column names (``pd.DataFrame(signals).to_csv()`` writes 0, 1, 2...), where
    samples of a vibration record never increase over a thousand cells.
    """
    numbers = [v for v in map(_number, cells) if v is not None]
    if len(numbers) < 2 or len(numbers) * 2 < len(cells):
        return False
    increasing = all(b > a for a, b in zip(numbers, numbers[1:], strict=False))
    return not increasing


def _parse(path: Path, layout: _Layout, keys: Keys) -> Contents:
    import pandas as pd

    frame = _read_frame(path, layout)
    if len(frame) == 0:
        raise DataFileError(path, "contains no records (only a header)")
    if layout.label is not None:
        if layout.label not in frame.columns:
            raise keys.missing(path, "labels_key", "column", list(frame.columns))
        label_columns = [layout.label]
    else:
        label_columns = [c for c in frame.columns if c.lower() == CSV_LABEL_COLUMN]
    extra = {*METADATA_COLUMNS, CSV_ID_COLUMN}
    sample_columns = [c for c in frame.columns if c not in extra and c not in label_columns]
    if not sample_columns:
        raise DataFileError(
            path, "has no sample columns (expected label, metadata columns, then the samples)"
        )
    samples = frame[sample_columns]
    if not label_columns and not pd.api.types.is_numeric_dtype(samples[sample_columns[0]]):
        if not layout.header:  # the first cell of each row is text: the labels, in a file without header
            label_columns, sample_columns = [sample_columns[0]], sample_columns[1:]
            samples = frame[sample_columns]
        else:
            raise DataFileError(
                path,
                f"has no 'label' column (the first column, {sample_columns[0]!r}, holds text: "
                "name it 'label', or name it with {option})",
                "labels_key",
            )
    for column in sample_columns:
        if not pd.api.types.is_numeric_dtype(samples[column]) or samples[column].dtype == bool:
            _raise_non_numeric(path, samples, sample_columns, layout)
    values = samples.to_numpy(dtype=np.float64)
    if np.isnan(values).any():
        _raise_if_ragged_csv(path, layout)  # pandas fills a short row with NaN
        missing = np.flatnonzero(np.isnan(values).any(axis=1))
        raise DataFileError(path, f"empty or NaN sample cells in {records_text(missing)}")
    _raise_if_too_large(path, values, sample_columns, layout)
    metadata = {}
    for name in METADATA_COLUMNS:
        if name in frame.columns:
            column = pd.to_numeric(frame[name], errors="coerce")
            bad = np.flatnonzero(column.isna() & frame[name].notna())
            if bad.size:
                row = int(bad[0])
                raise DataFileError(
                    path,
                    f"record {row} (line {row + layout.first_line}), column {name!r}: "
                    f"{shown(frame[name].iloc[row])} is not a number",
                )
            metadata[name] = column.to_numpy(dtype=np.float64)
    record_ids = None
    if CSV_ID_COLUMN in frame.columns:
        ids = frame[CSV_ID_COLUMN]
        if ids.isna().any():
            raise DataFileError(path, f"empty record_id in {records_text(np.flatnonzero(ids.isna()))}")
        record_ids = np.asarray([str(v) for v in ids], dtype=object)
    labels = None
    if label_columns:
        column = frame[label_columns[0]]
        labels = column.to_numpy() if pd.api.types.is_numeric_dtype(column) else column.to_numpy(dtype=object)
        if labels.dtype == object:
            labels = np.asarray(["" if v is None or v != v else str(v) for v in labels], dtype=object)
    return Contents(signals=values, labels=labels, metadata=metadata, record_ids=record_ids)


def _read_frame(path: Path, layout: _Layout) -> Any:
    import pandas as pd

    header: dict[str, Any] = {}
    if not layout.header:  # columns by position, 1-based as a spreadsheet counts them
        width = len(_first_row(path) or [])
        header = {"header": None, "names": [str(i + 1) for i in range(width)]}
    with warnings.catch_warnings():
        # pandas only warns when a row is longer than the header (and drops the extra cells).
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            frame = pd.read_csv(path, index_col=False, skipinitialspace=True, **header)
        except pd.errors.EmptyDataError:
            raise DataFileError(path, "contains no data") from None
        except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
            _raise_if_ragged_csv(path, layout)
            raise DataFileError(path, f"is not a readable CSV file ({exc})") from None
        except UnicodeDecodeError:
            raise DataFileError(path, "is not a UTF-8 text CSV file") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _raise_if_too_large(path: Path, values: np.ndarray, columns: Sequence[str], layout: _Layout) -> None:
    """Name the first cell that is infinite, or beyond float32 (1e400 overflows to inf when parsed)."""
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (np.abs(values) > _FLOAT32_MAX)
    if not bad.any():
        return
    row, col = (int(i) for i in np.argwhere(bad)[0])
    raw = _cell_text(path, layout, row, columns[col])
    what = "is infinite" if raw is not None and math.isinf(_number(raw) or 0.0) else "is too large"
    raise DataFileError(
        path,
        f"record {row} (line {row + layout.first_line}), column {columns[col]!r}: "
        f"{raw if raw is not None else shown(values[row, col])} {what}: samples must be finite and "
        f"within ±{_FLOAT32_MAX:.3g} (float32)",
    )


def _cell_text(path: Path, layout: _Layout, record: int, column: str) -> str | None:
    """The text of one cell as the file has it (None when it cannot be found again)."""
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        rows = (row for row in csv.reader(handle) if row)  # pandas skips blank lines too
        if layout.header:
            names = [cell.strip() for cell in next(rows, [])]
            if column not in names:
                return None
            index = names.index(column)
        else:
            index = int(column) - 1
        for i, row in enumerate(rows):
            if i == record:
                return row[index].strip() if index < len(row) else None
    return None


def _raise_non_numeric(path: Path, samples: Any, columns: Sequence[str], layout: _Layout) -> None:
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
        f"non-numeric sample in record {row} (line {row + layout.first_line}), column {column!r}: "
        f"{shown(samples[column].iloc[row])} is not a number",
    )


def _raise_if_ragged_csv(path: Path, layout: _Layout) -> None:
    """Find the first row whose number of cells differs from the first line's, and say so."""
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        against = "the header has" if layout.header else "the first row has"
        record = 0 if layout.header else 1
        for row in reader:
            if not row:  # pandas skips blank lines too
                continue
            if len(row) != len(header):
                raise DataFileError(
                    path,
                    f"rows have different lengths (ragged): record {record} (line {reader.line_num}) has "
                    f"{len(row)} cells, {against} {len(header)}",
                )
            record += 1
