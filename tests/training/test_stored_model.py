"""Stored models: every family, trained tiny, read back from its folder predicts its own test records
as the run did; bad records, bad files and unfinished experiments are refused with one line."""

from __future__ import annotations

import collections
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bearing_workbench.config import preset_config
from bearing_workbench.data.dataset_file import Dataset
from bearing_workbench.data.generator import GeneratorConfig, generate_dataset
from bearing_workbench.data.registration import register_dataset
from bearing_workbench.models import get_family, list_families
from bearing_workbench.store import Store
from bearing_workbench.store.artifacts import ExperimentFolder
from bearing_workbench.training.artifacts import read_json
from bearing_workbench.training.experiment import create_experiment, train_experiment
from bearing_workbench.training.skops_files import save_skops
from bearing_workbench.training.stored_model import (
    Records,
    StoredModelError,
    load_loaders,
    load_stored_model,
)

FS = 10240.0
CLASSES = ("healthy", "imbalance", "misalignment")
WINDOW = {"length": 5120, "hop": 2560}  # 0.5 s, the shortest the 36 features accept; 3 per record
TINY = {"data.window": WINDOW, "training.epochs": 1, "training.batch_size": 8}
PER_FAMILY = {
    "classical": {"model.params.cv_folds": 2, "training.export_onnx": True},
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A workspace with a tiny registered dataset: 3 classes x 5 records of 1 s at 10240 Hz."""
    root = tmp_path_factory.mktemp("ws")
    store = Store(workspace=root)
    path = generate_dataset(
        root / "datasets" / "tiny.h5",
        GeneratorConfig(fs=FS, per_class=5, duration_s=1.0, classes=CLASSES, seed=5),
        workers=1,
    )
    register_dataset(store, path, name="tiny")
    yield store
    store.dispose()


@pytest.fixture(scope="module")
def trained(store: Store) -> dict[str, int]:
    """One completed tiny experiment per family; the ensemble stacks cnn1d and classical."""
    ids: dict[str, int] = {}
    for family in [f for f in list_families() if f != "ensemble"]:
        config = preset_config("quick", family, "tiny", {**TINY, **PER_FAMILY.get(family, {})})
        ids[family] = create_experiment(store, config)
        train_experiment(store, ids[family])
    members = {"model.params.members": [ids["cnn1d"], ids["classical"]], "model.params.method": "stacking"}
    config = preset_config("quick", "ensemble", "tiny", {"data.window": WINDOW, **members})
    ids["ensemble"] = create_experiment(store, config)
    train_experiment(store, ids["ensemble"])
    return ids


def folder_of(store: Store, experiment_id: int) -> ExperimentFolder:
    return ExperimentFolder.of(experiment_id, store.workspace)


def records_of(store: Store, record_ids: list[str], *, meta: bool = True) -> Records:
    """The dataset's records `record_ids`, in that order, with their metadata."""
    with Dataset(Path(store.get_dataset("tiny").path)) as ds:
        position = {str(r): i for i, r in enumerate(ds.record_ids)}
        rows = np.array([position[r] for r in record_ids])
        order = np.argsort(rows)
        signals = np.empty((len(rows), ds.n_samples), np.float32)
        signals[order] = ds.signals(rows[order])
        columns = {k: v[rows] for k, v in ds.metadata().items() if v.dtype.kind in "iuf"} if meta else {}
        labels = ds.labels[rows].astype(np.int64)
        return Records(signals, ds.fs, tuple(record_ids), columns, labels)


def stored_test(store: Store, experiment_id: int) -> pd.DataFrame:
    return pd.read_csv(folder_of(store, experiment_id).predictions_test, dtype={"record_id": str})


def test_every_family_has_a_loader() -> None:
    load_loaders()
    assert [f for f in list_families() if get_family(f).loader is None] == []


@pytest.mark.parametrize("family", list_families())
def test_a_stored_model_predicts_its_test_records_as_the_run_did(store, trained, family) -> None:
    experiment_id = trained[family]
    stored = stored_test(store, experiment_id)
    model = load_stored_model(store, experiment_id, device="cpu")
    assert (model.experiment_id, model.family) == (experiment_id, family)
    assert model.spec.class_names == CLASSES and model.min_samples == WINDOW["length"]
    seen: list[float] = []
    out = model.predict_records(
        records_of(store, list(stored["record_id"])), progress=lambda f, m: seen.append(f)
    )
    probs = stored[[f"prob_{name}" for name in CLASSES]].to_numpy()
    np.testing.assert_allclose(out.probs, probs, atol=1e-5)
    predicted = [CLASSES[k] for k in out.probs.argmax(axis=1)]
    assert predicted == list(stored["predicted_label"])
    assert seen and seen[-1] == 1.0
    if family == "ensemble":
        assert out.window_probs is None and out.window_starts is None
    else:
        n = len(stored)
        assert out.window_probs.shape == (3 * n, len(CLASSES))
        assert out.window_record_index.tolist() == np.repeat(np.arange(n), 3).tolist()
        assert out.window_starts.tolist() == [0, 2560, 5120] * n


def test_longer_records_are_cut_as_in_training(store, trained) -> None:
    model = load_stored_model(store, trained["cnn1d"], device="cpu")
    records = records_of(store, list(stored_test(store, trained["cnn1d"])["record_id"])[:2])
    longer = Records(np.tile(records.signals, 2), records.fs, records.record_ids)
    out = model.predict_records(longer)
    assert out.window_starts.tolist() == [0, 2560, 5120, 7680, 10240, 12800, 15360] * 2
    # the windows are the training windows: the first three give the record's own window probabilities
    alone = model.predict_records(records)
    np.testing.assert_allclose(out.window_probs[:3], alone.window_probs[:3], atol=1e-6)


def test_files_the_runs_wrote_and_what_metrics_say(store, trained) -> None:
    classical = folder_of(store, trained["classical"])
    assert classical.classical_model.is_file() and classical.onnx.is_file()
    metrics = read_json(classical.metrics)
    assert metrics["model_file"] == {
        "path": str(classical.classical_model),
        "format": "skops",
        "verified": True,
    }
    assert metrics["onnx"]["verified"] and "feature table" in metrics["onnx"]["input"]
    summary = read_json(classical.model_summary)
    assert summary["persisted"] is True and "model.skops" in summary["persisted_note"]
    ensemble = folder_of(store, trained["ensemble"])
    combiner = read_json(ensemble.ensemble_combiner)
    assert combiner["members"] == [trained["cnn1d"], trained["classical"]]
    assert combiner["method"] == "stacking" and ensemble.ensemble_meta_learner.is_file()


def test_classical_without_measured_speed_estimates_it_and_says_so(store, trained) -> None:
    model = load_stored_model(store, trained["classical"])
    assert "speed_hz" in model.spec.meta_names and model.required_meta == ()
    ids = list(stored_test(store, trained["classical"])["record_id"])
    out = model.predict_records(records_of(store, ids, meta=False))
    assert out.probs.shape == (len(ids), len(CLASSES))
    assert len(out.warnings) == 1 and "speed was estimated per window" in out.warnings[0]


def test_pinn_names_the_metadata_it_needs(store, trained) -> None:
    model = load_stored_model(store, trained["pinn"])
    assert model.required_meta == ("sommerfeld", "reynolds")
    ids = list(stored_test(store, trained["pinn"])["record_id"])
    with pytest.raises(
        StoredModelError, match=r"needs the operating metadata sommerfeld, reynolds .*missing: "
    ):
        model.predict_records(records_of(store, ids, meta=False))
    ensemble = load_stored_model(store, trained["ensemble"])
    assert ensemble.required_meta == () and ensemble.min_samples == WINDOW["length"]


def test_records_a_model_cannot_take_are_refused(store, trained) -> None:
    model = load_stored_model(store, trained["cnn1d"])
    records = records_of(store, list(stored_test(store, trained["cnn1d"])["record_id"])[:2])
    short = Records(records.signals[:, :5000], FS, records.record_ids)
    with pytest.raises(StoredModelError, match=r"records have 5000 samples but .* needs at least 5120"):
        model.predict_records(short)
    with pytest.raises(StoredModelError, match=r"sampled at 20480 Hz but .* takes 10240 Hz"):
        model.predict_records(Records(records.signals, 2 * FS, records.record_ids))
    bad = records.signals.copy()
    bad[1, 7] = np.nan
    with pytest.raises(
        StoredModelError, match=rf"record '{records.record_ids[1]}' has NaN or infinite samples"
    ):
        model.predict_records(Records(bad, FS, records.record_ids))
    with pytest.raises(StoredModelError, match="2 record ids for 3 signals"):
        Records(np.zeros((3, 6000), np.float32), FS, records.record_ids)


def test_a_device_that_is_not_there_is_refused(store, trained, monkeypatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(StoredModelError, match="device 'cuda' was asked for but CUDA is not available"):
        load_stored_model(store, trained["cnn1d"], device="cuda")
    with pytest.raises(StoredModelError, match="device 'gpu0' is not a device name"):
        load_stored_model(store, trained["cnn1d"], device="gpu0")


def test_unknown_and_unfinished_experiments_are_refused(store, trained) -> None:
    with pytest.raises(StoredModelError, match="experiment 999 does not exist"):
        load_stored_model(store, 999)
    config = preset_config("quick", "cnn1d", "tiny", TINY)
    pending = create_experiment(store, config)
    with pytest.raises(StoredModelError, match=f"experiment {pending} is pending; only a completed"):
        load_stored_model(store, pending)


@pytest.fixture
def restore_files(store, trained):
    """Backs up the files a test damages and puts them back afterwards."""
    saved: dict[Path, bytes] = {}

    def damage(path: Path, data: bytes) -> None:
        saved.setdefault(path, path.read_bytes())
        path.write_bytes(data)

    yield damage
    for path, data in saved.items():
        path.write_bytes(data)


@pytest.mark.parametrize(
    ("family", "key"),
    [
        ("classical", "classical_model"),
        ("cnn1d", "best_checkpoint"),
        ("ensemble", "ensemble_meta_learner"),
        ("ensemble", "ensemble_combiner"),
    ],
)
def test_truncated_model_files_are_refused(store, trained, restore_files, family, key) -> None:
    path = folder_of(store, trained[family]).artifact(key)
    restore_files(path, path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(StoredModelError, match=rf"experiments/{trained[family]}/{path.name}"):
        load_stored_model(store, trained[family])


def test_a_missing_model_file_is_named(store, trained, tmp_path) -> None:
    path = folder_of(store, trained["classical"]).classical_model
    moved = shutil.move(path, tmp_path / path.name)
    try:
        with pytest.raises(StoredModelError, match=r"model.skops is missing: experiment \d+ has no saved"):
            load_stored_model(store, trained["classical"])
    finally:
        shutil.move(moved, path)


def test_an_ensemble_whose_member_fails_names_the_member(store, trained, restore_files) -> None:
    path = folder_of(store, trained["classical"]).classical_model
    restore_files(path, b"not a zip")
    with pytest.raises(StoredModelError, match=rf"\(ensemble\): member .*{trained['classical']}/model.skops"):
        load_stored_model(store, trained["ensemble"])


def test_a_crafted_model_file_is_refused(store, trained, restore_files, tmp_path) -> None:
    path = folder_of(store, trained["classical"]).classical_model
    crafted = save_skops(collections.OrderedDict(a=1), tmp_path / "crafted.skops")
    restore_files(path, crafted.read_bytes())
    experiment_id = trained["classical"]
    with pytest.raises(
        StoredModelError,
        match=rf"refusing to load experiments/{experiment_id}/model.skops: .*collections.OrderedDict",
    ):
        load_stored_model(store, experiment_id)
