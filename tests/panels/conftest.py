"""Panel fixtures: the runner's tiny workspace and LocalCluster, and stores with made-up runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bearing_workbench.store import Store

# The runner's fixtures (a registered 3-class tiny dataset; a LocalCluster of 2 worker processes) and
# helpers, shared so that panel tests drive real runs exactly like the runner tests do.
from ..runner.conftest import client, store, tiny_config, wait_for, wait_status  # noqa: F401


@pytest.fixture
def fresh_store(tmp_path: Path) -> Iterator[Store]:
    """An empty store in its own workspace (for runs written by hand, no cluster)."""
    workspace_store = Store(workspace=tmp_path)
    yield workspace_store
    workspace_store.dispose()


@pytest.fixture
def monitors():
    """Opens TrainingMonitors (same arguments) and closes them all at the end of the test."""
    from bearing_workbench.panels import TrainingMonitor

    opened: list[TrainingMonitor] = []

    def open_monitor(*args, **kwargs) -> TrainingMonitor:
        monitor = TrainingMonitor(*args, **kwargs)
        opened.append(monitor)
        return monitor

    yield open_monitor
    for monitor in opened:
        monitor.close()
