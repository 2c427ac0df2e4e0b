"""Defects of the results page found by a new user (issue 13), each pinned by a test."""

from __future__ import annotations

from typing import Any

import pytest

from bearing_workbench.analysis.results_info import RocCurve
from bearing_workbench.config import theme
from bearing_workbench.panels.kit import BusyIndicator
from bearing_workbench.panels.results import ExperimentResults
from bearing_workbench.panels.results.details import roc_figure
from bearing_workbench.panels.results.page import TAB_TITLES
from bearing_workbench.store import Store

from ..analysis.results_fixtures import experiment_folder, results_ids, results_store  # noqa: F401


@pytest.mark.parametrize("title", TAB_TITLES[1:])
def test_a_tab_says_it_is_being_built_until_it_is_there(
    title: str,
    results_store: Store,  # noqa: F811
    results_ids: dict[str, int],  # noqa: F811
) -> None:
    """Defect 11: the Visualisations tab stayed blank for 5-10 s with no word of what was going on."""
    panel = ExperimentResults(results_ids["cnn1d"], store=results_store)
    container = panel.tabs.children[TAB_TITLES.index(title)]
    shown: list[tuple[Any, ...]] = []
    said: list[tuple[bool, str]] = []  # (busy, message) of the indicators shown, as they were then

    def seen(change: dict[str, Any]) -> None:
        shown.append(change["new"])
        said.extend((w.busy, w.message) for w in change["new"] if isinstance(w, BusyIndicator))

    container.observe(seen, names="children")
    panel.show_tab(title)
    first, last = shown[0], shown[-1]
    (indicator,) = first
    assert isinstance(indicator, BusyIndicator)
    busy, message = said[0]
    assert busy and message.startswith(f"{title}: ") and message.endswith("…")
    assert len(last) == 1 and not isinstance(last[0], BusyIndicator)
    assert not indicator.busy  # stopped once the tab is there
    assert panel.built_tabs[-1] == title


def test_roc_curves_of_eleven_classes_have_eleven_colours() -> None:
    """Defect 7: plotly's default colour cycle has 10 colours, so the 11th class repeated the first."""
    curves = [RocCurve(f"class {i}", (0.0, 0.5, 1.0), (0.0, 0.8, 1.0), 0.9) for i in range(11)]
    figure = roc_figure(curves, 0.9, "roc")
    colours = [trace.line.color for trace in figure.data[:11]]
    assert colours == theme.palette(11)
    assert len(set(colours)) == 11
    assert figure.data[11].name == "chance" and figure.data[11].line.color not in colours


def _ended_run(store: Store, action: str, error: str | None = None) -> int:
    """A cnn1d run of 5 planned epochs that trained 2 and wrote checkpoints, then `action` (stop, fail)."""
    experiment_id = store.create_experiment(f"{action} run", "cnn1d", {"training": {"epochs": 5}})
    store.transition(experiment_id, "start")
    for epoch, loss in ((1, 1.2), (2, 0.9)):
        store.add_epoch(
            experiment_id, epoch, train_loss=loss, val_loss=loss + 0.1, train_acc=0.5, val_acc=0.4
        )
    folder = experiment_folder(store, experiment_id)
    folder.mkdir(parents=True)
    for name in ("config.yaml", "best.pt", "epoch-0001.pt", "epoch-0002.pt"):
        (folder / name).write_bytes(f"{name} of {experiment_id}".encode())
    store.transition(experiment_id, action, error=error)
    return experiment_id


def test_a_stopped_run_shows_what_it_left(fresh_store: Store) -> None:
    """Defect 7: a stopped run's Results led to "not completed"; its page now offers what exists."""
    stopped = _ended_run(fresh_store, "stop")
    panel = ExperimentResults(stopped, store=fresh_store)
    assert panel.status == "stopped" and panel.ended is not None and panel.ended in panel.children
    assert 'data-status="stopped"' in panel.title_html.value
    text = panel.ended.explanation.value
    assert "stopped after 2 epochs of 5" in text and "no test metrics" in text
    assert f'href="monitor.ipynb?experiment={stopped}"' in text and "epoch-0002.pt" in text
    assert f'href="wizard.ipynb?clone={stopped}"' in text
    assert list(panel.ended.history_figure.data[0].x) == [1, 2]
    assert list(panel.ended.history_figure.data[0].y) == [1.2, 0.9]
    link = panel.ended.downloads.links["epoch-0002.pt"]
    assert f'download="experiment-{stopped}-epoch-0002.pt"' in link.value
    assert "href" in panel.ended.downloads.links["best.pt"].value
    with pytest.raises(ValueError, match="is stopped: its page has no tabs"):
        panel.show_tab("Overview")


def test_a_stopped_run_offers_the_checkpoint_retry_resumes_from(fresh_store: Store) -> None:
    """Retry resumes from last.pt (kept whatever the policy), not the newest epoch file (under best_only,
    the best epoch, possibly epochs older): the page names and offers that one (issue 13 defect 10)."""
    stopped = _ended_run(fresh_store, "stop")
    (experiment_folder(fresh_store, stopped) / "last.pt").write_bytes(b"the stop's checkpoint")
    panel = ExperimentResults(stopped, store=fresh_store)
    assert "resume it from its last checkpoint (last.pt)" in panel.ended.explanation.value
    assert "last.pt" in panel.ended.downloads.links


def test_a_failed_run_says_why_and_a_running_one_is_still_refused(fresh_store: Store) -> None:
    failed = _ended_run(fresh_store, "fail", error="CUDA out of memory")
    panel = ExperimentResults(failed, store=fresh_store)
    assert "failed after 2 epochs of 5: CUDA out of memory" in panel.ended.explanation.value
    running = fresh_store.create_experiment("running", "cnn1d", {})
    fresh_store.transition(running, "start")
    with pytest.raises(ValueError, match="is running, not completed"):
        ExperimentResults(running, store=fresh_store)
