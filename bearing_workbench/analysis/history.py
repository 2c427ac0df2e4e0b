"""A run's epoch history as a flat table and as CSV (for downloads and reports).

Rows come from the store (`EpochRecord`) or from progress messages / ``history.json`` entries
(mappings with the same keys); family-specific values (``extra``, e.g. ``physics_loss``) become
columns of their own after the standard ones.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from collections.abc import Iterable, Mapping
from typing import Any

HISTORY_COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")


def _as_mapping(row: Any, index: int) -> Mapping[str, Any]:
    if isinstance(row, Mapping):
        return row
    if dataclasses.is_dataclass(row) and not isinstance(row, type):
        return {f.name: getattr(row, f.name) for f in dataclasses.fields(row)}
    raise TypeError(f"history row {index} must be a mapping or an epoch record, got {type(row).__name__}")


def _cell(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def history_rows(epochs: Iterable[Any]) -> list[dict[str, Any]]:
    """One flat dict per epoch, sorted by epoch (a repeated epoch keeps its last row); ``extra``
    values are flattened into their own keys; non-finite numbers become None."""
    by_epoch: dict[int, dict[str, Any]] = {}
    for index, row in enumerate(epochs):
        values = _as_mapping(row, index)
        epoch = values.get("epoch")
        if isinstance(epoch, bool) or not isinstance(epoch, int):
            raise ValueError(f"history row {index}: epoch must be an integer, got {epoch!r}")
        flat = {name: _cell(values.get(name)) for name in HISTORY_COLUMNS}
        extra = values.get("extra") or {}
        if not isinstance(extra, Mapping):
            raise ValueError(f"history row {index} (epoch {epoch}): extra must be a mapping")
        for key, value in extra.items():
            if str(key) not in HISTORY_COLUMNS:
                flat[str(key)] = _cell(value)
        by_epoch[epoch] = flat
    return [by_epoch[e] for e in sorted(by_epoch)]


def history_columns(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """The standard columns, then every extra key met, sorted."""
    extra: set[str] = set()
    for row in rows:
        extra.update(k for k in row if k not in HISTORY_COLUMNS)
    return [*HISTORY_COLUMNS, *sorted(extra)]


def history_csv(epochs: Iterable[Any]) -> str:
    """The history as CSV text: a header line, then one line per epoch (empty cells for missing values)."""
    rows = history_rows(epochs)
    columns = history_columns(rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)  # None is written as an empty cell
    return out.getvalue()
