"""Loading users' files (every format, every kind of bad file) and importing them as datasets."""

from __future__ import annotations

import struct
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.io

from bearing_workbench.data import dataset_file
from bearing_workbench.data.dataset_file import Dataset, DatasetFileError, read_info, write_dataset
from bearing_workbench.data.loaders import DataFileError, SignalSet, import_file, load_signals
from bearing_workbench.data.splits import check_no_leakage

FS = 10240.0
LENGTH = 1024
CLASSES = ["healthy", "wear", "cavitation", "oil_whirl"]


def make_records(n: int = 12, length: int = LENGTH, seed: int = 0):
    rng = np.random.default_rng(seed)
    signals = rng.standard_normal((n, length)).astype(np.float32)
    labels = np.array([CLASSES[i % len(CLASSES)] for i in range(n)], dtype=object)
    meta = {
        "speed_hz": rng.uniform(20, 60, n),
        "load_frac": rng.uniform(0.1, 1.0, n),
        "temperature_c": rng.uniform(30, 80, n),
    }
    return signals, labels, meta


# --- writers for every format ------------------------------------------------------------------


def write_csv(path: Path, signals, labels, meta=None, record_ids=None) -> Path:
    frame = pd.DataFrame(signals.astype(np.float64), columns=[f"s{i}" for i in range(signals.shape[1])])
    for name, values in reversed(list((meta or {}).items())):
        frame.insert(0, name, values)
    if record_ids is not None:
        frame.insert(0, "record_id", record_ids)
    frame.insert(0, "label", labels)
    # repr-exact floats so the round trip is bit-identical in float32
    frame.to_csv(path, index=False, float_format="%.17g")
    return path


def write_plain_h5(path: Path, signals, labels, meta=None, fs=FS) -> Path:
    with h5py.File(path, "w") as f:
        f.create_dataset("signals", data=signals)
        f.create_dataset("labels", data=np.asarray(labels, dtype=object), dtype=h5py.string_dtype())
        f.attrs["fs"] = fs
        group = f.create_group("metadata")
        for name, values in (meta or {}).items():
            group.create_dataset(name, data=values)
    return path


MAT73_HEADER = (
    b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
)


def write_mat73(path: Path, variables: dict) -> Path:
    """Emulate MATLAB's v7.3 writer: HDF5 with a 512-byte userblock, arrays stored transposed."""
    with h5py.File(path, "w", userblock_size=512) as f:
        refs = f.create_group("#refs#")

        def char_dataset(group, name, text):
            codes = np.array([[ord(ch)] for ch in text], dtype=np.uint16)  # 1 x k stored as k x 1
            ds = group.create_dataset(name, data=codes)
            ds.attrs["MATLAB_class"] = np.bytes_("char")
            ds.attrs["MATLAB_int_decode"] = np.int32(2)
            return ds

        for name, value in variables.items():
            if isinstance(value, list):  # a cell array: 1 x n of refs, stored n x 1
                cells = []
                for i, item in enumerate(value):
                    if isinstance(item, str):
                        cells.append(char_dataset(refs, f"{name}_{i}", item).ref)
                    else:
                        ds = refs.create_dataset(f"{name}_{i}", data=np.atleast_2d(item).T)
                        ds.attrs["MATLAB_class"] = np.bytes_("double")
                        cells.append(ds.ref)
                ds = f.create_dataset(name, data=np.array(cells, dtype=h5py.ref_dtype).reshape(-1, 1))
                ds.attrs["MATLAB_class"] = np.bytes_("cell")
            else:
                arr = np.atleast_2d(np.asarray(value, dtype=np.float64))
                ds = f.create_dataset(name, data=arr.T)
                ds.attrs["MATLAB_class"] = np.bytes_("double")
    header = MAT73_HEADER.ljust(116, b" ") + struct.pack("<Q", 0) + struct.pack("<H", 0x0200) + b"IM"
    with open(path, "r+b") as handle:
        handle.write(header)
    return path


# --- good files round-trip ---------------------------------------------------------------------


def assert_same(loaded: SignalSet, signals, labels, meta=None, fs=FS):
    assert loaded.signals.dtype == np.float32
    assert np.array_equal(loaded.signals, signals)
    assert list(loaded.labels) == list(labels)
    assert loaded.fs == fs
    for name, values in (meta or {}).items():
        assert np.array_equal(loaded.metadata[name], values), name


