"""One count of records per split: the boundary's facts (what the wizard and the estimates show) and
the run's data agree (the wizard once said 214 training records where the run used 209)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bearing_workbench.analysis.estimates import estimate_training_time
from bearing_workbench.config import preset_config
from bearing_workbench.models.validation import training_examples, validate_experiment
from bearing_workbench.store import Store
from bearing_workbench.training.data import load_data
from bearing_workbench.training.dataset_facts import dataset_facts

from ..tiny_data import tiny_store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """'tiny': 3 classes x 7 records of 0.5 s, registered with the generator's 70/15/15 split."""
    workspace_store = tiny_store(tmp_path_factory.mktemp("counts-ws"), per_class=7, duration_s=0.5, seed=2)
    yield workspace_store
    workspace_store.dispose()


@pytest.mark.parametrize(
    "split",
    [
        {"train": 70.0, "val": 15.0, "test": 15.0},  # the file's stored split
        {"train": 60.0, "val": 20.0, "test": 20.0},  # drawn afresh for the run
        {"train": 80.0, "val": 0.0, "test": 20.0},
    ],
)
def test_the_estimate_counts_the_records_and_windows_the_run_uses(store: Store, split: dict) -> None:
    overrides = {"data.split": split, "data.window": {"length": 2048}, "training.batch_size": 4}
    checked = validate_experiment(preset_config("quick", "cnn1d", "tiny", overrides), store)
    data = load_data(checked.config, path=checked.dataset.path)
    assert checked.facts.records == {name: data[name].n_records for name in ("train", "val", "test")}
    assert training_examples(checked.config, checked.facts) == len(data.train)
    estimate = estimate_training_time(checked.config, checked.facts)
    assert f"x {len(data.train)} training windows" in estimate.basis
    # the facts a form asks for (`dataset_facts`, the wizard's source) are the same count
    assert dataset_facts(checked.config, store) == checked.facts
    assert dataset_facts(checked.config, store).records == checked.facts.records
