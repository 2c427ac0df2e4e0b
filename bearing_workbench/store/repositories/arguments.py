"""Normalisers of the store's list and enum arguments; scalar arguments are typed in the signatures.

The repositories' public methods take `config.arguments` types (`RowId`, `Text`, ...) checked by
pydantic's `validate_call`; what is left here turns a value into what the store keeps (a list
without duplicates, RunStatus values, a UTC datetime, a metric float), checking each item with the
same types so that the messages read the same.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime

from bearing_workbench.config.arguments import ArgumentError, RowId, Text, check
from bearing_workbench.store.status import RunStatus


def require_text(value: object, field: str) -> str:
    """The text, stripped; ArgumentError unless it is a non-empty string."""
    return check(Text, value, field)


def require_id(value: object, field: str) -> int:
    """The integer id (any int-like but bool); ArgumentError otherwise."""
    return check(RowId, value, field)


def metric_float(value: object, field: str) -> float | None:
    """An epoch metric as a float, None for None or a non-finite number; TypeError for a non-number."""
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(value, str | bytes):
        raise TypeError(f"epoch metric {field!r} must be a number, got {value!r}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"epoch metric {field!r} must be a number, got {type(value).__name__}") from None
    # Same rule as JSON columns: non-finite values are stored as null on every backend.
    return number if math.isfinite(number) else None


def as_utc(value: datetime) -> datetime:
    """The datetime in UTC (naive ones are taken as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def statuses(status: RunStatus | str | Iterable[RunStatus | str]) -> list[RunStatus]:
    """One status or several, as RunStatus values; ValueError naming the allowed ones."""
    items = [status] if isinstance(status, str) else list(status)
    out = []
    for item in items:
        try:
            out.append(RunStatus(item))
        except ValueError:
            allowed = ", ".join(s.value for s in RunStatus)
            raise ValueError(f"status {item!r} is not one of: {allowed}") from None
    return out


def unique_ids(values: Iterable[int]) -> list[int]:
    """Experiment ids, duplicates dropped, order kept."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ArgumentError(f"experiment_ids: must be a list of integer ids, got {values!r}")
    return list(dict.fromkeys(require_id(v, "experiment id") for v in values))


def texts(value: str | Iterable[str], field: str) -> list[str]:
    """One text or several, each checked by `require_text`."""
    items = [value] if isinstance(value, str) else list(value)
    return [require_text(item, field) for item in items]


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Tags stripped, duplicates dropped, order kept; TypeError for one string instead of a list."""
    if isinstance(tags, str):
        raise ArgumentError(f"tags: must be a list of strings, not one string, got {tags!r}")
    out: list[str] = []
    for tag in tags:
        text = require_text(tag, "tag")
        if text not in out:
            out.append(text)
    return out