def test_round_trip_our_format(tmp_path):
    signals, labels, meta = make_records()
    idx = np.array([CLASSES.index(c) for c in labels])
    ids = [f"r{i}" for i in range(len(labels))]
    path = write_dataset(
        tmp_path / "ours.h5", signals, idx, fs=FS, class_names=CLASSES, metadata=meta, record_ids=ids
    )
    loaded = load_signals(path)
    assert_same(loaded, signals, labels, meta)
    assert list(loaded.record_ids) == ids
    assert loaded.source == path


def test_round_trip_plain_hdf5(tmp_path):
    signals, labels, meta = make_records()
    loaded = load_signals(write_plain_h5(tmp_path / "plain.hdf5", signals, labels, meta))
    assert_same(loaded, signals, labels, meta)
    assert list(loaded.record_ids) == [f"plain-{i:05d}" for i in range(12)]


@pytest.mark.parametrize("label_style", ["cellstr", "char_matrix", "indices"])
def test_round_trip_mat_v5(tmp_path, label_style):
    signals, labels, meta = make_records()
    stored = {
        "cellstr": np.array(list(labels), dtype=object),  # savemat writes an object array as a cell array
        "char_matrix": np.array(list(labels)),  # str array -> space-padded char matrix
        "indices": np.array([CLASSES.index(c) for c in labels], dtype=np.float64),
    }[label_style]
    path = tmp_path / "v5.mat"
    scipy.io.savemat(path, {"signals": signals, "labels": stored, "fs": FS, **meta})
    kwargs = {"known_classes": CLASSES} if label_style == "indices" else {}
    assert_same(load_signals(path, **kwargs), signals, labels, meta)


def test_mat_v5_cell_array_of_records_and_class_names(tmp_path):
    signals, labels, _ = make_records(n=4)
    cells = np.empty((1, 4), dtype=object)
    for i in range(4):
        cells[0, i] = signals[i]
    path = tmp_path / "cells.mat"
    names = np.array(["wear", "healthy", "oil_whirl", "cavitation"], dtype=object)
    indices = np.array([[1, 0, 3, 2]])  # indices into the file's own class_names
    scipy.io.savemat(path, {"signals": cells, "labels": indices, "class_names": names, "fs": FS})
    assert_same(load_signals(path), signals, labels)


def test_round_trip_mat_v73(tmp_path):
    signals, labels, meta = make_records()
    path = write_mat73(tmp_path / "v73.mat", {"signals": signals, "labels": list(labels), "fs": FS, **meta})
    with open(path, "rb") as handle:
        assert handle.read(10) == b"MATLAB 7.3"
    assert h5py.is_hdf5(path)
    assert_same(load_signals(path), signals, labels, meta)


def test_round_trip_csv(tmp_path):
    signals, labels, meta = make_records()
    ids = [f"run-{i}" for i in range(len(labels))]
    loaded = load_signals(write_csv(tmp_path / "wide.csv", signals, labels, meta, ids), fs=FS)
    assert_same(loaded, signals, labels, meta)
    assert list(loaded.record_ids) == ids
    assert set(loaded.metadata) == set(meta)


def test_round_trip_npy_with_label_list_and_label_files(tmp_path):
    signals, labels, _ = make_records()
    path = tmp_path / "sig.npy"
    np.save(path, signals)
    assert_same(load_signals(path, fs=FS, labels=list(labels)), signals, labels)
    text = tmp_path / "labels.txt"
    text.write_text("\n".join(labels) + "\n\n")
    assert_same(load_signals(path, fs=FS, labels=text), signals, labels)
    table = tmp_path / "labels.csv"
    table.write_text("record,label\n" + "".join(f"{i},{c}\n" for i, c in enumerate(labels)))
    assert_same(load_signals(path, fs=FS, labels=str(table)), signals, labels)


def test_labels_file_of_class_indices(tmp_path):
    signals, labels, _ = make_records(n=4)
    path = tmp_path / "sig.npy"
    np.save(path, signals)
    (tmp_path / "idx.txt").write_text("0\n1\n2\n3\n")
    assert_same(
        load_signals(path, fs=FS, labels=tmp_path / "idx.txt", known_classes=CLASSES), signals, labels
    )


