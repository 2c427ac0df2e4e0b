"""Files without labels load when labels are not required (records to predict on)."""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.io

from bearing_workbench.data.loaders import DataFileError, SignalSet, load_signals

FS = 10240.0
SIGNALS = np.random.default_rng(3).standard_normal((4, 1024)).astype(np.float32)


def _npy(path):
    np.save(path, SIGNALS)
    return {"fs": FS}


def _npz(path):
    np.savez(path, signals=SIGNALS, fs=FS, meta_speed_hz=np.array([20.0, 25.0, 30.0, 35.0]))
    return {}


def _csv(path):
    frame = pd.DataFrame(SIGNALS.astype(np.float64), columns=[f"s{i}" for i in range(1024)])
    frame.to_csv(path, index=False, float_format="%.17g")
    return {"fs": FS}


def _h5(path):
    with h5py.File(path, "w") as f:
        f.create_dataset("signals", data=SIGNALS)
        f.attrs["fs"] = FS
    return {}


def _mat(path):
    scipy.io.savemat(path, {"signals": SIGNALS, "fs": FS})
    return {}


WRITERS = {"x.npy": _npy, "x.npz": _npz, "x.csv": _csv, "x.h5": _h5, "x.mat": _mat}


@pytest.mark.parametrize("name", list(WRITERS))
def test_a_file_without_labels_loads_when_labels_are_not_required(tmp_path, name):
    path = tmp_path / name
    kwargs = WRITERS[name](path)
    with pytest.raises(DataFileError, match="labels|'label' column"):
        load_signals(path, **kwargs)
    loaded = load_signals(path, require_labels=False, **kwargs)
    assert loaded.labels is None and not loaded.labelled
    assert np.array_equal(loaded.signals, SIGNALS) and loaded.fs == FS
    assert loaded.class_names() == ()
    assert loaded.label_indices(["healthy", "wear"]) is None
    assert len(loaded.record_ids) == 4


def test_labels_given_still_apply_when_not_required(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, SIGNALS)
    loaded = load_signals(path, fs=FS, labels=["wear", "healthy", "wear", "wear"], require_labels=False)
    assert list(loaded.labels) == ["wear", "healthy", "wear", "wear"]
    assert loaded.class_names() == ("healthy", "wear")
    assert list(loaded.label_indices(["healthy", "wear"])) == [1, 0, 1, 1]
    with pytest.raises(ValueError, match="'wear' are not among the classes healthy, rub"):
        loaded.label_indices(["healthy", "rub"])


def test_a_labelled_file_keeps_its_labels_when_labels_are_not_required(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, signals=SIGNALS, fs=FS, labels=np.array(["wear"] * 4))
    assert list(load_signals(path, require_labels=False).labels) == ["wear"] * 4


def test_a_signal_set_without_labels_checks_its_shape():
    assert SignalSet(signals=SIGNALS, labels=None, fs=FS).n_records == 4
    with pytest.raises(ValueError, match="records, samples"):
        SignalSet(signals=SIGNALS[0], labels=None, fs=FS)
