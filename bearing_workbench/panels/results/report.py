"""The PDF report section of the Artifacts tab: a button that submits the report job
(`runner.reports`), its progress, and a download link once the PDF is written."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import traitlets

from bearing_workbench.analysis import format as fmt
from bearing_workbench.analysis.format import size as format_bytes
from bearing_workbench.panels.kit import DownloadLink, fragments
from bearing_workbench.panels.results.elements import esc
from bearing_workbench.store import Store
from bearing_workbench.store.artifacts import ExperimentFolder

log = logging.getLogger(__name__)


class ReportSection(widgets.VBox):
    """Generate the PDF report of one experiment and offer it for download.

    Args:
        client: a Dask client for the report job (default: the runner's choice).
        filename: the name the PDF is saved under.

    Traits: `status` ("", "running", "done", "failed"), `progress` (0-1), `path` (the PDF, once done).
    """

    status = traitlets.Unicode("")
    progress = traitlets.Float(0.0)
    path = traitlets.Unicode(None, allow_none=True)

    def __init__(self, store: Store, experiment_id: int, filename: str, client: Any = None):
        self._store = store
        self._client = client
        self.experiment_id = experiment_id
        self.button = widgets.Button(
            description="Generate PDF report", icon="file-pdf-o", layout=widgets.Layout(width="auto")
        )
        self.button.on_click(self.generate)
        self.bar = widgets.FloatProgress(
            value=0.0, min=0.0, max=1.0, layout=widgets.Layout(width="40%", display="none")
        )
        self.label = widgets.HTML()
        self.link = DownloadLink("PDF report", filename, "application/pdf")
        self.link.layout.display = "none"
        super().__init__(
            [
                widgets.HBox(
                    [self.button, self.bar, self.label], layout=widgets.Layout(align_items="center")
                ),
                self.link,
            ]
        )

    def generate(self, _: Any = None) -> None:
        """Submit the report job; progress and the result come back through callbacks."""
        # distributed comes with the report job: imported on the first click, not with the page.
        from bearing_workbench.runner.reports import submit_report

        self.status = "running"
        self.path = None
        self.button.disabled = True
        self.bar.value = 0.0
        self.bar.bar_style = ""
        self.bar.layout.display = ""
        self.label.value = "starting…"
        self.link.layout.display = "none"
        try:
            future = submit_report(
                self.experiment_id, store=self._store, client=self._client, on_progress=self._step
            )
        except Exception as exc:
            log.exception("report of experiment %s could not be submitted", self.experiment_id)
            self._failed(exc)
            return
        future.add_done_callback(self._done)

    def _step(self, fraction: float, message: str) -> None:
        """`on_progress` of the report: called in this process, possibly on another thread."""
        if self.status != "running":
            return
        self.progress = min(1.0, max(0.0, float(fraction)))
        self.bar.value = self.progress
        self.label.value = f"{esc(fmt.percent(self.progress, 0))} &middot; {esc(message)}"

    def _done(self, future: Any) -> None:
        try:
            path = Path(future.result()).resolve()
            # The path comes back from a worker: read it only inside this experiment's folder.
            folder = ExperimentFolder.of(self.experiment_id, self._store.workspace)
            if not path.is_relative_to(folder.path.resolve()):
                raise ValueError(
                    f"the report {path} is outside the experiment folder {folder.path}; not offered"
                )
            inside = folder.existing_file(path.relative_to(folder.path.resolve()))
            data = inside.read_bytes()
            self.link.set_data(data)  # refuses a file too large for a link
        except Exception as exc:
            log.warning("report of experiment %s failed: %s", self.experiment_id, exc)
            self._failed(exc)
            return
        self.link.layout.display = ""
        self.bar.value = 1.0
        self.bar.bar_style = "success"
        self.label.value = f"report ready: {esc(inside.name)} ({esc(format_bytes(len(data)))})"
        self.button.disabled = False
        self.progress = 1.0
        self.path = str(inside)
        self.status = "done"

    def _failed(self, exc: BaseException) -> None:
        self.bar.bar_style = "danger"
        self.label.value = fragments.message(f"report failed: {type(exc).__name__}: {exc}", "error")
        self.button.disabled = False
        self.status = "failed"
