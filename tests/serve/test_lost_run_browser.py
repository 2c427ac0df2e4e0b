"""A lost run in the monitor and history apps, in headless Chromium (Debian's, driven by Playwright),
served by `bearing-workbench serve` over a real store where a run was marked lost as a watcher marks it
(running, three epochs stored, heartbeats past the grace): both pages show it lost, in its own colour,
with the reason, the hint and a Retry button.

Screenshots go to ``$BEARING_WORKBENCH_SCREENSHOTS`` (default: a temporary folder, printed); the guide's
(docs/guide/img/monitor-lost.png, history-lost.png) are taken with it set to docs/guide/img.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from bearing_workbench.config import preset_config, theme
from bearing_workbench.store import Store
from bearing_workbench.store.status import lost_hint, lost_reason
from bearing_workbench.store.tables import ExperimentRow
from bearing_workbench.training.experiment import create_experiment

from .conftest import (
    DATASET,
    NEEDS_CHROMIUM,
    ROOT,
    UI_TIMEOUT_MS,
    Server,
    end_server,
    launch_chromium,
    start_server,
    tiny_workspace,
)

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
from playwright.sync_api import BrowserContext, expect, sync_playwright  # noqa: E402

expect.set_options(timeout=UI_TIMEOUT_MS)

pytestmark = NEEDS_CHROMIUM
EPOCHS_DONE = 3


@pytest.fixture(scope="module")
def lost(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A workspace whose cnn1d run stored 3 of 12 epochs, then went silent and was marked lost."""
    root = tiny_workspace(tmp_path_factory.mktemp("lost-ws"))
    store = Store(workspace=root)
    config = preset_config(
        "quick", "cnn1d", DATASET, {"name": "overnight cnn", "training.epochs": 12, "training.batch_size": 8}
    )
    run = create_experiment(store, config)
    store.transition(run, "start", worker="tcp://10.0.0.7:40213")
    for epoch in range(1, EPOCHS_DONE + 1):
        store.add_epoch(
            run,
            epoch,
            train_loss=1.1 / epoch,
            train_acc=0.4 + 0.1 * epoch,
            val_loss=1.2 / epoch,
            val_acc=0.35 + 0.1 * epoch,
            seconds=4.0,
        )
    now = datetime.now(UTC)  # it started 24 minutes ago; its heartbeats stopped 12 minutes ago
    with store.transaction() as session:
        session.execute(
            update(ExperimentRow)
            .where(ExperimentRow.id == run)
            .values(
                created_at=now - timedelta(minutes=25),
                started_at=now - timedelta(minutes=24),
                running_since=now - timedelta(minutes=24),
                heartbeat_at=now - timedelta(minutes=12),
            )
        )
    assert store.mark_lost(60.0, experiment_ids=[run]) == [run]
    done = create_experiment(
        store, preset_config("quick", "cnn1d", DATASET, {"name": "finished cnn", "training.batch_size": 8})
    )
    store.transition(done, "start")
    store.transition(done, "complete")
    store.dispose()
    return root, run


@pytest.fixture(scope="module")
def server(lost: tuple[Path, int]) -> Iterator[Server]:
    srv = start_server(lost[0], ROOT / "dashboards")
    yield srv
    end_server(srv)


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserContext]:
    with sync_playwright() as playwright, tempfile.TemporaryDirectory(prefix="bw-chromium-") as profile:
        context = launch_chromium(playwright, profile)
        context.set_default_timeout(UI_TIMEOUT_MS)
        yield context
        context.close()


def test_the_monitor_shows_a_lost_run_its_reason_hint_and_retry(
    server: Server, lost: tuple[Path, int], browser: BrowserContext, shots: Path
) -> None:
    page = browser.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(server.app_url("monitor", experiment=lost[1]), timeout=UI_TIMEOUT_MS)
    monitor = page.locator(".bw-training-monitor")
    badge = monitor.locator('.bw-badge[data-status="lost"]')
    expect(badge).to_have_text("lost")
    assert theme.status_color("lost").lstrip("#") in badge.get_attribute("style").replace(" ", "")
    expect(monitor.get_by_text(f"Lost: {lost_reason(EPOCHS_DONE).removeprefix('lost: ')}")).to_be_visible()
    expect(monitor.get_by_text(lost_hint(EPOCHS_DONE))).to_be_visible()
    expect(monitor.get_by_role("button", name="Retry")).to_be_visible()
    expect(monitor.get_by_role("button", name="Pause")).to_be_hidden()  # nobody runs it: nothing to pause
    expect(monitor).to_contain_text(f"{EPOCHS_DONE}/12 epochs done · lost")
    page.screenshot(path=shots / "monitor-lost.png", full_page=True)
    page.close()


def test_the_history_lists_a_lost_run_apart_with_its_retry_button(
    server: Server, lost: tuple[Path, int], browser: BrowserContext, shots: Path
) -> None:
    page = browser.new_page()
    page.set_viewport_size({"width": 1280, "height": 700})
    page.goto(server.app_url("history"), timeout=UI_TIMEOUT_MS)
    history = page.locator(".bw-experiment-history")
    row = history.locator(f'tbody tr[data-id="{lost[1]}"]')
    status = row.locator('td[data-status="lost"]')
    expect(status).to_have_text("lost")
    assert lost_reason(EPOCHS_DONE) in status.get_attribute("title")
    assert lost_hint(EPOCHS_DONE) in status.get_attribute("title")
    retry = row.get_by_role("button", name="retry")
    expect(retry).to_be_visible()
    expect(history.locator('td[data-status="completed"]')).to_have_count(1)
    expect(history.locator(f'tbody tr:not([data-id="{lost[1]}"]) button[data-action="retry"]')).to_have_count(
        0
    )
    status.hover()
    page.screenshot(path=shots / "history-lost.png", full_page=True)
    page.close()
