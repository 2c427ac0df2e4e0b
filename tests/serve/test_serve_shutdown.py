"""Ctrl-C in the terminal of `bearing-workbench serve` (SIGINT to its process group) with a training on
its cluster: the run stops with a checkpoint, every process the server started ends, the port is free."""

from __future__ import annotations

import os
import re
import signal
import socket
from pathlib import Path

import distributed
import psutil

from bearing_workbench.config import preset_config
from bearing_workbench.runner import submit
from bearing_workbench.store import workspace
from bearing_workbench.training.checkpoint import LAST_NAME

from .conftest import DATASET, end_server, session_processes, start_server, wait_for, write_notebook


def test_ctrl_c_stops_the_runs_then_everything_ends(workspace_root: Path, tmp_path: Path) -> None:
    apps = tmp_path / "apps"
    apps.mkdir()
    write_notebook(apps / "probe.ipynb", "print('probe')")
    server = start_server(workspace_root, apps)
    try:
        scheduler = re.search(r"Dask cluster:\s+(tcp://\S+)", server.log()).group(1)
        store = server.store()
        config = preset_config(
            "quick",
            "cnn1d",
            DATASET,
            {
                "data.window": None,
                "training.epochs": 500,
                "training.batch_size": 1,
                "training.checkpoint.policy": "every_epoch",
            },
        )
        with distributed.Client(scheduler, set_as_default=False) as client:
            experiment_id = submit(config, client=client, store=store)
        wait_for(lambda: store.epochs(experiment_id), "the first epoch of the run", timeout=120)
        processes = session_processes(server)
        assert len(processes) >= 3  # the cluster process, a worker, Voilà

        os.killpg(server.proc.pid, signal.SIGINT)  # what a terminal sends its foreground group
        assert server.proc.wait(120) == 0, server.log()
        assert f"stopping 1 run(s) with a checkpoint: {experiment_id}" in server.log()
        assert str(store.get_experiment(experiment_id).status) == "stopped"
        assert (workspace.experiment_dir(experiment_id, workspace_root) / LAST_NAME).is_file()
        _, alive = psutil.wait_procs(processes, timeout=30)
        assert not alive, [p.cmdline() for p in alive]
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", server.port))  # free again
    finally:
        end_server(server)
