"""Record-level splits, windowing after the split, and the leakage check."""

from __future__ import annotations

import numpy as np
import pytest

from bearing_workbench.data.dataset_file import Dataset, DatasetFileError, write_dataset
from bearing_workbench.data.splits import (
    LeakageError,
    check_no_leakage,
    make_windows,
    split_records,
    split_windows,
    validate_fractions,
)


def _labels(counts: dict[int, int], seed: int = 1) -> np.ndarray:
    labels = np.concatenate([np.full(n, c) for c, n in counts.items()])
    return np.random.default_rng(seed).permutation(labels)


def test_split_is_disjoint_sorted_and_covers_every_record():
    labels = _labels({c: 20 + 3 * c for c in range(11)})
    splits = split_records(labels, (0.7, 0.15, 0.15), seed=3)
    assert list(splits) == ["train", "val", "test"]
    for idx in splits.values():
        assert idx.dtype == np.int64
        assert np.all(np.diff(idx) > 0)
    joined = np.concatenate(list(splits.values()))
    assert len(joined) == len(labels)
    assert np.array_equal(np.sort(joined), np.arange(len(labels)))


def test_split_is_stratified_per_class():
    counts = {0: 40, 1: 20, 2: 7, 3: 100}
    labels = _labels(counts)
    fractions = (0.7, 0.15, 0.15)
    splits = split_records(labels, fractions, seed=0)
    for c, n in counts.items():
        for (name, idx), frac in zip(splits.items(), fractions, strict=True):
            got = int(np.sum(labels[idx] == c))
            assert got >= 1, (name, c)
            assert abs(got - n * frac) <= 1, (name, c, got)


def test_every_class_reaches_every_split_even_when_small():
    labels = _labels({0: 3, 1: 4, 2: 50})
    splits = split_records(labels, (0.8, 0.1, 0.1), seed=5)
    for idx in splits.values():
        assert set(labels[idx]) == {0, 1, 2}


def test_split_accepts_class_names():
    labels = np.array(["wear", "healthy"] * 10, dtype=object)
    splits = split_records(labels, seed=0)
    for idx in splits.values():
        assert set(labels[idx]) == {"wear", "healthy"}


def test_same_seed_same_split_other_seed_other_split():
    labels = _labels({c: 30 for c in range(5)})
    a = split_records(labels, seed=11)
    b = split_records(labels, seed=11)
    c = split_records(labels, seed=12)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not all(np.array_equal(a[k], c[k]) for k in a)


def test_zero_fraction_gives_an_empty_split():
    labels = _labels({0: 2, 1: 9})
    splits = split_records(labels, (0.5, 0.5, 0.0), seed=0)
    assert len(splits["test"]) == 0
    assert len(splits["train"]) + len(splits["val"]) == len(labels)


@pytest.mark.parametrize(
    ("fractions", "keyword"),
    [
        ((0.7, 0.3), "3 values"),
        ((0.7, 0.2, 0.05, 0.05), "3 values"),
        ((0.7, 0.2, 0.2), "1.1"),
        ((0.5, 0.2, 0.2), "0.9"),
        ((1.0, 0.0, 0.0), "[0, 1)"),
        ((1.2, -0.1, -0.1), "[0, 1)"),
        ((float("nan"), 0.5, 0.5), "[0, 1)"),
        (("a", 0.5, 0.5), "numbers"),
    ],
)
def test_bad_fractions_are_refused(fractions, keyword):
    with pytest.raises(ValueError, match="fractions") as info:
        split_records(np.zeros(30, dtype=int), fractions)
    assert keyword in str(info.value)


def test_fractions_within_tolerance_are_accepted():
    assert validate_fractions((0.7, 0.15, 0.1500000001)) == (0.7, 0.15, 0.1500000001)


