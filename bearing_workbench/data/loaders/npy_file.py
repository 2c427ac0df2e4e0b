"""`.npy` files: one array of signals (labels and fs passed separately)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .errors import OBJECTS, DataFileError
from .layout import Contents


def read_npy(path: Path, max_bytes: int) -> Contents:
    arr = np_load(path)
    if not isinstance(arr, np.ndarray):
        arr.close()
        raise DataFileError(path, "is a .npz archive, not a .npy array (rename it to .npz)")
    return Contents(signals=arr)


def np_load(path: Path) -> Any:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc):
            raise DataFileError(path, OBJECTS) from None
        raise DataFileError(path, f"is damaged or not a NumPy file ({exc})") from None
    except (OSError, EOFError) as exc:
        raise DataFileError(path, f"is damaged or not a NumPy file ({exc})") from None
