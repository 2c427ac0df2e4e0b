"""Size checks made before a file is read (or inflated)."""

from __future__ import annotations

from pathlib import Path

from .errors import DataFileError
from .layout import SUPPORTED_EXTENSIONS


def check_file(path: Path, max_bytes: int) -> None:
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
            path, f"is too large: {size_text(size)}, over the limit of {size_text(max_bytes)} (max_bytes)"
        )


def size_text(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def check_expanded(path: Path, n_values: int, max_bytes: int) -> None:
    """Refuse compressed content that would expand beyond max_bytes as float32 signals."""
    if n_values * 4 > max_bytes:
        raise DataFileError(
            path,
            f"is too large: its signals take {size_text(n_values * 4)} in memory, "
            f"over max_bytes ({size_text(max_bytes)})",
        )
