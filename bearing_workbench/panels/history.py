"""The experiment history page: ``ExperimentHistory()`` in a notebook or the history Voilà app.

Every experiment of the store, one page at a time: the store filters, sorts, counts and pages in SQL
(`Store.list_experiments` with limit/offset, `Store.count_experiments`), so 10 000 runs cost what 50
do. Filters (search over name, notes and tags; model, status, dates, campaign) are one
`HistoryFilters` value, which presets save and restore. The table is one anywidget
(`history_table.HistoryTable`): sortable headers, a checkbox per row, hideable columns, row links
(results, clone) and row buttons (model download, notes and tags). The selection, kept across pages,
feeds the bulk actions: compare (a `CompareView` below the table), delete (after a confirmation),
export (a zip), and a link that opens the wizard on an ensemble of the selected runs.
"""

from __future__ import annotations

import html
import importlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import ipywidgets as widgets
import traitlets

from bearing_workbench.models import list_families
from bearing_workbench.panels.download import MAX_BYTES, DownloadLink
from bearing_workbench.panels.history_table import COLUMNS, HistoryTable
from bearing_workbench.store import (
    BUILTIN_PRESETS,
    DuplicateNameError,
    HistoryFilters,
    RunStatus,
    Store,
    StoreError,
    confined_path,
    experiment_dir,
)

log = logging.getLogger(__name__)

PAGE_SIZES = (50, 100, 200)
NOTIFICATIONS = "bearing_workbench.panels.toast_area"
LINK_STYLE = "color:#1565c0;text-decoration:underline"
MUTED = "color:#6b7280"
ERROR = "color:#c62828"
# Model files a row's "model" button offers, best first: (label, file name). Classical and ensemble
# runs keep none (scikit-learn models have no safe file format here; an ensemble is its members).
MODEL_FILES = (
    ("ONNX model", "model.onnx"),
    ("checkpoint (best.pt)", "best.pt"),
    ("checkpoint (last.pt)", "last.pt"),
)
NO_PRESET = ""


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _notification_area(store: Store) -> widgets.Widget | None:
    """The kernel's notification area when `panels.toast_area` is there; the page works without it."""
    try:
        factory = importlib.import_module(NOTIFICATIONS).notification_area
    except (ImportError, AttributeError) as exc:
        log.info("no notification area: %s", exc)
        return None
    try:
        return factory(store=store)
    except Exception:  # toasts are a nicety; the history must still open
        log.exception("the notification area could not be shown")
        return None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


