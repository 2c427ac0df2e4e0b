"""The first pages a user sees, in headless Chromium: without the token, the login page saying where it
is; with it, the home page (apps, latest runs with links, the cluster's workers, the datasets).

Screenshots (home.png, login.png, login-wrong-token.png) go to ``$BEARING_WORKBENCH_SCREENSHOTS``
(default: a temporary folder, printed).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bearing_workbench.config import preset_config
from bearing_workbench.store import Store
from bearing_workbench.training.experiment import create_experiment, train_experiment

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


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """A workspace with dataset `tiny`, one completed classical run and one never submitted."""
    root = tiny_workspace(tmp_path_factory.mktemp("home-ws"))
    store = Store(workspace=root)
    done = create_experiment(store, preset_config("quick", "classical", DATASET, {"name": "finished forest"}))
    train_experiment(store, done)
    waiting = create_experiment(store, preset_config("quick", "classical", DATASET, {"name": "waiting run"}))
    store.dispose()
    return root, {"done": done, "waiting": waiting}


@pytest.fixture(scope="module")
def server(runs: tuple[Path, dict[str, int]]) -> Iterator[Server]:
    srv = start_server(runs[0], ROOT / "dashboards")
    yield srv
    end_server(srv)


@pytest.fixture
def browser() -> Iterator[BrowserContext]:
    """A fresh profile per test: no login cookie carried from one test to the next."""
    with sync_playwright() as playwright, tempfile.TemporaryDirectory(prefix="bw-chromium-") as profile:
        context = launch_chromium(playwright, profile)
        context.set_default_timeout(UI_TIMEOUT_MS)
        yield context
        context.close()


def test_without_the_token_the_login_page_says_where_it_is_then_opens_home(
    server: Server, browser: BrowserContext, runs: tuple[Path, dict[str, int]], shots: Path
) -> None:
    page = browser.new_page()
    page.goto(server.base + "/", timeout=UI_TIMEOUT_MS)
    assert "/login" in page.url
    expect(page.get_by_role("heading", name="Where is the token?")).to_be_visible()
    expect(page.get_by_text("Bearing Workbench is serving at")).to_be_visible()
    for data in ("finished forest", "waiting run", "Latest runs", DATASET + "<"):
        assert data not in page.content(), data
    page.screenshot(path=shots / "login.png", full_page=True)

    page.get_by_label("Token").fill("not-the-token")
    page.get_by_role("button", name="Open the workbench").click()
    expect(page.get_by_role("alert")).to_be_visible()  # jupyter_server's "Invalid credentials"
    assert "finished forest" not in page.content()
    page.screenshot(path=shots / "login-wrong-token.png", full_page=True)

    page.get_by_label("Token").fill(server.token)
    page.get_by_role("button", name="Open the workbench").click()
    expect(page.get_by_role("heading", name="Latest runs")).to_be_visible()
    assert page.url.rstrip("/") == server.base  # back where the user was going
    page.close()


def test_the_home_page_shows_apps_runs_cluster_and_datasets(
    server: Server, browser: BrowserContext, runs: tuple[Path, dict[str, int]], shots: Path
) -> None:
    ids = runs[1]
    page = browser.new_page()
    page.goto(server.url("/"), timeout=UI_TIMEOUT_MS)
    for title in ("New experiment", "Training monitor", "Results", "Experiment history"):
        expect(page.locator("#apps").get_by_role("link", name=title)).to_be_visible()
    runs_table = page.locator("#runs")
    expect(runs_table.get_by_role("row", name="finished forest")).to_contain_text("completed")
    expect(runs_table.get_by_role("row", name="waiting run")).to_contain_text("pending")
    expect(
        runs_table.get_by_role("row", name="waiting run").get_by_role("link", name="results")
    ).to_have_count(0)
    expect(page.locator("#cluster")).to_contain_text("1 worker(s)")
    expect(page.locator("#cluster tr")).to_have_count(2)  # header and the one worker
    expect(page.locator("#datasets")).to_contain_text("healthy, imbalance, misalignment")
    page.screenshot(path=shots / "home.png", full_page=True)

    # The links work with the cookie the token gave: the results of the finished run.
    runs_table.get_by_role("row", name="finished forest").get_by_role("link", name="results").click()
    assert f"results.ipynb?experiment={ids['done']}" in page.url
    expect(page.get_by_text("finished forest").first).to_be_visible()
    page.go_back()
    page.locator("#apps").get_by_role("link", name="Training monitor").click()
    expect(page.get_by_text("Choose a run to watch")).to_be_visible()
    page.get_by_role("link", name="Home", exact=True).click()  # every app links back home
    expect(page.get_by_role("heading", name="Latest runs")).to_be_visible()
    page.close()
