"""Turning values into what a JSON column can hold, the same way on every backend."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any


def to_jsonable(value: Any, where: str = "value") -> Any:
    """Return `value` as plain JSON data (dict/list/str/int/float/bool/None).

    Numpy and torch values become Python numbers and lists (anything with `tolist()`), tuples become
    lists, datetimes ISO strings, paths strings. JSON has no NaN or infinity: non-finite numbers are
    stored as null, as JavaScript's JSON.stringify does, so SQLite and PostgreSQL agree.
    `where` names the value in error messages.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, bool) or not isinstance(key, str | int):
                raise TypeError(
                    f"{where}: key {key!r} must be a string (or an integer), not {type(key).__name__}"
                )
            out[str(key)] = to_jsonable(item, f"{where}[{key!r}]")
        return out
    if isinstance(value, list | tuple):
        return [to_jsonable(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    tolist = getattr(value, "tolist", None)
    if callable(tolist):  # numpy arrays and scalars, torch tensors
        return to_jsonable(tolist(), where)
    raise TypeError(
        f"{where}: {type(value).__name__} cannot be stored as JSON; use numbers, strings, lists and dicts"
    )


def dumps(value: Any) -> str:
    """Serialise for a JSON column (readable non-ASCII so text search finds it)."""
    return json.dumps(to_jsonable(value), ensure_ascii=False, allow_nan=False)
