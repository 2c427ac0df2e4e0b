"""A workspace of real tiny experiments for the results page (analysis and panel tests import it).

Its own workspace, so that baselines and ensemble searches see exactly these runs: a cnn1d run, a
classical run, a second cnn1d run (created last), all trained in-process by the real training code.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bearing_workbench.store import Store

from ..tiny_data import tiny_store
from .conftest import DATASET, tiny_run_config


@pytest.fixture(scope="session")
def results_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A workspace with the analysis tests' 3-class dataset (4 records per class, 0.7 s each)."""
    root = tmp_path_factory.mktemp("results-ws")
    store = tiny_store(root, per_class=4, duration_s=0.7, seed=11, name=DATASET)
    yield store
    store.dispose()


@pytest.fixture(scope="session")
def results_ids(results_store: Store) -> dict[str, int]:
    """Completed runs, in creation order: "cnn1d" (2 epochs), "classical", "cnn1d_later" (1 epoch)."""
    from bearing_workbench.training.experiment import create_experiment, train_experiment

    runs = {
        "cnn1d": tiny_run_config("cnn1d", **{"training.epochs": 2, "name": "first cnn"}),
        "classical": tiny_run_config("classical", name="forest"),
        "cnn1d_later": tiny_run_config("cnn1d", name="later cnn"),
    }
    ids = {}
    for key, config in runs.items():
        ids[key] = create_experiment(results_store, config)
        train_experiment(results_store, ids[key], device="cpu")
    return ids


def experiment_folder(store: Store, experiment_id: int) -> Path:
    """The artifact folder of an experiment of `store`."""
    return Path(store.workspace) / "experiments" / str(experiment_id)
