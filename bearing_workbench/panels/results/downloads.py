"""Files of an experiment folder as download links: small files ready at once, larger ones on a
click, too large ones named by their path (a data-URI link carries at most `MAX_BYTES`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import ipywidgets as widgets

from bearing_workbench.analysis.results_info import ResultFile
from bearing_workbench.panels.kit import MAX_BYTES, DownloadLink, safe_filename
from bearing_workbench.panels.results.elements import note
from bearing_workbench.store.artifacts import ExperimentFolder

# Files up to this size are put in their link when the rows are built; larger ones on a click.
EAGER_BYTES = 2 * 2**20


def artifact_file(folder: Path, experiment_id: int, name: str) -> Path:
    """The path of file `name` in an experiment's folder; names that leave the folder are refused
    (ValueError), a file that is not there raises FileNotFoundError."""
    return ExperimentFolder.at(folder).existing_file(name)


def download_name(experiment_id: int, name: str) -> str:
    """The file name a download of `name` is saved under."""
    return safe_filename(f"experiment-{experiment_id}-{name}")


class FileDownloads(widgets.VBox):
    """One row per file: its download link, its size, and a "Prepare download" button for a large one.

    Args:
        files: the files of `folder` to offer, each with its size (None: not written), as the
            experiment's `ResultsInfo.files` lists them.

    Attributes: `links` and `prepare_buttons`, by file name.
    """

    def __init__(self, folder: Path, experiment_id: int, files: Sequence[ResultFile]):
        super().__init__()
        self.folder = folder
        self.experiment_id = experiment_id
        self.links: dict[str, DownloadLink] = {}
        self.prepare_buttons: dict[str, widgets.Button] = {}
        self.children = [self._row(file) for file in files]

    def _row(self, file: ResultFile) -> widgets.HBox:
        name, size = file.name, file.size
        link = DownloadLink(file.label, download_name(self.experiment_id, name), file.mime)
        self.links[name] = link
        extra: list[widgets.Widget] = [note(file.size_text)]
        if size is not None:
            if size > MAX_BYTES:
                path = ExperimentFolder.at(self.folder).resolve(name)
                extra.append(note(f"too large for a browser download: {path}"))
            elif size <= EAGER_BYTES:
                try:
                    self.prepare(name)
                except FileNotFoundError:  # removed since the page read the folder
                    extra = [note("no longer in the experiment folder")]
            else:
                button = widgets.Button(description="Prepare download", layout=widgets.Layout(width="auto"))
                button.on_click(lambda _, n=name: self.prepare(n))
                self.prepare_buttons[name] = button
                extra.append(button)
        for widget in extra:
            widget.layout.margin = "0 0 0 10px"
        return widgets.HBox([link, *extra], layout=widgets.Layout(align_items="center"))

    def prepare(self, name: str) -> None:
        """Put file `name` of the folder into its download link."""
        path = artifact_file(self.folder, self.experiment_id, name)
        self.links[name].set_data(path.read_bytes())
        button = self.prepare_buttons.get(name)
        if button is not None:
            button.layout.display = "none"
