"""PDF reports as Dask tasks: progress comes back to the submitting process, the result is the file."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from bearing_workbench.chromium import chromium_path
from bearing_workbench.runner import submit
from bearing_workbench.runner.reports import submit_report

from .conftest import tiny_config, wait_status

pytestmark = pytest.mark.skipif(
    not Path(chromium_path()).is_file() or shutil.which("pdftoppm") is None,
    reason="chromium and poppler-utils are needed (apt-get install chromium poppler-utils)",
)


@pytest.fixture(scope="module")
def completed_run(client, store) -> int:
    config = tiny_config(epochs=1, name="report-run")
    experiment_id = submit(config, client=client, store=store)
    assert wait_status(store, experiment_id) == "completed"
    return experiment_id


def test_the_report_is_written_on_a_worker_with_live_progress(client, store, completed_run: int) -> None:
    steps: list[tuple[float, str]] = []
    reached_end = threading.Event()

    def on_progress(fraction: float, message: str) -> None:
        steps.append((fraction, message))
        if fraction >= 1.0:
            reached_end.set()

    future = submit_report(completed_run, store=store, client=client, on_progress=on_progress)
    path = Path(future.result(timeout=180))
    assert path == store.workspace / "experiments" / str(completed_run) / "report.pdf"
    assert path.read_bytes()[:5] == b"%PDF-"
    assert reached_end.wait(30), steps  # the last events come through the scheduler, apart from the result
    fractions = [f for f, _ in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert "printing the PDF" in [m for _, m in steps]


def test_two_reports_at_once_each_get_their_own_progress(client, store, completed_run: int) -> None:
    first: list[float] = []
    second: list[float] = []
    a = submit_report(completed_run, store=store, client=client, on_progress=lambda f, _: first.append(f))
    b = submit_report(completed_run, store=store, client=client, on_progress=lambda f, _: second.append(f))
    assert Path(a.result(timeout=180)).is_file() and Path(b.result(timeout=180)).is_file()
    for steps in (first, second):
        for _ in range(300):
            if steps and steps[-1] == 1.0:
                break
            threading.Event().wait(0.1)
        assert steps and steps == sorted(steps) and steps[-1] == 1.0
        assert steps.count(1.0) == 1  # one end each: no message of the other report came here


def test_a_failure_is_the_futures_exception_with_its_message(client, store) -> None:
    pending = store.create_experiment("never run", "classical", {"model": {"family": "classical"}})
    future = submit_report(pending, store=store, client=client)
    with pytest.raises(ValueError, match=f"experiment {pending}"):
        future.result(timeout=120)


def test_a_bad_id_is_refused_before_anything_runs(client, store) -> None:
    with pytest.raises(ValueError, match="experiment_id: must be a positive integer, got 0"):
        submit_report(0, store=store, client=client)
