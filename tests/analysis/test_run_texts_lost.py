"""How pages tell a lost run: failed, with the reason the store's lost-run marking writes."""

from __future__ import annotations

import pytest

from bearing_workbench.analysis.run_texts import LOST, is_lost, shown_status
from bearing_workbench.config import theme
from bearing_workbench.store import RunStatus
from bearing_workbench.store.status import lost_reason


@pytest.mark.parametrize("epochs_done", [0, 1, 27])
def test_the_reason_the_store_writes_is_recognised_as_lost(epochs_done: int) -> None:
    reason = lost_reason(epochs_done)
    assert is_lost(RunStatus.FAILED, reason) and is_lost("failed", reason)
    assert shown_status(RunStatus.FAILED, is_lost("failed", reason)) == LOST


def test_other_failures_and_other_statuses_keep_their_status() -> None:
    assert not is_lost("failed", "ValueError: NaN loss") and not is_lost("failed", None)
    assert not is_lost("stopped", lost_reason(3))  # a lost run stopped since is stopped
    assert shown_status("failed") == "failed" and shown_status(RunStatus.COMPLETED, lost=True) == "completed"


def test_lost_has_its_own_colour_apart_from_every_status() -> None:
    others = {theme.status_color(status) for status in RunStatus}
    assert theme.status_color(LOST) not in others


def test_a_page_that_already_says_lost_shows_the_reason_without_saying_it_twice() -> None:
    from bearing_workbench.analysis.run_texts import lost_words

    assert lost_words(lost_reason(27)) == "its worker or scheduler stopped answering after epoch 27"
    assert lost_words("ValueError: NaN loss") == "ValueError: NaN loss"
