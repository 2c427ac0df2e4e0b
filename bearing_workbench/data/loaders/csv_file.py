"""`.csv` files: one record per row; `label`, `record_id` and metadata columns, then the samples."""

from __future__ import annotations

import csv
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataFileError
from .layout import CSV_ID_COLUMN, METADATA_COLUMNS, Contents
from .validation import records_text


def read_csv(path: Path, max_bytes: int) -> Contents:
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
    extra = {*METADATA_COLUMNS, CSV_ID_COLUMN}
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
        raise DataFileError(path, f"empty or NaN sample cells in {records_text(missing)}")
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
