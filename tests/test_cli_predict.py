"""`bearing-workbench predict`: a table, CSV or JSON of a stored model's classes; bad input is exit 2,
one line, nothing written (in the store or at --out)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bearing_workbench.cli import main
from bearing_workbench.config import preset_config
from bearing_workbench.data.dataset_file import Dataset
from bearing_workbench.training.experiment import create_experiment, train_experiment

from .tiny_data import tiny_store

# Tiny records are shorter than the preset's window: whole records; few records: 2 CV folds.
QUICK = {"data.window": None, "model.params.cv_folds": 2}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A workspace with dataset 'tiny' (3 classes x 4 records of 0.5 s), one completed classical
    experiment and one that never ran."""
    root = tmp_path_factory.mktemp("ws")
    store = tiny_store(root, per_class=4, duration_s=0.5, seed=5)
    done = create_experiment(store, preset_config("quick", "classical", "tiny", QUICK))
    train_experiment(store, done)
    pending = create_experiment(store, preset_config("quick", "classical", "tiny", QUICK))
    yield store, done, pending
    store.dispose()


@pytest.fixture
def ws(trained, monkeypatch):
    store, done, pending = trained
    monkeypatch.setenv("BEARING_WORKBENCH_WORKSPACE", str(store.workspace))
    return store, done, pending


def _dataset_arrays(store):
    with Dataset(store.workspace / "datasets" / "tiny.h5") as ds:
        return ds.signals(), np.asarray(ds.class_names)[ds.labels], ds.fs, ds.record_ids.astype(str)


def _store_state(store) -> tuple[int, tuple[int, ...]]:
    """Experiments, and events per experiment: what a prediction must leave as it found it."""
    ids = [e.id for e in store.list_experiments(limit=None)]
    return store.count_experiments(), tuple(len(store.events(i)) for i in sorted(ids))


def test_predict_on_a_registered_dataset_prints_a_table_and_the_accuracy(ws, capsys, tmp_path):
    store, done, _ = ws
    out = tmp_path / "preds.csv"
    assert main(["predict", str(done), "tiny", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split() == ["record", "predicted", "probability", "true", "label"]
    assert len(printed) == 1 + 12 + 2  # header, records, summary, "wrote"
    assert printed[-2].startswith(f"experiment {done} on tiny: 12 records, accuracy ")
    frame = pd.read_csv(out)
    assert list(frame.columns[:3]) == ["record_id", "true_label", "predicted_label"]
    assert len(frame) == 12 and np.allclose(frame.filter(like="prob_").sum(axis=1), 1.0)


def test_json_and_windows_and_the_split_of_a_dataset(ws, capsys, tmp_path):
    store, done, _ = ws
    out = tmp_path / "test.csv"
    assert (
        main(["predict", str(done), "tiny", "--split", "test", "--json", "--windows", "--out", str(out)]) == 0
    )
    data = json.loads(capsys.readouterr().out)
    with Dataset(store.workspace / "datasets" / "tiny.h5") as ds:
        test_ids = set(ds.record_ids[ds.splits()["test"]])
    assert {r["record_id"] for r in data["records"]} == test_ids
    assert data["experiment_id"] == done and data["source"] == "tiny (test split)"
    assert data["windows"] and {w["record_id"] for w in data["windows"]} == test_ids
    assert (tmp_path / "test.windows.csv").is_file()


def test_an_unlabelled_file_at_another_rate_is_resampled_with_a_warning(ws, capsys, tmp_path):
    store, done, _ = ws
    signals, _, fs, _ = _dataset_arrays(store)
    path = tmp_path / "plant.npy"
    np.save(path, np.repeat(signals[:2], 2, axis=1))  # as if sampled at twice the rate
    assert main(["predict", str(done), str(path), "--fs", str(2 * fs)]) == 0
    captured = capsys.readouterr()
    assert f"warning: resampled plant.npy from {2 * fs:g} Hz to {fs:g} Hz" in captured.err
    assert "true label" not in captured.out and "accuracy" not in captured.out
    assert captured.out.splitlines()[-1] == f"experiment {done} on plant.npy: 2 records"


def test_labels_for_an_unlabelled_file_come_from_a_labels_file(ws, capsys, tmp_path):
    store, done, _ = ws
    signals, labels, fs, _ = _dataset_arrays(store)
    np.save(tmp_path / "new.npy", signals[:3])
    (tmp_path / "new.txt").write_text("\n".join(labels[:3]) + "\n")
    args = [
        "predict",
        str(done),
        str(tmp_path / "new.npy"),
        "--fs",
        str(fs),
        "--labels",
        str(tmp_path / "new.txt"),
    ]
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["true_label"] for r in data["records"]] == labels[:3].tolist()
    assert data["accuracy"] == np.mean([r["predicted_label"] == r["true_label"] for r in data["records"]])


def test_the_folder_generate_data_wrote_is_a_source(ws, capsys, tmp_path):
    store, done, _ = ws
    folder = tmp_path / "gen"
    folder.mkdir()
    (folder / "dataset.h5").write_bytes((store.workspace / "datasets" / "tiny.h5").read_bytes())
    assert main(["predict", str(done), str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_records"] == 12


def _npz(tmp_path, name, **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    "case",
    [
        "unknown id",
        "not completed",
        "too short",
        "nan",
        "two channels",
        "unknown labels",
        "bad split",
        "bad out",
        "fs contradicts the file",
    ],
)
def test_bad_input_is_exit_2_one_line_and_nothing_written(ws, capsys, tmp_path, case):
    store, done, pending = ws
    signals, labels, fs, _ = _dataset_arrays(store)
    source, experiment, extra = "tiny", done, []
    if case == "unknown id":
        experiment, expected = 9999, "9999"
    elif case == "not completed":
        experiment, expected = pending, "complete"
    elif case == "too short":
        source = _npz(tmp_path, "short.npz", signals=signals[:2, :2048], fs=fs)
        expected = "too short"
    elif case == "nan":
        bad = signals[:3].copy()
        bad[1, 100] = np.nan
        source = _npz(tmp_path, "nan.npz", signals=bad, fs=fs)
        expected = "NaN or infinite samples in record"
    elif case == "two channels":
        source = _npz(tmp_path, "stereo.npz", signals=np.stack([signals[:2], signals[:2]], axis=1), fs=fs)
        expected = "records x samples"
    elif case == "unknown labels":
        source = _npz(tmp_path, "other.npz", signals=signals[:2], fs=fs, labels=np.array(["wear", "healthy"]))
        expected = "labels not among the classes of experiment"
    elif case == "bad split":
        extra, expected = ["--split", "holdout"], "--split: unknown split 'holdout'"
    elif case == "bad out":
        extra, expected = ["--out", str(tmp_path / "preds.txt")], "--out"
    else:
        source = _npz(tmp_path, "rate.npz", signals=signals[:2], fs=fs)
        extra, expected = ["--fs", str(2 * fs)], "wrong sampling rate"
    before = _store_state(store)
    out = tmp_path / "preds.csv"
    code = main(["predict", str(experiment), str(source), "--out", str(out), *extra])
    captured = capsys.readouterr()
    assert code == 2, captured
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], lines
    assert captured.out == ""
    assert _store_state(store) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".csv", ".txt", ".tmp")) == []
