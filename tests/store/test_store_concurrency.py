"""Many processes writing to one database at once, as Dask workers do."""

from __future__ import annotations

import multiprocessing
import traceback
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bearing_workbench.store import Store
from bearing_workbench.store.tables import EpochRow, EventRow

N_PROCESSES = 8
EPOCHS_PER_PROCESS = 100
EVENTS_PER_PROCESS = 100
RETRIED_EPOCHS = 10


def _write_rows(db_url: str, workspace: str, barrier: Any, results: Any) -> None:
    """Child process: open its own store (schema creation races here), then write epochs and events."""
    try:
        barrier.wait(timeout=120)
        store = Store(url=db_url, workspace=Path(workspace))
        try:
            experiment = store.create_experiment("worker", "cnn1d", {})
            for i in range(EPOCHS_PER_PROCESS):
                store.add_epoch(experiment, i, train_loss=1.0 / (i + 1))
                store.add_event(experiment, "progress", f"epoch {i}")
            for i in range(RETRIED_EPOCHS):  # a retried task writes the same epochs again
                store.add_epoch(experiment, i, train_loss=0.0)
        finally:
            store.dispose()
        results.put(("ok", experiment))
    except BaseException:
        results.put(("error", traceback.format_exc()))


def test_concurrent_writers_lose_nothing(db_url: str, workspace: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(N_PROCESSES)
    results = ctx.Queue()
    workers = [
        ctx.Process(target=_write_rows, args=(db_url, str(workspace), barrier, results))
        for _ in range(N_PROCESSES)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=240) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    errors = [detail for kind, detail in outcomes if kind == "error"]
    assert errors == [], "\n".join(errors)
    assert [w.exitcode for w in workers] == [0] * N_PROCESSES

    store = Store(url=db_url, workspace=workspace)
    try:
        experiments = sorted(detail for _, detail in outcomes)
        assert len(set(experiments)) == N_PROCESSES
        with store.transaction() as session:
            n_epochs = session.scalar(select(func.count()).select_from(EpochRow))
            n_events = session.scalar(select(func.count()).select_from(EventRow))
        assert n_epochs + n_events == N_PROCESSES * (EPOCHS_PER_PROCESS + EVENTS_PER_PROCESS) == 1600
        for experiment in experiments:
            epochs = store.epochs(experiment)
            assert [e.epoch for e in epochs] == list(range(EPOCHS_PER_PROCESS))
            assert all(e.train_loss == 0.0 for e in epochs[:RETRIED_EPOCHS])
            assert len(store.events(experiment)) == EVENTS_PER_PROCESS
    finally:
        store.dispose()
