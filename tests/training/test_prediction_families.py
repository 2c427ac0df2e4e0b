"""Every family: a tiny trained model predicts a dataset file and a plain .npz of the same signals with
the classes (and probabilities) it stored for its test records."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bearing_workbench.config import preset_config
from bearing_workbench.data.dataset_file import Dataset
from bearing_workbench.models import list_families
from bearing_workbench.store.artifacts import ExperimentFolder
from bearing_workbench.training.experiment import create_experiment, train_experiment
from bearing_workbench.training.prediction import predict

from ..tiny_data import tiny_store

# Whole records (the tiny records are shorter than the presets' windows), one epoch, 6 training records.
OVERRIDES = {"data.window": None, "training.epochs": 1, "training.batch_size": 4}
ENSEMBLE_MEMBERS = ("cnn1d", "classical")
# Overlapping windows: 4 per record, their probabilities averaged to the record.
WINDOWED = {"cnn1d windowed": ("cnn1d", {"data.window": {"length": 4096, "hop": 2048}})}


class Experiments:
    """One completed experiment per family in a tiny workspace, trained the first time it is asked for."""

    def __init__(self, root: Path):
        self.store = tiny_store(root, per_class=4, duration_s=0.5, seed=11)
        self.dataset = root / "datasets" / "tiny.h5"
        self.ids: dict[str, int] = {}

    def __call__(self, name: str) -> int:
        if name not in self.ids:
            family, extra = WINDOWED.get(name, (name, {}))
            overrides = {**OVERRIDES, **extra}
            if family == "classical":
                overrides["model.params.cv_folds"] = 2  # 3 or 4 training records per class
            if family == "ensemble":
                overrides["model.params.members"] = [self(member) for member in ENSEMBLE_MEMBERS]
            experiment_id = create_experiment(self.store, preset_config("quick", family, "tiny", overrides))
            train_experiment(self.store, experiment_id)
            record = self.store.get_experiment(experiment_id)
            assert record.status == "completed", (family, record.error)
            self.ids[name] = experiment_id
        return self.ids[name]


@pytest.fixture(scope="module")
def experiments(tmp_path_factory):
    made = Experiments(tmp_path_factory.mktemp("ws"))
    yield made
    made.store.dispose()


@pytest.fixture(scope="module")
def npz_copy(experiments, tmp_path_factory) -> Path:
    """The dataset's signals, labels, ids and numeric metadata as a plain .npz (no pickle)."""
    path = tmp_path_factory.mktemp("npz") / "same_signals.npz"
    with Dataset(experiments.dataset) as ds:
        meta = {f"meta_{k}": v for k, v in ds.metadata().items() if v.dtype.kind in "iuf"}
        np.savez(
            path,
            signals=ds.signals(),
            labels=np.asarray(ds.class_names)[ds.labels],
            fs=np.float64(ds.fs),
            record_ids=ds.record_ids.astype(str),
            **meta,
        )
    return path


@pytest.mark.parametrize("family", list_families())
def test_predict_gives_the_stored_test_predictions_on_a_dataset_file_and_on_an_npz(
    family, experiments, npz_copy
):
    experiment_id = experiments(family)
    store = experiments.store
    stored = pd.read_csv(ExperimentFolder.of(experiment_id, store.workspace).predictions_test)
    stored = stored.set_index("record_id")
    prob_columns = [c for c in stored.columns if c.startswith("prob_")]
    for source in (str(experiments.dataset), npz_copy):
        result = predict(experiment_id, source, store=store, device="cpu")
        frame = result.frame().set_index("record_id").loc[stored.index]
        assert frame["predicted_label"].tolist() == stored["predicted_label"].tolist(), (family, source)
        assert frame["true_label"].tolist() == stored["true_label"].tolist()
        np.testing.assert_allclose(frame[prob_columns].to_numpy(), stored[prob_columns].to_numpy(), atol=1e-4)
        assert result.n_records == 12 and result.warnings == ()


def test_windows_of_a_windowed_model_are_cut_as_in_training_and_average_to_its_stored_predictions(
    experiments,
):
    experiment_id = experiments("cnn1d windowed")
    store = experiments.store
    stored = pd.read_csv(ExperimentFolder.of(experiment_id, store.workspace).predictions_test)
    result = predict(experiment_id, str(experiments.dataset), split="test", windows=True, store=store)
    frame = result.frame().set_index("record_id").loc[stored["record_id"]]
    assert frame["predicted_label"].tolist() == stored["predicted_label"].tolist()
    prob_columns = [c for c in stored.columns if c.startswith("prob_")]
    np.testing.assert_allclose(frame[prob_columns].to_numpy(), stored[prob_columns].to_numpy(), atol=1e-4)
    windows = result.windows
    assert windows.groupby("record_id")["start"].apply(list).tolist() == [[0, 2048, 4096, 6144]] * len(stored)
    assert windows.groupby("record_id")["window"].apply(list).tolist() == [[0, 1, 2, 3]] * len(stored)
    averaged = windows.groupby("record_id")[prob_columns].mean().loc[stored["record_id"]].to_numpy()
    np.testing.assert_allclose(averaged, stored[prob_columns].to_numpy(), atol=1e-4)
