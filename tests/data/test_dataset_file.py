"""Generated dataset files: layout, determinism (same seed -> same bytes), atomic writes."""

from __future__ import annotations

import hashlib

import h5py
import numpy as np
import pytest

from bearing_workbench.data.dataset_file import (
    Dataset,
    DatasetFileError,
    DatasetWriter,
    read_info,
    write_dataset,
)
from bearing_workbench.data.generator import (
    GENERATOR_VERSION,
    METADATA_COLUMNS,
    GeneratorConfig,
    generate_dataset,
)
from bearing_workbench.data.splits import check_no_leakage

SMALL = GeneratorConfig(per_class=4, duration_s=0.25, seed=5)


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    return generate_dataset(tmp_path_factory.mktemp("gen") / "small.h5", SMALL, workers=1)


def test_same_seed_gives_identical_file_bytes_whatever_the_worker_count(small_file, tmp_path):
    again = generate_dataset(tmp_path / "again.h5", SMALL, workers=2, block_size=5)
    assert _sha(again) == _sha(small_file)
    other = generate_dataset(tmp_path / "other.h5", SMALL.model_copy(update={"seed": 6}), workers=1)
    with Dataset(other) as a, Dataset(small_file) as b:
        assert not np.array_equal(a.signals(), b.signals())


def test_layout_and_attributes(small_file):
    with h5py.File(small_file) as f:
        assert f["signals"].dtype == np.float32
        assert f["signals"].shape == (SMALL.n_records, SMALL.n_samples)
        assert f["signals"].chunks == (1, SMALL.n_samples)
        assert f.attrs["fs"] == SMALL.fs
        assert f.attrs["generator_version"] == GENERATOR_VERSION
        assert f.attrs["seed"] == 5
        assert set(f["metadata"]) == set(METADATA_COLUMNS)
    info = read_info(small_file)
    assert info.n_records == 44
    assert info.class_counts == {name: 4 for name in SMALL.classes}
    assert sum(info.split_sizes.values()) == 44
    assert info.config["seed"] == 5


def test_split_is_by_record_stratified_and_leak_free(small_file):
    with Dataset(small_file) as ds:
        splits = ds.splits()
        ids = {name: ds.record_ids[idx] for name, idx in splits.items()}
        check_no_leakage(ids)
        for idx in splits.values():
            assert len(set(ds.labels[idx])) == len(SMALL.classes) or len(idx) < len(SMALL.classes)
        assert sorted(np.concatenate(list(splits.values()))) == list(range(ds.n_records))


def test_signals_read_in_the_order_asked(small_file):
    with Dataset(small_file) as ds:
        everything = ds.signals()
        np.testing.assert_array_equal(ds.signals([7, 2, 7]), everything[[7, 2, 7]])
        assert ds.signals([]).shape == (0, ds.n_samples)
        frame = ds.metadata_frame()
        assert list(frame.index[:2]) == ["rec-00000", "rec-00001"]
        assert frame["label"].iloc[0] == "healthy"


def test_a_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "broken.h5"
    with (
        pytest.raises(RuntimeError),
        DatasetWriter(target, n_records=4, n_samples=8, fs=20480, class_names=["healthy"]) as writer,
    ):
        writer.write(0, np.zeros((2, 8)), np.zeros(2), ["a", "b"])
        raise RuntimeError("simulated crash half-way")
    assert list(tmp_path.iterdir()) == []


def test_an_incomplete_dataset_is_refused(tmp_path):
    target = tmp_path / "short.h5"
    with (
        pytest.raises(DatasetFileError, match="2 records were never written"),
        DatasetWriter(target, n_records=4, n_samples=8, fs=20480, class_names=["healthy"]) as writer,
    ):
        writer.write(0, np.zeros((2, 8)), np.zeros(2), ["a", "b"])
    assert not target.exists()
    assert not (tmp_path / "short.h5.partial").exists()


def test_existing_file_is_not_overwritten_by_accident(small_file):
    with pytest.raises(DatasetFileError, match="already exists"):
        generate_dataset(small_file, SMALL)


def test_reading_a_foreign_or_missing_file_names_it(tmp_path):
    with pytest.raises(DatasetFileError, match="nope.h5: no such file"):
        read_info(tmp_path / "nope.h5")
    (tmp_path / "text.h5").write_text("hello")
    with pytest.raises(DatasetFileError, match="text.h5: not a readable HDF5 file"):
        read_info(tmp_path / "text.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = np.zeros(3)
    with pytest.raises(DatasetFileError, match="not a bearing-workbench-dataset file"):
        Dataset(tmp_path / "other.h5")


def test_write_dataset_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    signals = rng.standard_normal((3, 16)).astype(np.float32)
    path = write_dataset(
        tmp_path / "rt.h5",
        signals,
        np.array([0, 1, 1]),
        fs=20480.0,
        class_names=["healthy", "wear"],
        metadata={"speed_hz": np.array([55.0, 60.0, 65.0]), "site": np.array(["a", "b", "c"])},
        source="imported",
    )
    with Dataset(path) as ds:
        np.testing.assert_array_equal(ds.signals(), signals)
        meta = ds.metadata()
        assert list(meta["site"]) == ["a", "b", "c"]
        np.testing.assert_array_equal(meta["speed_hz"], [55.0, 60.0, 65.0])
        assert ds.splits() is None
