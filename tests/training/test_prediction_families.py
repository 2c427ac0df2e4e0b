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


class Experiments:
    """One completed experiment per family in a tiny workspace, trained the first time it is asked for."""

    def __init__(self, root: Path):
        self.store = tiny_store(root, per_class=4, duration_s=0.5, seed=11)
        self.dataset = root / "datasets" / "tiny.h5"
        self.ids: dict[str, int] = {}

    def __call__(self, family: str) -> int:
        if family not in self.ids:
            overrides = dict(OVERRIDES)
            if family == "classical":
                overrides["model.params.cv_folds"] = 2  # 3 or 4 training records per class
            if family == "ensemble":
                overrides["model.params.members"] = [self(member) for member in ENSEMBLE_MEMBERS]
            experiment_id = create_experiment(self.store, preset_config("quick", family, "tiny", overrides))
            train_experiment(self.store, experiment_id)
            record = self.store.get_experiment(experiment_id)
            assert record.status == "completed", (family, record.error)
            self.ids[family] = experiment_id
        return self.ids[family]


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
