"""The Evaluations tab of the results app in headless Chromium (Debian's, driven by Playwright), served
by `bearing-workbench serve`: the summary line, a dataset evaluation's confusion matrix and a robustness
sweep's figure, drawn by plotly in the browser.

The workspace is real: datasets `tiny` and `plant-a` (generated, registered), one classical run
trained in this process. Its two evaluations are written through the store's evaluation repository
(`Store.create_evaluation` / `transition_evaluation`), with results laid out as the evaluation jobs
write them: the page under test reads the store, and running the jobs here would only add minutes.

Screenshots go to ``$BEARING_WORKBENCH_SCREENSHOTS`` (default: a temporary folder, printed); with
``BEARING_WORKBENCH_GUIDE_IMAGES=1`` they also replace the user guide's pictures in ``docs/guide/img``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bearing_workbench.analysis import format as fmt
from bearing_workbench.config import preset_config
from bearing_workbench.store import Store
from bearing_workbench.training.experiment import create_experiment, train_experiment

from ..tiny_data import tiny_store
from .conftest import (
    CLASSES,
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
from playwright.sync_api import BrowserContext, Locator, expect, sync_playwright  # noqa: E402

expect.set_options(timeout=UI_TIMEOUT_MS)

pytestmark = NEEDS_CHROMIUM
OTHER = "plant-a"
GUIDE_IMAGES = ROOT / "docs" / "guide" / "img"
# plant-a: 18 records, 6 per class; the model misses the misalignment ones now and then.
CONFUSION = [[6, 0, 0], [0, 5, 1], [1, 0, 5]]
# The sweep's clean condition (its result's metrics): 17 of 18 test records right.
CLEAN_CONFUSION = [[6, 0, 0], [0, 6, 0], [1, 0, 5]]
CONDITIONS = [
    ("clean", "clean", 0.944),
    ("noise", "SNR 20 dB", 0.944),
    ("noise", "SNR 10 dB", 0.833),
    ("noise", "SNR 5 dB", 0.611),
    ("gain", "gain x0.5", 0.889),
    ("gain", "gain x2", 0.722),
    ("speed", "speed -10 %", 0.778),
    ("speed", "speed +10 %", 0.667),
]


def _metrics(confusion: list[list[int]]) -> dict:
    """Record-level metrics of a confusion matrix, in the layout `training.evaluate` writes."""
    n = sum(map(sum, confusion))
    per_class = {}
    for i, name in enumerate(CLASSES):
        support, predicted = sum(confusion[i]), sum(row[i] for row in confusion)
        hits = confusion[i][i]
        precision, recall = hits / predicted, hits / support
        per_class[name] = {
            "precision": precision,
            "recall": recall,
            "f1": 2 * precision * recall / (precision + recall),
            "support": support,
        }
    return {
        "accuracy": sum(confusion[i][i] for i in range(len(CLASSES))) / n,
        "macro_f1": sum(c["f1"] for c in per_class.values()) / len(CLASSES),
        "class_names": list(CLASSES),
        "confusion_matrix": confusion,
        "per_class": per_class,
    }


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A workspace with datasets `tiny` and `plant-a`, a classical run on `tiny`, evaluated on `plant-a`
    and swept for robustness on its test split."""
    root = tiny_workspace(tmp_path_factory.mktemp("evaluations-ws"))
    tiny_store(root, per_class=6, duration_s=1.0, seed=29, name=OTHER).dispose()
    store = Store(workspace=root)
    config = preset_config("quick", "classical", DATASET, {"name": "forest for plant-a"})
    experiment_id = create_experiment(store, config)
    train_experiment(store, experiment_id)
    sweep = store.create_evaluation(experiment_id, "robustness", DATASET, split="test")
    store.transition_evaluation(sweep, "start")
    conditions = [
        {"group": group, "name": name, "accuracy": accuracy, "macro_f1": accuracy - 0.02}
        for group, name, accuracy in CONDITIONS
    ]
    result = {"metrics": _metrics(CLEAN_CONFUSION), "n_records": 18, "conditions": conditions}
    store.transition_evaluation(sweep, "complete", result=result)
    other = store.create_evaluation(experiment_id, "dataset", OTHER)
    store.transition_evaluation(other, "start")
    store.transition_evaluation(other, "complete", result={"metrics": _metrics(CONFUSION), "n_records": 18})
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
    store.dispose()
    page = browser.new_page()
    page.set_viewport_size({"width": 1280, "height": 1800})  # the whole tab in one picture
    page.goto(server.app_url("results", experiment=experiment_id), timeout=UI_TIMEOUT_MS)
    results = page.locator(".bw-experiment-results")
    expect(results).to_contain_text("forest for plant-a")
    page.get_by_role("tab", name="Evaluations").click()

    tab = results.locator(".bw-evaluations")
    summary = tab.locator(".bw-evaluations-summary")
    expected = f"evaluated on: {DATASET} test split {fmt.percent(own)}; {OTHER} all records 88.9 %"
    expect(summary).to_have_text(expected)
    split = tab.locator(".bw-evaluation-launch select").nth(1)
    # ipywidgets writes the options' spaces as no-break spaces
    shown = r"s => s.selectedIndex >= 0 ? s.options[s.selectedIndex].text.replace(/\u00a0/g, ' ') : ''"
    assert split.evaluate(shown) == "all records"  # a choice shown, never a blank box
    expect(tab.locator("tr[data-evaluation]")).to_have_count(2)

    # The newest evaluation (plant-a) is shown first: its per-class table and its confusion matrix.
    view = tab.locator(".bw-evaluation")
    expect(view).to_contain_text(f"{OTHER} all records")
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
    expect(bars).to_have_count(len(CONDITIONS))
    for d in bars.evaluate_all("paths => paths.map(p => p.getAttribute('d'))"):
        assert d and d != "M0,0Z", "an empty bar"
    expect(view.locator(".js-plotly-plot .shapelayer path").first).to_be_attached()
    expect(view.locator(".js-plotly-plot .annotation-text", has_text="clean 94.4 %")).to_be_visible()
    _save(results, shots, "results-evaluations-robustness.png")
    page.close()
