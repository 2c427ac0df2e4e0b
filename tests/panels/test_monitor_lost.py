"""The monitor while the scheduler is unreachable (it says since when and when the run will be marked
lost) and once the run is marked lost (its own badge colour, the reason, the hint, Retry)."""

from __future__ import annotations

import html
import time

from bearing_workbench.analysis.format import local_time
from bearing_workbench.config import theme
from bearing_workbench.store.status import lost_hint, lost_reason

from .test_monitor import NO_SCHEDULER, event_message, hand_run, shown


def _connection(experiment_id: int, since: float, lost_at: float | None) -> dict:
    """What the follower says once it finds the scheduler gone (`runner.following`)."""
    return {
        "experiment_id": experiment_id,
        "kind": "connection",
        "scheduler": "unreachable",
        "since": since,
        "lost_at": lost_at,
        "status": "running",
        "time": time.time(),
        "source": "follower",
    }


def test_an_unreachable_scheduler_is_said_then_the_lost_run_is_shown_apart_with_retry(fresh_store, monitors):
    run = hand_run(fresh_store, epochs=5, done=2)
    monitor = monitors(run, store=fresh_store, client=NO_SCHEDULER)
    since = time.time()
    monitor.handle(_connection(run, since, since + 60))
    monitor.flush()
    note = f"scheduler unreachable since {local_time(since)}"
    assert monitor.message.text == f"{note}; the run will be marked lost at {local_time(since + 60)}"
    assert monitor.message.tone == "warning"
    assert 'data-status="running"' in monitor.title_html.value  # not lost yet: still shown running

    monitor.handle(event_message(run, 900, "status", "lose: running -> failed", "failed", to="failed"))
    monitor.handle(event_message(run, 901, "lost", lost_reason(2), "failed", hint=lost_hint(2)))
    monitor.flush()
    assert f'data-status="lost" style="background:{theme.status_color("lost")}"' in monitor.title_html.value
    # titled Lost, the reason not saying "lost" twice
    assert (
        shown(monitor.error_box)
        and "<b>Lost:</b> its worker or scheduler stopped answering" in monitor.error_box.value
    )
    assert (
        lost_reason(2).removeprefix("lost: ") in monitor.error_box.value
        and lost_hint(2) in monitor.error_box.value
    )
    assert "2/5 epochs done · lost" in html.unescape(monitor.progress_label.value)
    assert shown(monitor.retry_button) and monitor.retry_button.tooltip == lost_hint(2)
    assert not shown(monitor.pause_button) and not shown(monitor.stop_button)
    assert 'class="bw-event-failed"' in monitor.events_html.value and "lost" in monitor.events_html.value
    # the run has ended: no promise of a time it will be marked lost any more
    assert monitor.message.text == note


def test_a_run_stored_lost_opens_lost(fresh_store, monitors):
    from datetime import UTC, datetime, timedelta

    run = hand_run(fresh_store, epochs=5, done=3)
    assert fresh_store.mark_lost(
        60.0, now=datetime.now(UTC) + timedelta(minutes=5), experiment_ids=[run]
    ) == [run]
    monitor = monitors(run, store=fresh_store, client=NO_SCHEDULER)
    monitor.flush()
    assert 'data-status="lost"' in monitor.title_html.value
    assert monitor.error == lost_reason(3) and monitor.hint == lost_hint(3)
    assert shown(monitor.retry_button) and "3/5 epochs done" in monitor.progress_label.value
