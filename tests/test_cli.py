"""The `bearing-workbench` command line, run as a user would (a real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from bearing_workbench.features import FEATURE_NAMES


def _cli(*args: str, env_extra: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "bearing_workbench", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli")
    run = _cli("generate-data", "--out", str(out), "--per-class", "3", "--seed", "9", "--duration", "0.5")
    assert run.returncode == 0, run.stderr
    assert "wrote" in run.stdout
    return out / "dataset.h5"


def test_generate_info_features(generated, tmp_path):
    info = _cli("info", str(generated))
    assert info.returncode == 0, info.stderr
    assert "33 records x 10240 samples at 20480 Hz" in info.stdout
    assert "oil_whirl" in info.stdout and "sommerfeld" in info.stdout

    as_json = json.loads(_cli("info", str(generated), "--json").stdout)
    assert as_json["n_records"] == 33 and as_json["seed"] == 9
    assert sum(as_json["split_sizes"].values()) == 33

    out = tmp_path / "features.csv"
    feats = _cli("features", str(generated), "--out", str(out))
    assert feats.returncode == 0, feats.stderr
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["record_id", "label", *FEATURE_NAMES]
    assert len(frame) == 33 and np.isfinite(frame[list(FEATURE_NAMES)].to_numpy()).all()

    npz = tmp_path / "features.npz"
    assert _cli("features", str(generated), "--out", str(npz)).returncode == 0
    with np.load(npz, allow_pickle=False) as z:
        assert z["features"].shape == (33, 36)


def test_bad_arguments_get_clear_messages(generated, tmp_path):
    again = _cli("generate-data", "--out", str(generated))
    assert again.returncode == 2 and "already exists" in again.stderr

    bad = _cli("generate-data", "--out", str(tmp_path), "--fs", "4000")
    assert bad.returncode == 2 and "fs: " in bad.stderr and "10240" in bad.stderr

    missing = _cli("info", str(tmp_path / "nothing.h5"))
    assert missing.returncode == 2 and "no file at" in missing.stderr and "nothing.h5" in missing.stderr

    wrong_ext = _cli("features", str(generated), "--out", str(tmp_path / "f.xlsx"))
    assert wrong_ext.returncode == 2 and ".csv or .npz" in wrong_ext.stderr


def test_serve_prepares_workspace_with_demo_dataset(tmp_path):
    env = {"BEARING_WORKBENCH_WORKSPACE": str(tmp_path / "ws")}
    first = _cli("serve", "--prepare-only", "--demo-per-class", "3", env_extra=env)
    assert first.returncode == 0, first.stderr
    assert "generated demo dataset" in first.stdout
    assert (tmp_path / "ws" / "datasets" / "demo.h5").exists()
    second = _cli("serve", "--prepare-only", env_extra=env)
    assert second.returncode == 0, second.stderr
    assert "found demo dataset" in second.stdout
    assert "1 dataset(s) registered: demo" in second.stdout
