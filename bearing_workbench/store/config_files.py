"""Where saved configs and user presets live: `<workspace>/configs/` and `<workspace>/presets/`."""

from __future__ import annotations

from pathlib import Path

from bearing_workbench.config import ExperimentConfig
from bearing_workbench.config.atomic_files import write_text_atomic
from bearing_workbench.config.naming import file_stem
from bearing_workbench.store.workspace import confined_path, workspace_root

CONFIGS_FOLDER = "configs"
PRESETS_FOLDER = "presets"


def _root(workspace: Path | str | None) -> Path:
    return workspace_root() if workspace is None else Path(workspace).expanduser().resolve()


def configs_dir(workspace: Path | str | None = None, *, create: bool = False) -> Path:
    """The folder of experiment configs saved as YAML files: `<workspace>/configs/`."""
    path = confined_path(_root(workspace), CONFIGS_FOLDER)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def presets_dir(workspace: Path | str | None = None, *, create: bool = False) -> Path:
    """The folder of user presets (see `config.presets.save_user_preset`): `<workspace>/presets/`."""
    path = confined_path(_root(workspace), PRESETS_FOLDER)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def save_config_file(
    config: ExperimentConfig, name: str, workspace: Path | str | None = None, *, overwrite: bool = False
) -> Path:
    """Write `config` as YAML to `<workspace>/configs/<name>.yaml` (atomically); returns the path.

    The file name is made safe from `name` (letters, digits, ``._-``). Raises `FileExistsError` when
    the file exists and `overwrite` is false.
    """
    folder = configs_dir(workspace, create=True)
    path = confined_path(folder, f"{file_stem(name)}.yaml")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; choose another name or pass overwrite=True")
    write_text_atomic(path, config.to_yaml())
    return path
