"""Running out of worker memory ends the run `failed` with the trainer's hint, before Dask kills it."""

from __future__ import annotations

import os

import numpy as np
import psutil
import pytest

from bearing_workbench.runner.memory_guard import MemoryGuard, worker_memory_limit
from bearing_workbench.runner.task import run_experiment
from bearing_workbench.training.callbacks import Callback
from bearing_workbench.training.errors import TrainingError
from bearing_workbench.training.experiment import create_experiment

from .conftest import tiny_config

CHUNK = 64 * 2**20


def make_hog(chunk: int = CHUNK) -> Callback:
    """A callback holding on to `chunk` more bytes (pages touched, so they count in RSS) after every batch.

    The class is made inside this function so that Dask sends it by value (cloudpickle): a worker
    cannot import this test module.
    """

    class Hog(Callback):
        def __init__(self) -> None:
            self.held: list[np.ndarray] = []

        def on_batch_end(self, ctx, batch_index, logs):
            self.held.append(np.ones(chunk, dtype=np.uint8))

    return Hog()


def test_the_guard_turns_growing_memory_into_the_trainers_out_of_memory_failure(store, tmp_path):
    from bearing_workbench.config import ExperimentConfig
    from bearing_workbench.training.loop import fit

    config = ExperimentConfig.from_mapping(tiny_config(epochs=50))
    rss = psutil.Process().memory_info().rss
    guard = MemoryGuard(limit_bytes=int((rss + 4 * CHUNK) / 0.9))
    with pytest.raises(TrainingError) as caught:
        fit(config, callbacks=[make_hog(), guard], out_dir=tmp_path, store=store, device="cpu")
    error = caught.value
    assert error.message.startswith("out of memory on cpu in epoch ")
    assert "over 90% of its" in error.message and "memory limit" in error.message
    assert error.hint == "reduce batch size (current 1)"
    assert guard.peak_bytes > 0.9 * guard.limit_bytes


def test_the_guard_does_nothing_without_a_limit(store, tmp_path):
    from bearing_workbench.config import ExperimentConfig
    from bearing_workbench.training.loop import fit

    assert worker_memory_limit() is None  # not on a Dask worker
    guard = MemoryGuard()
    config = ExperimentConfig.from_mapping(tiny_config(epochs=1))
    fit(config, callbacks=[guard], out_dir=tmp_path, store=store, device="cpu")
    assert guard.limit_bytes is None and guard.peak_bytes == 0
    with pytest.raises(ValueError, match="fraction"):
        MemoryGuard(fraction=1.5)


def test_a_run_outgrowing_its_worker_ends_failed_with_the_hint_and_is_not_retried(store):
    """A worker with a 1.5 GiB limit; the run grows by 64 MiB per batch until the guard ends it."""
    import distributed

    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, memory_limit="1.5GiB", dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:
        (address,) = client.scheduler_info()["workers"]
        worker_pid = client.run(os.getpid)[address]
        assert client.submit(worker_memory_limit, pure=False).result() == int(1.5 * 2**30)

        experiment_id = create_experiment(store, tiny_config(epochs=400))
        future = client.submit(
            run_experiment,
            experiment_id,
            str(store.workspace),
            store.url,
            callbacks=[make_hog()],
            key=f"memory-guard-{experiment_id}",
        )
        outcome = future.result(timeout=300)
        # the same worker process answered: it was not killed and restarted by its nanny
        assert client.run(os.getpid)[address] == worker_pid

    assert outcome["status"] == "failed"
    record = store.get_experiment(experiment_id)
    assert record.status.value == "failed"
    assert record.error.startswith("out of memory on cpu in epoch ")
    assert "memory limit (Dask would kill it at 95 %)" in record.error
    assert record.hint == "reduce batch size (current 1)"
    assert not [e for e in store.events(experiment_id) if e.kind == "retry"]