def test_too_few_records_names_the_class_and_count():
    labels = np.array(["healthy"] * 10 + ["wear"] * 2, dtype=object)
    with pytest.raises(ValueError) as info:
        split_records(labels, (0.7, 0.15, 0.15))
    message = str(info.value)
    assert "'wear' has 2" in message
    assert "healthy" not in message
    assert "at least 3" in message


def test_split_refuses_bad_labels():
    with pytest.raises(ValueError, match="1-D"):
        split_records(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="no records"):
        split_records(np.array([]))


# --- windows --------------------------------------------------------------------------------------


def test_windows_are_slices_of_their_record():
    signals = np.arange(3 * 20, dtype=np.float32).reshape(3, 20)
    windows, rec = make_windows(signals, window=8, hop=4)
    # starts 0, 4, 8, 12 per record; the 4-sample tail after start 12 is dropped
    assert windows.shape == (12, 8)
    assert np.array_equal(rec, np.repeat([0, 1, 2], 4))
    for w, r, start in zip(windows, rec, [0, 4, 8, 12] * 3, strict=True):
        assert np.array_equal(w, signals[r, start : start + 8])


def test_windows_default_hop_is_the_window_and_views_when_possible():
    signals = np.random.default_rng(0).standard_normal((4, 64)).astype(np.float32)
    windows, rec = make_windows(signals, window=16)
    assert windows.shape == (16, 16)
    assert np.array_equal(windows, signals.reshape(16, 16))
    assert np.shares_memory(windows, signals)
    assert np.array_equal(rec, np.repeat(np.arange(4), 4))


def test_one_dimensional_signal_is_one_record():
    windows, rec = make_windows(np.arange(10.0), window=5)
    assert windows.shape == (2, 5) and np.array_equal(rec, [0, 0])


@pytest.mark.parametrize(
    ("window", "hop", "keyword"),
    [(0, None, "window"), (30, None, "longer"), (4, 0, "hop"), (2.5, None, "window"), (4, True, "hop")],
)
def test_bad_window_arguments(window, hop, keyword):
    with pytest.raises(ValueError, match=keyword):
        make_windows(np.zeros((2, 20)), window, hop)


def test_windows_refuse_three_dimensional_signals():
    with pytest.raises(ValueError, match="shape"):
        make_windows(np.zeros((2, 3, 20)), 4)


@pytest.fixture
def split_dataset(tmp_path):
    rng = np.random.default_rng(7)
    n, length = 36, 256
    labels = np.arange(n) % 3
    # each record carries its own index in every sample, so a window tells which record it came from
    signals = np.repeat(np.arange(n, dtype=np.float32)[:, None], length, axis=1)
    signals += rng.uniform(0, 0.1, size=signals.shape).astype(np.float32)
    splits = split_records(labels, seed=2)
    path = write_dataset(
        tmp_path / "d.h5",
        signals,
        labels,
        fs=10240.0,
        class_names=["healthy", "wear", "cavitation"],
        splits=splits,
        split_seed=2,
    )
    with Dataset(path) as ds:
        yield ds, signals, splits


def test_split_windows_come_only_from_that_splits_records(split_dataset):
    ds, signals, splits = split_dataset
    ids_by_split = {}
    for name, records in splits.items():
        windows, labels, ids = split_windows(ds, name, window=64, hop=32)
        assert len(windows) == len(records) * 7
        source = np.floor(windows[:, 0]).astype(int)
        assert set(source) == set(records.tolist())
        assert np.array_equal(labels, ds.labels[source])
        assert np.array_equal(ids, ds.record_ids[source])
        for w, r in zip(windows[::7], source[::7], strict=True):
            assert np.array_equal(w, signals[r, :64])
        ids_by_split[name] = ids
    check_no_leakage(ids_by_split)
    assert not set(ids_by_split["train"]) & (set(ids_by_split["val"]) | set(ids_by_split["test"]))


