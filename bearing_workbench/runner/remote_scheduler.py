"""Short looks at a scheduler this process does not hold, for `serve` (which must not know Dask): a
short-lived client (`scheduler_client`), and what the cluster offers right now (`cluster_summary`:
its workers, their threads, memory, GPUs, work) for the home page.

One client per look: a web server's request or a shutdown must not keep a connection to a scheduler
that may go away, and a look costs a fraction of a second.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bearing_workbench.runner.cluster import GPU_RESOURCE

if TYPE_CHECKING:
    import distributed

DEFAULT_TIMEOUT_S = 3.0


@contextlib.contextmanager
def scheduler_client(address: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> Iterator[distributed.Client]:
    """A client of the scheduler at `address`, closed on exit; OSError or TimeoutError when none
    answers within `timeout_s`. Not the process's default client, not cached (see `cluster.connect`)."""
    import distributed

    with distributed.Client(address, timeout=f"{timeout_s}s", set_as_default=False) as client:
        yield client


@dataclass(frozen=True)
class WorkerSummary:
    """One worker of the cluster."""

    name: str
    address: str
    threads: int
    memory_bytes: int | None
    gpus: int
    executing: int


@dataclass(frozen=True)
class ClusterSummary:
    """The scheduler's address and its workers (an empty tuple: a scheduler without workers)."""

    scheduler: str
    workers: tuple[WorkerSummary, ...]

    @property
    def threads(self) -> int:
        return sum(w.threads for w in self.workers)


def _worker(address: str, info: dict[str, Any]) -> WorkerSummary:
    resources = info.get("resources") or {}
    metrics = info.get("metrics") or {}
    return WorkerSummary(
        name=str(info.get("name", address)),
        address=address,
        threads=int(info.get("nthreads", 0)),
        memory_bytes=int(info["memory_limit"]) if info.get("memory_limit") else None,
        gpus=int(resources.get(GPU_RESOURCE, 0)),
        executing=int(metrics.get("executing", 0)),
    )


def cluster_summary(address: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> ClusterSummary | None:
    """The workers of the scheduler at `address`; None when it is empty or no scheduler answers
    within `timeout_s`. Blocks: call it off an event loop."""
    address = address.strip()
    if not address:
        return None
    try:
        with scheduler_client(address, timeout_s) as client:
            info = client.scheduler_info(n_workers=-1)
    except (OSError, TimeoutError):
        return None
    workers = sorted(
        (_worker(addr, worker) for addr, worker in (info.get("workers") or {}).items()),
        key=lambda w: w.name,
    )
    return ClusterSummary(scheduler=address, workers=tuple(workers))
