"""The Evaluations tab of the results app in headless Chromium (Debian's, driven by Playwright), served
by `bearing-workbench serve`: the summary line, a dataset evaluation's confusion matrix and a robustness
sweep's figure, drawn by plotly in the browser; then an evaluation launched from the page runs on the
server's cluster and lands in the list.

Everything is real and tiny: datasets `tiny` and `plant-a` (generated; plant-a names its classes its own
way), one classical run trained in this process, evaluated on plant-a through a classes map and swept
for robustness by the evaluation code itself (`training.cross_evaluation.evaluate_on`,
`training.robustness.robustness_sweep`: seconds on these records).

Screenshots go to ``$BEARING_WORKBENCH_SCREENSHOTS`` (default: a temporary folder, printed); with
``BEARING_WORKBENCH_GUIDE_IMAGES=1`` they also replace the user guide's pictures in ``docs/guide/img``.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bearing_workbench.analysis import format as fmt
from bearing_workbench.analysis.evaluations import evaluation_infos
from bearing_workbench.config import preset_config
from bearing_workbench.store import Store
from bearing_workbench.training.cross_evaluation import evaluate_on
from bearing_workbench.training.experiment import create_experiment, train_experiment
from bearing_workbench.training.robustness import robustness_sweep

from ..tiny_data import relabelled_dataset
from .conftest import (
    CLASSES,
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
from playwright.sync_api import BrowserContext, Locator, expect, sync_playwright  # noqa: E402

expect.set_options(timeout=UI_TIMEOUT_MS)

pytestmark = NEEDS_CHROMIUM
OTHER = "plant-a"
OTHER_NAMES = ("ok", "unbalanced", "misaligned")  # plant-a's names for CLASSES
CLASSES_MAP = ", ".join(f"{a}={b}" for a, b in zip(OTHER_NAMES, CLASSES, strict=True))
CONDITIONS = 8  # clean, SNR 20/10/5 dB, gain x0.5/x2, speed -10/+10 %
GUIDE_IMAGES = ROOT / "docs" / "guide" / "img"


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A workspace with datasets `tiny` and `plant-a`, a classical run on `tiny` (0.5 s windows: plant-a's
    records are 0.5 s long) evaluated on plant-a and swept for robustness on its test split."""
    root = tiny_workspace(tmp_path_factory.mktemp("evaluations-ws"))
    store = Store(workspace=root)
    relabelled_dataset(store, OTHER, CLASSES, OTHER_NAMES, seed=29)
    overrides = {"name": "forest for plant-a", "data.window.length": 10240}
    experiment_id = create_experiment(store, preset_config("quick", "classical", DATASET, overrides))
    train_experiment(store, experiment_id)
    robustness_sweep(store, experiment_id)
    evaluate_on(store, experiment_id, OTHER, classes_map=CLASSES_MAP)
    store.dispose()
    return root, experiment_id


@pytest.fixture(scope="module")
def server(evaluated: tuple[Path, int]) -> Iterator[Server]:
    srv = start_server(evaluated[0], ROOT / "dashboards")
    yield srv
    end_server(srv)


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserContext]:
    with sync_playwright() as playwright, tempfile.TemporaryDirectory(prefix="bw-chromium-") as profile:
        context = launch_chromium(playwright, profile)
        context.set_default_timeout(UI_TIMEOUT_MS)
        yield context
        context.close()


def _save(results: Locator, shots: Path, name: str) -> None:
    path = shots / name
    results.screenshot(path=path)
    if os.environ.get("BEARING_WORKBENCH_GUIDE_IMAGES") == "1":
        GUIDE_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, GUIDE_IMAGES / name)


def _drawn_heatmap(view: Locator) -> None:
    """plotly drew the heatmap: its layer holds an image with data."""
    image = view.locator(".js-plotly-plot .heatmaplayer image").first
    expect(image).to_be_attached()
    assert (image.get_attribute("href") or "").startswith("data:image/")


