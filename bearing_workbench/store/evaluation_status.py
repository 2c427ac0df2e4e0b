"""States of an evaluation (a stored model applied to a dataset, or its robustness sweep): a pure table.

Simpler than a run's (`store.status`): an evaluation is not paused, stopped or retried; a new one is
made instead. It is written pending, started on a worker, then completed with its result or failed
with an error and a hint.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from bearing_workbench.store.status import InvalidTransition


class EvaluationStatus(StrEnum):
    """Where an evaluation stands."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class EvaluationAction(StrEnum):
    """What can happen to an evaluation."""

    START = "start"
    COMPLETE = "complete"
    FAIL = "fail"


class EvaluationKind(StrEnum):
    """What an evaluation measures: a model on a dataset, or its robustness to perturbed signals."""

    DATASET = "dataset"
    ROBUSTNESS = "robustness"


_E = TypeVar("_E", bound=StrEnum)
_S = EvaluationStatus
_A = EvaluationAction

# (action, from) -> to. A pending evaluation fails when its task dies before it starts.
_TRANSITIONS: dict[tuple[EvaluationAction, EvaluationStatus], EvaluationStatus] = {
    (_A.START, _S.PENDING): _S.RUNNING,
    (_A.COMPLETE, _S.RUNNING): _S.COMPLETED,
    (_A.FAIL, _S.PENDING): _S.FAILED,
    (_A.FAIL, _S.RUNNING): _S.FAILED,
}


def _member(enum: type[_E], value: object, what: str) -> _E:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise ValueError(f"unknown {what} {value!r}; expected one of: {allowed}") from None


def evaluation_kind(value: object) -> EvaluationKind:
    """`value` as an EvaluationKind; ValueError naming the kinds otherwise."""
    return _member(EvaluationKind, value, "evaluation kind")


def evaluation_action(value: object) -> EvaluationAction:
    """`value` as an EvaluationAction; ValueError naming the actions otherwise."""
    return _member(EvaluationAction, value, "evaluation action")


def next_evaluation_status(
    current: EvaluationStatus | str, action: EvaluationAction | str
) -> EvaluationStatus:
    """The status `action` leads to from `current`, or InvalidTransition."""
    status = _member(EvaluationStatus, current, "evaluation status")
    act = _member(EvaluationAction, action, "evaluation action")
    try:
        return _TRANSITIONS[(act, status)]
    except KeyError:
        raise InvalidTransition(f"cannot {act.value} an evaluation that is {status.value}") from None


def evaluation_finished(status: EvaluationStatus | str) -> bool:
    """True once the evaluation has completed or failed."""
    return _member(EvaluationStatus, status, "evaluation status") in (_S.COMPLETED, _S.FAILED)
