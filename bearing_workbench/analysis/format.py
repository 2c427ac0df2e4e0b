"""How every page and the report write numbers, percentages, durations, sizes, dates, p-values and
metric names: one module, so that a metric reads the same wherever it appears.

Conventions (chosen once):
- Scores in 0-1 (accuracy, precision, recall, F1, AUC-free rates) are percentages with one decimal:
  ``"92.3 %"``. F1 is a score like the others: ``"macro-F1 92.3 %"`` everywhere.
- Losses and other unbounded values: four significant digits (``"0.3127"``).
- A missing or non-finite value is a dash (`NO_VALUE`), never ``"nan"``.
- An accuracy names its level where two levels exist: ``"val accuracy (window level)"`` is what the
  training loop measures on windows each epoch; ``"test accuracy (record level)"`` is the evaluation's,
  where each record's windows are averaged into one prediction.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

NO_VALUE = "—"
WINDOW, RECORD = "window", "record"

# key -> (name, kind). kind: "score" (0-1, shown as a percentage), "loss" (significant digits),
# "count", "seconds". Keys are those of metrics.json, the epoch rows and the comparison.
_METRICS: dict[str, tuple[str, str]] = {
    "accuracy": ("test accuracy", "score"),
    "macro_precision": ("macro precision", "score"),
    "macro_recall": ("macro recall", "score"),
    "macro_f1": ("macro-F1", "score"),
    "macro_auc": ("macro AUC", "score"),
    "precision": ("precision", "score"),
    "recall": ("recall", "score"),
    "f1": ("F1", "score"),
    "auc": ("AUC", "score"),
    "window_accuracy": ("test accuracy", "score"),
    "val_accuracy": ("val accuracy", "score"),
    "cv_accuracy": ("CV accuracy", "score"),
    "train_acc": ("train accuracy", "score"),
    "val_acc": ("val accuracy", "score"),
    "best_val_acc": ("val accuracy at the best epoch", "score"),
    "train_accuracy": ("train accuracy", "score"),
    "train_loss": ("train loss", "loss"),
    "val_loss": ("val loss", "loss"),
    "log_loss": ("log loss", "loss"),
    "lr": ("learning rate", "loss"),
    "train_seconds": ("training time", "seconds"),
    "duration_s": ("run time", "seconds"),
    "epochs_run": ("epochs", "count"),
    "best_epoch": ("best epoch", "count"),
}
# The level each accuracy is measured at (the loop's epochs see windows; the evaluation, records).
_LEVELS: dict[str, str] = {
    "accuracy": RECORD,
    "val_accuracy": RECORD,
    "window_accuracy": WINDOW,
    "train_acc": WINDOW,
    "val_acc": WINDOW,
    "best_val_acc": WINDOW,
    "train_accuracy": WINDOW,
}


def finite(value: Any) -> float | None:
    """`value` as a float when it is a finite real number (not a bool); else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def number(value: Any, digits: int = 4) -> str:
    """Fixed decimals: ``number(0.31274) == "0.3127"``; a dash for None."""
    value = finite(value)
    return NO_VALUE if value is None else f"{value:.{digits}f}"


def significant(value: Any, digits: int = 4) -> str:
    """Significant digits (losses, learning rates): ``"0.3127"``, ``"1e-05"``; a dash for None."""
    value = finite(value)
    return NO_VALUE if value is None else f"{value:.{digits}g}"


def percent(value: Any, digits: int = 1) -> str:
    """A 0-1 fraction as a percentage: ``percent(0.9234) == "92.3 %"``; a dash for None."""
    value = finite(value)
    return NO_VALUE if value is None else f"{100 * value:.{digits}f} %"


def points(difference: Any, digits: int = 1) -> str:
    """A signed difference of two fractions in percentage points: ``"+1.2 pts"``; a dash for None."""
    value = finite(difference)
    return NO_VALUE if value is None else f"{100 * value:+.{digits}f} pts"


def duration(seconds: Any) -> str:
    """``"8.4 s"``, ``"42 s"``, ``"3 min 05 s"``, ``"2 h 07 min"``; a dash for None."""
    seconds = finite(seconds)
    if seconds is None:
        return NO_VALUE
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    whole = int(round(seconds))
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def rough_duration(seconds: Any) -> str:
    """An estimate's duration, in whole units: ``"45 s"``, ``"12 min"``, ``"2.5 h"``; a dash for None."""
    seconds = finite(seconds)
    if seconds is None:
        return NO_VALUE
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def size(n: Any) -> str:
    """Bytes in binary units: ``"512 B"``, ``"3.2 MiB"``, ``"23.5 GiB"``; a dash for None."""
    value = finite(n)
    if value is None:
        return NO_VALUE
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def local_time(timestamp: float | datetime | None, with_date: bool = False) -> str:
    """A Unix time or a datetime in this machine's time zone: ``"14:03:27"`` (or with the date);
    a naive datetime is taken as UTC (the store keeps UTC)."""
    if timestamp is None:
        return NO_VALUE
    moment = _aware(timestamp) if isinstance(timestamp, datetime) else datetime.fromtimestamp(timestamp, UTC)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def utc_time(moment: datetime | None) -> str:
    """A datetime in UTC to the minute, for documents read elsewhere: ``"2026-03-01 14:03 UTC"``."""
    if moment is None:
        return NO_VALUE
    return _aware(moment).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def p_value(p: Any) -> str:
    """A p-value to two significant digits: ``"p = 0.032"``, ``"p = 1"``, ``"p < 0.001"``; a dash for None."""
    value = finite(p)
    if value is None:
        return NO_VALUE
    return "p < 0.001" if value < 0.001 else f"p = {value:.2g}"


def metric_level(key: str) -> str | None:
    """`WINDOW` or `RECORD` for an accuracy measured at one of the two levels; None otherwise."""
    return _LEVELS.get(key)


def metric_name(key: str, with_level: bool = True) -> str:
    """A metric's name for people: ``"macro-F1"``, ``"val accuracy (window level)"``; an unknown key
    with its underscores as spaces."""
    name = _METRICS[key][0] if key in _METRICS else key.replace("_", " ")
    level = _LEVELS.get(key)
    return f"{name} ({level} level)" if with_level and level else name


def metric_value(key: str, value: Any) -> str:
    """A metric's value as `metric_name`'s kind says: scores as percentages, losses with significant
    digits, times as durations, counts as integers; a dash for None."""
    kind = _METRICS.get(key, ("", _guess_kind(key)))[1]
    if kind == "score":
        return percent(value)
    if kind == "seconds":
        return duration(value)
    if kind == "count":
        value = finite(value)
        return NO_VALUE if value is None else f"{value:.0f}"
    return significant(value)


def _guess_kind(key: str) -> str:
    if key.endswith(("acc", "accuracy", "f1", "precision", "recall")):
        return "score"
    if key.endswith(("seconds", "_s")):
        return "seconds"
    return "loss"
