"""`bearing-workbench submit | status | control | logs` as a user runs them: real subprocesses, a real
standalone Dask scheduler and worker (started like a user would, with `dask scheduler`/`dask worker`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bearing_workbench.store import Store

from .conftest import DATASET, wait_for

BIN = Path(sys.executable).parent
# whole 0.5 s records, 2 epochs: a run of a few seconds
TINY = ("--set", "data.window=null", "--set", "training.epochs=2", "--set", "training.batch_size=1")


def _env(workspace: Path, scheduler: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEARING_WORKBENCH_")}
    env["BEARING_WORKBENCH_WORKSPACE"] = str(workspace)
    env["CI"] = "true"  # no progress bars
    if scheduler:
        env["BEARING_WORKBENCH_SCHEDULER"] = scheduler
    return env


def _cli(env: dict[str, str], *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bearing_workbench", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def scheduler(store: Store, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `dask scheduler` and one `dask worker` process (1 thread) sharing the test workspace."""
    folder = tmp_path_factory.mktemp("dask")
    file = folder / "scheduler.json"
    env = _env(store.workspace)
    common = ["--no-dashboard"]
    procs = [
        subprocess.Popen(
            [str(BIN / "dask"), "scheduler", "--port", "0", "--scheduler-file", str(file), *common],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        wait_for(lambda: file.exists() and file.stat().st_size > 0, "the scheduler file", timeout=60)
        address = json.loads(file.read_text())["address"]
        procs.append(
            subprocess.Popen(
                [str(BIN / "dask"), "worker", address, "--nthreads", "1", "--nworkers", "1", *common],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        import distributed

        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(1, timeout=120)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _status(env: dict[str, str], experiment_id: int) -> dict:
    run = _cli(env, "status", str(experiment_id), "--json")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)[0]


def _wait_status(env: dict[str, str], experiment_id: int, *wanted: str, timeout: float = 180) -> dict:
    return wait_for(
        lambda: (s := _status(env, experiment_id))["status"] in wanted and s,
        f"experiment {experiment_id} to be {' or '.join(wanted)}",
        timeout=timeout,
    )


def test_submit_without_a_scheduler_is_refused_and_records_nothing(store: Store) -> None:
    before = store.count_experiments()
    run = _cli(_env(store.workspace), "submit", "--model", "classical", "--dataset", DATASET)
    assert run.returncode == 2
    assert "no Dask scheduler configured" in run.stderr and "--wait" in run.stderr
    assert store.count_experiments() == before


def test_bad_config_is_refused_before_anything_is_submitted(store: Store, scheduler: str) -> None:
    before = store.count_experiments()
    env = _env(store.workspace, scheduler)
    run = _cli(env, "submit", "--model", "cnn1d", "--dataset", DATASET, "--set", "training.epochs=0")
    assert run.returncode == 2
    assert "training.epochs" in run.stderr
    run = _cli(env, "submit", "--model", "no_such_family", "--dataset", DATASET)
    assert run.returncode == 2 and "model.family" in run.stderr
    run = _cli(env, "submit", "--dataset", DATASET)
    assert run.returncode == 2 and "--model required" in run.stderr
    assert store.count_experiments() == before


def test_submit_returns_at_once_then_status_and_logs_follow_the_run(store: Store, scheduler: str) -> None:
    env = _env(store.workspace, scheduler)
    run = _cli(env, "submit", "--model", "cnn1d", "--dataset", DATASET, *TINY, "--name", "cli tiny", "--json")
    assert run.returncode == 0, run.stderr
    submitted = json.loads(run.stdout)
    assert submitted["status"] == "pending" and submitted["scheduler"] == scheduler
    experiment_id = submitted["experiment_id"]

    done = _wait_status(env, experiment_id, "completed", "failed")
    assert done["status"] == "completed", done
    assert done["name"] == "cli tiny" and done["family"] == "cnn1d"
    assert done["epoch"] == done["total_epochs"] == 2
    assert 0.0 <= done["accuracy"] <= 1.0
    assert Path(done["folder"], "metrics.json").exists()

    text = _cli(env, "status", str(experiment_id))
    assert f"experiment {experiment_id} 'cli tiny' (cnn1d): completed" in text.stdout
    assert "test accuracy" in text.stdout
    listing = _cli(env, "status", "--limit", "50")
    assert any(line.split()[:2] == [str(experiment_id), "completed"] for line in listing.stdout.splitlines())

    logs = _cli(env, "logs", str(experiment_id), "-n", "5")
    assert logs.returncode == 0, logs.stderr
    lines = logs.stdout.splitlines()
    assert 0 < len(lines) <= 5
    assert lines[-1].endswith(
        f"run ended completed: test accuracy {done['accuracy']:.4f}, macro-F1 {done['macro_f1']:.4f}"
    )


def test_control_pauses_resumes_and_stops_a_run(store: Store, scheduler: str) -> None:
    env = _env(store.workspace, scheduler)
    # A run that cannot end while the commands travel (each `control` is a new Python process, seconds
    # under load): the most epochs allowed, of the widest and deepest network, one record per step.
    long_run = [
        *("--set", "data.window=null", "--set", "training.batch_size=1", "--set", "training.epochs=500"),
        *("--set", "model.params.filters=256", "--set", "model.params.n_conv_layers=5"),
        *("--set", "model.params.kernel_sizes=[11,11,11,11,11]"),
    ]
    run = _cli(env, "submit", "--model", "cnn1d", "--dataset", DATASET, *long_run, "--json")
    assert run.returncode == 0, run.stderr
    experiment_id = json.loads(run.stdout)["experiment_id"]
    try:
        # Each step waits on the state the previous command set; only the stop depends on the run not
        # ending first, and 500 epochs take minutes (seconds each on a loaded machine).
        _wait_status(env, experiment_id, "running")
        wait_for(lambda: store.epochs(experiment_id), "a first epoch")

        assert _cli(env, "control", str(experiment_id), "pause").returncode == 0
        paused = _wait_status(env, experiment_id, "paused")
        # Held: no epoch ends between the pause and the next look (a whole `status` process later).
        assert _status(env, experiment_id)["epoch"] == paused["epoch"] or paused["epoch"] is None

        assert _cli(env, "control", str(experiment_id), "resume").returncode == 0
        _wait_status(env, experiment_id, "running")
        stop = _cli(env, "control", str(experiment_id), "stop")
        assert stop.returncode == 0 and "stop requested" in stop.stdout
        stopped = _wait_status(env, experiment_id, "stopped")
        assert stopped["epoch"] < 500
    finally:
        # A failed step must not leave a run of minutes training, nor a live row in the session's
        # store once this module's scheduler is gone (test_faults' reconcile would find it).
        if str(store.get_experiment(experiment_id).status) in ("pending", "running", "paused"):
            _cli(env, "control", str(experiment_id), "stop")
            _wait_status(env, experiment_id, "stopped", "completed", "failed")

    again = _cli(env, "control", str(experiment_id), "pause")
    assert again.returncode == 2 and "it is stopped" in again.stderr


def test_control_and_logs_explain_what_is_missing(store: Store) -> None:
    env = _env(store.workspace)
    run = _cli(env, "control", "1", "stop")
    assert run.returncode == 2 and "needs the scheduler" in run.stderr
    run = _cli(env, "logs", "999999")
    assert run.returncode == 2 and "999999" in run.stderr
    run = _cli(env, "status", "999999")
    assert run.returncode == 2 and "999999" in run.stderr


def test_submit_wait_on_a_local_cluster_follows_to_the_end(store: Store) -> None:
    env = _env(store.workspace)
    run = _cli(
        env,
        "submit",
        "--model",
        "cnn1d",
        "--dataset",
        DATASET,
        *TINY,
        "--wait",
    )
    assert run.returncode == 0, run.stderr
    assert "following it until it ends" in run.stdout
    assert "epoch 1/2" in run.stdout and "epoch 2/2" in run.stdout
    assert ": completed" in run.stdout and "test accuracy" in run.stdout


def test_submit_finds_a_preset_saved_in_the_workspace(store: Store, scheduler: str) -> None:
    """The wizard saves presets under <workspace>/presets; the CLI takes them by name."""
    from bearing_workbench.config import preset_config, save_user_preset
    from bearing_workbench.store.config_files import presets_dir

    config = preset_config("quick", "cnn1d", DATASET, {"data.window": None, "training.batch_size": 1})
    config["training"]["epochs"] = 2
    save_user_preset("two_epochs", config, presets_dir(store.workspace, create=True), overwrite=True)
    env = _env(store.workspace, scheduler)
    run = _cli(env, "submit", "--model", "cnn1d", "--preset", "two_epochs", "--dataset", DATASET, "--json")
    assert run.returncode == 0, run.stderr
    experiment_id = json.loads(run.stdout)["experiment_id"]
    done = _wait_status(env, experiment_id, "completed", "failed")
    assert done["status"] == "completed" and done["epoch"] == done["total_epochs"] == 2
    unknown = _cli(env, "submit", "--model", "cnn1d", "--preset", "nope", "--dataset", DATASET)
    assert unknown.returncode == 2 and "two_epochs" in unknown.stderr  # the known presets are listed
