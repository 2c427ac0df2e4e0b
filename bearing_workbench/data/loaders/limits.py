"""Size checks made before a file is read (or inflated).

Compressed content (an .npz archive's members, a compressed HDF5 or MATLAB array) is checked
against what it declares before anything is inflated: a file may not expand beyond `max_bytes`,
nor beyond `MAX_INFLATION` times its size on disk. Vibration signals are noisy and compress
little (1-3:1 with deflate); a ratio of 1000:1 is a zip bomb, or signals that are all zeros.
Small files pass whatever their ratio: up to `SMALL_EXPANSION`, the size of 2048 of the
shortest records in float64, cannot hurt.
"""

from __future__ import annotations

from pathlib import Path

from .errors import DataFileError
from .layout import MIN_RECORD_SAMPLES, SUPPORTED_EXTENSIONS

MAX_INFLATION = 100
SMALL_EXPANSION = 2048 * MIN_RECORD_SAMPLES * 8


def check_file(path: Path, max_bytes: int) -> None:
    if not path.exists():
        raise DataFileError(path, "no such file")
    if not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file"
        raise DataFileError(path, f"is not a file ({kind})")
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
        limit = size_text(max_bytes)
        raise DataFileError(path, f"is too large: {size_text(size)}, over the limit of {limit}")


def size_text(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{int(n)} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def check_inflation(path: Path, expanded: int, max_bytes: int, *, what: str) -> None:
    """Refuse content declaring `expanded` bytes: over `max_bytes`, or inflating a small file too far."""
    if expanded > max_bytes:
        raise DataFileError(
            path,
            f"is too large: {what} take {size_text(expanded)} uncompressed, "
            f"over the limit of {size_text(max_bytes)}",
        )
    on_disk = max(path.stat().st_size, 1)
    if expanded > max(SMALL_EXPANSION, MAX_INFLATION * on_disk):
        raise DataFileError(
            path,
            f"{what} would inflate to {size_text(expanded)} from {size_text(on_disk)} on disk "
            f"({expanded / on_disk:,.0f}:1); signal files compress far less, at most {MAX_INFLATION}:1 "
            f"is accepted (refused before inflating anything)",
        )


def check_expanded(path: Path, n_values: int, max_bytes: int) -> None:
    """Refuse signals of `n_values` samples that would take too much memory as float32."""
    check_inflation(path, n_values * 4, max_bytes, what="its signals (as float32)")
