"""Fault-suite fixtures: a scratch workspace with tiny datasets, and a real cluster of processes per test.

Every wait polls the store or the processes with a deadline (`wait_for`); nothing sleeps to synchronise.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bearing_workbench.config import preset_config
from bearing_workbench.store import Store

from ...tiny_data import tiny_store
from ..conftest import epoch_numbers, status_path, wait_for
from .processes import FaultCluster

FAST = "tiny"  # 3 records per class of 0.5 s: an epoch takes a few hundredths of a second
SLOW = "slow"  # 6 records per class of 2 s: an epoch takes a few tenths (a kill lands mid-run)
START_S = 120.0  # a worker process imports torch and the package: slow on a loaded machine

__all__ = ["epoch_numbers", "status_path", "wait_for"]


@pytest.fixture(scope="session")
def fault_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The suite's workspace: the fast dataset and the slow one."""
    root = tmp_path_factory.mktemp("faults-ws")
    store = tiny_store(root, per_class=3, duration_s=0.5, seed=5, name=FAST)
    slow = tiny_store(root, per_class=6, duration_s=2.0, seed=6, name=SLOW)
    slow.dispose()
    yield store
    store.dispose()


@pytest.fixture
def cluster(fault_store: Store, tmp_path: Path) -> Iterator[FaultCluster]:
    """A scheduler and no worker yet (each test starts the workers it needs); everything ends after."""
    processes = FaultCluster(fault_store.workspace, tmp_path / "dask-logs")
    try:
        processes.start_scheduler()
        yield processes
    finally:
        processes.close()


def run_config(epochs: int, dataset: str = FAST, **overrides: Any) -> dict[str, Any]:
    """A small cnn1d config on whole records, a checkpoint after every epoch (what resume reads)."""
    values: dict[str, Any] = {
        "data.window": None,
        "training.epochs": epochs,
        "training.batch_size": 1,
        "model.params.filters": 32,
        "training.checkpoint.policy": "every_epoch",
        "training.checkpoint.keep_last": 1,
    }
    values.update(overrides)
    return preset_config("quick", "cnn1d", dataset, values)


def events_of(store: Store, experiment_id: int, kind: str) -> list[Any]:
    return [e for e in store.events(experiment_id) if e.kind == kind]


def status_of(store: Store, experiment_id: int) -> str:
    return str(store.get_experiment(experiment_id).status)
