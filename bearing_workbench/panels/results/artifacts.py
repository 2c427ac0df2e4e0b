"""The Artifacts tab: the experiment folder's files as downloads, the PDF report, and the actions
(clone and retrain, add to an ensemble, delete after a confirmation)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from bearing_workbench.analysis.results import ENSEMBLE_FAMILY
from bearing_workbench.analysis.results_info import ResultsInfo
from bearing_workbench.panels.kit import ConfirmDialog, DownloadLink, fragments
from bearing_workbench.panels.results.downloads import FileDownloads, download_name
from bearing_workbench.panels.results.elements import note, section
from bearing_workbench.panels.results.report import ReportSection
from bearing_workbench.store import Store
from bearing_workbench.store.artifacts import KIND_BY_KEY


class ArtifactsTab(widgets.VBox):
    """Downloads (`ResultsInfo.files`), the PDF report and the actions of one experiment.

    Args:
        on_delete: called once the reader has confirmed the deletion.
        client: a Dask client for the PDF report.
    """

    def __init__(self, store: Store, info: ResultsInfo, on_delete: Callable[[], Any], client: Any = None):
        super().__init__()
        self.info = info
        experiment_id = info.experiment_id
        assert info.folder is not None  # results_info always names it
        self.downloads = FileDownloads(info.folder, experiment_id, info.files)
        self.download_links: dict[str, DownloadLink] = self.downloads.links
        self.prepare_buttons: dict[str, widgets.Button] = self.downloads.prepare_buttons
        png = note("PNG of the confusion matrix, ROC and training curves: the camera button above each chart")
        report_name = download_name(experiment_id, KIND_BY_KEY["report"].filename)
        self.report = ReportSection(store, experiment_id, report_name, client)
        self.children = [
            section("Downloads"),
            self.downloads,
            png,
            section("Report"),
            self.report,
            section("Actions"),
            *self._actions(on_delete),
        ]

    def prepare_download(self, name: str) -> None:
        """Put file `name` of the experiment folder into its download link."""
        self.downloads.prepare(name)

    # actions

    def _actions(self, on_delete: Callable[[], Any]) -> list[widgets.Widget]:
        info = self.info
        links = [
            fragments.app_link(
                "wizard", "Clone & retrain", new_tab=False, css_class="bw-clone", clone=info.experiment_id
            )
        ]
        if info.ensemble:
            links.append(fragments.muted("an ensemble cannot be a member of another ensemble"))
        else:
            links.append(
                fragments.app_link(
                    "wizard",
                    "Add to ensemble",
                    new_tab=False,
                    css_class="bw-ensemble",
                    family=ENSEMBLE_FAMILY,
                    members=[info.experiment_id],
                )
            )
        self.action_links = widgets.HTML(
            f'<div style="display:flex;gap:10px;align-items:center">{"".join(links)}</div>'
        )
        self.delete_button = widgets.Button(description="Delete", button_style="danger", icon="trash")
        self.confirm = ConfirmDialog()
        question = (
            f"Delete experiment {info.experiment_id} ({info.name}), its results and its folder? "
            "This cannot be undone."
        )
        self.delete_button.on_click(
            lambda _: self.confirm.ask(question, on_delete, confirm_label="Yes, delete")
        )
        return [self.action_links, self.delete_button, self.confirm]
