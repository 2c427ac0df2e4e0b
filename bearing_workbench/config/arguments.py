"""Argument types of public functions, checked by pydantic; each error names the parameter and what it wants.

A public function takes these types in its signature and is wrapped in `checked` (pydantic's
`validate_call`), instead of opening with hand-written ``isinstance`` guards. They live in `config`,
the lowest layer, so that `store` and every layer above it share one definition (and one wording) of
"an experiment id", "a non-empty text" and so on; nothing here imports widgets, Dask or the store.

A bool is never a number here (``True`` is not experiment 1), and nothing is coerced from text: a
caller that passes ``"3"`` for an id gets an error, not experiment 3.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, ParamSpec, TypeVar

from pydantic import ConfigDict, PlainValidator, TypeAdapter, ValidationError, validate_call
from pydantic_core import PydanticCustomError

P = ParamSpec("P")
R = TypeVar("R")


class ArgumentError(TypeError, ValueError):
    """A public function got a bad argument: which one, what was expected and what came.

    Both a TypeError and a ValueError, so that callers which caught either one before the guards
    moved to pydantic keep working.
    """


def _integer(value: object, expected: str) -> int:
    # operator.index takes ints and NumPy integers (ids often come out of a DataFrame) but neither
    # floats nor text; bool is an int to Python, never to us.
    if isinstance(value, bool):
        raise PydanticCustomError("argument", expected)
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise PydanticCustomError("argument", expected) from None


def _at_least(minimum: int, expected: str) -> Callable[[object], int]:
    def check_integer(value: object) -> int:
        number = _integer(value, expected)
        if number < minimum:
            raise PydanticCustomError("argument", expected)
        return number

    return check_integer


def _query_experiment_id(value: object) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return _at_least(1, "must be a positive integer")(value)


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PydanticCustomError("argument", "must be a non-empty string")
    return value.strip()


def _number_above(minimum: float, inclusive: bool, expected: str) -> Callable[[object], float]:
    def check_number(value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise PydanticCustomError("argument", expected)
        number = float(value)
        if not math.isfinite(number) or number < minimum or (number == minimum and not inclusive):
            raise PydanticCustomError("argument", expected)
        return number

    return check_number


def _mapping(value: object) -> Mapping[str, Any]:
    # Checked as a mapping only, not copied or walked: the store's JSON conversion checks the keys
    # and values of what it keeps, with messages that name the item.
    if not isinstance(value, Mapping):
        raise PydanticCustomError("argument", "must be a mapping (a dict)")
    return value


# An id of a stored row: any integer (a missing one is the store's NotFoundError, not a type error).
RowId = Annotated[int, PlainValidator(lambda value: _integer(value, "must be an integer id"))]
# An experiment id where no store is asked first (report jobs, page URLs): 1, 2, ...
ExperimentId = Annotated[int, PlainValidator(_at_least(1, "must be a positive integer"))]
# The same, also given as digits: a Voilà app reads it from its URL query (``?experiment=7``).
QueryExperimentId = Annotated[int, PlainValidator(_query_experiment_id)]
# Any integer (a seed, say): NumPy integers pass; floats, text and bool do not.
Integer = Annotated[int, PlainValidator(lambda value: _integer(value, "must be an integer"))]
PositiveInt = Annotated[int, PlainValidator(_at_least(1, "must be a positive integer"))]
# A window length or hop, in samples.
SampleCount = Annotated[int, PlainValidator(_at_least(1, "must be a positive integer number of samples"))]
NonNegativeInt = Annotated[int, PlainValidator(_at_least(0, "must be a non-negative integer"))]
# Text that must say something; it arrives stripped.
Text = Annotated[str, PlainValidator(_text)]
# Finite numbers (NumPy floats pass), as float. Durations in seconds (intervals, timeouts):
PositiveSeconds = Annotated[
    float, PlainValidator(_number_above(0.0, False, "must be a positive number of seconds"))
]
NonNegativeSeconds = Annotated[
    float, PlainValidator(_number_above(0.0, True, "must be a non-negative number of seconds"))
]
# A sampling rate in Hz: a finite number above zero.
SamplingRate = Annotated[
    float, PlainValidator(_number_above(0.0, False, "must be a positive number (the sampling rate in Hz)"))
]
# A dict or any other mapping, passed on as it is.
AnyMapping = Annotated[Mapping[str, Any], PlainValidator(_mapping)]

# arbitrary_types_allowed: signatures also name Paths, Sessions and records, checked by isinstance.
# strict: nothing is coerced (no "3" for 3, no "2024-01-01" for a datetime, no 1 for True).
_CONFIG = ConfigDict(arbitrary_types_allowed=True, strict=True)
# Errors about the call itself (a missing or unexpected argument) have no value to show.
_CALL_ERRORS = ("missing", "unexpected", "multiple")


def argument_message(error: ValidationError, parameters: Sequence[str] = ()) -> str:
    """One part per bad argument: ``experiment_id: must be a positive integer, got 'x'``.

    validate_call locates a positional argument by its index; `parameters` (the function's parameter
    names, in order) turns that index back into the name.
    """
    parts = []
    for item in error.errors(include_url=False):
        loc = [
            parameters[part] if i == 0 and isinstance(part, int) and part < len(parameters) else str(part)
            for i, part in enumerate(item["loc"])
        ]
        where = ".".join(loc) or (parameters[0] if len(parameters) == 1 else "arguments")
        message = item["msg"]
        if item["type"] != "argument":  # pydantic's own wording starts with a capital ("Input should ...")
            message = message[:1].lower() + message[1:]
        if item["type"].startswith(_CALL_ERRORS):
            parts.append(f"{where}: {message}")
        else:
            parts.append(f"{where}: {message}, got {item['input']!r}")
    return "; ".join(parts)


@functools.cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind, config=_CONFIG)


@functools.cache
def integer_at_least(minimum: int) -> Any:
    """The type of an integer >= `minimum`, for a bound a function sets (a window of 4 samples or more)."""
    return Annotated[int, PlainValidator(_at_least(minimum, f"must be an integer >= {minimum}"))]


def check(kind: Any, value: object, field: str) -> Any:
    """`value` checked as one of the types above (an item of a list, say); ArgumentError naming `field`."""
    try:
        return _adapter(kind).validate_python(value)
    except ValidationError as error:
        raise ArgumentError(argument_message(error, (field,))) from None


def checked(func: Callable[P, R]) -> Callable[P, R]:
    """`func` with its arguments checked against its annotations (pydantic's `validate_call`).

    A bad argument raises `ArgumentError` naming the parameter, what it expects and what it got.
    Annotate a parameter with `pydantic.SkipValidation[...]` where the function checks it itself
    (an iterable it consumes once, a value whose type is the function's own dispatch).
    """
    validated = validate_call(config=_CONFIG)(func)
    parameters = list(inspect.signature(func).parameters)
    title = getattr(func, "__qualname__", None)

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return validated(*args, **kwargs)
        except ValidationError as error:
            # The argument check's error carries the function's name; one raised inside `func`
            # (a config model's, say) carries its model's name and goes on untouched.
            if error.title != title:
                raise
            raise ArgumentError(argument_message(error, parameters)) from None

    return wrapper


__all__ = [
    "AnyMapping",
    "ArgumentError",
    "ExperimentId",
    "Integer",
    "NonNegativeInt",
    "NonNegativeSeconds",
    "PositiveInt",
    "PositiveSeconds",
    "QueryExperimentId",
    "RowId",
    "SampleCount",
    "SamplingRate",
    "Text",
    "argument_message",
    "check",
    "integer_at_least",
    "checked",
]
