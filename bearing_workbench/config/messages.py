"""Validation messages: pydantic errors turned into field paths and plain sentences."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

# Error type used by cross-field rules (see `rule_error`): its context names the sub-field to blame,
# because a model-level validator can only report at the model's own location.
RULE_ERROR_TYPE = "field_rule"


@dataclass(frozen=True)
class FieldError:
    """One problem in a configuration: a dotted field path and a human message."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class ConfigError(ValueError):
    """An invalid configuration; `errors` holds every problem found, by field."""

    def __init__(self, errors: Iterable[FieldError], source: str | None = None) -> None:
        self.errors: list[FieldError] = list(errors)
        self.source = source
        where = f" in {source}" if source else ""
        count = len(self.errors)
        header = f"Invalid configuration{where} ({count} problem{'s' if count != 1 else ''})"
        lines = "\n".join(f"  - {error}" for error in self.errors)
        super().__init__(f"{header}:\n{lines}" if lines else header)

    def by_field(self) -> dict[str, list[str]]:
        """Messages grouped by field path, for showing next to form fields."""
        grouped: dict[str, list[str]] = {}
        for error in self.errors:
            grouped.setdefault(error.field, []).append(error.message)
        return grouped


def rule_error(field: str, message: str) -> PydanticCustomError:
    """An error for a cross-field rule, to raise from a model validator.

    Args:
        field: the sub-field to blame, relative to the model (e.g. ``"scheduler.warmup_epochs"``).
    """
    return PydanticCustomError(RULE_ERROR_TYPE, "{message}", {"field": field, "message": message})


def join_path(*parts: str | int) -> str:
    """Dotted path from location parts; list indices are written as ``name[i]``."""
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part:
            path = f"{path}.{part}" if path else str(part)
    return path


def field_errors(
    exc: ValidationError, prefix: str = "", schema: type[BaseModel] | None = None
) -> list[FieldError]:
    """Turn a pydantic `ValidationError` into field errors with plain-language messages.

    Args:
        prefix: dotted path prepended to every field (e.g. ``"model.params"``).
        schema: the model that was validated; when given, unknown fields get a spelling suggestion.
    """
    found: list[FieldError] = []
    for error in exc.errors(include_url=False):
        loc: tuple[str | int, ...] = tuple(error["loc"])
        ctx = error.get("ctx") or {}
        if error["type"] == RULE_ERROR_TYPE and ctx.get("field"):
            loc = loc + tuple(str(ctx["field"]).split("."))
        message = _message(error, loc, schema)
        item = FieldError(join_path(prefix, *loc), message)
        if item not in found:
            found.append(item)
    return found


def _fmt(value: Any) -> str:
    """A number or value written the way a person would type it."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _got(value: Any) -> str:
    if isinstance(value, bool | int | float | str) and len(str(value)) <= 40:
        return f" (got {_fmt(value)})"
    return ""


def _choices(expected: str) -> str:
    """``"'adam', 'sgd' or 'adamw'"`` -> ``"adam, sgd, adamw"``."""
    head, _, last = expected.rpartition(" or ")
    items = [*head.split(", "), last] if head else [last]
    return ", ".join(item.strip().strip("'\"") for item in items)


_TYPE_MESSAGES = {
    "missing": "is required",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "dict_type": "must be a section (a mapping of names to values)",
    "model_type": "must be a section (a mapping of names to values)",
    "model_attributes_type": "must be a section (a mapping of names to values)",
    "finite_number": "must be a finite number",
    "none_required": "must be empty (null)",
}


def _message(error: Any, loc: tuple[str | int, ...], schema: type[BaseModel] | None) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == RULE_ERROR_TYPE:
        return str(ctx.get("message", error["msg"]))
    if kind in _TYPE_MESSAGES:
        return _TYPE_MESSAGES[kind]
    if kind == "greater_than_equal":
        return f"must be at least {_fmt(ctx['ge'])}{_got(value)}"
    if kind == "greater_than":
        return f"must be greater than {_fmt(ctx['gt'])}{_got(value)}"
    if kind == "less_than_equal":
        return f"must be at most {_fmt(ctx['le'])}{_got(value)}"
    if kind == "less_than":
        return f"must be less than {_fmt(ctx['lt'])}{_got(value)}"
    if kind == "multiple_of":
        return f"must be a multiple of {_fmt(ctx['multiple_of'])}{_got(value)}"
    if kind in ("literal_error", "enum"):
        return f"must be one of: {_choices(str(ctx.get('expected', '')))}{_got(value)}"
    if kind == "extra_forbidden":
        return "unknown field (check the spelling" + _suggestion(schema, loc) + ")"
    if kind in ("too_short", "too_long"):
        bound = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        side = "at least" if kind == "too_short" else "at most"
        return f"must have {side} {bound} item{'s' if bound != 1 else ''} (got {ctx.get('actual_length')})"
    if kind == "string_too_short":
        return (
            "must not be empty"
            if ctx.get("min_length") == 1
            else f"must be at least {ctx['min_length']} characters"
        )
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    # Anything rarer: pydantic's text, with its "Input should be" phrasing softened.
    return str(error["msg"]).replace("Input should be", "must be")


def _suggestion(schema: type[BaseModel] | None, loc: tuple[str | int, ...]) -> str:
    """``"; did you mean 'batch_size'?"`` when a known sibling field is spelled alike."""
    if schema is None or not loc or not isinstance(loc[-1], str):
        return ""
    model = _model_at(schema, loc[:-1])
    if model is None:
        return ""
    close = difflib.get_close_matches(loc[-1], list(model.model_fields), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _model_at(schema: type[BaseModel], loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The nested model class found by following `loc` through `schema`'s fields."""
    model: type[BaseModel] | None = schema
    for part in loc:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return None
        model = _model_in(model.model_fields[part].annotation)
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None
