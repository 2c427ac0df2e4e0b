"""Runner fixtures: one LocalCluster (2 worker processes, 1 thread each) and a tiny workspace."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bearing_workbench.config import preset_config
from bearing_workbench.store import Store, is_terminal

from ..tiny_data import tiny_store

CLASSES = ("healthy", "imbalance", "misalignment")
DATASET = "tiny"
WAIT_S = 90.0


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A workspace with a registered 3-class dataset of 3 records per class, 0.5 s each."""
    root = tmp_path_factory.mktemp("runner-ws")
    workspace_store = tiny_store(root, per_class=3, duration_s=0.5, seed=5, name=DATASET)
    yield workspace_store
    workspace_store.dispose()


@pytest.fixture(scope="session")
def client() -> Iterator[Any]:
    """A client of a local cluster of 2 worker processes with 1 thread each, started by `connect`."""
    from bearing_workbench.runner.cluster import close_local_clusters, connect

    dask_client = connect(n_workers=2, threads_per_worker=1)
    dask_client.wait_for_workers(2, timeout=120)
    yield dask_client
    close_local_clusters()


def tiny_config(epochs: int = 3, **overrides: Any) -> dict[str, Any]:
    """A small cnn1d config on whole 0.5 s records: 3 optimisation steps per epoch (3 training records)."""
    values: dict[str, Any] = {
        "data.window": None,
        "training.epochs": epochs,
        "training.batch_size": 1,
        "model.params.filters": 32,
        "training.checkpoint.policy": "every_epoch",
        "training.checkpoint.keep_last": 1,
    }
    values.update(overrides)
    return preset_config("quick", "cnn1d", DATASET, values)


def wait_for(condition: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    """Poll `condition` every 50 ms until it returns a truthy value; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def wait_status(store: Store, experiment_id: int, *statuses: str) -> str:
    """Wait until the experiment has one of `statuses` (default: any final one); return it."""

    def reached() -> str | None:
        status = str(store.get_experiment(experiment_id).status)
        if (status in statuses) if statuses else is_terminal(status):
            return status
        return None

    return wait_for(reached, f"experiment {experiment_id} to be {' or '.join(statuses) or 'finished'}")


def status_path(store: Store, experiment_id: int) -> list[str]:
    """The statuses an experiment went through, from its stored status events."""
    return [e.payload["to"] for e in store.events(experiment_id) if e.kind == "status"]


def epoch_numbers(store: Store, experiment_id: int) -> list[int]:
    return [e.epoch for e in store.epochs(experiment_id)]
