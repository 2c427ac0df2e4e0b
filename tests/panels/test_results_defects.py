"""Defects of the results page found by a new user (issue 13), each pinned by a test."""

from __future__ import annotations

from typing import Any

import pytest

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
    curves = [
        {"class": f"class {i}", "fpr": [0.0, 0.5, 1.0], "tpr": [0.0, 0.8, 1.0], "auc": 0.9} for i in range(11)
    ]
    figure = roc_figure(curves, 0.9, "roc")
    colours = [trace.line.color for trace in figure.data[:11]]
    assert colours == theme.palette(11)
    assert len(set(colours)) == 11
    assert figure.data[11].name == "chance" and figure.data[11].line.color not in colours
