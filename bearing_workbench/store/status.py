"""Run-state machine of an experiment: a pure function, no database.

It also decides, purely, when a run is *lost* (`is_lost`): a running or paused run whose worker has
not written a heartbeat for longer than the grace period, whatever the scheduler says. A lost run is
``failed`` (action ``lose``) with the words of `lost_reason` and `lost_hint`; ``retry`` resumes it.
"""

from __future__ import annotations

from datetime import datetime
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
    LOSE = "lose"


class InvalidTransition(ValueError):
    """An action that the experiment's current status does not allow."""


_S = RunStatus
_A = RunAction

# (action, from) -> to. A run that failed or was stopped can be retried: it goes back to pending and
# the runner resumes it from its last checkpoint. A pending or paused run can fail too (its worker died).
# A running or paused run whose heartbeats stopped is lost: failed, with the reason saying so.
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
    (_A.LOSE, _S.RUNNING): _S.FAILED,
    (_A.LOSE, _S.PAUSED): _S.FAILED,
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


# The statuses in which a worker holds the run and writes heartbeats.
HEARTBEAT_STATUSES = frozenset({_S.RUNNING, _S.PAUSED})


def is_lost(status: RunStatus | str, last_seen: datetime | None, now: datetime, grace_s: float) -> bool:
    """True when a run's worker has stopped answering: it is running or paused and its last sign of life
    (heartbeat, else the start of its running stretch) is more than `grace_s` seconds before `now`."""
    if _coerce(RunStatus, status, "run status") not in HEARTBEAT_STATUSES or last_seen is None:
        return False
    return (now - last_seen).total_seconds() > grace_s


def lost_reason(epochs_done: int) -> str:
    """Why a lost run failed, for people: where it was when its heartbeats stopped."""
    if epochs_done > 0:
        return f"lost: its worker or scheduler stopped answering after epoch {epochs_done}"
    return "lost: its worker or scheduler stopped answering before its first epoch ended"


def lost_hint(epochs_done: int) -> str:
    """What to do about a lost run: retry resumes it from its last checkpoint."""
    if epochs_done > 0:
        return f"retry resumes it from its last checkpoint, after epoch {epochs_done}"
    return "retry runs it again (from its last checkpoint, if it wrote one)"
