"""The Dask cluster the runner submits to: a local one by default, any scheduler by one setting.

`connect()` returns a `distributed.Client`:

- ``connect("tcp://host:8786")`` or ``BEARING_WORKBENCH_SCHEDULER=tcp://host:8786``: an existing
  scheduler (a standalone ``dask scheduler`` + ``dask worker``, dask-jobqueue, Kubernetes, Coiled...).
- otherwise a `LocalCluster` started in this process (worker processes, one per core, one thread
  each, the machine's memory split between them), cached so that a notebook reuses it. Its workers
  live as long as this Python process: restarting the kernel ends their runs (`reconcile` marks
  them failed, and `resubmit` resumes them from their last checkpoint). To keep training across
  kernel restarts on one machine, start a scheduler and workers in a terminal and set the variable::

      dask scheduler --port 8786 &
      dask worker tcp://127.0.0.1:8786 --nworkers 4 --nthreads 1 &
      export BEARING_WORKBENCH_SCHEDULER=tcp://127.0.0.1:8786

- on a machine with NVIDIA GPUs: one worker per GPU (dask-cuda's ``LocalCUDACluster`` when it is
  installed, else workers pinned with ``CUDA_VISIBLE_DEVICES``), each with the worker resource
  ``GPU: 1``. `submit` asks for ``resources={"GPU": 1}`` whenever the cluster has GPU workers, so
  two trainings never share a GPU.

A multi-node cluster needs three things shared by the client and every worker:

1. the scheduler address (``BEARING_WORKBENCH_SCHEDULER``);
2. one database: a PostgreSQL URL in ``BEARING_WORKBENCH_DB_URL``
   (``postgresql+psycopg://user:password@dbhost/workbench``); a SQLite file works only where every
   process sees the same local disk;
3. one artifact root: ``BEARING_WORKBENCH_WORKSPACE`` on a shared file system (NFS, Lustre, a
   Kubernetes ReadWriteMany volume) mounted at the same path everywhere (datasets and checkpoints
   are found through it).

With dask-jobqueue (SLURM; give GPU workers the ``GPU`` resource)::

    from dask_jobqueue import SLURMCluster
    cluster = SLURMCluster(cores=8, processes=1, memory="32GB", job_extra_directives=["--gres=gpu:1"],
                           worker_extra_args=["--resources", "GPU=1"],
                           job_script_prologue=["export BEARING_WORKBENCH_DB_URL=postgresql+psycopg://...",
                                                "export BEARING_WORKBENCH_WORKSPACE=/shared/workbench"])
    cluster.scale(jobs=4)
    client = connect(cluster.scheduler_address)

With Kubernetes (dask-kubernetes operator): deploy a ``DaskCluster`` whose worker pods run
``dask worker --nthreads 1 --resources GPU=1``, have the two variables above in their env and the
shared volume mounted, and point ``BEARING_WORKBENCH_SCHEDULER`` at the scheduler service
(``tcp://<name>-scheduler.<namespace>:8786``). The package must be installed on the workers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from typing import Any

import dask
import distributed
import psutil

from bearing_workbench.config.settings import SCHEDULER_ENV as SCHEDULER_ENV  # its owner is config.settings
from bearing_workbench.config.settings import settings

GPU_RESOURCE = "GPU"

_lock = threading.Lock()
_local: dict[tuple[Any, ...], tuple[Any, distributed.Client]] = {}


def gpu_ids() -> list[str]:
    """The NVIDIA GPUs this process may use: ``CUDA_VISIBLE_DEVICES`` when set, else what NVML or
    ``nvidia-smi -L`` lists; [] without a GPU or a driver (torch is not imported here)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [part.strip() for part in visible.split(",") if part.strip() and part.strip() != "-1"]
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            return [str(i) for i in range(pynvml.nvmlDeviceGetCount())]
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # no NVML library, no driver, or no pynvml: ask nvidia-smi
        pass
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        listed = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(ln for ln in listed.stdout.splitlines() if ln.startswith("GPU "))]


def _memory_per_worker(n_workers: int) -> int:
    # Leave a tenth of the machine to the client (notebook, scheduler, evaluation).
    return int(psutil.virtual_memory().total * 0.9 / max(1, n_workers))


# A local cluster closes a worker's nanny when no worker of that name is back `lost-worker-timeout`
# (15 s) after one was lost. It checks once, at that moment: a worker killed, restarted by its nanny,
# then killed again about 15 s later is caught between the two, and its nanny is closed for good (seen
# as a cluster left with one worker). The nanny restarts its worker itself; it must not be closed.
LOST_WORKER_TIMEOUT = "7d"


def _keep_nannies() -> None:
    dask.config.set({"distributed.deploy.lost-worker-timeout": LOST_WORKER_TIMEOUT})


