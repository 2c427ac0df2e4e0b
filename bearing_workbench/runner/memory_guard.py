"""Ending a run that is about to exhaust its worker's memory, with the trainer's hint, before Dask kills it.

A Dask nanny terminates its worker process when it passes 95 % of the worker's memory limit
(``distributed.worker.memory.terminate``). The run then dies without a word: the scheduler runs the
task again (it runs out of memory again) until ``allowed-failures`` gives up with ``KilledWorker``,
and the run is only marked lost later. `MemoryGuard` watches the process's resident memory after
every batch and, past `fraction` of the limit (90 % by default, below the nanny's 95 %), raises a
`MemoryError`. The training loop turns that into its out-of-memory failure: the run ends ``failed``
with "out of memory ... in epoch E, batch B" and the hint "reduce batch size (current N)", and, as
for every training error, Dask does not run it again.
"""

from __future__ import annotations

import psutil

from bearing_workbench.training.callbacks import Callback, FitContext

DEFAULT_FRACTION = 0.90


def worker_memory_limit() -> int | None:
    """The memory limit (bytes) of the Dask worker running this code; None outside a worker or unlimited."""
    import distributed

    try:
        worker = distributed.get_worker()
    except ValueError:
        return None
    limit = worker.memory_manager.memory_limit
    return int(limit) if limit else None


def _gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.2f} GiB"


class MemoryGuard(Callback):
    """Raise MemoryError when this process's RSS passes `fraction` of `limit_bytes` (default: the Dask
    worker's memory limit; no limit known: the guard does nothing)."""

    def __init__(self, limit_bytes: int | None = None, fraction: float = DEFAULT_FRACTION) -> None:
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
        self.limit_bytes = limit_bytes
        self.fraction = fraction
        self._process = psutil.Process()
        self.peak_bytes = 0

    def on_fit_start(self, ctx: FitContext) -> None:
        if self.limit_bytes is None:
            self.limit_bytes = worker_memory_limit()
        self._check()

    def on_batch_end(self, ctx: FitContext, batch_index: int, logs: dict[str, float]) -> None:
        self._check()

    def _check(self) -> None:
        if not self.limit_bytes:
            return
        rss = self._process.memory_info().rss  # ~10 us: cheap enough for every batch
        self.peak_bytes = max(self.peak_bytes, rss)
        if rss > self.fraction * self.limit_bytes:
            raise MemoryError(
                f"the worker process uses {_gib(rss)}, over {self.fraction:.0%} of its "
                f"{_gib(self.limit_bytes)} memory limit (Dask would kill it at 95 %)"
            )
