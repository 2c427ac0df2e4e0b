"""Workspace layout and path confinement."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bearing_workbench.store import confined_path, database_url, datasets_dir, experiment_dir, workspace_root


def test_workspace_root_defaults_to_dot_workspace_and_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    root = workspace_root()
    assert root == (tmp_path / "workspace").resolve()
    assert root.is_dir() and root.is_absolute()


def test_workspace_root_follows_the_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BEARING_WORKBENCH_WORKSPACE", "elsewhere/ws")
    assert workspace_root() == (tmp_path / "elsewhere" / "ws").resolve()
    assert (tmp_path / "elsewhere" / "ws").is_dir()


def test_workspace_root_refuses_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "afile").write_text("x")
    monkeypatch.setenv("BEARING_WORKBENCH_WORKSPACE", str(tmp_path / "afile"))
    with pytest.raises(ValueError, match="BEARING_WORKBENCH_WORKSPACE .* is a file"):
        workspace_root()


def test_database_url_default_and_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert database_url(tmp_path) == f"sqlite:///{tmp_path.resolve() / 'workbench.db'}"
    monkeypatch.setenv("BEARING_WORKBENCH_DB_URL", "postgresql+psycopg://u@db/bw")
    assert database_url(tmp_path) == "postgresql+psycopg://u@db/bw"


def test_experiment_and_dataset_folders(tmp_path: Path) -> None:
    ws = tmp_path.resolve()
    assert experiment_dir(12, ws) == ws / "experiments" / "12"
    assert not (ws / "experiments" / "12").exists()
    assert experiment_dir(12, ws, create=True).is_dir()
    assert datasets_dir(ws) == ws / "datasets"
    assert datasets_dir(ws, create=True).is_dir()


@pytest.mark.parametrize("bad", [-1, "12", "../1", 1.5, True, None])
def test_experiment_dir_refuses_non_ids(tmp_path: Path, bad: object) -> None:
    with pytest.raises(ValueError, match="experiment_id: must be a non-negative integer, got"):
        experiment_dir(bad, tmp_path)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "parts",
    [
        ("../../etc/passwd",),
        ("..",),
        ("a", "..", "..", "b"),
        ("experiments/../../x",),
    ],
)
def test_confined_path_refuses_traversal(tmp_path: Path, parts: tuple[str, ...]) -> None:
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(ValueError, match="escapes the folder"):
        confined_path(root, *parts)


@pytest.mark.parametrize("absolute", ["/etc/passwd", "/"])
def test_confined_path_refuses_absolute_parts(tmp_path: Path, absolute: str) -> None:
    with pytest.raises(ValueError, match="must be relative"):
        confined_path(tmp_path, "sub", absolute)


def test_confined_path_refuses_nul(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="NUL"):
        confined_path(tmp_path, "a\x00b")


def test_confined_path_refuses_a_symlink_out(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError, match="escapes the folder"):
        confined_path(root, "link", "secret.txt")


def test_confined_path_accepts_paths_inside(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    (root / "inner").symlink_to(root / "a", target_is_directory=True)
    assert confined_path(root, "a", "b.csv") == (root / "a" / "b.csv").resolve()
    assert confined_path(root, "a/../c") == (root / "c").resolve()
    assert confined_path(root, "inner", "x") == (root / "a" / "x").resolve()
    assert confined_path(root) == root.resolve()
    assert confined_path(str(root), Path("a")) == (root / "a").resolve()
    assert os.fspath(confined_path(root, "a")).startswith(os.fspath(root.resolve()))
