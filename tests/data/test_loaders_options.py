"""Errors name the option they concern, as Python writes it (`labels=`) and as the CLI does (`--labels`);
files whose arrays go by other names load with signals_key / labels_key / fs_key."""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.io

from bearing_workbench.data.loaders import DataFileError, OptionError, load_signals, message_for
from bearing_workbench.data.loaders.errors import shown

FS = 10240.0
SIGNALS = np.random.default_rng(5).standard_normal((6, 1024)).astype(np.float32)
LABELS = np.array(["healthy", "wear"] * 3)


def _refused(path, **kwargs) -> DataFileError | OptionError:
    with pytest.raises((DataFileError, OptionError)) as info:
        load_signals(path, **kwargs)
    return info.value


def _npy(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, SIGNALS)
    return path


# (what, make(tmp_path) -> (path, kwargs), option, the Python text, the CLI text)
CASES = {
    "no fs": (lambda t: (_npy(t), {"labels": list(LABELS)}), "fs", "pass fs= (in Hz)", "pass --fs (in Hz)"),
    "no labels": (lambda t: (_npy(t), {"fs": FS}), "labels", "pass labels= (", "pass --labels ("),
    "fs disagrees": (
        lambda t: (_npz(t, signals=SIGNALS, labels=LABELS, fs=FS), {"fs": 20000.0}),
        "fs",
        "but fs=20000 was given; leave fs= out",
        "but --fs 20000 was given; leave --fs out",
    ),
    "unknown class": (
        lambda t: (_npz(t, signals=SIGNALS, labels=np.array(["rub"] * 6), fs=FS), {}),
        "allow_new_classes",
        "pass allow_new_classes=True to import",
        "pass --allow-new-classes to import",
    ),
    "labels twice": (
        lambda t: (_npz(t, signals=SIGNALS, labels=LABELS, fs=FS), {"labels": list(LABELS)}),
        "labels",
        "pass labels= only",
        "pass --labels only",
    ),
    "labels file missing": (
        lambda t: (_npy(t), {"fs": FS, "labels": t / "none.txt"}),
        "labels",
        "(labels= names a file",
        "(--labels names a file",
    ),
    "signals under another name": (
        lambda t: (_npz(t, vib=SIGNALS, labels=LABELS, fs=FS), {}),
        "signals_key",
        "name it with signals_key=NAME",
        "name it with --signals-key NAME",
    ),
    "labels key not in the file": (
        lambda t: (_npz(t, signals=SIGNALS, labels=LABELS, fs=FS), {"labels_key": "y"}),
        "labels_key",
        "has no array 'y' (labels_key=)",
        "has no array 'y' (--labels-key)",
    ),
    "a key for a .npy": (
        lambda t: (_npy(t), {"fs": FS, "labels": list(LABELS), "fs_key": "rate"}),
        "fs_key",
        "fs_key= does not apply",
        "--fs-key does not apply",
    ),
    "bad fs value": (lambda t: (_npy(t), {"fs": -5.0}), "fs", "fs: must be a positive", "--fs: must be"),
}


def _npz(tmp_path, **arrays):
    path = tmp_path / "x.npz"
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("case", list(CASES))
def test_errors_name_the_option_as_python_and_the_cli_write_it(tmp_path, case):
    make, option, python, cli = CASES[case]
    path, kwargs = make(tmp_path)
    error = _refused(path, **kwargs)
    assert error.option == option
    assert python in str(error) and python in message_for(error, "python"), str(error)
    assert cli in message_for(error, "cli"), message_for(error, "cli")
    if option.endswith("_key") or option in ("fs", "labels"):
        assert f"{option}=" not in message_for(error, "cli")


def test_numpy_values_are_shown_as_plain_python():
    assert shown(np.int64(-1)) == "-1"
    assert shown(np.float64(2.5)) == "2.5"
    assert shown(np.array([1.0, 2.0])) == "[1.0, 2.0]"
    assert shown(np.array(7)) == "7"
    assert shown(np.bytes_(b"abc")) == "'abc'"


def test_an_fs_attribute_that_is_a_numpy_integer_is_shown_plainly(tmp_path):
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("signals", data=SIGNALS)
        f.create_dataset("labels", data=LABELS.astype(object), dtype=h5py.string_dtype())
        f.attrs["fs"] = np.int64(-1)
    message = str(_refused(path))
    assert "got -1" in message and "np." not in message


def _write_all_formats(tmp_path):
    """The same records under the names vib / y / rate in every format that names its arrays."""
    npz = tmp_path / "k.npz"
    np.savez(npz, vib=SIGNALS, y=LABELS, rate=FS)
    h5 = tmp_path / "k.h5"
    with h5py.File(h5, "w") as f:
        f.create_dataset("vib", data=SIGNALS)
        f.create_dataset("y", data=LABELS.astype(object), dtype=h5py.string_dtype())
        f.attrs["rate"] = FS
    mat = tmp_path / "k.mat"
    scipy.io.savemat(mat, {"vib": SIGNALS, "y": np.array(list(LABELS), dtype=object), "rate": FS})
    return {"npz": npz, "h5": h5, "mat": mat}


@pytest.mark.parametrize("fmt", ["npz", "h5", "mat"])
def test_other_names_load_with_the_keys(tmp_path, fmt):
    path = _write_all_formats(tmp_path)[fmt]
    loaded = load_signals(path, signals_key="vib", labels_key="y", fs_key="rate")
    assert np.array_equal(loaded.signals, SIGNALS) and list(loaded.labels) == list(LABELS)
    assert loaded.fs == FS


def test_a_csv_label_column_under_another_name(tmp_path):
    frame = pd.DataFrame(SIGNALS.astype(np.float64), columns=[f"s{i}" for i in range(1024)])
    frame.insert(0, "condition", LABELS)
    path = tmp_path / "k.csv"
    frame.to_csv(path, index=False, float_format="%.17g")
    error = _refused(path, fs=FS)
    assert "--labels-key" in message_for(error, "cli")
    loaded = load_signals(path, fs=FS, labels_key="condition")
    assert list(loaded.labels) == list(LABELS)
    assert _refused(path, fs=FS, labels_key="kind").option == "labels_key"
    assert _refused(path, fs=FS, fs_key="rate").option == "fs_key"


@pytest.mark.parametrize("key", ["", "  ", "a/b", 3, np.str_("")])
def test_a_key_that_cannot_name_an_array_is_refused_before_reading(tmp_path, key):
    error = _refused(tmp_path / "absent.npz", signals_key=key)
    assert isinstance(error, OptionError) and error.option == "signals_key"
    assert message_for(error, "cli").startswith("--signals-key: expected the name of an array")
