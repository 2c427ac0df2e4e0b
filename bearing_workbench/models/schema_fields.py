"""The config sections described field by field, the way family parameters are (`param_fields`).

Forms are generated from these descriptions: the wizard's expert mode shows the model family's
parameters, the data section (windows, augmentation) and the training section from one source,
the pydantic schemas, so a new field appears in the form the day it is added to a schema.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticUndefined

from bearing_workbench.config import (
    AugmentationConfig,
    ConfigError,
    DataConfig,
    ExperimentConfig,
    FieldError,
    TrainingConfig,
    WindowConfig,
    field_errors,
)
from bearing_workbench.models.registry import (
    ParamField,
    UnknownFamilyError,
    _describe,
    get_family,
    param_fields,
    unknown_family_message,
)


@dataclass(frozen=True)
class FormSection:
    """A group of fields: a pydantic section of the config, or a family's parameters.

    Args:
        path: dotted config path of the section, e.g. ``"training.scheduler"``; field paths are
            ``f"{path}.{field.name}"``.
        items: fields and nested sections, in schema order.
        nullable: the whole section may be left out (None), e.g. ``data.window``.
        enabled_by_default: for a nullable section, whether its default is a value (not None).
    """

    path: str
    title: str
    help: str = ""
    items: tuple[ParamField | FormSection, ...] = field(default_factory=tuple)
    nullable: bool = False
    enabled_by_default: bool = True

    def field_paths(self) -> list[str]:
        """Dotted paths of every field in this section and the sections inside it."""
        paths: list[str] = []
        for item in self.items:
            if isinstance(item, FormSection):
                paths.extend(item.field_paths())
            else:
                paths.append(f"{self.path}.{item.name}")
        return paths


def _section_model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """(the BaseModel a field holds, whether None is allowed) or (None, False) for a plain field."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        models = [arg for arg in args if isinstance(arg, type) and issubclass(arg, BaseModel)]
        if len(models) == 1 and len(args) == 2 and type(None) in args:
            return models[0], True
    return None, False


def schema_section(
    schema: type[BaseModel], path: str, title: str, help_text: str = "", exclude: tuple[str, ...] = ()
) -> FormSection:
    """Describe every field of `schema` (nested sections included) under the dotted `path`."""
    items: list[ParamField | FormSection] = []
    for name, info in schema.model_fields.items():
        if name in exclude:
            continue
        nested, nullable = _section_model(info.annotation)
        description = info.description or ""
        if nested is not None:
            default = info.get_default(call_default_factory=True)
            items.append(
                dataclasses.replace(
                    schema_section(nested, f"{path}.{name}", name.replace("_", " "), description),
                    nullable=nullable,
                    enabled_by_default=default is not None,
                )
            )
            continue
        default = info.get_default(call_default_factory=True)
        if default is PydanticUndefined:
            default = None  # a required field (window length): the form starts it empty
        items.append(_describe(name, info.annotation, list(info.metadata), default, description))
    return FormSection(path=path, title=title, help=help_text, items=tuple(items))


def model_section(family: str) -> FormSection:
    """The parameters of model family `family` as a form section at ``model.params``."""
    spec = get_family(family)
    return FormSection(
        path="model.params",
        title=f"Model: {spec.title}",
        help=spec.description,
        items=tuple(param_fields(family)),
    )


# Window length offered when a config has none: 1 s at the demo dataset's 20480 Hz, as in the presets.
DEFAULT_WINDOW_LENGTH = 20480
WINDOW_HELP = "Cut each record into windows after the split; unticked = whole records."
AUGMENTATION_HELP = "Random changes applied to training windows only."


def data_section() -> FormSection:
    """Windowing, augmentation and normalisation (`data.window`, `data.augmentation`,
    `data.normalisation`); dataset and split are picked apart (a dataset picker and a split editor)."""
    window = schema_section(WindowConfig, "data.window", "windows", WINDOW_HELP)
    window = dataclasses.replace(
        window,
        nullable=True,
        enabled_by_default=True,
        items=tuple(
            dataclasses.replace(item, default=DEFAULT_WINDOW_LENGTH)
            if isinstance(item, ParamField) and item.name == "length"
            else item
            for item in window.items
        ),
    )
    augmentation = schema_section(AugmentationConfig, "data.augmentation", "augmentation", AUGMENTATION_HELP)
    # The plain fields of the data section (normalisation), without the parts shown above or apart.
    plain = schema_section(DataConfig, "data", "Data", exclude=("dataset", "split", "window", "augmentation"))
    return FormSection(path="data", title="Data", items=(window, augmentation, *plain.items))


def training_section() -> FormSection:
    """Every field of the training section, schedule, early stopping and checkpoints included."""
    return schema_section(TrainingConfig, "training", "Training", "How the model is trained.")


def filled_config(data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` with every default filled in, model parameters included, as plain JSON values.

    Only the schemas are applied (not the family's cross-checks or the dataset's facts), so a form can
    be filled from a preset or a stored config that is not runnable yet. Raises `ConfigError`.
    """
    config = ExperimentConfig.from_mapping(data)
    try:
        params = get_family(config.model.family).params.model_validate(config.model.params)
    except UnknownFamilyError:
        raise ConfigError([FieldError("model.family", unknown_family_message(config.model.family))]) from None
    except ValidationError as exc:
        schema = get_family(config.model.family).params
        raise ConfigError(field_errors(exc, prefix="model.params", schema=schema)) from None
    filled = config.model_dump(mode="json")
    filled["model"]["params"] = params.model_dump(mode="json")
    return filled
