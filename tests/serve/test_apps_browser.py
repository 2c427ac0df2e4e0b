"""The Voilà apps in headless Chromium (Debian's, driven by Playwright), served by `bearing-workbench serve`:
configure and launch a quick classical run in the wizard, watch it complete, reopen it in the monitor app,
see an invalid expert field block Next. Every request the pages make goes to the server.

Screenshots go to ``$BEARING_WORKBENCH_SCREENSHOTS`` (default: a temporary folder, printed).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from bearing_workbench.config import preset_config
from bearing_workbench.training.experiment import create_experiment

from .conftest import (
    DATASET,
    NEEDS_CHROMIUM,
    ROOT,
    RUN_TIMEOUT_MS,
    UI_TIMEOUT_MS,
    Server,
    end_server,
    launch_chromium,
    start_server,
)

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright  # noqa: E402

expect.set_options(timeout=UI_TIMEOUT_MS)  # the first view of a step may wait for imports in the kernel

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def server(workspace_root: Path) -> Iterator[Server]:
    srv = start_server(workspace_root, ROOT / "dashboards")
    yield srv
    end_server(srv)


@pytest.fixture(scope="module")
def requests_seen() -> list[str]:
    return []


@pytest.fixture(scope="module")
def browser(requests_seen: list[str]) -> Iterator[BrowserContext]:
    with sync_playwright() as playwright, tempfile.TemporaryDirectory(prefix="bw-chromium-") as profile:
        context = launch_chromium(playwright, profile)
        context.set_default_timeout(UI_TIMEOUT_MS)
        context.on("request", lambda request: requests_seen.append(request.url))
        yield context
        context.close()


def _open(browser: BrowserContext, url: str) -> Page:
    page = browser.new_page()
    page.goto(url, timeout=UI_TIMEOUT_MS)
    return page


def test_wizard_launches_a_quick_run_that_the_monitor_follows_to_completed(
    server: Server, browser: BrowserContext, shots: Path
) -> None:
    browser.grant_permissions(["notifications"], origin=server.base)
    page = browser.new_page()
    # The page can be told it is hidden (a background tab): browser notifications are for that case.
    page.add_init_script(
        "Object.defineProperty(document, 'visibilityState', "
        "{get: () => (window.__bwHidden ? 'hidden' : 'visible')});"
    )
    page.goto(server.app_url("wizard"), timeout=UI_TIMEOUT_MS)
    next_button = page.get_by_role("button", name="Next", exact=True)
    expect(next_button).to_be_disabled(timeout=UI_TIMEOUT_MS)  # no model chosen yet
    page.get_by_role("button", name="Classical ML").click()
    expect(next_button).to_be_enabled()
    page.screenshot(path=shots / "wizard-1-model.png", full_page=True)

    next_button.click()
    page.get_by_role("button", name="Quick test").click()
    expect(page.get_by_role("combobox", name="Dataset")).to_contain_text("tiny")
    expect(next_button).to_be_enabled(timeout=UI_TIMEOUT_MS)
    page.screenshot(path=shots / "wizard-2-configuration.png", full_page=True)

    next_button.click()
    expect(page.get_by_text("Full configuration (YAML)")).to_be_visible()
    page.get_by_text("Full configuration (YAML)").click()
    expect(page.locator("pre").first).to_be_visible()
    spacing = page.locator("pre").first.evaluate(
        "pre => parseFloat(getComputedStyle(pre).lineHeight) / parseFloat(getComputedStyle(pre).fontSize)"
    )
    assert spacing < 1.6, spacing  # the YAML view had a 28 px widget row per line
    expect(page.get_by_role("textbox", name="Name", exact=True)).not_to_have_value("")
    page.screenshot(path=shots / "wizard-3-review.png", full_page=True)

    next_button.click()
    page.get_by_role("button", name="Launch").click()
    expect(page.get_by_text("you can close this page").first).to_be_visible()
    launched = page.get_by_text(re.compile(r"Experiment #\d+ launched"))
    experiment_id = int(re.search(r"#(\d+)", launched.inner_text()).group(1))
    expect(page.locator('.bw-toast[data-kind="started"]').first).to_be_visible()
    page.evaluate("window.__bwHidden = true")  # the user switched to another tab
    monitor = page.locator(".bw-training-monitor")
    expect(monitor).to_be_visible()
    expect(monitor.get_by_role("button", name="View results")).to_be_visible(timeout=RUN_TIMEOUT_MS)
    # The run ended while the page was hidden: a toast linking to its results, and a browser notification.
    done = page.locator('.bw-toast[data-kind="completed"]').first
    expect(done).to_be_visible(timeout=RUN_TIMEOUT_MS)
    expect(done.locator(f'a[href*="results.ipynb?experiment={experiment_id}"]')).to_have_count(1)
    page.wait_for_function(
        "(window.__bwNotifications || []).some(n => n.kind === 'completed')", timeout=UI_TIMEOUT_MS
    )
    shown = page.evaluate("window.__bwNotifications")
    assert any(str(experiment_id) in (n.get("link") or "") for n in shown), shown
    page.evaluate("window.__bwHidden = false")
    page.screenshot(path=shots / "wizard-4-launched-completed.png", full_page=True)
    store = server.store()
    record = store.get_experiment(experiment_id)
    assert str(record.status) == "completed" and record.family == "classical"
    assert record.config["training"]["epochs"] == 3  # the quick preset
    expect(monitor).to_contain_text("completed")

    # The monitor app, opened later for the same run: the stored history, same final state.
    later = _open(browser, server.app_url("monitor", experiment=experiment_id))
    replayed = later.locator(".bw-training-monitor")
    expect(replayed.get_by_role("button", name="View results")).to_be_visible()
    expect(replayed).to_contain_text(record.name)
    later.screenshot(path=shots / "monitor-app-completed.png", full_page=True)
    later.close()
    page.close()


def test_monitor_app_lists_runs_without_an_id_and_names_a_bad_one(
    server: Server, browser: BrowserContext, shots: Path
) -> None:
    store = server.store()
    config = preset_config("quick", "classical", DATASET, {"name": "listed-run"})
    experiment_id = create_experiment(store, config)  # pending: never submitted
    page = _open(browser, server.app_url("monitor"))
    expect(page.get_by_text("Choose a run to watch")).to_be_visible()
    page.screenshot(path=shots / "monitor-app-list.png", full_page=True)
    page.get_by_role("link", name=f"#{experiment_id}", exact=True).click()
    expect(page.locator(".bw-training-monitor")).to_contain_text("listed-run")
    assert f"experiment={experiment_id}" in page.url
    page.goto(server.app_url("monitor", experiment="abc"))
    expect(page.get_by_text("?experiment= must be an experiment id")).to_be_visible()
    page.goto(server.app_url("monitor", experiment=999999))
    expect(page.get_by_text("there is no such experiment")).to_be_visible()
    page.close()


def test_invalid_expert_field_shows_its_message_and_blocks_next(
    server: Server, browser: BrowserContext, shots: Path
) -> None:
    page = _open(browser, server.app_url("wizard", family="classical"))  # opens at the configuration
    next_button = page.get_by_role("button", name="Next", exact=True)
    page.get_by_role("button", name="Expert").click()
    field = page.locator(".widget-text", has=page.locator("label", has_text=re.compile(r"^Number of trees$")))
    expect(field).to_be_visible()
    expect(next_button).to_be_enabled()
    box = field.locator("input")
    box.fill("0")
    box.press("Tab")
    expect(next_button).to_be_disabled()
    message = page.get_by_text(re.compile(r"must be at least \d+ \(got 0\)"))
    expect(message.first).to_be_visible()
    page.screenshot(path=shots / "wizard-expert-invalid.png", full_page=True)

    box.fill("3.5")  # the box keeps what was typed (a number box made it 35) and says what is wrong
    box.press("Tab")
    expect(page.get_by_text("must be a whole number").first).to_be_visible()
    expect(box).to_have_value("3.5")
    expect(next_button).to_be_disabled()

    box.fill("25")
    box.press("Tab")
    expect(next_button).to_be_enabled()
    expect(message).to_have_count(0)
    page.close()


def test_no_request_leaves_the_server(server: Server, requests_seen: list[str]) -> None:
    """Over every page the tests above opened (this runs after them)."""
    assert requests_seen, "the browser tests above made no request"
    outside = [
        url
        for url in requests_seen
        if urlparse(url).scheme not in ("data", "blob") and urlparse(url).netloc != f"127.0.0.1:{server.port}"
    ]
    assert not outside, outside
