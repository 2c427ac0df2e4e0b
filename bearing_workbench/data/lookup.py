"""Finding a dataset: a name registered in the store, a path to a dataset file, or the folder
`generate-data --out DIR` wrote (it holds one dataset file).

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


DATASET_SUFFIXES = (".h5", ".hdf5")
EXPECTED = "expected a registered dataset name, a dataset file or a folder holding one"


def resolve_dataset_path(dataset: str, store: Store | None = None) -> Path:
    """The file of `dataset`: a dataset name in the store, a dataset file, or a folder holding one."""
    return _locate(str(dataset), store)[0]


def dataset_files_in(folder: Path) -> list[Path]:
    """The dataset files (.h5, .hdf5) directly inside `folder`, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in DATASET_SUFFIXES and p.is_file())


def _locate(dataset: str, store: Store | None) -> tuple[Path, int | None]:
    registered = _registered(dataset, store)
    if registered is not None:
        return registered
    path = Path(dataset).expanduser()
    if path.is_file():
        return path, None
    if path.is_dir():
        return _file_in_folder(dataset, path), None
    where = "no dataset of that name in the store and " if store is not None else ""
    if path.exists():  # a socket, a device...: it exists, so never say "no such file"
        raise DatasetNotFound(dataset, f"{where}{dataset!r} is not a regular file; {EXPECTED}")
    raise DatasetNotFound(dataset, f"{where}no file at {dataset!r}; {EXPECTED}")


def _file_in_folder(dataset: str, folder: Path) -> Path:
    """The one dataset file in a folder (what `generate-data --out DIR` writes)."""
    try:
        files = dataset_files_in(folder)
    except OSError as exc:
        raise DatasetNotFound(dataset, f"the folder {dataset!r} cannot be listed ({exc.strerror})") from None
    if len(files) == 1:
        return files[0]
    if not files:
        raise DatasetNotFound(
            dataset, f"{dataset!r} is a folder, not a dataset file, and holds none (.h5, .hdf5); {EXPECTED}"
        )
    names = ", ".join(p.name for p in files)
    raise DatasetNotFound(
        dataset,
        f"the folder {dataset!r} holds {len(files)} dataset files ({names}); name one of them",
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
