"""Whole experiments: every family with the quick preset, store rows, artifacts, stop/resume, failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from bearing_workbench.config import preset_config
from bearing_workbench.data.generator import GeneratorConfig, generate_dataset
from bearing_workbench.data.registration import register_dataset
from bearing_workbench.models import list_families
from bearing_workbench.store import Store
from bearing_workbench.training.callbacks import Callback
from bearing_workbench.training.checkpoint import latest_checkpoint
from bearing_workbench.training.errors import TrainingError
from bearing_workbench.training.experiment import create_experiment, train_experiment

NEURAL = ("cnn1d", "resnet1d", "transformer", "spectrogram", "pinn")
# The test records (0.5 s) are shorter than the presets' 1 s windows: train on whole records.
WHOLE = {"data.window": None}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A workspace with a small registered dataset of all 11 classes (6 records each, 0.5 s)."""
    root = tmp_path_factory.mktemp("ws")
    store = Store(workspace=root)
    path = generate_dataset(
        root / "datasets" / "small.h5", GeneratorConfig(per_class=6, duration_s=0.5, seed=2)
    )
    register_dataset(store, path, name="small")
    yield store
    store.dispose()


@pytest.fixture(scope="module")
def trained(workspace):
    """One completed experiment per non-ensemble family (quick preset), then an ensemble of two."""
    ids = {}
    for family in [f for f in list_families() if f != "ensemble"]:
        config = preset_config(
            "quick", family, "small", {**WHOLE, "training.epochs": 2, "training.export_onnx": True}
        )
        ids[family] = create_experiment(workspace, config)
        train_experiment(workspace, ids[family])
    config = preset_config(
        "quick", "ensemble", "small", {**WHOLE, "model.params.members": [ids["cnn1d"], ids["classical"]]}
    )
    ids["ensemble"] = create_experiment(workspace, config)
    train_experiment(workspace, ids["ensemble"])
    return ids


def test_every_family_trains_with_the_quick_preset(workspace, trained):
    assert set(trained) == set(list_families())
    for family, experiment_id in trained.items():
        record = workspace.get_experiment(experiment_id)
        assert record.status == "completed", (family, record.error)
        assert 0.0 <= record.metrics["accuracy"] <= 1.0
        folder = workspace.workspace / "experiments" / str(experiment_id)
        for name in (
            "config.yaml",
            "metrics.json",
            "predictions_test.csv",
            "predictions_val.csv",
            "history.json",
        ):
            assert (folder / name).is_file(), (family, name)
        metrics = json.loads((folder / "metrics.json").read_text())
        assert len(metrics["confusion_matrix"]) == 11
        predictions = pd.read_csv(folder / "predictions_test.csv")
        # test metrics are on the test split only: its records, none of train or val
        val = pd.read_csv(folder / "predictions_val.csv")
        assert set(predictions["record_id"]).isdisjoint(val["record_id"])
        if family in NEURAL:
            assert (folder / "best.pt").is_file()
            assert len(workspace.epochs(experiment_id)) == 2
            assert metrics["onnx"]["verified"], metrics["onnx"]


def test_store_records_the_run(workspace, trained):
    experiment_id = trained["cnn1d"]
    kinds = [e.kind for e in workspace.events(experiment_id)]
    assert "best_model" in kinds and kinds[-1] == "completed"
    epochs = workspace.epochs(experiment_id)
    assert [e.epoch for e in epochs] == [1, 2]
    assert all(np.isfinite(e.train_loss) for e in epochs)
    assert "physics_loss" in workspace.epochs(trained["pinn"])[0].extra


class StopAfter(Callback):
    def __init__(self, epoch: int):
        self.epoch = epoch

    def on_epoch_end(self, ctx, metrics):
        if metrics.epoch == self.epoch:
            ctx.request_stop("stopped by the test")


def test_stop_then_resume_keeps_one_row_per_epoch(workspace):
    config = preset_config("quick", "cnn1d", "small", {**WHOLE, "training.epochs": 3})
    experiment_id = create_experiment(workspace, config)
    outcome = train_experiment(workspace, experiment_id, callbacks=[StopAfter(1)])
    assert outcome.status == "stopped"
    assert workspace.get_experiment(experiment_id).status == "stopped"
    folder = outcome.out_dir
    resumed = train_experiment(workspace, experiment_id, resume_from=latest_checkpoint(folder))
    assert resumed.status == "completed"
    assert [e.epoch for e in workspace.epochs(experiment_id)] == [1, 2, 3]


class Diverge(Callback):
    """Stands in for a loss that turned NaN (the loop's own detection is tested in test_loop)."""

    def on_epoch_end(self, ctx, metrics):
        raise TrainingError("loss became NaN at epoch 1", hint="lower the learning rate (current 0.001)")


def test_a_failed_run_is_marked_failed_with_its_hint(workspace):
    experiment_id = create_experiment(workspace, preset_config("quick", "cnn1d", "small", WHOLE))
    with pytest.raises(TrainingError):
        train_experiment(workspace, experiment_id, callbacks=[Diverge()])
    record = workspace.get_experiment(experiment_id)
    assert record.status == "failed"
    assert record.error == "loss became NaN at epoch 1"
    assert record.hint == "lower the learning rate (current 0.001)"
    assert workspace.events(experiment_id)[-1].kind == "failed"


def test_cli_train_json(workspace):
    env = {**os.environ, "BEARING_WORKBENCH_WORKSPACE": str(workspace.workspace)}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bearing_workbench",
            "train",
            "--model",
            "classical",
            "--preset",
            "quick",
            "--dataset",
            "small",
            "--set",
            "data.window=null",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["status"] == "completed" and 0 <= result["accuracy"] <= 1
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "bearing_workbench",
            "train",
            "--model",
            "cnn1d",
            "--dataset",
            "small",
            "--set",
            "training.batch_size=48",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert bad.returncode == 2 and "training.batch_size" in bad.stderr and "power of 2" in bad.stderr
