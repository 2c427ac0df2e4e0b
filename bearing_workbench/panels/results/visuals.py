"""The Visualisations tab: training curves with the best epoch, the model-specific views and the
failure cases."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from bearing_workbench.analysis.results_info import ResultsInfo
from bearing_workbench.panels.curves import best_epoch_trace, curve_traces, curves_layout
from bearing_workbench.panels.live_figure import LiveFigureWidget
from bearing_workbench.panels.model_views import model_views_widget
from bearing_workbench.panels.results.elements import figure, note, section
from bearing_workbench.panels.results.failures import FailureCases
from bearing_workbench.store import Store

log = logging.getLogger(__name__)


class VisualsTab(widgets.VBox):
    """Training history (its best epoch starred), model-specific views and failure cases of one experiment.

    Args:
        on_reset: what the failure list's "Show the 10 worst predictions" button does.
    """

    def __init__(self, store: Store, info: ResultsInfo, on_reset: Callable[[], Any]):
        super().__init__()
        experiment_id = info.experiment_id
        self.history_figure: LiveFigureWidget | None = None
        children: list[widgets.Widget] = [section("Training history")]
        if info.history:
            self.history_figure = history_figure(info)
            children.append(self.history_figure)
        elif not info.epoch_based:
            children.append(note(f"no training curves: {info.family} models are not trained in epochs"))
        else:
            children.append(note("no training curves: no epochs were stored"))
        try:
            self.model_views: widgets.Widget = model_views_widget(store, experiment_id)
        except Exception as exc:  # the rest of the tab stands without them
            log.exception("model views of experiment %s failed", experiment_id)
            self.model_views = note(f"the model-specific views could not be built: {exc}")
        self.failures = FailureCases(store, info, on_reset)
        self.children = [
            *children,
            section("Model-specific views"),
            self.model_views,
            section("Failure cases"),
            self.failures,
        ]


def history_figure(info: ResultsInfo) -> LiveFigureWidget:
    """Loss and accuracy per epoch, the best epoch (`ResultsInfo.best_epoch`) starred."""
    history = [dict(row) for row in info.history]
    best_row = next((row for row in history if row["epoch"] == info.best_epoch), None)
    star = best_epoch_trace(info.best_epoch, best_row.get("val_acc") if best_row else None)
    return figure(
        [*curve_traces(history), star], curves_layout(history), f"experiment-{info.experiment_id}-curves"
    )
