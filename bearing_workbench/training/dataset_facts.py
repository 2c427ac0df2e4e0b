"""Where a config's dataset is and what validation needs to know about it (no torch here).

Both are owned lower down (`data.lookup` finds the file, `models.validation.facts_for` counts the
records per split with `data.splits.records_per_split`); this module keeps the training layer's
names for them, for callers holding a config that has not been through `validate_experiment`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bearing_workbench.config import ExperimentConfig, SplitConfig
from bearing_workbench.data.lookup import DatasetNotFound, resolve_dataset
from bearing_workbench.data.lookup import resolve_dataset_path as _resolve_path
from bearing_workbench.models.validation import DatasetFacts, facts_for
from bearing_workbench.training.errors import TrainingDataError

if TYPE_CHECKING:
    from bearing_workbench.store import Store


def resolve_dataset_path(dataset: str, store: Store | None = None) -> Path:
    """The file of `dataset`: a dataset name in the store, else a path to a dataset file."""
    try:
        return _resolve_path(dataset, store)
    except DatasetNotFound as exc:
        raise TrainingDataError(str(exc)) from None


def dataset_facts(config: ExperimentConfig | Mapping[str, Any], store: Store | None) -> DatasetFacts | None:
    """Facts about the config's dataset under its split (None when the dataset cannot be read or split)."""
    if isinstance(config, ExperimentConfig):
        dataset, split = config.data.dataset, config.data.split
    else:
        section = config.get("data") or {}
        dataset = section.get("dataset")
        try:
            split = SplitConfig.model_validate(section.get("split") or {})
        except ValueError:
            split = SplitConfig()
    try:
        return facts_for(resolve_dataset(str(dataset), store), split)
    except (DatasetNotFound, ValueError, TypeError):
        return None