class ExperimentHistory(widgets.VBox):
    """Browse, filter, sort, compare, delete and export every experiment of the store.

    Args:
        store: default the workspace's store.
        page_size: rows per page (50, 100 or 200).

    The traits mirror what is shown: `total` (experiments matching the filters), `offset` (first row
    of the page), `selected` (ids, kept across pages, in the order they were ticked) and `notice` (the
    last message to the user).
    """

    total = traitlets.Int(0)
    offset = traitlets.Int(0)
    page_size = traitlets.Int(PAGE_SIZES[0])
    selected = traitlets.List(traitlets.Int())
    notice = traitlets.Unicode("")
    notice_error = traitlets.Bool(False)

    def __init__(self, store: Store | None = None, *, page_size: int = PAGE_SIZES[0]):
        if page_size not in PAGE_SIZES:
            raise ValueError(f"page_size must be one of {', '.join(map(str, PAGE_SIZES))}, got {page_size!r}")
        super().__init__()
        self._store = store if store is not None else Store()
        self._suspended = 0
        self._pending_delete: list[int] = []
        self._shown: tuple[str, bool, int] = ("", True, -1)  # (order, descending, offset) last fetched
        self.compare_view: Any = None
        self.page_size = page_size
        self._build()
        top = [w for w in (_notification_area(self._store),) if w is not None]
        self.children = [*top, *self._layout()]
        self.add_class("bw-experiment-history")
        self.refresh()

    # -- widgets -----------------------------------------------------------------------------------

    def _build(self) -> None:
        narrow = widgets.Layout(width="auto")
        self.title_html = widgets.HTML("<h3 style='margin:0.2em 0'>Experiment history</h3>")
        self.search = widgets.Text(
            placeholder="search name, notes, tags",
            description="Search",
            continuous_update=False,
            layout=widgets.Layout(width="320px"),
        )
        self.families = widgets.SelectMultiple(
            options=list_families(), description="Model", rows=4, layout=widgets.Layout(width="240px")
        )
        self.statuses = widgets.SelectMultiple(
            options=[s.value for s in RunStatus],
            description="Status",
            rows=4,
            layout=widgets.Layout(width="240px"),
        )
        self.created_from = widgets.DatePicker(description="From", layout=widgets.Layout(width="240px"))
        self.created_to = widgets.DatePicker(description="To", layout=widgets.Layout(width="240px"))
        self.campaign = widgets.Dropdown(description="Campaign", layout=widgets.Layout(width="260px"))
        self.clear_button = widgets.Button(description="Clear filters", layout=narrow)
        self.presets = widgets.Dropdown(description="Preset", layout=widgets.Layout(width="260px"))
        self.preset_name = widgets.Text(
            placeholder="name for these filters", layout=widgets.Layout(width="200px")
        )
        self.save_preset_button = widgets.Button(description="Save filters as", layout=narrow)
        self.delete_preset_button = widgets.Button(
            description="Delete preset", layout=narrow, tooltip="delete the saved preset chosen above"
        )
        self.columns = widgets.SelectMultiple(
            options=[(label, key) for key, label, _ in COLUMNS],
            description="Columns",
            rows=4,
            layout=widgets.Layout(width="260px"),
        )
        self.table = HistoryTable(on_action=self.row_action)
        self.columns.value = tuple(self.table.visible_columns)
        self.page_label = widgets.HTML()
        self.prev_button = widgets.Button(description="\u25c0 Previous", layout=narrow)
        self.next_button = widgets.Button(description="Next \u25b6", layout=narrow)
        self.page_size_select = widgets.Dropdown(
            options=list(PAGE_SIZES),
            value=self.page_size,
            description="Rows",
            layout=widgets.Layout(width="140px"),
        )
        self.selection_html = widgets.HTML()
        self.compare_button = widgets.Button(description="Compare", button_style="info", layout=narrow)
        self.delete_button = widgets.Button(description="Delete\u2026", button_style="danger", layout=narrow)
        self.export_button = widgets.Button(description="Export zip", layout=narrow)
        self.clear_selection_button = widgets.Button(description="Clear selection", layout=narrow)
        self.ensemble_html = widgets.HTML()
        self.export_link = DownloadLink("selected experiments (zip)", "experiments.zip", "application/zip")
        self.export_link.layout.display = "none"
        self.csv_button = widgets.Button(
            description="CSV of this list",
            layout=narrow,
            tooltip="every matching experiment, visible columns",
        )
        self.csv_link = DownloadLink("experiments CSV", "experiments.csv", "text/csv")
        self.confirm_html = widgets.HTML()
        self.confirm_yes = widgets.Button(description="Yes, delete", button_style="danger", layout=narrow)
        self.confirm_no = widgets.Button(description="Cancel", layout=narrow)
        self.confirm_box = widgets.HBox(
            [self.confirm_html, self.confirm_yes, self.confirm_no], layout=widgets.Layout(display="none")
        )
        self.notice_html = widgets.HTML()
        self.row_box = widgets.VBox(layout=widgets.Layout(display="none"))
        self.compare_box = widgets.VBox(layout=widgets.Layout(display="none"))

        for control in (
            self.search,
            self.families,
            self.statuses,
            self.created_from,
            self.created_to,
            self.campaign,
        ):
            control.observe(self._on_filter, names="value")
        self.clear_button.on_click(lambda _: self.clear_filters())
        self.presets.observe(self._on_preset, names="value")
        self.save_preset_button.on_click(lambda _: self.save_preset(self.preset_name.value))
        self.delete_preset_button.on_click(lambda _: self.delete_preset())
        self.columns.observe(self._on_columns, names="value")
        self.table.observe(self._on_sort, names=["order_by", "descending"])
        self.table.observe(self._on_table_selection, names="selected")
        self.prev_button.on_click(lambda _: self.go_to(self.offset - self.page_size))
        self.next_button.on_click(lambda _: self.go_to(self.offset + self.page_size))
        self.page_size_select.observe(self._on_page_size, names="value")
        self.compare_button.on_click(lambda _: self.compare())
        self.delete_button.on_click(lambda _: self.ask_delete())
        self.confirm_yes.on_click(lambda _: self.confirm_delete())
        self.confirm_no.on_click(lambda _: self.cancel_delete())
        self.export_button.on_click(lambda _: self.export())
        self.clear_selection_button.on_click(lambda _: setattr(self, "selected", []))
        self.csv_button.on_click(lambda _: self.prepare_csv())
        self.observe(self._on_selected, names="selected")
        self._load_choices()
        self._on_selected()

    def _layout(self) -> list[widgets.Widget]:
        filters = widgets.HBox(
            [
                widgets.VBox([self.search, self.campaign, widgets.HBox([self.clear_button])]),
                self.families,
                self.statuses,
                widgets.VBox([self.created_from, self.created_to]),
            ],
            layout=widgets.Layout(flex_flow="row wrap"),
        )
        presets = widgets.HBox(
            [self.presets, self.preset_name, self.save_preset_button, self.delete_preset_button],
            layout=widgets.Layout(flex_flow="row wrap"),
        )
        bulk = widgets.HBox(
            [
                self.selection_html,
                self.compare_button,
                self.delete_button,
                self.export_button,
                self.clear_selection_button,
                self.ensemble_html,
                self.export_link,
            ],
            layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
        )
        pager = widgets.HBox(
            [
                self.prev_button,
                self.page_label,
                self.next_button,
                self.page_size_select,
                self.csv_button,
                self.csv_link,
            ],
            layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
        )
        columns = widgets.HBox([self.columns])
        return [
            self.title_html,
            filters,
            widgets.HBox([presets, columns], layout=widgets.Layout(flex_flow="row wrap")),
            bulk,
            self.confirm_box,
            self.notice_html,
            self.table,
            pager,
            self.row_box,
            self.compare_box,
        ]

    def _load_choices(self) -> None:
        campaigns = self._store.list_campaigns()
        with self._batch():
            self.campaign.options = [("any", None), *((f"#{c.id} {c.name}", c.id) for c in campaigns)]
            self._load_presets()

    def _load_presets(self, chosen: str = NO_PRESET) -> None:
        presets = self._store.list_filter_presets()
        self._presets = {p.name: p for p in presets}
        options = [("choose a preset", NO_PRESET)] + [
            (f"{p.name}{'' if p.builtin else ' (saved)'}", p.name) for p in presets
        ]
        with self._batch():
            self.presets.options = options
            self.presets.value = chosen if chosen in self._presets else NO_PRESET

    # -- filters -----------------------------------------------------------------------------------

    @contextmanager
    def _batch(self) -> Iterator[None]:
        """Change several controls with one refresh (or none) at the end, done by the caller."""
        self._suspended += 1
        try:
            yield
        finally:
            self._suspended -= 1

    def filters(self) -> HistoryFilters:
        """The filters and order the controls show now; ValueError naming a bad field."""
        return HistoryFilters.from_json(
            {
                "search": self.search.value,
                "families": list(self.families.value),
                "statuses": list(self.statuses.value),
                "created_after": _day_start(self.created_from.value) if self.created_from.value else None,
                "created_before": (
                    _day_start(self.created_to.value) + timedelta(days=1) if self.created_to.value else None
                ),
                "campaign_id": self.campaign.value,
                "order_by": self.table.order_by,
                "descending": self.table.descending,
            },
            "filters",
        )

    def apply_filters(self, filters: HistoryFilters) -> None:
        """Show `filters` in the controls and fetch the first page."""
        with self._batch():
            self.search.value = filters.search
            families = tuple(f for f in filters.families if f in self.families.options)
            self.families.value = families
            self.statuses.value = tuple(s.value for s in filters.statuses)
            self.created_from.value = filters.created_after.date() if filters.created_after else None
            before = filters.created_before
            self.created_to.value = (before - timedelta(days=1)).date() if before else None
            known = [value for _, value in self.campaign.options]
            self.campaign.value = filters.campaign_id if filters.campaign_id in known else None
            self.table.order_by = filters.order_by
            self.table.descending = filters.descending
        self.go_to(0)

    def clear_filters(self) -> None:
        """No filter, newest first."""
        self.apply_filters(HistoryFilters())
        self.presets.value = NO_PRESET

    def _on_filter(self, _change: Any = None) -> None:
        if not self._suspended:
            self.go_to(0)

    def _on_sort(self, _change: Any) -> None:
        # A header click changes order_by and descending in one message: one fetch for both.
        if not self._suspended and (self.table.order_by, self.table.descending, 0) != self._shown:
            self.go_to(0)

    def _on_page_size(self, change: dict[str, Any]) -> None:
        self.page_size = change["new"]
        self.go_to(0)

    def _on_columns(self, change: dict[str, Any]) -> None:
        shown = set(change["new"])
        self.table.hidden = [key for key, _, _ in COLUMNS if key not in shown]

    # -- presets -----------------------------------------------------------------------------------

    def _on_preset(self, change: dict[str, Any]) -> None:
        if self._suspended or not change["new"]:
            return
        self.apply_preset(change["new"])

    def apply_preset(self, name: str) -> None:
        """Show the filters of preset `name` (built in or saved)."""
        try:
            preset = self._store.get_filter_preset(name)
        except (StoreError, ValueError) as exc:
            self._tell(f"cannot apply preset {name!r}: {exc}", error=True)
            return
        self.apply_filters(preset.filters)
        with self._batch():
            self.presets.value = name
        self._tell(f"preset {name!r} applied: {self.total} experiment(s)")

    def save_preset(self, name: str) -> None:
        """Save the current filters as preset `name`."""
        try:
            filters = self.filters()
            self._store.save_filter_preset(name, filters)
        except DuplicateNameError as exc:
            self._tell(f"{exc} (or delete the saved one first)", error=True)
            return
        except ValueError as exc:
            self._tell(f"cannot save the preset: {exc}", error=True)
            return
        clean = name.strip()
        self._load_presets(clean)
        self.preset_name.value = ""
        self._tell(f"filters saved as preset {clean!r}")

    def delete_preset(self) -> None:
        """Delete the saved preset chosen in the dropdown."""
        name = self.presets.value
        if not name or name in BUILTIN_PRESETS:
            self._tell("choose a saved preset to delete (built-in ones stay)", error=True)
            return
        try:
            self._store.delete_filter_preset(name)
        except StoreError as exc:
            self._tell(f"cannot delete preset {name!r}: {exc}", error=True)
            return
        self._load_presets()
        self._tell(f"preset {name!r} deleted")

    # -- paging ------------------------------------------------------------------------------------

    def go_to(self, offset: int) -> None:
        """Show the page starting at row `offset` (clamped to the pages there are)."""
        self.offset = max(0, offset)
        self.refresh()

    def refresh(self) -> None:
        """Fetch the current page and the count from the store."""
        try:
            filters = self.filters()
        except ValueError as exc:
            self._tell(str(exc), error=True)
            return
        self.total = self._store.count_experiments(**filters.where())
        last_page = max(0, (self.total - 1) // self.page_size * self.page_size)
        self.offset = min(self.offset, last_page)
        records = self._store.list_experiments(**filters.query(), limit=self.page_size, offset=self.offset)
        self.table.show_records(records)
        self._shown = (self.table.order_by, self.table.descending, self.offset)
        self._show_page()

    def _show_page(self) -> None:
        shown = len(self.table.rows)
        if self.total == 0:
            text = "no experiment matches" if self.filters() != HistoryFilters() else "no experiment yet"
        else:
            text = f"{self.offset + 1}\u2013{self.offset + shown} of {self.total:,}".replace(",", "\u202f")
        self.page_label.value = f"<span style='margin:0 0.8em'>{_esc(text)}</span>"
        self.prev_button.disabled = self.offset == 0
        self.next_button.disabled = self.offset + shown >= self.total

    @property
    def page(self) -> int:
        """The page shown, from 1."""
        return self.offset // self.page_size + 1

    # -- selection and bulk actions ------------------------------------------------------------------

    def _on_table_selection(self, change: dict[str, Any]) -> None:
        # The table holds the whole selection (ids of other pages too) and edits it in place.
        self.selected = list(change["new"])

    def _on_selected(self, _change: Any = None) -> None:
        ids = list(self.selected)
        if self.table.selected != ids:
            self.table.selected = ids
        count = len(ids)
        self.selection_html.value = (
            f"<b>{count}</b> selected" if count else f"<span style='{MUTED}'>none selected</span>"
        )
        for button in (self.delete_button, self.export_button, self.clear_selection_button):
            button.disabled = count == 0
        self.compare_button.disabled = not 2 <= count <= 10
        self.compare_button.tooltip = "compare 2 to 10 completed experiments"
        if count >= 2:
            members = ",".join(map(str, ids))
            self.ensemble_html.value = (
                f'<a href="wizard.ipynb?family=ensemble&amp;members={members}" target="_blank" '
                f'style="{LINK_STYLE};margin:0 0.6em">add to an ensemble</a>'
            )
        else:
            self.ensemble_html.value = ""
        self.export_link.layout.display = "none"

    def select(self, ids: list[int]) -> None:
        """Set the selection (ids of any page)."""
        self.selected = list(dict.fromkeys(int(i) for i in ids))

    def compare(self) -> Any:
        """Open the comparison of the selected experiments below the table; returns the view or None."""
        from bearing_workbench.analysis.comparison import ComparisonError
        from bearing_workbench.panels.compare import CompareView

        try:
            view = CompareView(list(self.selected), store=self._store)
        except ComparisonError as exc:
            self._tell(str(exc), error=True)
            return None
        if self.compare_view is not None:
            self.compare_view.close()
        self.compare_view = view
        close = widgets.Button(description="Close comparison", layout=widgets.Layout(width="auto"))
        close.on_click(lambda _: self.close_compare())
        self.compare_box.children = [close, view]
        self.compare_box.layout.display = ""
        self._tell(f"comparing {', '.join(f'#{i}' for i in self.selected)}")
        return view

    def close_compare(self) -> None:
        """Remove the comparison view."""
        if self.compare_view is not None:
            self.compare_view.close()
        self.compare_view = None
        self.compare_box.children = []
        self.compare_box.layout.display = "none"

    def ask_delete(self) -> None:
        """Ask for confirmation before deleting the selected experiments."""
        ids = list(self.selected)
        if not ids:
            self._tell("select the experiments to delete first", error=True)
            return
        self._pending_delete = ids
        shown = ", ".join(f"#{i}" for i in ids[:12]) + (f" and {len(ids) - 12} more" if len(ids) > 12 else "")
        self.confirm_html.value = (
            f"<b>Delete {len(ids)} experiment(s)</b> ({_esc(shown)}) with their files? This cannot be undone."
        )
        self.confirm_box.layout.display = ""

    def confirm_delete(self) -> None:
        """Delete what `ask_delete` asked about (all of it, or nothing when one cannot be deleted)."""
        ids, self._pending_delete = self._pending_delete, []
        self.confirm_box.layout.display = "none"
        if not ids:
            return
        try:
            self._store.delete_experiments(ids)
        except (StoreError, ValueError) as exc:
            self._tell(f"nothing was deleted: {exc}", error=True)
            return
        if self.compare_view is not None and set(ids) & set(self.compare_view.experiment_ids):
            self.close_compare()
        self.selected = [i for i in self.selected if i not in ids]
        self.refresh()
        self._tell(f"deleted {len(ids)} experiment(s): {', '.join(f'#{i}' for i in ids)}")

    def cancel_delete(self) -> None:
        """Forget the deletion asked about."""
        self._pending_delete = []
        self.confirm_box.layout.display = "none"
        self._tell("nothing deleted")

    def export(self) -> None:
        """Write a zip of the selected experiments under the workspace and offer it for download."""
        ids = list(self.selected)
        try:
            path = self._store.export_experiments(ids)
        except (StoreError, ValueError, OSError) as exc:
            self._tell(f"export failed: {exc}", error=True)
            return
        size = path.stat().st_size
        if size <= MAX_BYTES:
            self.export_link.filename = path.name
            self.export_link.set_data(path.read_bytes())
            self.export_link.layout.display = ""
            self._tell(f"exported {len(ids)} experiment(s) to {path}")
        else:
            self._tell(f"exported {len(ids)} experiment(s) to {path} (too large for a browser download)")

    def prepare_csv(self) -> str:
        """Put every experiment matching the filters, with the visible columns, into the CSV link."""
        try:
            text = self._store.experiments_csv(self.filters(), self.table.visible_columns)
        except ValueError as exc:
            self._tell(f"cannot export the list: {exc}", error=True)
            return ""
        self.csv_link.set_data(text)
        self._tell(f"CSV ready: {self.total} experiment(s), {len(self.table.visible_columns)} column(s)")
        return text

    # -- row actions -------------------------------------------------------------------------------

    def row_action(self, action: str, experiment_id: int) -> None:
        """A row button: "model" (download links of its model files) or "note" (notes and tags editor)."""
        handlers: dict[str, Callable[[int], None]] = {"model": self.show_model_files, "note": self.edit_note}
        try:
            record = self._store.get_experiment(experiment_id)
        except StoreError as exc:
            self._tell(str(exc), error=True)
            return
        handlers[action](record.id)

    def _show_row_box(self, title: str, children: list[widgets.Widget]) -> None:
        close = widgets.Button(description="Close", layout=widgets.Layout(width="auto"))
        close.on_click(lambda _: self._hide_row_box())
        self.row_box.children = [widgets.HTML(f"<b>{_esc(title)}</b>"), *children, close]
        self.row_box.layout.display = ""

    def _hide_row_box(self) -> None:
        self.row_box.children = []
        self.row_box.layout.display = "none"

    def model_files(self, experiment_id: int) -> list[tuple[str, Any]]:
        """(label, path) of the model files the experiment folder holds, confined to that folder."""
        folder = experiment_dir(experiment_id, self._store.workspace)
        found = []
        for label, name in MODEL_FILES:
            path = confined_path(folder, name)
            if path.is_file():
                found.append((label, path))
        return found

    def show_model_files(self, experiment_id: int) -> None:
        """Download links of the experiment's model files (or why there are none)."""
        record = self._store.get_experiment(experiment_id)
        files = self.model_files(experiment_id)
        children: list[widgets.Widget] = []
        for label, path in files:
            size = path.stat().st_size
            if size > MAX_BYTES:
                children.append(
                    widgets.HTML(f"{_esc(label)}: {_esc(path)} (too large for a browser download)")
                )
                continue
            link = DownloadLink(label, f"experiment-{experiment_id}-{path.name}", "application/octet-stream")
            link.set_data(path.read_bytes())
            children.append(link)
        if not files:
            why = (
                "classical models are not saved (no safe file format for scikit-learn models)"
                if record.family == "classical"
                else "an ensemble is its members: download theirs"
                if record.family == "ensemble"
                else f"no model file yet (the run is {record.status.value})"
            )
            children.append(widgets.HTML(f"<span style='{MUTED}'>{_esc(why)}</span>"))
        self._show_row_box(f"Model of #{experiment_id} {record.name}", children)

    def edit_note(self, experiment_id: int) -> None:
        """Open the notes and tags editor of one experiment."""
        record = self._store.get_experiment(experiment_id)
        self.note_text = widgets.Textarea(
            value=record.notes, description="Notes", layout=widgets.Layout(width="520px")
        )
        self.tags_text = widgets.Text(
            value=", ".join(record.tags),
            description="Tags",
            placeholder="comma-separated",
            layout=widgets.Layout(width="520px"),
        )
        save = widgets.Button(description="Save", button_style="success", layout=widgets.Layout(width="auto"))
        save.on_click(lambda _: self.save_note(experiment_id, self.note_text.value, self.tags_text.value))
        self._show_row_box(
            f"Notes and tags of #{experiment_id} {record.name}", [self.note_text, self.tags_text, save]
        )

    def save_note(self, experiment_id: int, notes: str, tags: str) -> None:
        """Store notes and comma-separated tags of one experiment, then redraw the page."""
        try:
            self._store.set_notes(experiment_id, notes)
            self._store.set_tags(experiment_id, [t.strip() for t in tags.split(",") if t.strip()])
        except (StoreError, ValueError, TypeError) as exc:
            self._tell(f"not saved: {exc}", error=True)
            return
        self._hide_row_box()
        self.refresh()
        self._tell(f"notes and tags of #{experiment_id} saved")

    # -- messages ----------------------------------------------------------------------------------

    def _tell(self, text: str, error: bool = False) -> None:
        """Show a message above the table (red when something could not be done)."""
        self.notice_error = error
        self.notice = text
        style = ERROR if error else MUTED
        self.notice_html.value = f"<div style='{style};margin:0.3em 0'>{_esc(text)}</div>" if text else ""
