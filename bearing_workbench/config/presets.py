"""Training presets (built-in YAML files and user presets) and configs built from them."""

from __future__ import annotations

import copy
import importlib.resources
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bearing_workbench.config.atomic_files import write_text_atomic
from bearing_workbench.config.messages import ConfigError, FieldError, field_errors
from bearing_workbench.config.schema import ExperimentConfig, schema_errors
from bearing_workbench.config.yaml_io import dump_yaml, read_yaml

BUILTIN_PRESETS = ("quick", "standard", "max", "fast")
_PRESET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class Preset(BaseModel):
    """A named starting point: training settings, data settings and per-family model overrides."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Identifier (the file name without .yaml).")
    title: str = Field(min_length=1, description="Display name, e.g. 'Quick test'.")
    description: str = Field("", description="One line shown on the preset card.")
    expected_time: str | None = Field(None, description="Rough duration on a 2-core CPU, as a range.")
    expected_accuracy: str | None = Field(None, description="Rough test accuracy, as a range; not a promise.")
    builtin: bool = Field(False, description="Shipped with the package (cannot be overwritten).")
    training: dict[str, Any] = Field(default_factory=dict, description="Values for the training section.")
    data: dict[str, Any] = Field(
        default_factory=dict, description="Values for the data section (split, window, augmentation)."
    )
    model: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Model parameter overrides, keyed by family name."
    )


def _builtin_file(name: str) -> Any:
    return importlib.resources.files("bearing_workbench.config").joinpath("presets", f"{name}.yaml")


def _parse_preset(data: Any, name: str, source: str, builtin: bool) -> Preset:
    if not isinstance(data, Mapping):
        raise ConfigError(
            [FieldError("", "must be a mapping with title, description, training, ...")], source
        )
    if "name" in data and data["name"] != name:
        problem = f"does not match the file name ({name!r})"
        raise ConfigError([FieldError("name", problem)], source)
    try:
        return Preset.model_validate({**data, "name": name, "builtin": builtin})
    except ValidationError as exc:
        raise ConfigError(field_errors(exc, schema=Preset), source) from None


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _PRESET_NAME.fullmatch(name):
        message = "must be a simple identifier (letters, digits and _, not starting with a digit)"
        raise ConfigError([FieldError("preset", f"{message}; got {name!r}")])


def list_presets(directory: str | Path | None = None) -> list[Preset]:
    """Built-in presets in their fixed order, then the user presets found in `directory`."""
    presets = [load_preset(name) for name in BUILTIN_PRESETS]
    if directory is not None and Path(directory).is_dir():
        for path in sorted(Path(directory).glob("*.yaml")):
            if _PRESET_NAME.fullmatch(path.stem) and path.stem not in BUILTIN_PRESETS:
                presets.append(load_preset(path.stem, directory))
    return presets


def load_preset(name: str, directory: str | Path | None = None) -> Preset:
    """A built-in preset by name, or a user preset saved in `directory`."""
    _check_name(name)
    if name in BUILTIN_PRESETS:
        source = f"built-in preset {name}.yaml"
        data, _ = read_yaml(_builtin_file(name).read_text(encoding="utf-8"), name=source)
        return _parse_preset(data, name, source=source, builtin=True)
    if directory is not None:
        path = Path(directory) / f"{name}.yaml"
        if path.is_file():
            data, source = read_yaml(path)
            return _parse_preset(data, name, source=source or str(path), builtin=False)
    known = ", ".join(preset.name for preset in list_presets(directory))
    raise ConfigError([FieldError("preset", f"unknown preset {name!r}; known presets: {known}")])


def set_dotted(target: dict[str, Any], key: str, value: Any) -> None:
    """Set ``target["a"]["b"]["c"] = value`` for the key ``"a.b.c"``, creating sections as needed."""
    parts = key.split(".")
    if not all(parts):
        raise ConfigError([FieldError(key, "is not a valid dotted key (e.g. 'training.epochs')")])
    node = target
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif not isinstance(child, dict):
            where = ".".join(parts[: depth + 1])
            raise ConfigError(
                [FieldError(key, f"cannot set inside {where!r}, which is a value, not a section")]
            )
        node = child
    node[parts[-1]] = copy.deepcopy(value)


def preset_config(
    preset: str | Preset,
    family: str,
    dataset: str,
    overrides: Mapping[str, Any] | None = None,
    directory: str | Path | None = None,
) -> dict[str, Any]:
    """A config mapping from a preset, for one model family and dataset.

    The result is not validated here: `bearing_workbench.models.preset_fit.validate_preset` builds it,
    fits the preset's derived values to the dataset and validates it through the one boundary.

    Args:
        overrides: dotted keys applied last, e.g. ``{"training.epochs": 5, "model.params.dropout": 0.2}``.
        directory: where user presets live, when `preset` is a name.
    """
    chosen = preset if isinstance(preset, Preset) else load_preset(preset, directory)
    config: dict[str, Any] = {
        "name": f"{family} ({chosen.title})",
        "data": {**copy.deepcopy(chosen.data), "dataset": dataset},
        "model": {"family": family, "params": copy.deepcopy(chosen.model.get(family, {}))},
        "training": copy.deepcopy(chosen.training),
    }
    for key, value in (overrides or {}).items():
        set_dotted(config, key, value)
    return config


def save_user_preset(
    name: str,
    config: ExperimentConfig | Mapping[str, Any],
    directory: str | Path,
    *,
    title: str | None = None,
    description: str = "",
    overwrite: bool = False,
) -> Path:
    """Save a config's data, model and training settings as a user preset; returns the file written.

    The dataset is left out so the preset applies to any dataset. The file is written atomically.
    Raises `ConfigError` for a name that is not a simple identifier, a built-in name, or an invalid
    config, and `FileExistsError` when the preset exists and `overwrite` is false.
    """
    _check_name(name)
    if name in BUILTIN_PRESETS:
        raise ConfigError([FieldError("preset", f"{name!r} is a built-in preset; choose another name")])
    validated, errors = schema_errors(config)
    if validated is None:
        raise ConfigError(errors, source=f"user preset {name}")
    path = Path(directory) / f"{name}.yaml"
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"user preset {name!r} already exists at {path}; pass overwrite=True to replace it"
        )
    dumped = validated.model_dump(mode="json")
    data = {key: value for key, value in dumped["data"].items() if key != "dataset"}
    preset = Preset(
        name=name,
        title=title or name,
        description=description,
        training=dumped["training"],
        data=data,
        model={validated.model.family: dumped["model"]["params"]},
    )
    body = preset.model_dump(mode="json", exclude={"name", "builtin"})
    write_text_atomic(path, dump_yaml(body))
    return path
