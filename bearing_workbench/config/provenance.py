"""Which code produced an experiment: package version and git commit."""

from __future__ import annotations

import functools
import importlib.metadata
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DISTRIBUTION = "bearing-workbench"
GIT_TIMEOUT_S = 5.0
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1, or SHA-256 object format


def code_version(path: str | Path | None = None) -> str | None:
    """The git commit checked out at `path` (default: the package's folder), or None.

    None when git is missing, `path` is not inside a git checkout, the checkout has no commit yet,
    or git does not answer within a few seconds.
    """
    folder = Path(path) if path is not None else PACKAGE_DIR
    git = shutil.which("git")
    if git is None or not folder.is_dir():
        return None
    try:
        done = subprocess.run(
            [git, "rev-parse", "HEAD"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and _COMMIT.fullmatch(commit) else None


def package_version() -> str | None:
    """The installed package version; from pyproject.toml when running from a source checkout."""
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        pass
    pyproject = PACKAGE_DIR.parent / "pyproject.toml"
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    if project.get("name") != DISTRIBUTION:
        return None
    version = project.get("version")
    return str(version) if version else None


@functools.lru_cache(maxsize=1)
def current_provenance() -> tuple[str | None, str | None]:
    """(package version, git commit) of the running code, looked up once per process."""
    return package_version(), code_version()
