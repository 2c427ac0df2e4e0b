"""Analysis fixtures: a workspace with real tiny experiments trained in-process by the real training code.

Shared by the analysis and panel tests (helpers: append fixtures here, do not change the existing
ones: several test modules count on what they hold).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bearing_workbench.config import preset_config
from bearing_workbench.store import Store

from ..tiny_data import tiny_store

CLASSES = ("healthy", "imbalance", "misalignment")
DATASET = "tiny-analysis"
WINDOW = 2048  # 0.1 s at 20480 Hz: 7 windows per record
# Tiny networks and one epoch each: the tests check what the views read, not what was learned.
TINY_RUNS: dict[str, dict[str, object]] = {
    "cnn1d": {"model.params.filters": 32, "model.params.fc_sizes": [8]},
    # Whole records (56 patches of 256 samples): one window per record, so the record's stored
    # probabilities are those of the window its attention is shown on.
    "transformer": {
        "model.params.n_layers": 2,
        "model.params.n_heads": 2,
        "model.params.d_model": 64,
        "model.params.patch_size": 256,
        "data.window": None,
    },
    "spectrogram": {
        "model.params.base_channels": 8,
        "model.params.stft_window": 128,
        "model.params.dual_stream": True,
        "data.window": None,
    },
    # Whole 0.7 s records: the physics bands need fine frequency bins (the PINN warns below 13430 samples).
    "pinn": {
        "model.params.filters": 8,
        "model.params.fc_size": 8,
        "model.params.lambda_physics": 0.5,
        "data.window": None,
    },
    # The 36 features need 0.5 s of signal: whole records too.
    "classical": {"model.params.n_estimators": 10, "model.params.cv_folds": 2, "data.window": None},
}


@pytest.fixture(scope="session")
def analysis_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A workspace with a registered 3-class dataset of 4 records per class, 0.7 s each (14336 samples)."""
    root = tmp_path_factory.mktemp("analysis-ws")
    store = tiny_store(root, per_class=4, duration_s=0.7, seed=11, name=DATASET)
    yield store
    store.dispose()


def tiny_run_config(family: str, **overrides: object) -> dict[str, object]:
    """Quick-preset config of `family` on the tiny dataset: 2048-sample windows, one epoch, batch 4."""
    values: dict[str, object] = {
        "data.window": {"length": WINDOW},
        "training.epochs": 1,
        "training.batch_size": 4,
        **TINY_RUNS.get(family, {}),
        **overrides,
    }
    return preset_config("quick", family, DATASET, values)


@pytest.fixture(scope="session")
def trained_ids(analysis_store: Store) -> dict[str, int]:
    """Completed experiments: family -> id for each of `TINY_RUNS` and an ensemble of the cnn1d and
    classical runs."""
    from bearing_workbench.training.experiment import create_experiment, train_experiment

    ids: dict[str, int] = {}
    for family in TINY_RUNS:
        ids[family] = create_experiment(analysis_store, tiny_run_config(family))
        train_experiment(analysis_store, ids[family], device="cpu")
    ensemble = tiny_run_config("ensemble", **{"model.params.members": [ids["cnn1d"], ids["classical"]]})
    ids["ensemble"] = create_experiment(analysis_store, ensemble)
    train_experiment(analysis_store, ids["ensemble"], device="cpu")
    return ids


@pytest.fixture
def empty_store(tmp_path: Path) -> Iterator[Store]:
    """A store of its own (for experiments written by hand, e.g. with artifacts missing)."""
    store = Store(workspace=tmp_path)
    yield store
    store.dispose()


SYNTHETIC_TONE_HZ = 125.0


@pytest.fixture
def synthetic_experiment(empty_store: Store) -> tuple[Store, int, str]:
    """(store, experiment id, test record id) of an experiment written by hand over an unregistered
    dataset file of pure tones without speed metadata; the test record is a 125 Hz tone of amplitude 2."""
    import numpy as np

    from bearing_workbench.data.dataset_file import write_dataset
    from bearing_workbench.models.predictions import make_predictions, predictions_csv
    from bearing_workbench.store.workspace import experiment_dir

    fs, n = 2048.0, 4096
    t = np.arange(n) / fs
    signals = np.stack([2.0 * np.sin(2 * np.pi * SYNTHETIC_TONE_HZ * t), np.sin(2 * np.pi * 300.0 * t)])
    path = write_dataset(
        empty_store.workspace / "tones.h5",
        signals.astype(np.float32),
        np.array([0, 1]),
        fs=fs,
        class_names=("healthy", "wear"),
        metadata={"load_frac": np.array([0.5, 0.7])},
        record_ids=["tone-a", "tone-b"],
    )
    experiment_id = empty_store.create_experiment(
        "tones", "cnn1d", {"data": {"dataset": str(path)}, "model": {"family": "cnn1d"}}
    )
    folder = experiment_dir(experiment_id, empty_store.workspace, create=True)
    predictions = make_predictions(["tone-a"], [0], np.array([[0.25, 0.75]]), ("healthy", "wear"))
    (folder / "predictions_test.csv").write_text(predictions_csv(predictions), encoding="utf-8")
    return empty_store, experiment_id, "tone-a"
