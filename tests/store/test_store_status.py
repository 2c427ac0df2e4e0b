"""The run-state machine, as a table of every (status, action) pair."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from bearing_workbench.store import (
    InvalidTransition,
    RunAction,
    RunStatus,
    allowed_actions,
    is_terminal,
    next_status,
)
from bearing_workbench.store.status import is_lost, lost_hint, lost_reason

NOW = datetime(2026, 12, 2, 14, 3, 30, tzinfo=UTC)

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
    # a run whose heartbeats stopped: lost, ended as failed; retry resumes it, and a run not yet marked
    # lost is stopped at once by stop (control ends it in the store, nobody is left to obey a flag)
    ("running", "lose"): "failed",
    ("paused", "lose"): "failed",
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


def test_a_lost_run_goes_failed_then_pending_on_retry_and_nothing_else_revives_it() -> None:
    lost = next_status("running", "lose")
    assert lost is RunStatus.FAILED and is_terminal(lost)
    assert next_status(lost, "retry") is RunStatus.PENDING
    with pytest.raises(InvalidTransition):
        next_status(lost, "lose")  # marked once: a second watcher finds nothing to do
    with pytest.raises(InvalidTransition):
        next_status(lost, "complete")  # a worker that comes back late cannot complete it behind a retry


@pytest.mark.parametrize(
    ("status", "silent_s", "lost"),
    [
        ("running", 61, True),
        ("paused", 61, True),  # a paused run's worker still beats: silence means it is gone
        ("running", 60, False),  # the grace itself is not yet lost
        ("running", 5, False),
        ("pending", 600, False),  # no worker yet: the scheduler decides (runner.launch.reconcile)
        ("failed", 600, False),
        ("completed", 600, False),
        ("stopped", 600, False),
    ],
)
def test_is_lost_after_the_grace_period_only_while_a_worker_holds_the_run(
    status: str, silent_s: int, lost: bool
) -> None:
    assert is_lost(status, NOW - timedelta(seconds=silent_s), NOW, grace_s=60) is lost


def test_a_run_without_any_sign_of_life_is_not_judged() -> None:
    assert is_lost("running", None, NOW, grace_s=60) is False


def test_the_lost_reason_and_hint_name_the_epoch() -> None:
    assert lost_reason(27) == "lost: its worker or scheduler stopped answering after epoch 27"
    assert lost_hint(27) == "retry resumes it from its last checkpoint, after epoch 27"
    assert "before its first epoch" in lost_reason(0)
    assert "retry runs it again" in lost_hint(0)