def _cpu_cluster(n_workers: int, threads_per_worker: int, processes: bool) -> Any:
    _keep_nannies()
    return distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=threads_per_worker,
        processes=processes,
        memory_limit=_memory_per_worker(n_workers) if processes else None,
        dashboard_address=":0",
    )


def _gpu_cluster(gpus: list[str], threads_per_worker: int) -> Any:
    """One worker per GPU with the resource ``GPU: 1`` (dask-cuda when installed)."""
    _keep_nannies()
    resources = {GPU_RESOURCE: 1}
    try:
        from dask_cuda import LocalCUDACluster
    except ImportError:
        pass
    else:
        return LocalCUDACluster(
            CUDA_VISIBLE_DEVICES=",".join(gpus),
            threads_per_worker=threads_per_worker,
            resources=resources,
            memory_limit=_memory_per_worker(len(gpus)),
            dashboard_address=":0",
        )
    # Host-side work (data loading, evaluation) of each GPU worker gets its share of the cores.
    host_threads = str(max(1, (os.cpu_count() or 1) // len(gpus)))
    workers = {
        f"gpu-{gpu}": {
            "cls": distributed.Nanny,
            "options": {
                "nthreads": threads_per_worker,
                "resources": resources,
                "memory_limit": _memory_per_worker(len(gpus)),
                "env": {"CUDA_VISIBLE_DEVICES": gpu, "OMP_NUM_THREADS": host_threads},
            },
        }
        for gpu in gpus
    }
    scheduler = {"cls": distributed.Scheduler, "options": {"dashboard_address": ":0"}}
    return distributed.SpecCluster(workers=workers, scheduler=scheduler, name="bearing-workbench-gpu")


def connect(
    address: str | None = None,
    *,
    n_workers: int | None = None,
    threads_per_worker: int = 1,
    processes: bool = True,
) -> distributed.Client:
    """A client of the scheduler at `address` (or ``$BEARING_WORKBENCH_SCHEDULER``), else of a local
    cluster started on first use; either is kept and returned again by later calls in this process.

    Args:
        n_workers: local cluster only; default one per GPU on a GPU machine, else one per core.
        processes: local cluster only; False runs the workers as threads of this process (tests).
    """
    address = address or settings().scheduler or None
    key: tuple[Any, ...] = ("address", address) if address else (n_workers, threads_per_worker, processes)
    with _lock:
        cached = _local.get(key)
        if cached is not None and cached[1].status == "running":
            return cached[1]
        if address is not None:
            client = distributed.Client(address, set_as_default=False)
            _local[key] = (None, client)
            return client
        gpus = gpu_ids() if processes else []
        if gpus and n_workers is None:
            cluster = _gpu_cluster(gpus, threads_per_worker)
        else:
            cluster = _cpu_cluster(n_workers or os.cpu_count() or 1, threads_per_worker, processes)
        client = distributed.Client(cluster, set_as_default=False)
        _local[key] = (cluster, client)
        return client


def close_local_clusters() -> None:
    """Close the clients `connect` opened and the local clusters it started (their runs end)."""
    with _lock:
        items = list(_local.values())
        _local.clear()
    for cluster, client in items:
        client.close()
        if cluster is not None:
            cluster.close()


def has_gpu_workers(client: distributed.Client) -> bool:
    """True when some worker of the cluster offers the ``GPU`` resource."""
    workers = client.scheduler_info(n_workers=-1).get("workers", {})
    return any(GPU_RESOURCE in (info.get("resources") or {}) for info in workers.values())


def current_client(client: distributed.Client | None = None) -> distributed.Client:
    """`client` if given, else the local cluster's client this process started, else the scheduler
    of ``$BEARING_WORKBENCH_SCHEDULER``, else a new local cluster (see `connect`)."""
    if client is not None:
        return client
    with _lock:
        for _, cached in _local.values():
            if cached.status == "running":
                return cached
    return connect()


def existing_client(client: distributed.Client | None = None) -> distributed.Client | None:
    """A connected client without starting a cluster: `client` if still connected, this process's
    local cluster or default client, or the scheduler of ``$BEARING_WORKBENCH_SCHEDULER``; else None."""
    if client is not None:
        return client if client.status == "running" else None
    with _lock:
        for _, cached in _local.values():
            if cached.status == "running":
                return cached
    try:
        default = distributed.default_client()
    except ValueError:
        default = None
    if default is not None and default.status == "running":
        return default
    address = settings().scheduler
    if not address:
        return None
    try:  # a short timeout: the caller falls back to the store when the scheduler is gone
        found = distributed.Client(address, timeout="3s", set_as_default=False)
    except (OSError, TimeoutError):
        return None
    with _lock:
        _local[("address", address)] = (None, found)  # reused by connect() and the next call
    return found
