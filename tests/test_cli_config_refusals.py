"""Bad configs are refused where they enter the command line: exit 2, one line naming the field or
file, nothing stored (no experiment row, no experiment folder) and no cluster reached."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bearing_workbench.config import BUILTIN_PRESETS, preset_config
from bearing_workbench.config.yaml_io import dump_yaml
from bearing_workbench.store import Store

from .tiny_data import tiny_store

# Nothing listens here: a config that got past validation would fail to connect instead.
NO_SCHEDULER = "tcp://127.0.0.1:9"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """'four': 3 classes x 4 records of 1 s (2 training records per class)."""
    root = tmp_path_factory.mktemp("refusals-ws")
    tiny_store(root, per_class=4, duration_s=1.0, seed=8, name="four").dispose()
    yield root


def _cli(workspace: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEARING_WORKBENCH_")}
    env.update(
        BEARING_WORKBENCH_WORKSPACE=str(workspace), BEARING_WORKBENCH_SCHEDULER=NO_SCHEDULER, CI="true"
    )
    return subprocess.run(
        [sys.executable, "-m", "bearing_workbench", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=workspace,
        timeout=300,
    )


def _refused(run: subprocess.CompletedProcess, says: str) -> None:
    """Exit 2 with one line on stderr that says `says`; no traceback."""
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], run.stderr
    assert lines[0].startswith("error: ")


def _nothing_stored(workspace: Path, before: int) -> None:
    store = Store(workspace=workspace)
    try:
        assert len(store.list_experiments(limit=None)) == before
    finally:
        store.dispose()
    folder = workspace / "experiments"
    assert not folder.exists() or len(list(folder.iterdir())) == before


def _count(workspace: Path) -> int:
    store = Store(workspace=workspace)
    try:
        return len(store.list_experiments(limit=None))
    finally:
        store.dispose()


@pytest.mark.parametrize("dataset", ["nope", "/no/such/dataset.h5"])
def test_submit_with_a_missing_dataset_is_refused_and_stores_nothing(
    workspace: Path, tmp_path: Path, dataset: str
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(dump_yaml(preset_config("quick", "classical", dataset)), encoding="utf-8")
    before = _count(workspace)
    run = _cli(workspace, "submit", "--config", str(config))
    _refused(run, "data.dataset: ")
    assert dataset in run.stderr
    _nothing_stored(workspace, before)


def test_train_with_an_unknown_dataset_is_refused_and_stores_nothing(workspace: Path) -> None:
    before = _count(workspace)
    _refused(_cli(workspace, "train", "--model", "classical", "--dataset", "nope"), "data.dataset: ")
    _nothing_stored(workspace, before)


def test_a_deeply_nested_config_is_refused_in_one_line(workspace: Path, tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("[" * 5000 + "]" * 5000, encoding="utf-8")
    run = _cli(workspace, "submit", "--config", str(deep))
    _refused(run, "nested too deeply")
    assert "Traceback" not in run.stderr and str(deep) in run.stderr


def test_a_folder_given_as_config_is_called_a_folder(workspace: Path, tmp_path: Path) -> None:
    _refused(_cli(workspace, "submit", "--config", str(tmp_path)), "is a folder")


def test_the_preset_help_lists_only_presets_that_exist(workspace: Path) -> None:
    for command in ("submit", "train"):
        shown = " ".join(_cli(workspace, command, "--help").stdout.split())
        assert ", ".join(BUILTIN_PRESETS) in shown
        assert "saved" not in shown.replace("saved in the workspace", "")


def test_a_preset_fits_cv_folds_to_a_small_dataset_and_says_so(workspace: Path) -> None:
    """Defect 5: `train --model classical --preset quick` on 4 records per class was refused."""
    run = _cli(workspace, "train", "--model", "classical", "--preset", "quick", "--dataset", "four", "--json")
    assert run.returncode == 0, run.stderr
    assert "note: model.params.cv_folds: the preset's 3 changed to 2" in run.stderr
    store = Store(workspace=workspace)
    try:
        record = store.list_experiments(limit=1)[0]
    finally:
        store.dispose()
    assert record.status.value == "completed"
    assert record.config["model"]["params"]["cv_folds"] == 2


def test_train_checks_an_ensembles_members_before_storing(workspace: Path) -> None:
    """Membership used to be checked by `submit` and the wizard only, not by `train`."""
    before = _count(workspace)
    run = _cli(
        workspace,
        "train",
        "--model",
        "ensemble",
        "--dataset",
        "four",
        "--set",
        "model.params.members=[9998, 9999]",
    )
    assert run.returncode == 2, run.stderr
    assert "model.params.members: experiment 9998 does not exist" in run.stderr
    assert "experiment 9999 does not exist" in run.stderr
    _nothing_stored(workspace, before)
