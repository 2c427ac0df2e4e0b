"""Finding a dataset: a registered name, a dataset file, or the folder `generate-data` wrote."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from bearing_workbench.data.dataset_file import write_dataset
from bearing_workbench.data.lookup import DatasetNotFound, resolve_dataset, resolve_dataset_path


def _dataset(path: Path) -> Path:
    signals = np.random.default_rng(0).standard_normal((6, 1024)).astype(np.float32)
    write_dataset(path, signals, np.array([0, 1] * 3), fs=10240.0, class_names=["healthy", "wear"])
    return path


def test_a_file_and_the_folder_holding_it_resolve_to_the_file(tmp_path):
    path = _dataset(tmp_path / "dataset.h5")
    (tmp_path / "notes.txt").write_text("not a dataset")
    assert resolve_dataset_path(str(path)) == path
    assert resolve_dataset_path(str(tmp_path)) == path
    ref = resolve_dataset(str(tmp_path))
    assert ref.path == path and ref.name == str(tmp_path) and ref.info.n_records == 6


def test_a_folder_with_several_dataset_files_names_them(tmp_path):
    _dataset(tmp_path / "b.h5")
    _dataset(tmp_path / "a.hdf5")
    with pytest.raises(DatasetNotFound, match=r"holds 2 dataset files \(a.hdf5, b.h5\); name one"):
        resolve_dataset(str(tmp_path))


def test_an_empty_folder_is_named_a_folder_never_a_missing_file(tmp_path):
    with pytest.raises(DatasetNotFound) as info:
        resolve_dataset_path(str(tmp_path))
    assert "is a folder" in str(info.value) and "no such file" not in str(info.value)
    assert "no file at" not in str(info.value)


def test_something_that_exists_is_never_called_missing(tmp_path):
    fifo = tmp_path / "pipe.h5"
    os.mkfifo(fifo)
    with pytest.raises(DatasetNotFound, match="is not a regular file") as info:
        resolve_dataset_path(str(fifo))
    assert "no file at" not in str(info.value)


def test_a_missing_path_says_what_is_expected(tmp_path):
    with pytest.raises(
        DatasetNotFound, match="no file at .*expected a registered dataset name, a dataset file"
    ):
        resolve_dataset_path(str(tmp_path / "nope.h5"))


def test_a_registered_name_resolves_to_its_file(tmp_path):
    from bearing_workbench.data.registration import register_dataset
    from bearing_workbench.store import Store

    path = _dataset(tmp_path / "plant.h5")
    store = Store(f"sqlite:///{tmp_path / 'store.db'}", workspace=tmp_path)
    try:
        register_dataset(store, path, name="plant-a")
        ref = resolve_dataset("plant-a", store)
        assert ref.path == path and ref.dataset_id is not None
    finally:
        store.dispose()
