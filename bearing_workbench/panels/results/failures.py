"""The failure cases of the results page: a list of test records (the 10 worst predictions, or the
records of a confusion-matrix cell) and the detail of the one picked (`panels.failure_detail`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import traitlets

from bearing_workbench.analysis import format as fmt
from bearing_workbench.analysis.results_info import CellRecord, ResultsInfo, WorstPrediction
from bearing_workbench.panels.failure_detail import failure_detail_widget
from bearing_workbench.panels.results.elements import esc, note
from bearing_workbench.store import Store

log = logging.getLogger(__name__)

WORST_TITLE = "the 10 worst predictions: confidently wrong first, then the least sure right"


class FailureCases(widgets.VBox):
    """A list of test records and the detail of the selected one.

    Args:
        on_reset: called by the "Show the 10 worst predictions" button (shown while a cell is listed).

    Traits: `selected_record` (the record whose detail is shown, None for none).
    """

    selected_record = traitlets.Unicode(None, allow_none=True)

    def __init__(self, store: Store, info: ResultsInfo, on_reset: Callable[[], Any]):
        self._store = store
        self.info = info
        self.experiment_id = info.experiment_id
        self.title = widgets.HTML()
        self.select = widgets.Select(options=[], rows=10, layout=widgets.Layout(width="100%"))
        self.select.observe(self._on_selected, names="value")
        self.reset = widgets.Button(
            description="Show the 10 worst predictions", layout=widgets.Layout(width="auto")
        )
        self.reset.on_click(lambda _: on_reset())
        self.detail = widgets.VBox()
        super().__init__([self.title, self.select, self.reset, self.detail])

    def show_worst(self) -> None:
        """List the 10 worst test predictions."""
        self._show(self.info.worst, WORST_TITLE, filtered=False)

    def show_cell(self, title: str, rows: Sequence[CellRecord]) -> None:
        """List the test records of a confusion-matrix cell (`ResultsInfo.cell_records`)."""
        self._show(rows, title, filtered=True)

    def _show(self, rows: Sequence[CellRecord | WorstPrediction], title: str, *, filtered: bool) -> None:
        self.title.value = f"<div>{esc(title)}</div>"
        self.select.options = [
            (
                f"{r.record_id}: true {r.true_label} → predicted {r.predicted_label} "
                f"({fmt.percent(r.predicted_probability, 0)})",
                r.record_id,
            )
            for r in rows
        ]
        self.select.value = None
        self.reset.layout.display = "" if filtered else "none"
        self.detail.children = ()
        self.selected_record = None

    def _on_selected(self, change: Mapping[str, Any]) -> None:
        if change["new"] is not None:
            self.select_record(change["new"])

    def select_record(self, record_id: str) -> None:
        """Show the detail (signal, spectrum, probabilities) of one test record."""
        self.selected_record = record_id
        try:
            detail = failure_detail_widget(self._store, self.experiment_id, record_id)
        except Exception as exc:  # one record's detail must not take the tab down
            log.exception("failure detail of %r failed", record_id)
            detail = note(f"the detail of record {record_id} could not be built: {exc}")
        self.detail.children = (detail,)
