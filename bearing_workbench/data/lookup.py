"""Finding a config's dataset: a name registered in the store, or a path to a dataset file.

`resolve_dataset` is called once, where a config enters (the validation boundary); what it returns
(`DatasetRef`) travels with the validated experiment so nothing downstream looks the dataset up again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bearing_workbench.data.dataset_file import DatasetInfo
    from bearing_workbench.store import Store

DATASET_FIELD = "data.dataset"


class DatasetNotFound(LookupError):
    """A dataset name or path that leads to no readable dataset file; the message names the field."""

    def __init__(self, dataset: str, problem: str):
        self.dataset = dataset
        self.problem = problem
        super().__init__(f"{DATASET_FIELD}: {problem}")


@dataclass(frozen=True)
class DatasetRef:
    """A config's dataset, looked up once.

    Args:
        name: the dataset as the config names it (a store name or a path).
        path: its file.
        dataset_id: its id in the store; None for a file given by path that is not registered.
        info: the file's summary (classes, records, stored split, record length).
    """

    name: str
    path: Path
    dataset_id: int | None
    info: DatasetInfo


def _registered(dataset: str, store: Store | None) -> tuple[Path, int] | None:
    if store is None:
        return None
    from bearing_workbench.store import NotFoundError

    try:
        record = store.get_dataset(dataset)
    except NotFoundError:
        return None
    path = Path(record.path).expanduser()
    return (path if path.is_absolute() else Path(store.workspace) / path), record.id


def resolve_dataset_path(dataset: str, store: Store | None = None) -> Path:
    """The file of `dataset`: a dataset name in the store, else a path to a dataset file."""
    return _locate(str(dataset), store)[0]


def _locate(dataset: str, store: Store | None) -> tuple[Path, int | None]:
    registered = _registered(dataset, store)
    if registered is not None:
        return registered
    path = Path(dataset).expanduser()
    if path.is_file():
        return path, None
    where = "no dataset of that name in the store and " if store is not None else ""
    what = "a folder, not a dataset file" if path.is_dir() else "no file"
    raise DatasetNotFound(
        dataset, f"{where}{what} at {dataset!r}; expected a registered dataset name or a dataset file"
    )


def resolve_dataset(dataset: str, store: Store | None = None) -> DatasetRef:
    """Look `dataset` up and read its summary; raises `DatasetNotFound` naming ``data.dataset``."""
    # h5py (about 0.1 s) is imported when a file is read, not by the pages that import the boundary
    from bearing_workbench.data.dataset_file import DatasetFileError, read_info

    path, dataset_id = _locate(str(dataset), store)
    try:
        info = read_info(path)
    except (DatasetFileError, OSError) as exc:
        raise DatasetNotFound(str(dataset), f"cannot be read: {exc}") from None
    return DatasetRef(name=str(dataset), path=path, dataset_id=dataset_id, info=info)
