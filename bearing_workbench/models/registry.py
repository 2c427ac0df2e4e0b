"""The registry of model families: name -> parameter schema, input kind and (later) builder."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

import annotated_types
from pydantic import BaseModel, ConfigDict
from pydantic.fields import FieldInfo

if TYPE_CHECKING:
    from bearing_workbench.config import ExperimentConfig, FieldError
    from bearing_workbench.models.validation import DatasetFacts

InputKind = Literal["signal", "features", "spectrogram", "predictions"]
INPUT_KINDS: tuple[str, ...] = typing.get_args(InputKind)
_FAMILY_NAME = re.compile(r"[a-z][a-z0-9_]*")

# A family's own cross-checks on a schema-valid config: (typed params, config, dataset facts or None)
# -> errors with full dotted paths. Keeps family-specific rules in the family's module.
FamilyCheck = Callable[[Any, "ExperimentConfig", "DatasetFacts | None"], "list[FieldError]"]


class FamilyParams(BaseModel):
    """Base of every family's parameter schema: unknown parameters are errors."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


@dataclass
class FamilySpec:
    """One model family.

    Args:
        params: pydantic schema of the parameters; every field has a default, bounds or choices,
            and a one-line ``description`` (form tooltip).
        input_kind: what the model consumes: raw signal windows, the feature table, spectrogram
            images, or stored predictions of other experiments.
        builder: builds the model from validated params (set by the model zoo).
        epoch_based: trained by the epoch loop, so batch size, epochs and schedule apply.
        check: family-specific rules needing the whole config or the dataset facts.
        loader: reads a completed experiment's model files back as a stored model that predicts new
            records (set by `training.stored_model`).
        saver: writes the model files a family needs beyond the training loop's checkpoints (a
            classical pipeline, an ensemble's combination); returns entries for metrics.json.
    """

    name: str
    title: str
    description: str
    params: type[BaseModel]
    input_kind: InputKind
    builder: Callable[..., Any] | None = None
    epoch_based: bool = True
    check: FamilyCheck | None = None
    loader: Callable[..., Any] | None = None
    saver: Callable[..., Any] | None = None

    def default_params(self) -> BaseModel:
        """The parameters with every default."""
        return self.params()


class UnknownFamilyError(LookupError):
    """A model family name that is not registered."""


_FAMILIES: dict[str, FamilySpec] = {}


def register_family(spec: FamilySpec) -> FamilySpec:
    """Add a family to the registry; refuses duplicates and incomplete schemas."""
    if not _FAMILY_NAME.fullmatch(spec.name):
        raise ValueError(f"family name {spec.name!r} must be lower-case letters, digits and _")
    if spec.name in _FAMILIES:
        raise ValueError(f"model family {spec.name!r} is already registered")
    if not spec.title.strip() or not spec.description.strip() or "\n" in spec.description:
        raise ValueError(f"family {spec.name!r} needs a title and a one-line description")
    if spec.input_kind not in INPUT_KINDS:
        raise ValueError(f"family {spec.name!r}: input_kind must be one of {', '.join(INPUT_KINDS)}")
    if not (isinstance(spec.params, type) and issubclass(spec.params, BaseModel)):
        raise TypeError(f"family {spec.name!r}: params must be a pydantic BaseModel subclass")
    for field_name, info in spec.params.model_fields.items():
        if info.is_required():
            raise ValueError(f"family {spec.name!r}: parameter {field_name!r} needs a default")
        if not (info.description or "").strip():
            raise ValueError(
                f"family {spec.name!r}: parameter {field_name!r} needs a description (help text)"
            )
    _fields_of(spec.params)  # fails now, not in a form later, on a type forms cannot show
    _FAMILIES[spec.name] = spec
    return spec


def get_family(name: str) -> FamilySpec:
    """The registered family called `name`; unknown names raise an error listing the known ones."""
    try:
        return _FAMILIES[name]
    except (KeyError, TypeError):
        raise UnknownFamilyError(unknown_family_message(name)) from None


def unknown_family_message(name: Any) -> str:
    """Message for an unknown family name, listing the registered ones."""
    return f"unknown model family {name!r}; known families: {', '.join(_FAMILIES) or '(none registered)'}"


def list_families() -> list[str]:
    """Names of the registered families, in registration order (simplest first)."""
    return list(_FAMILIES)