def test_npy_single_record_as_one_dimensional_array(tmp_path):
    signal = np.random.default_rng(1).standard_normal(2048)
    path = tmp_path / "one.npy"
    np.save(path, signal)
    loaded = load_signals(path, fs=FS, labels=["wear"])
    assert loaded.signals.shape == (1, 2048)
    assert np.array_equal(loaded.signals[0], signal.astype(np.float32))


def test_round_trip_npz_with_metadata(tmp_path):
    signals, labels, meta = make_records()
    path = tmp_path / "set.npz"
    np.savez_compressed(
        path,
        signals=signals,
        labels=np.array(list(labels)),
        fs=FS,
        **{f"meta_{k}": v for k, v in meta.items()},
    )
    assert_same(load_signals(path), signals, labels, meta)


def test_new_classes_are_accepted_only_when_allowed(tmp_path):
    signals, labels, _ = make_records(n=4)
    labels[1] = "rub"
    path = tmp_path / "new.npz"
    np.savez(path, signals=signals, labels=np.array(list(labels)), fs=FS)
    with pytest.raises(DataFileError, match="allow_new_classes"):
        load_signals(path)
    loaded = load_signals(path, allow_new_classes=True)
    assert loaded.labels[1] == "rub"
    assert loaded.class_names() == ("healthy", "cavitation", "oil_whirl", "rub")


# --- bad files ---------------------------------------------------------------------------------

GOOD, GOOD_LABELS, _ = make_records(n=6)
NPY_KW = {"fs": FS, "labels": list(GOOD_LABELS)}


def npy(array, **kwargs):
    """A writer for a .npy file holding `array`, loaded with fs and labels unless overridden."""

    def make(path):
        np.save(path, array)
        return {k: v for k, v in (NPY_KW | kwargs).items() if v is not None}  # None: leave it out

    return make


def npz(load_kwargs=None, /, **arrays):
    def make(path):
        np.savez(path, **arrays)
        return load_kwargs or {}

    return make


def raw(data: bytes | str, **load_kwargs):
    def make(path):
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
        return load_kwargs

    return make


def csv_text(rows, header=None):
    header = header or "label," + ",".join(f"s{i}" for i in range(LENGTH))
    return raw(header + "\n" + "".join(row + "\n" for row in rows), fs=FS)


def row(label="healthy", n=LENGTH, cell="0.5", bad_first=None):
    cells = [cell] * n
    if bad_first is not None:
        cells[0] = bad_first
    return ",".join([label, *cells])


def mat(**variables):
    def make(path):
        scipy.io.savemat(path, variables)
        return {}

    return make


def with_inf():
    bad = GOOD.copy()
    bad[:, 10] = np.inf
    return bad


def with_nan_in_record_3():
    bad = GOOD.copy()
    bad[3, 7] = np.nan
    return bad


def ragged_mat(path):
    cells = np.empty((1, 3), dtype=object)
    cells[0, 0], cells[0, 1], cells[0, 2] = np.zeros(LENGTH), np.zeros(LENGTH), np.zeros(LENGTH - 24)
    scipy.io.savemat(path, {"signals": cells, "labels": np.array(["wear"] * 3, dtype=object), "fs": FS})
    return {}


def ragged_mat73(path):
    write_mat73(path, {"signals": [np.zeros(LENGTH), np.zeros(LENGTH + 5)], "labels": ["wear"] * 2, "fs": FS})
    return {}


def compressed_bomb(path):
    np.savez_compressed(path, signals=np.zeros((64, 4096)))
    return {"max_bytes": 100_000}


def npz_named_npy(path):
    np.savez(path.with_suffix(".npz"), signals=GOOD)
    path.with_suffix(".npz").rename(path)
    return {}


def h5_without_signals(path):
    with h5py.File(path, "w") as f:
        f.create_dataset("data", data=GOOD)
    return {}


def dataset_from_the_future(path):
    write_dataset(path, GOOD, np.zeros(6, int), fs=FS, class_names=["healthy"])
    with h5py.File(path, "a") as f:
        f.attrs["format_version"] = 99
    return {}


def duplicate_ids_csv(path):
    write_csv(path, GOOD, GOOD_LABELS, record_ids=["a", "b", "c", "a", "e", "f"])
    return {"fs": FS}


def folder(path):
    path.mkdir()
    return {}


