"""Run-state machine of an experiment: a pure function, no database."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """Where an experiment's run stands."""

    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    FAILED = "failed"
    COMPLETED = "completed"


class RunAction(StrEnum):
    """What can be done to a run."""

    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    COMPLETE = "complete"
    FAIL = "fail"
    CANCEL = "cancel"
    RETRY = "retry"


class InvalidTransition(ValueError):
    """An action that the experiment's current status does not allow."""


_S = RunStatus
_A = RunAction

# (action, from) -> to. A run that failed or was stopped can be retried: it goes back to pending and
# the runner resumes it from its last checkpoint. A pending or paused run can fail too (its worker died).
_TRANSITIONS: dict[tuple[RunAction, RunStatus], RunStatus] = {
    (_A.START, _S.PENDING): _S.RUNNING,
    (_A.PAUSE, _S.RUNNING): _S.PAUSED,
    (_A.RESUME, _S.PAUSED): _S.RUNNING,
    (_A.STOP, _S.RUNNING): _S.STOPPED,
    (_A.STOP, _S.PAUSED): _S.STOPPED,
    (_A.COMPLETE, _S.RUNNING): _S.COMPLETED,
    (_A.FAIL, _S.PENDING): _S.FAILED,
    (_A.FAIL, _S.RUNNING): _S.FAILED,
    (_A.FAIL, _S.PAUSED): _S.FAILED,
    (_A.CANCEL, _S.PENDING): _S.STOPPED,
    (_A.RETRY, _S.FAILED): _S.PENDING,
    (_A.RETRY, _S.STOPPED): _S.PENDING,
}

_TERMINAL = frozenset({_S.STOPPED, _S.FAILED, _S.COMPLETED})


def _coerce(enum: type[StrEnum], value: object, what: str) -> StrEnum:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise ValueError(f"unknown {what} {value!r}; expected one of: {allowed}") from None


def next_status(current: RunStatus | str, action: RunAction | str) -> RunStatus:
    """Return the status that `action` leads to from `current`, or raise InvalidTransition."""
    status = _coerce(RunStatus, current, "run status")
    act = _coerce(RunAction, action, "run action")
    try:
        return _TRANSITIONS[(act, status)]  # type: ignore[index]
    except KeyError:
        allowed = sorted(a.value for (a, s) in _TRANSITIONS if s == status)
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        raise InvalidTransition(f"cannot {act.value} an experiment that is {status.value}{hint}") from None


def allowed_actions(current: RunStatus | str) -> list[RunAction]:
    """Actions that `current` allows, in declaration order (for enabling buttons)."""
    status = _coerce(RunStatus, current, "run status")
    return [a for a in RunAction if (a, status) in _TRANSITIONS]


def is_terminal(status: RunStatus | str) -> bool:
    """True when the run has ended (stopped, failed, completed); retry may still start a new attempt."""
    return _coerce(RunStatus, status, "run status") in _TERMINAL
