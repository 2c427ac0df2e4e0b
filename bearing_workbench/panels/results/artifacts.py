"""The Artifacts tab: the experiment folder's files as downloads, the PDF report, and the actions
(clone and retrain, add to an ensemble, delete after a confirmation)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from bearing_workbench.analysis.results import ENSEMBLE_FAMILY, ResultBundle
from bearing_workbench.panels.kit import MAX_BYTES, ConfirmDialog, DownloadLink, fragments, safe_filename
from bearing_workbench.panels.results.elements import note, section
from bearing_workbench.panels.results.report import ReportSection
from bearing_workbench.runner.monitoring import format_bytes
from bearing_workbench.store import Store, confined_path

# The experiment folder's files offered for download: (label, file name, MIME type).
DOWNLOADS = (
    ("checkpoint (best.pt)", "best.pt", "application/octet-stream"),
    ("ONNX model", "model.onnx", "application/octet-stream"),
    ("config YAML", "config.yaml", "text/yaml"),
    ("test predictions CSV", "predictions_test.csv", "text/csv"),
    ("history JSON", "history.json", "application/json"),
    ("metrics JSON", "metrics.json", "application/json"),
)
# Files up to this size are put in their link when the tab opens; larger ones on a click.
EAGER_BYTES = 2 * 2**20


def artifact_file(bundle: ResultBundle, name: str) -> Path:
    """The path of file `name` in the experiment's folder; names that leave the folder are refused
    (ValueError), a file that is not there raises FileNotFoundError."""
    path = confined_path(bundle.folder, name)
    if not path.is_file():
        raise FileNotFoundError(f"experiment {bundle.record.id} has no {name} in {bundle.folder}")
    return path


def download_name(experiment_id: int, name: str) -> str:
    """The file name a download of `name` is saved under."""
    return safe_filename(f"experiment-{experiment_id}-{name}")


class ArtifactsTab(widgets.VBox):
    """Downloads, the PDF report and the actions of one experiment.

    Args:
        on_delete: called once the reader has confirmed the deletion.
        client: a Dask client for the PDF report.
    """

    def __init__(self, store: Store, bundle: ResultBundle, on_delete: Callable[[], Any], client: Any = None):
        super().__init__()
        self.bundle = bundle
        experiment_id = bundle.record.id
        self.download_links: dict[str, DownloadLink] = {}
        self.prepare_buttons: dict[str, widgets.Button] = {}
        rows = [self._download_row(label, name, mime) for label, name, mime in DOWNLOADS]
        png = note("PNG of the confusion matrix, ROC and training curves: the camera button above each chart")
        self.report = ReportSection(store, experiment_id, download_name(experiment_id, "report.pdf"), client)
        self.children = [
            section("Downloads"),
            *rows,
            png,
            section("Report"),
            self.report,
            section("Actions"),
            *self._actions(on_delete),
        ]

    # downloads

    def _download_row(self, label: str, name: str, mime: str) -> widgets.HBox:
        link = DownloadLink(label, download_name(self.bundle.record.id, name), mime)
        self.download_links[name] = link
        extra: list[widgets.Widget]
        try:
            size = artifact_file(self.bundle, name).stat().st_size
        except FileNotFoundError:
            extra = [note("not written for this experiment")]
        else:
            extra = [note(format_bytes(size))]
            if size > MAX_BYTES:
                extra.append(note(f"too large for a browser download: {artifact_file(self.bundle, name)}"))
            elif size <= EAGER_BYTES:
                self.prepare_download(name)
            else:
                button = widgets.Button(description="Prepare download", layout=widgets.Layout(width="auto"))
                button.on_click(lambda _, n=name: self.prepare_download(n))
                self.prepare_buttons[name] = button
                extra.append(button)
        for widget in extra:
            widget.layout.margin = "0 0 0 10px"
        return widgets.HBox([link, *extra], layout=widgets.Layout(align_items="center"))

    def prepare_download(self, name: str) -> None:
        """Put file `name` of the experiment folder into its download link."""
        path = artifact_file(self.bundle, name)
        self.download_links[name].set_data(path.read_bytes())
        button = self.prepare_buttons.get(name)
        if button is not None:
            button.layout.display = "none"

    # actions

    def _actions(self, on_delete: Callable[[], Any]) -> list[widgets.Widget]:
        record = self.bundle.record
        links = [
            fragments.app_link(
                "wizard", "Clone & retrain", new_tab=False, css_class="bw-clone", clone=record.id
            )
        ]
        if record.family == ENSEMBLE_FAMILY:
            links.append(fragments.muted("an ensemble cannot be a member of another ensemble"))
        else:
            links.append(
                fragments.app_link(
                    "wizard",
                    "Add to ensemble",
                    new_tab=False,
                    css_class="bw-ensemble",
                    family=ENSEMBLE_FAMILY,
                    members=[record.id],
                )
            )
        self.action_links = widgets.HTML(
            f'<div style="display:flex;gap:10px;align-items:center">{"".join(links)}</div>'
        )
        self.delete_button = widgets.Button(description="Delete", button_style="danger", icon="trash")
        self.confirm = ConfirmDialog()
        question = (
            f"Delete experiment {record.id} ({record.name}), its results and its folder? "
            "This cannot be undone."
        )
        self.delete_button.on_click(
            lambda _: self.confirm.ask(question, on_delete, confirm_label="Yes, delete")
        )
        return [self.action_links, self.delete_button, self.confirm]
