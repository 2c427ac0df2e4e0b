"""Sources to predict on: arrays, dataset files and their splits, names, folders, user files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bearing_workbench.data.dataset_file import Dataset
from bearing_workbench.data.registration import register_dataset
from bearing_workbench.store import Store
from bearing_workbench.training.sources import PredictionInputError, SignalSource, load_source


def test_a_signals_fs_pair_is_a_source_with_numbered_records():
    signals = np.zeros((3, 2048), dtype=np.float32)
    source = load_source((signals, 20480.0))
    assert isinstance(source, SignalSource)
    assert source.fs == 20480.0
    assert source.record_ids == ("rec-00000", "rec-00001", "rec-00002")
    assert source.labels is None and dict(source.meta) == {}


def test_a_bare_array_needs_fs_and_a_1d_array_is_one_record():
    with pytest.raises(PredictionInputError, match="needs its sampling rate"):
        load_source(np.zeros(2048))
    source = load_source(np.zeros(2048), fs=10000, labels=["healthy"])
    assert source.signals.shape == (1, 2048) and source.labels == ("healthy",)


@pytest.mark.parametrize("shape", [(2, 2, 2048), (2, 1, 2048), (1, 1, 1, 2048)])
def test_arrays_with_more_than_records_x_samples_are_refused_as_not_one_channel(shape):
    with pytest.raises(PredictionInputError, match=r"one channel per record.*\(records, samples\)"):
        load_source((np.zeros(shape), 20480.0))


@pytest.mark.parametrize(
    ("kwargs", "match", "cli"),
    [
        ({"labels": ["healthy"]}, "1 labels for 3 records", "--labels: 1 labels"),
        ({"split": "test"}, "an array has no stored splits", "--split: an array"),
        ({"fs": 10000.0}, "10000 Hz given, but the pair says 20480 Hz", "--fs: 10000 Hz"),
    ],
)
def test_options_that_do_not_fit_an_array_name_the_option(kwargs, match, cli):
    with pytest.raises(PredictionInputError, match=match) as caught:
        load_source((np.zeros((3, 2048)), 20480.0), **kwargs)
    assert caught.value.message("cli").startswith(cli)
    assert str(caught.value).startswith(f"{next(iter(kwargs))}=:")


def test_a_non_numeric_array_or_a_bad_rate_is_refused():
    with pytest.raises(PredictionInputError, match="real numbers"):
        load_source((np.array([["a"] * 2048]), 20480.0))
    with pytest.raises(PredictionInputError, match="positive sampling rate"):
        load_source((np.zeros((1, 2048)), -5.0))
    with pytest.raises(PredictionInputError, match="cannot predict on a dict"):
        load_source({"signals": np.zeros((1, 2048))})


def test_a_dataset_file_gives_every_record_with_labels_ids_and_metadata(tiny_dataset):
    source = load_source(str(tiny_dataset))
    with Dataset(tiny_dataset) as ds:
        assert source.record_ids == tuple(ds.record_ids)
        assert source.labels == tuple(ds.class_names[k] for k in ds.labels)
        np.testing.assert_array_equal(source.signals, ds.signals())
        assert source.fs == ds.fs
        np.testing.assert_array_equal(source.meta["speed_hz"], ds.metadata()["speed_hz"])


def test_split_picks_the_stored_split_of_a_dataset_file(tiny_dataset):
    with Dataset(tiny_dataset) as ds:
        test_rows = np.sort(ds.splits()["test"])
        expected = tuple(ds.record_ids[test_rows])
    source = load_source(tiny_dataset, split="test")
    assert source.record_ids == expected
    assert source.signals.shape[0] == len(expected)
    assert source.name.endswith("(test split)")
    with pytest.raises(
        PredictionInputError, match="unknown split 'holdout'; expected one of train, val, test"
    ):
        load_source(tiny_dataset, split="holdout")


def test_fs_that_contradicts_a_dataset_file_is_refused(tiny_dataset):
    with pytest.raises(
        PredictionInputError, match=r"^fs=: 1000 Hz given, but tiny.h5 is sampled at 20480 Hz"
    ):
        load_source(tiny_dataset, fs=1000.0)


def test_a_registered_name_is_looked_up_in_the_store(tmp_path, tiny_dataset):
    store = Store(workspace=tmp_path)
    try:
        register_dataset(store, tiny_dataset, name="tiny-reg")
        source = load_source("tiny-reg", store=store)
        assert source.n_records == load_source(tiny_dataset).n_records
        assert source.name == "tiny-reg"
    finally:
        store.dispose()


def test_a_name_that_is_neither_registered_nor_a_path_says_what_is_expected(tmp_path):
    store = Store(workspace=tmp_path)
    try:
        with pytest.raises(PredictionInputError, match="no dataset of that name in the store and no file"):
            load_source("plant-z", store=store)
    finally:
        store.dispose()


def test_split_on_a_plain_signal_file_is_refused(tmp_path: Path):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((2, 2048), dtype=np.float32))
    with pytest.raises(PredictionInputError, match="x.npy is not a dataset file with stored splits"):
        load_source(path, fs=20480.0, split="test")