def set_builder(name: str, builder: Callable[..., Any]) -> None:
    """Attach the function that builds a model of family `name` from its validated params."""
    get_family(name).builder = builder


def set_loader(name: str, loader: Callable[..., Any], saver: Callable[..., Any] | None = None) -> None:
    """Attach how family `name`'s stored model is read back (and, optionally, how its files are written)."""
    spec = get_family(name)
    spec.loader = loader
    spec.saver = saver


@dataclass(frozen=True)
class ParamField:
    """One parameter of a family, described plainly for forms and search spaces.

    `type` is one of ``int``, ``float``, ``bool``, ``str``, ``choice`` (see `choices`) or ``list``
    (see `item`, `min_items`, `max_items`). Bounds are inclusive unless the matching
    ``exclusive_*`` flag is set. `nullable` means the value may be left empty (None). `log_scale`
    suggests searching the range on a log scale. `ref` names what an id refers to (``"experiment"``:
    a stored experiment), so a form shows a picker and a search space leaves the field out.
    """

    name: str
    type: str
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    choices: tuple[Any, ...] | None = None
    nullable: bool = False
    log_scale: bool = False
    ref: str | None = None
    item: ParamField | None = None
    min_items: int | None = None
    max_items: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (nested for list items)."""
        return dataclasses.asdict(self)


def param_fields(name: str) -> list[ParamField]:
    """The parameters of family `name`: type, default, bounds or choices, and help text."""
    return _fields_of(get_family(name).params)


def _fields_of(schema: type[BaseModel]) -> list[ParamField]:
    fields = []
    for field_name, info in schema.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        default = info.get_default(call_default_factory=True)
        described = _describe(
            field_name, info.annotation, list(info.metadata), default, info.description or ""
        )
        fields.append(
            dataclasses.replace(
                described, log_scale=bool(extra.get("log_scale", False)), ref=extra.get("ref")
            )
        )
    return fields


def _describe(name: str, annotation: Any, metadata: list[Any], default: Any, help_text: str) -> ParamField:
    nullable = False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        others = [arg for arg in args if arg is not type(None)]
        if len(others) != 1:
            raise TypeError(f"parameter {name!r}: unions other than 'X | None' are not supported")
        nullable = len(others) < len(args)
        annotation = others[0]
    if typing.get_origin(annotation) is Annotated:
        annotation, *inner = typing.get_args(annotation)
        metadata = metadata + inner
    constraints = _flatten(metadata)
    kind, choices, item = _kind(name, annotation)
    bounds: dict[str, Any] = {}
    for constraint in constraints:
        if isinstance(constraint, annotated_types.Ge):
            bounds.update(minimum=constraint.ge, exclusive_minimum=False)
        elif isinstance(constraint, annotated_types.Gt):
            bounds.update(minimum=constraint.gt, exclusive_minimum=True)
        elif isinstance(constraint, annotated_types.Le):
            bounds.update(maximum=constraint.le, exclusive_maximum=False)
        elif isinstance(constraint, annotated_types.Lt):
            bounds.update(maximum=constraint.lt, exclusive_maximum=True)
        elif isinstance(constraint, annotated_types.MinLen):
            bounds.update(min_items=constraint.min_length)
        elif isinstance(constraint, annotated_types.MaxLen):
            bounds.update(max_items=constraint.max_length)
    return ParamField(
        name=name,
        type=kind,
        default=default,
        help=help_text,
        choices=choices,
        nullable=nullable,
        item=item,
        **bounds,
    )


def _flatten(metadata: list[Any]) -> list[Any]:
    """Constraint objects, unpacking the `FieldInfo` that ``Annotated[int, Field(...)]`` carries."""
    found: list[Any] = []
    for entry in metadata:
        if isinstance(entry, FieldInfo):
            found.extend(entry.metadata)
        else:
            found.append(entry)
    return found


def _kind(name: str, annotation: Any) -> tuple[str, tuple[Any, ...] | None, ParamField | None]:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return "choice", typing.get_args(annotation), None
    if origin in (list, tuple):
        args = [arg for arg in typing.get_args(annotation) if arg is not Ellipsis]
        item = _describe(f"{name}[]", args[0], [], None, "") if args else None
        return "list", None, item
    for python_type in (bool, int, float, str):  # bool first: it is a subclass of int
        if annotation is python_type:
            return python_type.__name__, None, None
    raise TypeError(f"parameter {name!r}: type {annotation!r} is not supported by forms and search spaces")