def labels_file(text: str | None, name="labels.txt"):
    def make(path):
        np.save(path, GOOD)
        if text is not None:
            (path.parent / name).write_text(text)
        return {"fs": FS, "labels": path.parent / name}

    return make


def class_name_as_labels(path):
    np.save(path, GOOD)
    return {"fs": FS, "labels": "healthy"}


TEXT_LABELS = GOOD_LABELS.astype(str)
SAMPLE_HEADER = ",".join(f"s{i}" for i in range(LENGTH))
GOOD_NPZ = {"signals": GOOD, "labels": TEXT_LABELS, "fs": FS}
WEAR_CELL = np.array(["wear"], dtype=object)

# case: (file name, writer(path) -> load kwargs, keyword in the message[, name the message starts with])
BAD_FILES = {
    "missing": ("absent.npz", lambda path: {}, "no such file"),
    "folder": ("folder.npy", folder, "not a file"),
    "unknown extension": ("signals.txt", raw("1,2,3"), ".npz"),
    "no extension": ("signals", raw("1,2,3"), "supported"),
    "empty file": ("empty.npy", raw(b""), "empty"),
    "too large": ("big.npy", npy(GOOD, max_bytes=1000), "over the limit of 1000 bytes"),
    "too large, checked before reading": ("junk.npz", raw(b"x" * 2000, max_bytes=1000), "too large"),
    "npz expanding beyond max_bytes": ("bomb.npz", compressed_bomb, "uncompressed"),
    "zero records": ("none.npy", npy(np.zeros((0, LENGTH)), labels=[]), "no records"),
    "3-D": ("cube.npy", npy(np.zeros((2, 3, LENGTH)), labels=["wear"] * 2), "3-D"),
    "too short": ("short.npy", npy(np.zeros((6, 500))), "1024"),
    "NaN": ("nan.npy", npy(with_nan_in_record_3()), "record 3"),
    "inf": ("inf.npz", npz(**GOOD_NPZ | {"signals": with_inf()}), "records 0, 1, 2, 3, 4 and 1 more"),
    "float32 overflow": ("huge.npy", npy(np.full((6, LENGTH), 1e300)), "float32"),
    "complex": ("complex.npy", npy(GOOD.astype(np.complex64)), "complex"),
    "text signals": ("text.npz", npz(signals=np.array(["a"] * 6), labels=TEXT_LABELS, fs=FS), "text"),
    "npy without labels": ("nolabels.npy", npy(GOOD, labels=None), "labels="),
    "labels twice": ("twice.npz", npz({"labels": list(GOOD_LABELS)}, **GOOD_NPZ), "own labels"),
    "label count": ("count.npy", npy(GOOD, labels=["wear"] * 5), "5 labels"),
    "labels file too short": ("count2.npy", labels_file("wear\nhealthy\n"), "2 labels in labels file"),
    "labels file missing": ("x.npy", labels_file(None), "no such file", "labels.txt"),
    "labels file, no label column": ("y.npy", labels_file("a,b\nwear,1\n", "two.csv"), "'label'", "two.csv"),
    "class name passed as labels": ("z.npy", class_name_as_labels, "['healthy']", "healthy"),
    "unknown label": ("unknown.npy", npy(GOOD, labels=["wear"] * 5 + ["rub"]), "'rub'"),
    "empty label": ("blank.npy", npy(GOOD, labels=["wear"] * 5 + [" "]), "empty label"),
    "label index out of range": ("index.npy", npy(GOOD, labels=[0, 1, 2, 3, 4, 11]), "out of range"),
    "label index not whole": ("half.npy", npy(GOOD, labels=[0, 1, 2, 3, 4, 0.5]), "whole-number"),
    "no fs": ("nofs.npy", npy(GOOD, fs=None), "pass fs="),
    "fs mismatch": ("fs.npz", npz({"fs": 20000.0}, **GOOD_NPZ), "10240 Hz but fs=20000"),
    "fs too low": ("slow.npy", npy(GOOD, fs=2000.0), "5120"),
    "fs not one number": ("fsbad.npz", npz(**GOOD_NPZ | {"fs": np.array([1.0, 2.0])}), "one positive"),
    "csv ragged short row": ("short.csv", csv_text([row(), row(), row(n=LENGTH - 3)]), "record 2 (line 4)"),
    "csv ragged long row": ("long.csv", csv_text([row(), row(n=LENGTH + 1), row()]), "ragged"),
    "csv ragged first row": ("first.csv", csv_text([row(n=LENGTH + 2), row()]), "record 0"),
    "csv non-numeric": ("words.csv", csv_text([row(), row(bad_first="abc"), row()]), "column 's0'"),
    "csv non-numeric, later row": ("words2.csv", csv_text([row(), row(), row(bad_first="x")]), "record 2"),
    "csv empty cell": ("hole.csv", csv_text([row(), row(bad_first="")]), "record 1"),
    "csv label misnamed": ("nolabel.csv", csv_text([row()], header="x," + SAMPLE_HEADER), "'label' column"),
    "csv of numbers only": ("numbers.csv", csv_text([row()[8:]], header=SAMPLE_HEADER), "no 'label' column"),
    "csv header only": ("header.csv", csv_text([]), "no records"),
    "csv blank": ("blank.csv", raw("\n\n", fs=FS), "no data"),
    "csv metadata not numeric": (
        "meta.csv",
        csv_text(["wear,fast," + ",".join(["1"] * LENGTH)], header="label,speed_hz," + SAMPLE_HEADER),
        "column 'speed_hz'",
    ),
    "csv duplicate record ids": ("dup.csv", duplicate_ids_csv, "duplicate record id 'a'"),
    "not hdf5": ("fake.h5", raw(b"not an hdf5 file at all"), "not an HDF5 file"),
    "hdf5 without signals": ("nosig.h5", h5_without_signals, "'signals'"),
    "dataset newer than the reader": ("future.h5", dataset_from_the_future, "newer"),
    "not a mat file": ("fake.mat", raw(b"\x00" * 300), "MATLAB"),
    "mat without signals": ("nosig.mat", mat(data=GOOD, labels=WEAR_CELL, fs=FS), "'signals'"),
    "mat ragged cells": ("ragged.mat", ragged_mat, "record 2 has 1000 samples"),
    "mat struct signals": ("struct.mat", mat(signals={"a": GOOD}, labels=WEAR_CELL, fs=FS), "struct"),
    "mat73 ragged cells": ("ragged73.mat", ragged_mat73, "record 1 has 1029"),
    "npz without signals": ("nosig.npz", npz(data=GOOD), "'signals'"),
    "npz damaged": ("broken.npz", raw(b"PK\x03\x04" + b"\x00" * 100), "npz"),
    "npy damaged": ("broken.npy", raw(b"\x93NUMPY\x01\x00garbage"), "damaged"),
    "npz named npy": ("archive.npy", npz_named_npy, "rename it to .npz"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_gives_a_clear_data_file_error(tmp_path, case):
    file_name, make, keyword, *named = BAD_FILES[case]
    path = tmp_path / file_name
    kwargs = make(path)
    with pytest.raises(DataFileError) as info:
        load_signals(path, **kwargs)
    message = str(info.value)
    assert message.startswith(f"{named[0] if named else file_name}: "), message
    assert keyword.lower() in message.lower(), message
    assert "np." not in message, message  # values as the user wrote them, not numpy reprs
    assert isinstance(info.value, DatasetFileError) and isinstance(info.value, ValueError)


class _Trap:
    """Unpickling this creates a marker file: proof that a loader ran code from the file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_pickled_arrays_are_refused_and_never_unpickled(tmp_path, suffix):
    marker = tmp_path / "unpickled"
    objects = np.array([_Trap(marker), _Trap(marker)], dtype=object)
    path = tmp_path / f"evil{suffix}"
    if suffix == ".npy":
        np.save(path, objects, allow_pickle=True)
        kwargs = {"fs": FS, "labels": ["wear", "wear"]}
    else:
        np.savez(path, signals=objects, labels=np.array(["wear", "wear"]), fs=FS)
        kwargs = {}
    with pytest.raises(DataFileError, match="contains Python objects; save plain numeric arrays") as info:
        load_signals(path, **kwargs)
    assert str(info.value).startswith(f"evil{suffix}: ")
    assert not marker.exists()


def test_plain_pickle_file_named_npy_is_refused(tmp_path):
    import pickle

    marker = tmp_path / "unpickled"
    path = tmp_path / "pickle.npy"
    path.write_bytes(pickle.dumps(_Trap(marker)))
    with pytest.raises(DataFileError, match="Python objects"):
        load_signals(path, fs=FS, labels=["wear"])
    assert not marker.exists()


def test_bad_arguments_are_value_errors_naming_the_argument(tmp_path):
    path = tmp_path / "ok.npy"
    np.save(path, GOOD)
    message = r"fs: must be a positive number \(the sampling rate in Hz\), got -5.0"
    with pytest.raises(ValueError, match=message):
        load_signals(path, fs=-5.0, labels=list(GOOD_LABELS))


# --- import ------------------------------------------------------------------------------------


def test_import_writes_a_readable_dataset_with_record_level_splits(tmp_path):
    signals, labels, meta = make_records(n=40)
    labels[-4:] = "rub"  # a new class goes after the catalogue's
    src = write_csv(tmp_path / "user.csv", signals, labels, meta)
    dest = import_file(src, tmp_path / "out" / "user.h5", fs=FS, allow_new_classes=True, split_seed=4)
    assert dest == tmp_path / "out" / "user.h5"
    info = read_info(dest)
    assert info.source == "imported"
    assert info.class_names == ("healthy", "cavitation", "wear", "oil_whirl", "rub")
    assert info.n_records == 40 and info.fs == FS
    assert set(info.metadata_columns) == set(meta)
    assert sum(info.split_sizes.values()) == 40
    with Dataset(dest) as ds:
        assert np.array_equal(ds.signals(), signals)
        assert [ds.class_names[i] for i in ds.labels] == list(labels)
        splits = ds.splits()
        check_no_leakage({k: ds.record_ids[v] for k, v in splits.items()})
        for idx in splits.values():
            assert {ds.class_names[i] for i in ds.labels[idx]} == set(info.class_names)
        assert np.allclose(ds.metadata()["speed_hz"], meta["speed_hz"])
        assert ds.attrs["seed"] == -1
    with h5py.File(dest, "r") as f:
        assert f["splits"].attrs["seed"] == 4
    assert [p.name for p in dest.parent.iterdir()] == ["user.h5"]
    # the imported file loads back through the same loader
    assert_same(load_signals(dest, allow_new_classes=True), signals, labels, meta)


def test_import_failure_leaves_nothing_behind(tmp_path):
    signals, labels, _ = make_records(n=8)
    bad = signals.copy()
    bad[5, 100] = np.nan
    src = tmp_path / "bad.npz"
    np.savez(src, signals=bad, labels=np.array(list(labels)), fs=FS)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(DataFileError, match="record 5"):
        import_file(src, out / "d.h5")
    assert list(out.iterdir()) == []


def test_import_refuses_a_class_too_small_to_split(tmp_path):
    signals, _, _ = make_records(n=8)
    labels = ["healthy"] * 6 + ["wear"] * 2
    src = tmp_path / "small.npz"
    np.savez(src, signals=signals, labels=np.array(labels), fs=FS)
    with pytest.raises(DataFileError, match="small.npz: .*'wear' has 2"):
        import_file(src, tmp_path / "d.h5")
    assert not (tmp_path / "d.h5").exists()
    assert import_file(src, tmp_path / "d.h5", split_fractions=(0.5, 0.5, 0.0)).exists()


def test_import_failure_while_writing_removes_the_partial_file(tmp_path, monkeypatch):
    signals, labels, _ = make_records(n=12)
    src = tmp_path / "ok.npz"
    np.savez(src, signals=signals, labels=np.array(list(labels)), fs=FS)

    def broken_write(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(dataset_file.DatasetWriter, "write", broken_write)
    with pytest.raises(OSError, match="disk full"):
        import_file(src, tmp_path / "out.h5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.npz"]


def test_import_does_not_overwrite_unless_asked(tmp_path):
    signals, labels, _ = make_records(n=12)
    src = tmp_path / "ok.npz"
    np.savez(src, signals=signals, labels=np.array(list(labels)), fs=FS)
    dest = tmp_path / "d.h5"
    dest.write_bytes(b"precious")
    with pytest.raises(DataFileError, match="d.h5: already exists"):
        import_file(src, dest)
    assert dest.read_bytes() == b"precious"
    import_file(src, dest, overwrite=True)
    assert read_info(dest).n_records == 12


def test_import_validates_split_fractions_before_reading(tmp_path):
    with pytest.raises(ValueError, match="fractions"):
        import_file(tmp_path / "absent.npz", tmp_path / "d.h5", split_fractions=(0.5, 0.5, 0.5))
