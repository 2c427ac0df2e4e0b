"""Lost runs on a real standalone cluster (`dask scheduler` + `dask worker --no-nanny` subprocesses): a
worker killed with SIGKILL and not replaced leaves its run `running` in the store; its heartbeats stop,
so the run is marked lost (with where it was and what to do), `status` says so, and `retry` on a new
worker completes it with every epoch stored once. A stop of such a run ends it at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bearing_workbench.analysis.run_state import RunState
from bearing_workbench.config.settings import settings
from bearing_workbench.runner import control
from bearing_workbench.runner.following import Follower, follow
from bearing_workbench.runner.launch import submit
from bearing_workbench.store import InvalidTransition, Store
from bearing_workbench.store.status import lost_hint, lost_reason

from .conftest import epoch_numbers, status_path, tiny_config, wait_for, wait_status
from .test_control import paused_run

BIN = Path(sys.executable).parent
GRACE_S = 3.0  # the test's grace (the default is a minute): workers beat every 0.25 s
EPOCHS = 5  # the kill lands while the run is paused after its first epoch: a fixed point


def _env(workspace: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEARING_WORKBENCH_")}
    env |= {
        "BEARING_WORKBENCH_WORKSPACE": str(workspace),
        "BEARING_WORKBENCH_HEARTBEAT_S": "0.25",
        "BEARING_WORKBENCH_LOST_AFTER_S": str(GRACE_S),
        "CI": "true",
    }
    return env


class StandaloneCluster:
    """A `dask scheduler` and workers started as a user would, each its own process."""

    def __init__(self, workspace: Path, folder: Path):
        self.env = _env(workspace)
        file = folder / "scheduler.json"
        self.procs: list[subprocess.Popen] = [
            self._spawn("scheduler", "--port", "0", "--scheduler-file", str(file))
        ]
        wait_for(lambda: file.exists() and file.stat().st_size > 0, "the scheduler file", timeout=60)
        self.address: str = json.loads(file.read_text())["address"]

    def _spawn(self, *args: str) -> subprocess.Popen:
        command = [str(BIN / "dask"), *args, "--no-dashboard"]
        return subprocess.Popen(command, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def add_worker(self) -> subprocess.Popen:
        """One worker without a nanny (nobody restarts it when it is killed), one thread."""
        proc = self._spawn("worker", self.address, "--nthreads", "1", "--no-nanny")
        self.procs.append(proc)
        return proc

    def close(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def cluster(store: Store, tmp_path: Path) -> Iterator[tuple[StandaloneCluster, Any]]:
    import distributed

    standalone = StandaloneCluster(store.workspace, tmp_path)
    try:
        standalone.add_worker()
        with distributed.Client(standalone.address, timeout=60) as client:
            client.wait_for_workers(1, timeout=120)
            yield standalone, client
    finally:
        standalone.close()


def _paused_on_its_worker(client: Any, store: Store) -> tuple[int, str]:
    """A run paused after its first epoch (a fixed point to kill at); returns its id and worker."""
    experiment_id = submit(tiny_config(epochs=EPOCHS), client=client, store=store)
    wait_for(lambda: store.epochs(experiment_id), "the first epoch")
    control.pause(experiment_id, client=client, store=store)
    wait_status(store, experiment_id, "paused")
    return experiment_id, store.get_experiment(experiment_id).worker


def _kill_worker(client: Any, address: str) -> None:
    pid = client.run(os.getpid, workers=[address])[address]
    os.kill(pid, signal.SIGKILL)
    wait_for(
        lambda: address not in client.scheduler_info()["workers"], "the scheduler to see the worker gone"
    )


def test_a_run_whose_worker_died_is_marked_lost_and_retry_completes_it(cluster, store: Store) -> None:
    standalone, client = cluster
    experiment_id, first_worker = _paused_on_its_worker(client, store)
    _kill_worker(client, first_worker)
    assert str(store.get_experiment(experiment_id).status) == "paused"  # nobody told the store yet

    # Any watcher marks it once its heartbeats are older than the grace (the store decides, not Dask).
    wait_for(lambda: store.mark_lost(GRACE_S, experiment_ids=[experiment_id]), "the run to be marked lost")
    done = epoch_numbers(store, experiment_id)
    record = store.get_experiment(experiment_id)
    assert str(record.status) == "failed"
    assert (record.error, record.hint) == (lost_reason(done[-1]), lost_hint(done[-1]))
    lost = [e for e in store.events(experiment_id) if e.kind == "lost"]
    assert len(lost) == 1 and lost[0].payload["worker"] == first_worker
    assert lost[0].payload["epoch"] == done[-1] and lost[0].payload["attempt"] == 1
    with pytest.raises(InvalidTransition, match="it is failed .*; retry resumes it from its last checkpoint"):
        control.stop(experiment_id, client=client, store=store)  # already ended: what to do instead

    # `status` tells the truth, from the command line, as a user reads it.
    shown = subprocess.run(
        [sys.executable, "-m", "bearing_workbench", "status", str(experiment_id), "--json"],
        capture_output=True, text=True, env=standalone.env, timeout=240, check=True,
    )  # fmt: skip
    (summary,) = json.loads(shown.stdout)
    assert (summary["status"], summary["error"], summary["worker"]) == ("failed", record.error, first_worker)
    assert [(a["kind"], a["worker"]) for a in summary["attempts"]] == [("lost", first_worker)]

    # A new worker joins; retry resumes the run from its last checkpoint and completes it.
    standalone.add_worker()
    client.wait_for_workers(1, timeout=120)
    retried = subprocess.run(
        [sys.executable, "-m", "bearing_workbench", "control", str(experiment_id), "retry"],
        capture_output=True, text=True, timeout=240,
        env=standalone.env | {"BEARING_WORKBENCH_SCHEDULER": standalone.address},
    )  # fmt: skip
    assert retried.returncode == 0, retried.stderr
    assert wait_status(store, experiment_id) == "completed"
    assert epoch_numbers(store, experiment_id) == list(range(1, EPOCHS + 1))  # each epoch once
    record = store.get_experiment(experiment_id)
    resubmitted = [e for e in store.events(experiment_id) if e.kind == "resubmitted"]
    assert len(resubmitted) == 1 and resubmitted[0].payload["epoch"] == done[-1]  # from its last checkpoint
    assert record.worker == resubmitted[0].payload["worker"] != first_worker
    assert record.attempt == resubmitted[0].payload["attempt"] == 2
    assert status_path(store, experiment_id) == [
        "running",
        "paused",
        "failed",
        "pending",
        "running",
        "completed",
    ]
    shown = subprocess.run(
        [sys.executable, "-m", "bearing_workbench", "status", str(experiment_id)],
        capture_output=True, text=True, env=standalone.env, timeout=240, check=True,
    ).stdout  # fmt: skip
    assert f"last ran on {record.worker} (attempt 2)" in shown  # the worker it ran on last, not the dead one
    assert (
        lost_reason(done[-1]) in shown and f"attempt 2 on {record.worker}: continuing from last.pt" in shown
    )
    # The monitor's replay: one curve point per epoch, in order, none redrawn (no jump at the loss).
    state = RunState(experiment_id, total_epochs=EPOCHS)
    with follow(experiment_id, state.apply, client=client, store=store):
        pass  # the replay is delivered before follow returns
    assert state.curves()["epoch"] == list(range(1, EPOCHS + 1)) and state.history_version == 0
    assert state.info().status == "completed" and not state.info().lost


def test_stop_ends_a_run_nobody_runs_at_once(cluster, store: Store) -> None:
    _, client = cluster
    experiment_id, worker = _paused_on_its_worker(client, store)
    _kill_worker(client, worker)
    control.stop(experiment_id, client=client, store=store)  # before any watcher marked it lost
    record = store.get_experiment(experiment_id)
    assert str(record.status) == "stopped"
    stopped = [e for e in store.events(experiment_id) if e.kind == "stopped"]
    assert len(stopped) == 1 and "retry resumes it from its last checkpoint" in stopped[0].message
    assert "its task waits for a worker" in stopped[0].payload["unanswered"]
    assert experiment_id not in store.mark_lost(GRACE_S)  # ended: nothing left to mark lost


def test_a_follower_that_loses_its_scheduler_says_since_when_and_when_the_run_will_be_lost(client, store):
    import threading

    import distributed

    experiment_id = paused_run(client, store)
    own = distributed.Client(client.scheduler.address, set_as_default=False)
    notes: list[dict] = []
    told = threading.Event()

    def on_event(message: dict) -> None:
        if message["kind"] == "connection":
            notes.append(message)
            told.set()

    follower = Follower(experiment_id, on_event, client=own, store=store, live_sweep_interval_s=0.05).start()
    try:
        assert follower.mode == "live"
        own.close()  # this driver's scheduler connection is gone (the run's worker beats on)
        assert told.wait(60)
        note = notes[0]
        assert note["scheduler"] == "unreachable" and note["since"] == follower.unreachable_since
        beat = store.get_experiment(experiment_id).last_seen.timestamp()
        assert note["lost_at"] == pytest.approx(beat + settings().lost_after_s, abs=10)  # beats every 5 s
        state = RunState(experiment_id, total_epochs=EPOCHS)
        state.apply(note)
        assert state.info().connection_note.startswith("scheduler unreachable since ")
        assert "the run will be marked lost at " in state.info().connection_note
        told.clear()
        control.stop(experiment_id, client=client, store=store)
        wait_status(store, experiment_id, "stopped")
        assert told.wait(60)  # ended: no promise of a loss any more
        assert notes[-1]["lost_at"] is None
    finally:
        follower.close()
