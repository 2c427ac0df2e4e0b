"""Where the workspace, the database and the artifacts live."""

from __future__ import annotations

import os
from pathlib import Path

# The variables' owner is config.settings; their names stay importable from here.
from bearing_workbench.config.settings import DB_URL_ENV as DB_URL_ENV
from bearing_workbench.config.settings import WORKSPACE_ENV, settings

DEFAULT_WORKSPACE = "workspace"
DB_FILENAME = "workbench.db"


def workspace_root() -> Path:
    """The workspace folder: $BEARING_WORKBENCH_WORKSPACE or ./workspace, absolute, created on demand."""
    root = (settings().workspace or Path(DEFAULT_WORKSPACE)).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise ValueError(f"{WORKSPACE_ENV} points to {root}, which is a file; expected a folder")
    root.mkdir(parents=True, exist_ok=True)
    return root


def _root(workspace: Path | str | None) -> Path:
    if workspace is None:
        return workspace_root()
    root = Path(workspace).expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    return root


def database_url(workspace: Path | str | None = None) -> str:
    """The database URL: $BEARING_WORKBENCH_DB_URL, else SQLite file `workbench.db` in the workspace."""
    url = settings().db_url
    if url:
        return url
    return f"sqlite:///{_root(workspace) / DB_FILENAME}"


def confined_path(root: Path | str, *parts: str | os.PathLike[str]) -> Path:
    """Join `parts` under `root` and resolve; raise ValueError if the result leaves `root`.

    Refuses absolute parts, `..` that climbs out, and symlinks that point outside. Use for every
    path built from names that came from outside (browser downloads, deletions, file names).
    """
    base = Path(root).expanduser().resolve()
    for part in parts:
        text = os.fspath(part)
        if "\x00" in text:
            raise ValueError(f"path part {text!r} contains a NUL byte")
        if Path(text).is_absolute() or Path(text).drive:
            raise ValueError(f"path part {text!r} must be relative to {base}, not absolute")
    candidate = base.joinpath(*parts).resolve()
    if not candidate.is_relative_to(base):
        joined = "/".join(os.fspath(p) for p in parts)
        raise ValueError(f"path {joined!r} escapes the folder {base} (resolves to {candidate})")
    return candidate


def experiment_dir(experiment_id: int, workspace: Path | str | None = None, *, create: bool = False) -> Path:
    """The artifact folder of one experiment (`store.artifacts.ExperimentFolder.of(...).path`)."""
    # Imported here: store.artifacts builds on confined_path above.
    from bearing_workbench.store.artifacts import ExperimentFolder

    folder = ExperimentFolder.of(experiment_id, _root(workspace))
    return folder.create().path if create else folder.path


def datasets_dir(workspace: Path | str | None = None, *, create: bool = False) -> Path:
    """The folder where generated and imported dataset files live: `<workspace>/datasets/`."""
    path = confined_path(_root(workspace), "datasets")
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path
