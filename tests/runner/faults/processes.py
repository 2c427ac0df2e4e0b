"""A real Dask cluster as separate processes (`dask scheduler`, `dask worker --nanny`) for fault tests.

The tests kill its processes with SIGKILL, as an operator's `kill -9` or the kernel's OOM killer
would. What governs how long each fault takes (measured on distributed 2026.8):

- a worker whose scheduler dies closes at once ("worker-handle-scheduler-connection-broken"): a
  worker never reconnects. Its close waits up to 30 s (`Worker.close`'s own timeout, not a config
  setting) for the task in progress, which trains on meanwhile; then its process exits, and its
  nanny closes too instead of starting another worker.
- ``distributed.comm.timeouts.connect`` (set short here, in the environment of every process): how
  long a worker's client (the one a run's control Variable uses) and a test's client try to reach a
  scheduler that died before giving up.
- ``--death-timeout``: how long a nanny started without a scheduler waits for one.
- the scheduler's ``worker-ttl`` keeps its default of minutes: a worker busy training on a loaded
  machine misses heartbeats for many seconds, and a short one makes the scheduler restart it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
DASK = str(Path(sys.executable).with_name("dask"))
CONNECT_TIMEOUT = "5s"
HEARTBEAT_S = 0.5  # a run's worker beats this often...
LOST_AFTER_S = 4.0  # ...and a run silent this long is lost (the defaults: 5 s and 60 s)
DEATH_TIMEOUT = "8s"
POLL_S = 0.05


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], Any], what: str, timeout: float) -> Any:
    """Poll `condition` until it returns a truthy value; TimeoutError naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(POLL_S)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def cluster_env(workspace: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every process of the test cluster (this worktree's package first)."""
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p),
            "BEARING_WORKBENCH_WORKSPACE": str(workspace),
            "BEARING_WORKBENCH_HEARTBEAT_S": str(HEARTBEAT_S),
            "BEARING_WORKBENCH_LOST_AFTER_S": str(LOST_AFTER_S),
            "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": CONNECT_TIMEOUT,
            "DASK_DISTRIBUTED__WORKER__DAEMON": "False",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }
    )
    env.update(extra or {})
    return env


class FaultCluster:
    """One scheduler at a fixed address and any number of nanny workers, each a process group of its own.

    The address survives a scheduler's death: `start_scheduler` after `kill_scheduler` brings one
    back where workers and clients look for it.
    """

    def __init__(self, workspace: Path, logs: Path, env: dict[str, str] | None = None):
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.logs = logs
        self.logs.mkdir(parents=True, exist_ok=True)
        self.env = cluster_env(workspace, env)
        self.scheduler: subprocess.Popen[bytes] | None = None
        self.nannies: list[subprocess.Popen[bytes]] = []
        self._started = 0

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen[bytes]:
        self._started += 1
        log = open(self.logs / f"{self._started:02d}-{name}.log", "wb")  # noqa: SIM115 (kept by the child)
        try:
            return subprocess.Popen(
                [DASK, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        finally:
            log.close()

    # -- starting ------------------------------------------------------------------------------------

    def start_scheduler(self, timeout: float = 60.0) -> None:
        self.scheduler = self._spawn(
            ["scheduler", "--host", "127.0.0.1", "--port", str(self.port), "--no-dashboard"], "scheduler"
        )
        wait_until(self._scheduler_listens, f"the scheduler at {self.address}", timeout)

    def _scheduler_listens(self) -> bool:
        if self.scheduler is None or self.scheduler.poll() is not None:
            raise RuntimeError(f"the scheduler exited; see {self.logs}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def start_workers(self, count: int = 1, threads: int = 1) -> None:
        """Start `count` nannies (one worker process each) without waiting for them (see `wait_workers`)."""
        for _ in range(count):
            self.nannies.append(
                self._spawn(
                    [
                        "worker",
                        self.address,
                        "--nanny",
                        "--nworkers",
                        "1",
                        "--nthreads",
                        str(threads),
                        "--no-dashboard",
                        "--death-timeout",
                        DEATH_TIMEOUT,
                        "--memory-limit",
                        "0",
                    ],
                    "worker",
                )
            )

    # -- faults --------------------------------------------------------------------------------------

    def kill_scheduler(self) -> None:
        """SIGKILL the scheduler process."""
        assert self.scheduler is not None
        self.scheduler.send_signal(signal.SIGKILL)
        self.scheduler.wait(timeout=30)
        self.scheduler = None

    def kill_nannies(self) -> None:
        """SIGKILL every nanny and its worker process (the whole `dask worker` process group)."""
        for nanny in self.nannies:
            with contextlib.suppress(ProcessLookupError):  # its worker may outlive a dead nanny
                os.killpg(nanny.pid, signal.SIGKILL)
            nanny.wait(timeout=30)
        self.nannies = []

    @staticmethod
    def kill_pid(pid: int) -> None:
        """SIGKILL one process (a worker process, whose nanny then starts another)."""
        os.kill(pid, signal.SIGKILL)

    def alive_nannies(self) -> int:
        return sum(1 for nanny in self.nannies if nanny.poll() is None)

    def close(self) -> None:
        """End every process this cluster started (and their children)."""
        procs = [p for p in [self.scheduler, *self.nannies] if p is not None]
        for proc in procs:  # each is the leader of its own group: its workers go with it
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        for proc in procs:
            proc.wait(timeout=30)
        self.scheduler, self.nannies = None, []


def client_of(cluster: FaultCluster, workers: int, timeout: float) -> Any:
    """A client of `cluster`'s scheduler once `workers` workers have registered."""
    import distributed

    client = distributed.Client(cluster.address, set_as_default=False, timeout="20s")
    try:
        client.wait_for_workers(workers, timeout=timeout)
    except BaseException:
        client.close()
        raise
    return client
