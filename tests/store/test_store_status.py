"""The run-state machine, as a table of every (status, action) pair."""

from __future__ import annotations

import itertools

import pytest

from bearing_workbench.store import (
    InvalidTransition,
    RunAction,
    RunStatus,
    allowed_actions,
    is_terminal,
    next_status,
)

VALID = {
    ("pending", "start"): "running",
    ("running", "pause"): "paused",
    ("paused", "resume"): "running",
    ("running", "stop"): "stopped",
    ("paused", "stop"): "stopped",
    ("running", "complete"): "completed",
    ("pending", "fail"): "failed",
    ("running", "fail"): "failed",
    ("paused", "fail"): "failed",
    ("pending", "cancel"): "stopped",
    ("failed", "retry"): "pending",
    ("stopped", "retry"): "pending",
}

ALL_PAIRS = list(itertools.product([s.value for s in RunStatus], [a.value for a in RunAction]))
INVALID = [pair for pair in ALL_PAIRS if pair not in VALID]


@pytest.mark.parametrize(("current", "action"), list(VALID))
def test_valid_transition(current: str, action: str) -> None:
    assert next_status(current, action) is RunStatus(VALID[(current, action)])
    assert next_status(RunStatus(current), RunAction(action)) is RunStatus(VALID[(current, action)])


@pytest.mark.parametrize(("current", "action"), INVALID)
def test_invalid_transition_is_refused_with_a_message(current: str, action: str) -> None:
    with pytest.raises(InvalidTransition, match=f"cannot {action} an experiment that is {current}"):
        next_status(current, action)


def test_invalid_transition_is_a_value_error_and_lists_what_is_allowed() -> None:
    with pytest.raises(ValueError, match=r"cannot start an experiment that is running \(allowed: complete"):
        next_status("running", "start")
    with pytest.raises(InvalidTransition) as info:
        next_status("completed", "pause")
    assert str(info.value) == "cannot pause an experiment that is completed"


def test_unknown_status_or_action_names_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown run status 'done'; expected one of: pending"):
        next_status("done", "start")
    with pytest.raises(ValueError, match="unknown run action 'kill'; expected one of: start"):
        next_status("running", "kill")


@pytest.mark.parametrize(
    ("status", "terminal"),
    [
        ("pending", False),
        ("running", False),
        ("paused", False),
        ("stopped", True),
        ("failed", True),
        ("completed", True),
    ],
)
def test_is_terminal(status: str, terminal: bool) -> None:
    assert is_terminal(status) is terminal


def test_allowed_actions_match_the_table() -> None:
    for status in RunStatus:
        expected = {a for (s, a) in VALID if s == status.value}
        assert {a.value for a in allowed_actions(status)} == expected
