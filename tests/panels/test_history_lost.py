"""The history page shows a lost run apart (status, reason and hint) and retries it from its row."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from bearing_workbench.panels import ExperimentHistory
from bearing_workbench.store import InvalidTransition, Store

from ..analysis.test_history_rows import lost_run


def _row(history: ExperimentHistory, experiment_id: int) -> dict[str, Any]:
    return next(row for row in history.table.rows if row["id"] == experiment_id)


@pytest.fixture
def retried(monkeypatch) -> list[tuple[int, Any]]:
    """The runner's resubmit, recording its calls and moving the run to pending as the real one does."""
    import bearing_workbench.runner.launch as launch

    calls: list[tuple[int, Any]] = []

    def resubmit(experiment_id: int, *, client: Any = None, store: Store, **_: Any) -> int:
        calls.append((experiment_id, client))
        store.transition(experiment_id, "retry")
        return experiment_id

    monkeypatch.setattr(launch, "resubmit", resubmit)
    return calls


def test_a_lost_run_is_listed_lost_and_its_retry_button_resubmits_it(fresh_store: Store, retried) -> None:
    run = lost_run(fresh_store, "lost run", epochs=3)
    done = fresh_store.create_experiment("done", "cnn1d", {})
    fresh_store.transition(done, "start")
    fresh_store.transition(done, "complete")
    history = ExperimentHistory(store=fresh_store)
    row = _row(history, run)
    assert (row["status"], row["cells"]["status"], row["retry"]) == ("lost", "lost", True)
    assert "after epoch 3" in row["status_note"] and "retry resumes" in row["status_note"]
    assert _row(history, done)["retry"] is False

    # what the browser sends for the row's "retry" button
    history.table._on_browser_message(history.table, {"type": "action", "action": "retry", "id": run}, [])
    for thread in threading.enumerate():  # the retry runs off the page's thread
        if thread.name == f"history-retry-{run}":
            thread.join(timeout=30)
    assert [call[0] for call in retried] == [run]
    assert str(fresh_store.get_experiment(run).status) == "pending"
    assert f"#{run} resubmitted" in history.notice and not history.notice_error
    assert _row(history, run)["status"] == "pending"  # listed again


def test_a_retry_the_runner_refuses_is_said_on_the_page(fresh_store: Store, monkeypatch) -> None:
    import bearing_workbench.runner.launch as launch

    def refuse(experiment_id: int, **_: Any) -> int:
        raise InvalidTransition(f"experiment {experiment_id} still has a task on the scheduler (processing)")

    monkeypatch.setattr(launch, "resubmit", refuse)
    run = lost_run(fresh_store)
    history = ExperimentHistory(store=fresh_store)
    history.retry(run).join(timeout=30)
    assert history.notice_error and "could not retry" in history.notice
    assert "still has a task" in history.notice
    assert _row(history, run)["status"] == "lost"
