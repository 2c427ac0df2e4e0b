"""code_version / package_version: the git commit when in a checkout, None otherwise."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from bearing_workbench.config import code_version, package_version, provenance

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture
def outside_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # Stop git from finding a repository in a parent folder of tmp_path.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    return tmp_path


@needs_git
def test_none_outside_a_git_checkout(outside_git: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert code_version(outside_git) is None
    monkeypatch.setattr(provenance, "PACKAGE_DIR", outside_git)
    monkeypatch.chdir(outside_git)
    assert code_version() is None


@needs_git
def test_commit_inside_a_git_checkout(outside_git: Path) -> None:
    repo = outside_git / "repo"
    (repo / "pkg").mkdir(parents=True)
    git = [
        "git",
        "-C",
        str(repo),
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.org",
        "-c",
        "commit.gpgsign=false",
    ]
    subprocess.run([*git, "init", "-q"], check=True)
    assert code_version(repo) is None  # a checkout without any commit yet
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "first"], check=True)
    head = subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()

    found = code_version(repo / "pkg")  # any folder inside the checkout
    assert found == head
    assert found is not None and re.fullmatch(r"[0-9a-f]{40}", found)


def test_none_when_git_is_missing_or_hangs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def hang(*args: object, **kwargs: object) -> None:
        raise subprocess.TimeoutExpired(cmd="git", timeout=provenance.GIT_TIMEOUT_S)

    monkeypatch.setattr(provenance.shutil, "which", lambda name: "/usr/bin/git")
    monkeypatch.setattr(provenance.subprocess, "run", hang)
    assert code_version(tmp_path) is None

    monkeypatch.setattr(provenance.shutil, "which", lambda name: None)
    assert code_version(tmp_path) is None


def test_package_version_matches_pyproject() -> None:
    pyproject = provenance.PACKAGE_DIR.parent / "pyproject.toml"
    expected = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
    assert package_version() == expected
