"""The history page's actions: selection, compare, delete (confirmed), export, CSV, and row actions.

`HistoryActions` is a mixin of `ExperimentHistory` (kept apart so that each module stays readable). It
uses the page's ``_store``, ``table``, ``selected``, the bulk buttons and links built by the page,
``confirm`` (the kit's `ConfirmDialog`), ``row_box``, ``compare_box`` and ``_tell``/``refresh``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from bearing_workbench.panels.kit import MAX_BYTES, DownloadLink, fragments
from bearing_workbench.store import StoreError
from bearing_workbench.store.artifacts import KIND_BY_KEY, MODEL_FILE_KEYS, ExperimentFolder

# Model files a row's "model" button offers, best first: (label, file name).
MODEL_FILES = tuple((KIND_BY_KEY[key].label, KIND_BY_KEY[key].filename) for key in MODEL_FILE_KEYS)
_esc = fragments.esc
RETRY_WAIT_S = 60.0  # a Retry right after a stop waits this long for the stopped run's task to return
log = logging.getLogger(__name__)


class HistoryActions:
    """What the history page does with its selection and its rows (a mixin; see the module docstring)."""

    _store: Any
    selected: list[int]

    # -- selection and bulk actions ------------------------------------------------------------------

    def _on_table_selection(self, change: dict[str, Any]) -> None:
        # The table holds the whole selection (ids of other pages too) and edits it in place.
        self.selected = list(change["new"])

    def _on_selected(self, _change: Any = None) -> None:
        ids = list(self.selected)
        if self.table.selected != ids:
            self.table.selected = ids
        count = len(ids)
        self.selection_html.value = f"<b>{count}</b> selected" if count else fragments.muted("none selected")
        for button in (self.delete_button, self.export_button, self.clear_selection_button):
            button.disabled = count == 0
        self.compare_button.disabled = not 2 <= count <= 10
        self.compare_button.tooltip = "compare 2 to 10 completed experiments"
        if count >= 2:
            link = fragments.app_link("wizard", "add to an ensemble", family="ensemble", members=ids)
            self.ensemble_html.value = f'<span class="bw-inline-link">{link}</span>'
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
            view = CompareView(list(self.selected), store=self._store, embedded=True)
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
        question = f"Delete {len(ids)} experiment(s) ({shown}) with their files? This cannot be undone."
        self.confirm.ask(
            question,
            self.confirm_delete,
            confirm_label="Yes, delete",
            on_cancel=self.cancel_delete,
            question_html=f"<b>Delete {len(ids)} experiment(s)</b> ({_esc(shown)}) with their files? "
            "This cannot be undone.",
        )

    def confirm_delete(self) -> None:
        """Delete what `ask_delete` asked about (all of it, or nothing when one cannot be deleted)."""
        ids, self._pending_delete = self._pending_delete, []
        self.confirm.dismiss()  # called directly (a script, a test): the question is answered
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
        self.confirm.dismiss()
        self._tell("nothing deleted")

    def export(self) -> None:
        """Write a zip of the selected experiments under the workspace and offer it for download."""
        ids = list(self.selected)
        try:
            with self.busy.working(f"writing a zip of {len(ids)} experiment(s)…"):
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
        """A row button: "model" (download links of its model files), "note" (notes and tags editor) or
        "retry" (a failed, lost or stopped run continues from its latest checkpoint)."""
        handlers: dict[str, Callable[[int], Any]] = {
            "model": self.show_model_files,
            "note": self.edit_note,
            "retry": self.retry,
        }
        try:
            record = self._store.get_experiment(experiment_id)
        except StoreError as exc:
            self._tell(str(exc), error=True)
            return
        handlers[action](record.id)

    def retry(self, experiment_id: int) -> threading.Thread:
        """Resubmit a failed, lost or stopped run from its latest checkpoint, in the background (the
        runner's `resubmit`; its first call imports torch); the page says so and lists it again after."""
        self._tell(f"retrying #{experiment_id}\u2026 (resubmitting from its latest checkpoint)")
        name = f"history-retry-{experiment_id}"
        worker = threading.Thread(target=self._retry, args=(experiment_id,), name=name, daemon=True)
        worker.start()
        return worker

    def _retry(self, experiment_id: int) -> None:
        from bearing_workbench.runner.cluster import existing_client
        from bearing_workbench.runner.launch import resubmit

        try:
            resubmit(experiment_id, client=existing_client(), store=self._store, wait_s=RETRY_WAIT_S)
        except Exception as exc:
            log.exception("retry of experiment %s failed", experiment_id)
            self._tell(f"could not retry #{experiment_id}: {type(exc).__name__}: {exc}", error=True)
            return
        self._tell(f"#{experiment_id} resubmitted: it continues from its latest checkpoint")
        self.refresh()

    def _show_row_box(self, title: str, children: list[widgets.Widget]) -> None:
        close = widgets.Button(description="Close", layout=widgets.Layout(width="auto"))
        close.on_click(lambda _: self._hide_row_box())
        self.row_box.children = [widgets.HTML(fragments.section_title(title)), *children, close]
        self.row_box.layout.display = ""

    def _hide_row_box(self) -> None:
        self.row_box.children = []
        self.row_box.layout.display = "none"

    def model_files(self, experiment_id: int) -> list[tuple[str, Any]]:
        """(label, path) of the model files the experiment folder holds, confined to that folder."""
        folder = ExperimentFolder.of(experiment_id, self._store.workspace)
        found = []
        for label, name in MODEL_FILES:
            path = folder.resolve(name)
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
                f"no model file yet (the run is {record.status.value})"
                if record.status.value != "completed"
                else "no model file in its folder (runs from before classical and ensemble models were "
                "saved have none; train it again)"
            )
            children.append(widgets.HTML(fragments.muted(why)))
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

    def _tell(self: Any, text: str, error: bool = False) -> None:
        """Show a message above the table (red when something could not be done)."""
        self.notice_error = error
        self.notice = text
        self.tell(text, "error" if error else "info")