def test_split_windows_rejects_unknown_split_and_missing_splits(split_dataset, tmp_path):
    ds, _, _ = split_dataset
    with pytest.raises(ValueError, match="train, val, test"):
        split_windows(ds, "validation", 64)
    path = write_dataset(
        tmp_path / "nosplit.h5", np.zeros((3, 128)), [0, 0, 0], fs=1e4, class_names=["healthy"]
    )
    with (
        Dataset(path) as plain,
        pytest.raises(DatasetFileError, match="nosplit.h5: has no record-level splits"),
    ):
        split_windows(plain, "train", 64)


def test_split_windows_of_an_empty_split(tmp_path):
    labels = np.arange(12) % 2
    splits = split_records(labels, (0.5, 0.5, 0.0))
    path = write_dataset(
        tmp_path / "d.h5", np.ones((12, 128)), labels, fs=1e4, class_names=["healthy", "wear"], splits=splits
    )
    with Dataset(path) as ds:
        windows, labels_out, ids = split_windows(ds, "test", 32)
    assert windows.shape == (0, 32) and len(labels_out) == 0 and len(ids) == 0


# --- leakage -----------------------------------------------------------------------------------


def test_leakage_check_passes_disjoint_splits_with_repeated_windows():
    check_no_leakage({"train": ["a", "a", "b"], "val": ["c", "c"], "test": np.array(["d"], dtype=object)})


def test_leakage_check_catches_a_crafted_leak(split_dataset):
    ds, _, _ = split_dataset
    ids = {name: split_windows(ds, name, 128)[2] for name in ("train", "val", "test")}
    leaked = ids["test"][0]
    ids["train"] = np.concatenate([ids["train"], [leaked]])
    with pytest.raises(LeakageError) as info:
        check_no_leakage(ids)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert repr(leaked) in message and "train" in message and "test" in message
    assert "val" not in message
    assert info.value.shared == {leaked: ("train", "test")}


def test_leakage_message_lists_several_shared_records():
    with pytest.raises(LeakageError) as info:
        check_no_leakage({"train": ["r1", "r2", "r3"], "val": ["r2"], "test": ["r3", "r1"]})
    assert set(info.value.shared) == {"r1", "r2", "r3"}
    assert "3 record(s)" in str(info.value)
    assert info.value.shared["r2"] == ("train", "val")


FRACTIONS = [(0.7, 0.15, 0.15), (0.6, 0.2, 0.2), (0.8, 0.0, 0.2), (0.5, 0.25, 0.25)]
CLASS_COUNTS = [{0: 4, 1: 4, 2: 4}, {0: 3, 1: 7, 2: 19}, {c: 20 + 3 * c for c in range(11)}]


@pytest.mark.parametrize("fractions", FRACTIONS)
@pytest.mark.parametrize("counts", CLASS_COUNTS)
def test_records_per_split_is_the_size_split_records_draws(counts, fractions):
    """The one count (wizard, estimates, run) agrees with the split the run draws, whatever the seed."""
    from bearing_workbench.data.splits import records_per_split

    expected = records_per_split(list(counts.values()), fractions)
    for seed in (0, 7):
        drawn = split_records(_labels(counts, seed), fractions, seed=seed)
        assert {name: len(rows) for name, rows in drawn.items()} == expected
    assert sum(expected.values()) == sum(counts.values())


def test_records_per_split_takes_the_stored_split_only_for_its_own_fractions():
    from bearing_workbench.data.splits import records_per_split

    stored = {"train": 5, "val": 2, "test": 2}
    kept = {"stored_sizes": stored, "stored_fractions": (0.7, 0.15, 0.15)}
    assert records_per_split([3, 3, 3], (0.7, 0.15, 0.15), **kept) == stored
    other = records_per_split([3, 3, 3], (0.4, 0.3, 0.3), **kept)
    assert other == {"train": 3, "val": 3, "test": 3}
    with pytest.raises(ValueError, match="'b' has 2"):
        records_per_split({"a": 3, "b": 2}, (0.6, 0.2, 0.2))
