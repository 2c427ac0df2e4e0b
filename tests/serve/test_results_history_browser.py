"""The results and history apps in headless Chromium (Debian's, driven by Playwright), served by
`bearing-workbench serve` over a workspace with two completed classical runs: open the results,
switch tabs, click a confusion-matrix cell, download the predictions CSV, generate the PDF report;
open the history, filter, select two runs and compare them.

Screenshots go to ``$BEARING_WORKBENCH_SCREENSHOTS`` (default: a temporary folder, printed).
"""

from __future__ import annotations

import csv
import io
import re
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
    RUN_TIMEOUT_MS,
    UI_TIMEOUT_MS,
    Server,
    end_server,
    launch_chromium,
    start_server,
    tiny_workspace,
)

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright  # noqa: E402

expect.set_options(timeout=UI_TIMEOUT_MS)  # a tab's first figure may wait for plotly's import in the kernel

pytestmark = NEEDS_CHROMIUM
ALGORITHMS = ("random_forest", "svm")


@pytest.fixture(scope="module")
def studied(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """A workspace with dataset `tiny` and one completed run per algorithm (trained in this process)."""
    root = tiny_workspace(tmp_path_factory.mktemp("study-ws"))
    store = Store(workspace=root)
    ids = {}
    for algorithm in ALGORITHMS:
        config = preset_config(
            "quick", "classical", DATASET, {"name": f"study {algorithm}", "model.params.algorithm": algorithm}
        )
        ids[algorithm] = create_experiment(store, config)
        train_experiment(store, ids[algorithm])
    store.dispose()
    return root, ids


@pytest.fixture(scope="module")
def server(studied: tuple[Path, dict[str, int]]) -> Iterator[Server]:
    srv = start_server(studied[0], ROOT / "dashboards")
    yield srv
    end_server(srv)


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserContext]:
    with sync_playwright() as playwright, tempfile.TemporaryDirectory(prefix="bw-chromium-") as profile:
        context = launch_chromium(playwright, profile)
        context.set_default_timeout(UI_TIMEOUT_MS)
        yield context
        context.close()


def _open(browser: BrowserContext, url: str) -> Page:
    page = browser.new_page()
    page.goto(url, timeout=UI_TIMEOUT_MS)
    return page


def _download_text(page: Page, link_name: str) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile(rf"{re.escape(link_name)}$")).click()  # after an arrow
    download = info.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def test_results_tabs_confusion_cell_csv_download_and_pdf_report(
    server: Server, studied: tuple[Path, dict[str, int]], browser: BrowserContext, shots: Path
) -> None:
    experiment_id = studied[1]["random_forest"]
    page = _open(browser, server.app_url("results", experiment=experiment_id))
    results = page.locator(".bw-experiment-results")
    expect(results).to_contain_text("study random_forest")
    expect(results.get_by_text("Recommendations").first).to_be_visible()
    page.screenshot(path=shots / "results-1-overview.png", full_page=True)

    page.get_by_role("tab", name="Detailed metrics").click()
    heatmap = results.locator(".js-plotly-plot").first
    expect(heatmap).to_be_visible()
    drag = heatmap.locator(".nsewdrag").first
    expect(drag).to_be_visible()
    box = drag.bounding_box()
    assert box is not None
    n = 3  # classes of the tiny dataset: click the middle cell of the diagonal
    cell = results.get_by_text(re.compile(r"true [\w+]+, predicted [\w+]+: \d+ test record\(s\)")).first
    for _ in range(5):  # plotly listens for clicks once it has drawn: click again until it answers
        page.mouse.click(box["x"] + box["width"] * 1.5 / n, box["y"] + box["height"] * 1.5 / n)
        try:
            expect(cell).to_be_visible(timeout=10_000)
            break
        except AssertionError:
            continue
    expect(cell).to_be_visible()
    page.screenshot(path=shots / "results-2-details-cell.png", full_page=True)

    page.get_by_role("tab", name="Artifacts").click()
    name, data = _download_text(page, "test predictions CSV")
    assert name == f"experiment-{experiment_id}-predictions_test.csv"
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert rows and {"record_id", "true_label", "predicted_label"} <= set(rows[0])

    page.get_by_role("button", name="Generate PDF report").click()
    pdf_link = results.get_by_role("link", name=re.compile(r"PDF report$"))
    expect(pdf_link).to_be_visible(timeout=RUN_TIMEOUT_MS)
    page.screenshot(path=shots / "results-3-artifacts-report.png", full_page=True)
    name, data = _download_text(page, "PDF report")
    assert name == f"experiment-{experiment_id}-report.pdf" and data[:5] == b"%PDF-"
    assert (studied[0] / "experiments" / str(experiment_id) / "report.pdf").is_file()
    page.close()


def test_results_app_names_a_bad_or_unfinished_experiment(server: Server, browser: BrowserContext) -> None:
    page = _open(browser, server.app_url("results", experiment="../../etc/passwd"))
    expect(page.get_by_text("?experiment= must be an experiment id")).to_be_visible()
    page.goto(server.app_url("results", experiment=999999))
    expect(page.get_by_text("there is no such experiment")).to_be_visible()
    page.goto(server.app_url("results"))
    expect(page.get_by_text("Choose a run to study")).to_be_visible()
    page.close()


def test_history_filter_select_two_and_compare(
    server: Server, studied: tuple[Path, dict[str, int]], browser: BrowserContext, shots: Path
) -> None:
    ids = studied[1]
    page = _open(browser, server.app_url("history"))
    history = page.locator(".bw-experiment-history")
    rows = history.locator("tbody tr[data-id]")
    expect(rows).to_have_count(len(ALGORITHMS))
    page.screenshot(path=shots / "history-1-all.png", full_page=True)

    search = history.get_by_placeholder("search name, notes, tags")
    search.fill("svm")
    search.press("Enter")  # the box updates on Enter or when it loses focus
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-id", str(ids["svm"]))
    search.fill("")
    search.press("Enter")
    expect(rows).to_have_count(len(ALGORITHMS))

    for experiment_id in ids.values():
        history.locator(f'tr[data-id="{experiment_id}"] input[type="checkbox"]').check()
    history.get_by_role("button", name="Compare", exact=True).click()
    compare = page.locator(".bw-compare-view")
    expect(compare).to_be_visible()
    expect(compare.get_by_text("McNemar's test, each pair")).to_be_visible()
    expect(compare).to_contain_text("study random_forest")
    expect(compare).to_contain_text("study svm")
    expect(compare.get_by_text(re.compile(r"not significant|significant at"))).not_to_have_count(0)
    page.screenshot(path=shots / "history-2-compare.png", full_page=True)
    page.close()
