"""ExperimentFolder: one path per artifact, what exists with sizes, and confined names from outside."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bearing_workbench.store import experiment_dir
from bearing_workbench.store.artifacts import (
    DOWNLOAD_KEYS,
    EXPORT_KEYS,
    KIND_BY_KEY,
    KINDS,
    MODEL_FILE_KEYS,
    ExperimentFolder,
    epoch_checkpoint_name,
)


def test_the_folder_of_an_experiment_is_under_the_workspace(tmp_path: Path) -> None:
    folder = ExperimentFolder.of(7, tmp_path)
    assert folder.path == tmp_path.resolve() / "experiments" / "7"
    assert folder.experiment_id == 7
    assert folder.path == experiment_dir(7, tmp_path)
    assert not folder.exists() and not folder.path.exists()  # nothing is made until create()
    assert folder.create() is folder and folder.exists()
    assert os.fspath(folder) == str(folder.path)


def test_the_workspace_defaults_to_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEARING_WORKBENCH_WORKSPACE", str(tmp_path / "ws"))
    assert ExperimentFolder.of(3).path == (tmp_path / "ws").resolve() / "experiments" / "3"


@pytest.mark.parametrize("bad", [-1, "12", "../1", 1.5, True, None])
def test_only_experiment_ids_name_a_folder(tmp_path: Path, bad: object) -> None:
    with pytest.raises(ValueError, match="experiment_id: must be a non-negative integer, got"):
        ExperimentFolder.of(bad, tmp_path)  # type: ignore[arg-type]


def test_a_folder_at_a_path_reads_its_id_from_the_name(tmp_path: Path) -> None:
    assert ExperimentFolder.at(tmp_path / "experiments" / "12").experiment_id == 12
    elsewhere = ExperimentFolder.at(tmp_path / "scratch")
    assert elsewhere.experiment_id is None and elsewhere.path == (tmp_path / "scratch").resolve()
    assert ExperimentFolder.at(elsewhere) is elsewhere


def test_each_artifact_has_its_own_path_in_the_folder(tmp_path: Path) -> None:
    folder = ExperimentFolder.of(1, tmp_path)
    expected = {
        "config": "config.yaml",
        "history": "history.json",
        "metrics": "metrics.json",
        "predictions_test": "predictions_test.csv",
        "predictions_val": "predictions_val.csv",
        "model_summary": "model_summary.json",
        "input_spec": "input_spec.json",
        "onnx": "model.onnx",
        "classical_model": "model.skops",
        "ensemble_combiner": "ensemble.json",
        "ensemble_meta_learner": "meta_learner.skops",
        "best_checkpoint": "best.pt",
        "last_checkpoint": "last.pt",
        "log": "training.log",
        "report": "report.pdf",
    }
    paths = {key: getattr(folder, key) for key in expected}
    assert paths == {key: folder.path / name for key, name in expected.items()}
    assert {kind.key for kind in KINDS} == set(expected)
    assert all(folder.artifact(key) == getattr(folder, key) for key in expected)
    assert folder.predictions("test") == folder.predictions_test
    assert folder.predictions("val") == folder.predictions_val
    assert folder.epoch_checkpoint(3) == folder.path / "epoch-0003.pt"
    assert epoch_checkpoint_name(3) == "epoch-0003.pt"
    # the selections the pages and the export use are artifacts of the folder
    assert set(DOWNLOAD_KEYS) | set(EXPORT_KEYS) | set(MODEL_FILE_KEYS) <= set(KIND_BY_KEY)


def test_unknown_names_are_refused_with_the_known_ones(tmp_path: Path) -> None:
    folder = ExperimentFolder.of(1, tmp_path)
    with pytest.raises(KeyError, match="unknown artifact 'weights'; known: config, history"):
        folder.artifact("weights")
    with pytest.raises(ValueError, match="split must be 'test' or 'val'"):
        folder.predictions("train")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="epoch: must be a non-negative integer, got"):
        folder.epoch_checkpoint(-1)


def test_present_lists_what_exists_with_sizes(tmp_path: Path) -> None:
    folder = ExperimentFolder.of(2, tmp_path)
    assert folder.present() == []  # no folder yet
    folder.create()
    folder.metrics.write_text("{}\n")
    folder.best_checkpoint.write_bytes(b"x" * 100)
    folder.epoch_checkpoint(2).write_bytes(b"y" * 7)
    folder.epoch_checkpoint(1).write_bytes(b"z" * 5)
    (folder.path / "notes.txt").write_text("not an artifact")
    (folder.path / "model.onnx").mkdir()  # a folder is not the ONNX file
    present = folder.present()
    assert [(p.name, p.size) for p in present] == [
        ("metrics.json", 3),
        ("best.pt", 100),
        ("epoch-0001.pt", 5),
        ("epoch-0002.pt", 7),
    ]
    assert [p.label for p in present] == ["metrics JSON", "checkpoint (best.pt)"] + [
        "checkpoint (epoch-0001.pt)",
        "checkpoint (epoch-0002.pt)",
    ]
    assert present[0].mime == "application/json" and present[2].mime == "application/octet-stream"
    assert present[0].path == folder.metrics and present[0].kind is KIND_BY_KEY["metrics"]
    assert folder.epoch_checkpoints() == [(1, folder.epoch_checkpoint(1)), (2, folder.epoch_checkpoint(2))]


def test_checkpoints_are_recognised_by_name(tmp_path: Path) -> None:
    folder = ExperimentFolder.of(2, tmp_path)
    assert folder.is_checkpoint(folder.best_checkpoint) and folder.is_checkpoint(folder.last_checkpoint)
    assert folder.is_checkpoint(folder.epoch_checkpoint(12))
    assert not folder.is_checkpoint(folder.onnx) and not folder.is_checkpoint("epoch-x.pt")


def test_a_name_from_outside_resolves_inside_the_folder(tmp_path: Path) -> None:
    folder = ExperimentFolder.of(4, tmp_path).create()
    folder.config.write_text("a: 1\n")
    assert folder.resolve("config.yaml") == folder.config
    assert folder.existing_file("config.yaml") == folder.config
    assert folder.resolve("sub/../config.yaml") == folder.config  # stays inside: allowed
    with pytest.raises(FileNotFoundError, match=r"experiment 4 has no model.onnx in .*experiments/4"):
        folder.existing_file("model.onnx")


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "..", "../5/metrics.json", "a/../../../x", "sub/../../4x/../../../etc/hosts"],
)
def test_traversal_is_refused(tmp_path: Path, name: str) -> None:
    folder = ExperimentFolder.of(4, tmp_path).create()
    with pytest.raises(ValueError, match="escapes the folder"):
        folder.resolve(name)
    with pytest.raises(ValueError, match="escapes the folder"):
        folder.existing_file(name)


@pytest.mark.parametrize("name", ["/etc/passwd", "/", str(Path("/tmp") / "metrics.json")])
def test_absolute_paths_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="must be relative"):
        ExperimentFolder.of(4, tmp_path).resolve(name)


@pytest.mark.parametrize("name", ["", ".", "metrics.json\x00.txt"])
def test_empty_and_nul_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="expected a file name|NUL byte"):
        ExperimentFolder.of(4, tmp_path).resolve(name)


def test_a_symlink_that_points_outside_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("token")
    folder = ExperimentFolder.of(4, tmp_path / "ws").create()
    folder.metrics.symlink_to(secret)
    (folder.path / "out").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(ValueError, match="escapes the folder"):
        folder.existing_file("metrics.json")
    with pytest.raises(ValueError, match="escapes the folder"):
        folder.resolve("out/secret.txt")
    assert folder.present() == []  # nor is it listed as an artifact


def test_a_symlink_that_stays_inside_is_followed(tmp_path: Path) -> None:
    folder = ExperimentFolder.of(4, tmp_path).create()
    folder.history.write_text("[]\n")
    (folder.path / "latest-history.json").symlink_to(folder.history)
    assert folder.existing_file("latest-history.json") == folder.history
