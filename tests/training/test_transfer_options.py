"""The transfer options end to end: a stored model applies its normalisation itself when it predicts,
order features survive storage, and the new augmentations train."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bearing_workbench.config import preset_config
from bearing_workbench.data.dataset_file import Dataset
from bearing_workbench.store.artifacts import ExperimentFolder
from bearing_workbench.training.experiment import create_experiment, train_experiment
from bearing_workbench.training.prediction import predict

from ..tiny_data import tiny_store

OVERRIDES = {"data.window": None, "training.epochs": 1, "training.batch_size": 4}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("ws")
    store = tiny_store(root, per_class=4, duration_s=0.5, seed=11)
    yield store, root / "datasets" / "tiny.h5"
    store.dispose()


def _train(store, family: str, overrides: dict) -> int:
    experiment_id = create_experiment(
        store, preset_config("quick", family, "tiny", {**OVERRIDES, **overrides})
    )
    train_experiment(store, experiment_id)
    record = store.get_experiment(experiment_id)
    assert record.status == "completed", record.error
    return experiment_id


def _scaled_copy(dataset, path, gain: float):
    with Dataset(dataset) as ds:
        meta = {f"meta_{k}": v for k, v in ds.metadata().items() if v.dtype.kind in "iuf"}
        np.savez(
            path,
            signals=ds.signals() * gain,
            labels=np.asarray(ds.class_names)[ds.labels],
            fs=np.float64(ds.fs),
            record_ids=ds.record_ids.astype(str),
            **meta,
        )
    return path


def test_a_stored_classical_model_normalises_and_orders_by_itself(workspace, tmp_path):
    store, dataset = workspace
    overrides = {
        "model.params.cv_folds": 2,
        "model.params.order_features": True,
        "data.normalisation": "rms",
    }
    experiment_id = _train(store, "classical", overrides)
    folder = ExperimentFolder.of(experiment_id, store.workspace)
    assert json.loads(folder.input_spec.read_text())["normalisation"] == "rms"
    as_is = predict(experiment_id, dataset, store=store)
    # A power of two scales every sample exactly, so the normalised windows are the same numbers.
    louder = predict(experiment_id, _scaled_copy(dataset, tmp_path / "x64.npz", 64.0), store=store)
    np.testing.assert_allclose(louder.probs, as_is.probs, atol=1e-6)
    assert louder.predicted == as_is.predicted


def test_a_neural_run_trains_with_stretch_and_colouring(workspace):
    store, _ = workspace
    augmentation = {
        "data.augmentation.time_stretch": 0.1,
        "data.augmentation.band_colouring_db": 6.0,
        "data.normalisation": "standardise",
    }
    experiment_id = _train(store, "cnn1d", augmentation)
    assert store.get_experiment(experiment_id).config["data"]["augmentation"]["time_stretch"] == 0.1
