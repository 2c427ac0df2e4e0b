"""The layouts the loaders accept: file types, names of arrays and metadata columns, the shortest
record, and `Contents`, what a reader found in a file before validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import DataFileError, OptionError, shown

SUPPORTED_EXTENSIONS = (".csv", ".h5", ".hdf5", ".mat", ".npy", ".npz")
METADATA_COLUMNS = ("speed_hz", "load_frac", "temperature_c")
MIN_RECORD_SAMPLES = 1024
CSV_ID_COLUMN = "record_id"
CSV_LABEL_COLUMN = "label"
DEFAULT_KEYS = {"signals_key": "signals", "labels_key": "labels", "fs_key": "fs"}


@dataclass(frozen=True)
class Keys:
    """The names a file's signals, labels and sampling rate go by (`signals_key=`, ...).

    `given` holds the options the caller set, so that a name the user chose and the file lacks is
    refused, where a default name the file lacks only means "not in this file".
    """

    signals: str = "signals"
    labels: str = "labels"
    fs: str = "fs"
    given: frozenset[str] = frozenset()

    @classmethod
    def from_options(cls, **options: str | None) -> Keys:
        """Keys from ``signals_key=``, ``labels_key=`` and ``fs_key=`` (None: the default name)."""
        chosen = {k: v for k, v in options.items() if v is not None}
        for option, name in chosen.items():
            if not isinstance(name, str) or not name.strip() or "/" in name.strip("/"):
                raise OptionError(option, f"expected the name of an array in the file, got {shown(name)}")
        names = {k.removesuffix("_key"): chosen.get(k, v).strip("/") for k, v in DEFAULT_KEYS.items()}
        return cls(**names, given=frozenset(chosen))

    def refuse_given(self, path: Path, why: str) -> None:
        """Refuse any key the caller set, for a format whose names are fixed (`why` says which)."""
        if self.given:
            raise DataFileError(path, f"{why}: {{option}} does not apply", option=min(self.given))

    def missing(self, path: Path, option: str, kind: str, found: list[str]) -> DataFileError:
        """The error for a named array the file lacks: `kind` is array, dataset or variable."""
        name = getattr(self, option.removesuffix("_key"))
        listing = ", ".join(found[:8]) + (f" and {len(found) - 8} more" if len(found) > 8 else "")
        listing = listing or "nothing"
        if option in self.given:
            return DataFileError(path, f"has no {kind} {name!r} ({{option}}); found: {listing}", option)
        return DataFileError(
            path,
            f"has no {name!r} {kind} (found: {listing}); if one of those holds the {name}, "
            f"name it with {{option=}}NAME",
            option,
        )


@dataclass(frozen=True)
class ReadOptions:
    """What every reader is given: the size limit and the names to look for."""

    max_bytes: int
    keys: Keys = field(default_factory=Keys)


@dataclass
class Contents:
    """What a reader found in a file, before validation."""

    signals: Any
    labels: Any = None
    fs: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)
    record_ids: Any = None
    class_names: Any = None
