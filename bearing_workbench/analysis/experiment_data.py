"""An experiment's stored inputs: its dataset file and one record of it (signal and operating metadata)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bearing_workbench.data.dataset_file import Dataset
from bearing_workbench.store import ExperimentRecord, NotFoundError, Store
from bearing_workbench.training.dataset_facts import resolve_dataset_path


@dataclass(frozen=True)
class StoredRecord:
    """One record of a dataset file.

    Args:
        index: row of the record in the dataset file.
        metadata: its operating metadata (speed_hz, load_frac, ...) as plain Python values.
    """

    record_id: str
    index: int
    label: str
    signal: np.ndarray
    fs: float
    metadata: dict[str, Any]


def experiment_dataset_path(store: Store, record: ExperimentRecord) -> Path:
    """The dataset file an experiment trained on: its registered dataset, else the config's name or path."""
    if record.dataset_id is not None:
        try:
            dataset = store.get_dataset(record.dataset_id)
        except NotFoundError:
            pass  # deleted since: the config still names it (or its file)
        else:
            path = Path(dataset.path).expanduser()
            return path if path.is_absolute() else Path(store.workspace) / path
    dataset_name = (record.config.get("data") or {}).get("dataset")
    if not dataset_name:
        raise ValueError(f"experiment {record.id}: its config names no dataset (data.dataset)")
    return resolve_dataset_path(str(dataset_name), store)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def read_record(path: str | Path, record_id: str) -> StoredRecord:
    """Signal, label and metadata of record `record_id` in the dataset file at `path`."""
    with Dataset(path) as ds:
        matches = np.flatnonzero(ds.record_ids == str(record_id))
        if matches.size == 0:
            raise ValueError(f"record {record_id!r} is not in dataset file {Path(path).name}")
        index = int(matches[0])
        signal = ds.signals([index])[0].astype(np.float32)
        metadata = {name: _plain(column[index]) for name, column in ds.metadata().items()}
        return StoredRecord(
            record_id=str(record_id),
            index=index,
            label=ds.class_names[int(ds.labels[index])],
            signal=signal,
            fs=float(ds.fs),
            metadata=metadata,
        )
