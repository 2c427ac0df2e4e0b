"""The layouts the loaders accept: file types, names of metadata columns, the shortest record,
and `Contents`, what a reader found in a file before validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SUPPORTED_EXTENSIONS = (".csv", ".h5", ".hdf5", ".mat", ".npy", ".npz")
METADATA_COLUMNS = ("speed_hz", "load_frac", "temperature_c")
MIN_RECORD_SAMPLES = 1024
CSV_ID_COLUMN = "record_id"
MAT_VARIABLES = ("signals", "labels", "fs", "record_ids", "class_names", *METADATA_COLUMNS)


@dataclass
class Contents:
    """What a reader found in a file, before validation."""

    signals: Any
    labels: Any = None
    fs: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)
    record_ids: Any = None
    class_names: Any = None
