"""The experiment table of the history page: one anywidget (history_table.js) for a whole page of rows.

One widget instead of a checkbox and buttons per row keeps a page of 200 experiments one message to
the browser. The state is traitlets (see the ES module's header); a header click sets `order_by` and
`descending`, a checkbox edits `selected`, and the per-row buttons arrive as messages handed to the
`on_action` callback. Column keys are the store's CSV column names (`store.exports.EXPERIMENT_COLUMNS`
or ``metrics.<key>``), so the visible columns are also what a CSV export holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from bearing_workbench.analysis.history_rows import HISTORY_COLUMNS, history_row
from bearing_workbench.config.app_links import app_url
from bearing_workbench.panels.kit.anchor import stylesheet
from bearing_workbench.store import ExperimentRecord
from bearing_workbench.store.filters import check_order_by

log = logging.getLogger(__name__)

_HERE = Path(__file__).parent
ROW_ACTIONS = ("model", "note", "retry")
# (key, label, descending on the first click); sortable when the store can sort by the key.
COLUMNS: tuple[tuple[str, str, bool], ...] = HISTORY_COLUMNS
DEFAULT_HIDDEN = ("campaign_id", "metrics.epochs_run")


def _sortable(key: str) -> bool:
    try:
        check_order_by(key)
    except ValueError:
        return False
    return True


def column_specs() -> list[dict[str, Any]]:
    """The `columns` trait: each column's key, label, whether it sorts, and its first sort direction."""
    return [
        {"key": key, "label": label, "sortable": _sortable(key), "descending_first": first}
        for key, label, first in COLUMNS
    ]


def table_row(record: ExperimentRecord) -> dict[str, Any]:
    """One entry of the `rows` trait: the record's `HistoryRow` texts, and links (Voilà apps beside
    history.ipynb)."""
    row = history_row(record)
    return {
        "id": row.id,
        "status": row.status,
        "status_note": row.status_note,
        "retry": row.retryable,
        "cells": row.cells,
        "view_href": app_url("results", experiment=row.id),
        "clone_href": app_url("wizard", clone=row.id),
    }


class HistoryTable(anywidget.AnyWidget):
    """A page of experiments: sortable headers, a checkbox per row, hideable columns, row actions.

    Args:
        on_action: called with (action, experiment id) for a row's "model", "note" or "retry" button.
    """

    _esm = _HERE / "history_table.js"
    _css = stylesheet(_HERE / "history_table.css")  # after the theme's CSS variables
    columns = traitlets.List(traitlets.Dict()).tag(sync=True)
    hidden = traitlets.List(traitlets.Unicode()).tag(sync=True)
    rows = traitlets.List(traitlets.Dict()).tag(sync=True)
    selected = traitlets.List(traitlets.Int()).tag(sync=True)
    order_by = traitlets.Unicode("created_at").tag(sync=True)
    descending = traitlets.Bool(True).tag(sync=True)

    def __init__(self, on_action: Callable[[str, int], None] | None = None, **kwargs: Any):
        kwargs.setdefault("columns", column_specs())
        kwargs.setdefault("hidden", list(DEFAULT_HIDDEN))
        super().__init__(**kwargs)
        self.on_action = on_action
        self.on_msg(self._on_browser_message)

    @traitlets.validate("order_by")
    def _valid_order(self, proposal: dict[str, Any]) -> str:
        value = proposal["value"]
        if not _sortable(value):
            raise traitlets.TraitError(f"order_by: the table cannot sort by {value!r}")
        return value

    @traitlets.validate("hidden")
    def _valid_hidden(self, proposal: dict[str, Any]) -> list[str]:
        known = {c["key"] for c in self.columns}
        return [key for key in dict.fromkeys(proposal["value"]) if key in known]

    @traitlets.validate("selected")
    def _unique(self, proposal: dict[str, Any]) -> list[int]:
        return list(dict.fromkeys(proposal["value"]))

    def show_records(self, records: Iterable[ExperimentRecord]) -> None:
        """Replace the rows with `records` (one page, in order)."""
        self.rows = [table_row(r) for r in records]

    @property
    def visible_columns(self) -> list[str]:
        """Keys of the columns shown, in table order."""
        hidden = set(self.hidden)
        return [c["key"] for c in self.columns if c["key"] not in hidden]

    def _on_browser_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "action":
            return
        action, experiment_id = content.get("action"), content.get("id")
        if action not in ROW_ACTIONS or isinstance(experiment_id, bool) or not isinstance(experiment_id, int):
            log.warning("history table: ignoring a malformed row action %r", content)
            return
        if self.on_action is not None:
            self.on_action(action, experiment_id)
