"""The argument types of public functions: what passes, what is refused and how the refusal reads."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import BaseModel, ValidationError

from bearing_workbench.config.arguments import (
    AnyMapping,
    ArgumentError,
    NonNegativeInt,
    PositiveSeconds,
    QueryExperimentId,
    RowId,
    SamplingRate,
    Text,
    check,
    checked,
)


class _Limits(BaseModel):
    size: int


class _Repository:
    @checked
    def add(self, experiment_id: RowId, epoch: NonNegativeInt, name: Text = "run") -> tuple[int, int, str]:
        return experiment_id, epoch, name

    @checked
    def store(self, payload: AnyMapping | None = None) -> object:
        return payload

    @checked
    def inner_model(self, size: NonNegativeInt) -> _Limits:
        return _Limits(size="many")  # type: ignore[arg-type]


def test_good_arguments_arrive_converted() -> None:
    repo = _Repository()
    assert repo.add(np.int64(3), 0, name="  cnn  ") == (3, 0, "cnn")
    payload = {1: "int keys are the store's JSON conversion's to judge"}
    assert repo.store(payload) is payload  # passed on as it is, not copied
    assert check(QueryExperimentId, " 7 ", "experiment_id") == 7
    assert check(SamplingRate, np.float32(5120), "fs") == 5120.0


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda r: r.add(True, 1), "experiment_id: must be an integer id, got True"),
        (lambda r: r.add("3", 1), "experiment_id: must be an integer id, got '3'"),
        (lambda r: r.add(1, 1.0), "epoch: must be a non-negative integer, got 1.0"),
        (lambda r: r.add(1, -1), "epoch: must be a non-negative integer, got -1"),
        (lambda r: r.add(1, 0, name=" "), "name: must be a non-empty string, got ' '"),
        (lambda r: r.store([1]), r"payload: must be a mapping \(a dict\), got \[1\]"),
        (lambda r: r.add(experiment_id=1), "epoch: missing required argument$"),
    ],
)
def test_a_bad_argument_is_named_with_what_was_expected_and_what_came(call, message: str) -> None:
    with pytest.raises(ArgumentError, match=message) as caught:
        call(_Repository())
    # Callers that caught either error before the guards moved to pydantic still catch this one.
    assert isinstance(caught.value, TypeError) and isinstance(caught.value, ValueError)


def test_every_bad_argument_is_listed_at_once() -> None:
    with pytest.raises(ArgumentError) as caught:
        _Repository().add("x", -1)
    assert str(caught.value) == (
        "experiment_id: must be an integer id, got 'x'; epoch: must be a non-negative integer, got -1"
    )


def test_a_validation_error_from_inside_the_function_is_not_taken_for_a_bad_argument() -> None:
    with pytest.raises(ValidationError, match="_Limits"):
        _Repository().inner_model(1)


@pytest.mark.parametrize(
    "kind, value, message",
    [
        (QueryExperimentId, "12a", "experiment_id: must be a positive integer, got '12a'"),
        (QueryExperimentId, 0, "experiment_id: must be a positive integer, got 0"),
        (SamplingRate, float("inf"), r"experiment_id: must be a positive number \(the sampling rate in Hz\)"),
        (PositiveSeconds, 0, "experiment_id: must be a positive number of seconds, got 0"),
    ],
)
def test_check_names_the_field_it_is_given(kind: object, value: object, message: str) -> None:
    with pytest.raises(ArgumentError, match=message):
        check(kind, value, "experiment_id")
