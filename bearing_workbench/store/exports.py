"""Exports of stored experiments: a list as CSV (chosen columns), a selection as one zip archive.

Every path comes from `confined_path`: an archive is written only under ``<workspace>/exports/`` and
reads only files inside each experiment's own folder, whatever names it is given.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from bearing_workbench.config.atomic_files import atomic_path
from bearing_workbench.store.artifacts import EXPORT_KEYS, KIND_BY_KEY, ExperimentFolder
from bearing_workbench.store.json_values import to_jsonable
from bearing_workbench.store.records import EpochRecord, ExperimentRecord
from bearing_workbench.store.workspace import confined_path

EXPORTS_FOLDER = "exports"
# The artifacts an export carries (store.artifacts.EXPORT_KEYS): what a colleague needs to read a
# run's results back, not its checkpoints.
EXPORT_FILES = tuple(KIND_BY_KEY[key].filename for key in EXPORT_KEYS)
METRIC_PREFIX = "metrics."
# Spreadsheets run a cell that starts with one of these as a formula: user text (names, notes, tags)
# gets a leading apostrophe so that an exported CSV cannot carry one.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _when(value: datetime | None) -> str:
    return "" if value is None else value.isoformat(timespec="seconds")


EXPERIMENT_COLUMNS: dict[str, Callable[[ExperimentRecord], Any]] = {
    "id": lambda r: r.id,
    "name": lambda r: r.name,
    "family": lambda r: r.family,
    "status": lambda r: str(r.status),
    "created_at": lambda r: _when(r.created_at),
    "started_at": lambda r: _when(r.started_at),
    "finished_at": lambda r: _when(r.finished_at),
    "duration_s": lambda r: r.duration_s,
    "dataset_id": lambda r: r.dataset_id,
    "campaign_id": lambda r: r.campaign_id,
    "parent_id": lambda r: r.parent_id,
    "tags": lambda r: "; ".join(r.tags),
    "notes": lambda r: r.notes,
    "error": lambda r: r.error or "",
}
DEFAULT_CSV_COLUMNS = (
    "id",
    "name",
    "family",
    "status",
    "created_at",
    "duration_s",
    "metrics.accuracy",
    "metrics.macro_f1",
    "tags",
    "notes",
)


def check_columns(columns: Sequence[str]) -> list[str]:
    """`columns` if each is a known column or ``metrics.<key>``; ValueError naming the unknown ones."""
    if isinstance(columns, str) or not columns:
        raise ValueError("columns must be a non-empty list of column names")
    unknown = [
        c
        for c in columns
        if c not in EXPERIMENT_COLUMNS and not (c.startswith(METRIC_PREFIX) and len(c) > len(METRIC_PREFIX))
    ]
    if unknown:
        raise ValueError(
            f"unknown column(s) {', '.join(map(repr, unknown))}; expected {', '.join(EXPERIMENT_COLUMNS)} "
            "or 'metrics.<key>'"
        )
    return list(dict.fromkeys(columns))


def _cell(record: ExperimentRecord, column: str) -> Any:
    if column.startswith(METRIC_PREFIX):
        value = (record.metrics or {}).get(column[len(METRIC_PREFIX) :])
        return "" if value is None or isinstance(value, dict | list) else value
    value = EXPERIMENT_COLUMNS[column](record)
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def experiments_csv(records: Iterable[ExperimentRecord], columns: Sequence[str] = DEFAULT_CSV_COLUMNS) -> str:
    """The experiments as CSV text: a header of `columns`, one line per experiment."""
    names = check_columns(columns)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for record in records:
        writer.writerow([_cell(record, c) for c in names])
    return out.getvalue()


def export_path(workspace: Path, filename: str) -> Path:
    """Where the archive `filename` goes: under ``<workspace>/exports/``, a ``.zip``; ValueError otherwise."""
    if not isinstance(filename, str) or not filename.strip():
        raise ValueError(f"export file name must be a non-empty string, got {filename!r}")
    if not filename.endswith(".zip"):
        raise ValueError(f"export file name must end in .zip, got {filename!r}")
    root = confined_path(workspace, EXPORTS_FOLDER)
    return confined_path(root, filename)


def _file_names(files: Iterable[str]) -> list[str]:
    if isinstance(files, str):
        raise TypeError("files must be a list of file names, not one string")
    names = list(dict.fromkeys(files))
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"export file names must be non-empty strings, got {name!r}")
    return names


def write_export(
    path: Path,
    records: Sequence[ExperimentRecord],
    epochs: Mapping[int, Sequence[EpochRecord]],
    folders: Mapping[int, Path],
    files: Iterable[str] = EXPORT_FILES,
) -> dict[str, Any]:
    """Write the archive of `records` to `path` atomically; return its manifest.

    Per experiment ``<id>/``: ``experiment.json`` (the stored row), ``epochs.json`` (its epochs) and
    the `files` its folder holds. At the top: ``experiments.csv`` and ``manifest.json`` (which files
    each experiment had and which it lacked).
    """
    names = _file_names(files)
    # Every name is checked against every folder before the archive is opened: a crafted name fails
    # the whole export, and never after half of it was written.
    sources: dict[int, list[tuple[str, Path]]] = {}
    missing: dict[int, list[str]] = {}
    for record in records:
        folder = folders[record.id]
        found: list[tuple[str, Path]] = []
        for name in names:
            source = ExperimentFolder.at(folder).resolve(name)
            if source.is_file():
                found.append((source.relative_to(folder.resolve()).as_posix(), source))
            else:
                missing.setdefault(record.id, []).append(name)
        sources[record.id] = found
    manifest = {
        "experiments": [r.id for r in records],
        "files": {str(i): [arc for arc, _ in found] for i, found in sources.items()},
        "missing": {str(i): names for i, names in missing.items()},
    }
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2) + "\n")
        archive.writestr(
            "experiments.csv", experiments_csv(records, [*EXPERIMENT_COLUMNS, *_metric_columns(records)])
        )
        for record in records:
            row = to_jsonable({k: getattr(record, k) for k in record.__dataclass_fields__}, "experiment")
            archive.writestr(f"{record.id}/experiment.json", json.dumps(row, indent=2) + "\n")
            rows = [
                to_jsonable({k: getattr(e, k) for k in e.__dataclass_fields__}, "epoch")
                for e in epochs.get(record.id, ())
            ]
            archive.writestr(f"{record.id}/epochs.json", json.dumps(rows, indent=2) + "\n")
            for arcname, source in sources[record.id]:
                archive.write(source, f"{record.id}/{arcname}")
    return manifest


def _metric_columns(records: Iterable[ExperimentRecord]) -> list[str]:
    keys: dict[str, None] = {}
    for record in records:
        for key, value in (record.metrics or {}).items():
            if not isinstance(value, dict | list):
                keys.setdefault(f"{METRIC_PREFIX}{key}")
    return list(keys)


def default_export_name(ids: Sequence[int], now: datetime) -> str:
    """``experiments-<ids>-<UTC time>.zip`` (the ids shortened past five)."""
    shown = "_".join(str(i) for i in ids[:5]) + (f"_and_{len(ids) - 5}_more" if len(ids) > 5 else "")
    return f"experiments-{shown}-{now:%Y%m%d-%H%M%S}.zip"


__all__ = [
    "DEFAULT_CSV_COLUMNS",
    "EXPERIMENT_COLUMNS",
    "EXPORTS_FOLDER",
    "EXPORT_FILES",
    "check_columns",
    "default_export_name",
    "experiments_csv",
    "export_path",
    "write_export",
]
