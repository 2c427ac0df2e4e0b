"""Where a config's dataset is and what validation needs to know about it (no torch here).

Kept apart from `training.data` so that a form validating on every change (the wizard) can ask for
the same facts `runner.launch` checks against without importing torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bearing_workbench.config import ExperimentConfig
from bearing_workbench.models.validation import DatasetFacts
from bearing_workbench.training.errors import TrainingDataError

if TYPE_CHECKING:
    from bearing_workbench.store import Store


def resolve_dataset_path(dataset: str, store: Store | None = None) -> Path:
    """The file of `dataset`: a dataset name in the store, else a path to a dataset file."""
    if store is not None:
        from bearing_workbench.store import NotFoundError

        try:
            record = store.get_dataset(dataset)
        except NotFoundError:
            pass
        else:
            path = Path(record.path).expanduser()
            return path if path.is_absolute() else Path(store.workspace) / path
    path = Path(dataset).expanduser()
    if path.is_file():
        return path
    where = "no dataset of that name in the store and " if store is not None else ""
    raise TrainingDataError(f"data.dataset: {where}no file at {dataset!r}; expected a dataset name or file")


def dataset_facts(config: ExperimentConfig | Mapping[str, Any], store: Store | None) -> DatasetFacts | None:
    """Facts about the config's dataset for validation (None when the dataset cannot be read yet)."""
    from bearing_workbench.data.dataset_file import DatasetFileError, read_info

    dataset = (
        config.data.dataset if isinstance(config, ExperimentConfig) else config.get("data", {}).get("dataset")
    )
    try:
        info = read_info(resolve_dataset_path(str(dataset), store))
    except (DatasetFileError, LookupError, ValueError, TypeError):
        return None
    train = info.split_sizes.get("train") or int(0.7 * info.n_records)
    return DatasetFacts(
        n_records=info.n_records, n_classes=len(info.class_names), n_train=train, signal_length=info.n_samples
    )