def test_evaluations_tab_shows_the_summary_the_confusion_matrix_and_the_robustness_figure(
    server: Server, evaluated: tuple[Path, int], browser: BrowserContext, shots: Path
) -> None:
    root, experiment_id = evaluated
    store = Store(workspace=root)
    own = store.get_experiment(experiment_id).metrics["accuracy"]
    sweep, other = sorted(evaluation_infos(store, experiment_id), key=lambda e: e.evaluation_id)
    store.dispose()
    page = browser.new_page()
    page.set_viewport_size({"width": 1280, "height": 1800})  # the whole tab in one picture
    page.goto(server.app_url("results", experiment=experiment_id), timeout=UI_TIMEOUT_MS)
    results = page.locator(".bw-experiment-results")
    expect(results).to_contain_text("forest for plant-a")
    page.get_by_role("tab", name="Evaluations").click()

    tab = results.locator(".bw-evaluations")
    summary = tab.locator(".bw-evaluations-summary")
    expected = (
        f"evaluated on: {DATASET} test split {fmt.percent(own)}; {OTHER} all records {other.accuracy_text}"
    )
    expect(summary).to_have_text(expected)
    rows = tab.locator("tr[data-evaluation]")
    expect(rows).to_have_count(2)
    split = tab.locator(".bw-evaluation-launch select").nth(1)
    # ipywidgets writes the options' spaces as no-break spaces
    shown = r"s => s.selectedIndex >= 0 ? s.options[s.selectedIndex].text.replace(/\u00a0/g, ' ') : ''"
    assert split.evaluate(shown) == "all records"  # a choice shown, never a blank box

    # The newest evaluation (plant-a) is shown first: its classes map, per-class table, confusion matrix.
    view = tab.locator(".bw-evaluation")
    expect(view).to_contain_text(f"{OTHER} all records")
    expect(view).to_contain_text("ok -> healthy")
    expect(view.locator("td", has_text="misalignment").first).to_be_visible()
    _drawn_heatmap(view)
    expect(view.locator(".js-plotly-plot")).to_have_count(1)
    _save(results, shots, "results-evaluations.png")

    # The robustness sweep: one bar per condition, the clean line and its label.
    chooser = tab.locator(".bw-evaluation-chooser select")
    choice = chooser.locator("option", has_text=f"robustness on {DATASET} test split")
    chooser.select_option(label=choice.inner_text().strip())
    expect(view).to_contain_text("Accuracy per condition")
    bars = view.locator(".js-plotly-plot .barlayer .point path")
    expect(bars).to_have_count(CONDITIONS)
    for d in bars.evaluate_all("paths => paths.map(p => p.getAttribute('d'))"):
        assert d and d != "M0,0Z", "an empty bar"
    expect(view.locator(".js-plotly-plot .shapelayer path").first).to_be_attached()
    clean = f"clean {fmt.percent(sweep.conditions[0].accuracy)}"
    expect(view.locator(".js-plotly-plot .annotation-text", has_text=clean)).to_be_visible()
    _save(results, shots, "results-evaluations-robustness.png")

    # Launched from the page: a malformed classes map is named; a good one runs on the server's cluster.
    launch = tab.locator(".bw-evaluation-launch")
    launch.locator("select").first.select_option(label=OTHER)
    classes_map = launch.get_by_placeholder(re.compile("optional"))
    classes_map.fill("ok=healthy, unbalanced")
    launch.get_by_role("button", name="Evaluate on another dataset").click()
    expect(launch).to_contain_text("classes map: expected DATASET_CLASS=MODEL_CLASS pairs")
    classes_map.fill(CLASSES_MAP)
    launch.get_by_role("button", name="Evaluate on another dataset").click()
    expect(rows).to_have_count(3, timeout=RUN_TIMEOUT_MS)
    outcome = f"{OTHER} all records: accuracy {other.accuracy_text}"
    expect(launch.get_by_text(outcome)).to_be_visible()  # under the buttons, and on the page's message line
    expect(results.get_by_text(outcome)).to_have_count(2)
    new = f"#{other.evaluation_id + 1} {OTHER} all records: {other.accuracy_text} (completed)"
    expect(chooser).to_contain_text(new)
    assert chooser.evaluate(shown) == new  # the job's evaluation is the one shown
    results.screenshot(path=shots / "results-evaluations-launched.png")
    page.close()
