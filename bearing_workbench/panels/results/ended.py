"""The results page of a run that ended without its test evaluation (stopped, or failed): what it left.

Test metrics, the confusion matrix and the failure cases come from the evaluation a run makes once
its training completes; a stopped or failed run has none. Rather than refusing the page ("not
completed"), it shows what exists: the curves of the epochs the run trained, its configuration and
checkpoints as downloads, and the ways on: resume it from its last checkpoint in the monitor (the
monitor's Retry), or clone it in the wizard.
"""

from __future__ import annotations

import ipywidgets as widgets

from bearing_workbench.analysis.history import history_rows
from bearing_workbench.analysis.results_info import ResultFile
from bearing_workbench.panels.curves import curve_traces, curves_layout
from bearing_workbench.panels.kit import fragments
from bearing_workbench.panels.results.downloads import FileDownloads
from bearing_workbench.panels.results.elements import figure, note, section
from bearing_workbench.store import ExperimentRecord, RunStatus, Store
from bearing_workbench.store.artifacts import KIND_BY_KEY, ExperimentFolder, PresentArtifact

# Statuses of a run that ended before its test evaluation.
ENDED_EARLY = frozenset({RunStatus.STOPPED, RunStatus.FAILED})


def _planned_epochs(record: ExperimentRecord) -> int | None:
    epochs = (record.config.get("training") or {}).get("epochs")
    return epochs if isinstance(epochs, int) and not isinstance(epochs, bool) and epochs > 0 else None


def explanation_html(record: ExperimentRecord, epochs_run: int, last_checkpoint: str | None) -> str:
    """Why there are no test results, and what the reader can do now."""
    planned = _planned_epochs(record)
    ran = f"after {epochs_run} epoch{'s' if epochs_run != 1 else ''}" + (f" of {planned}" if planned else "")
    if RunStatus(record.status) == RunStatus.STOPPED:
        what = f"This run was stopped {ran}"
    else:
        what = f"This run failed {ran}" + (f": {record.error}" if record.error else "")
    lines = [
        fragments.message(
            f"{what}, before the test evaluation a completed run gets: it has no test metrics, "
            "confusion matrix or failure cases. Below: what it left.",
            "warning",
        )
    ]
    if record.hint:
        lines.append(fragments.message(f"Hint: {record.hint}", "muted"))
    resume = f"resume it from its last checkpoint ({last_checkpoint})" if last_checkpoint else "run it again"
    monitor = fragments.app_link(
        "monitor", f"{resume} in the monitor (Retry)", new_tab=False, experiment=record.id
    )
    clone = fragments.app_link("wizard", "clone it in the wizard", new_tab=False, clone=record.id)
    lines.append(f'<div class="bw-next">To get test results: {monitor}, or {clone}.</div>')
    return "".join(lines)


def _file(key: str, label: str, name: str, present: dict[str, PresentArtifact]) -> ResultFile:
    found = present.get(name)
    mime = found.mime if found is not None else KIND_BY_KEY.get(key, KIND_BY_KEY["best_checkpoint"]).mime
    return ResultFile(key, label, name, mime, found.size if found is not None else None)


class EndedRun(widgets.VBox):
    """What a stopped or failed run left: the explanation, its training curves and its files.

    Attributes: `history` (one row per epoch trained), `last_checkpoint` (file name of the checkpoint a
    resume reads, None without one), `history_figure` (None without epochs), `downloads`.
    """

    def __init__(self, store: Store, record: ExperimentRecord):
        super().__init__()
        folder = ExperimentFolder.of(record.id, store.workspace)
        self.history = history_rows(store.epochs(record.id))
        # What Retry resumes from: last.pt (kept after every epoch and at the stop), else the newest
        # epoch file of a folder written before last.pt was kept (training.checkpoint.resume_point).
        checkpoints = [path.name for _, path in folder.epoch_checkpoints()]
        if folder.last_checkpoint.is_file():
            checkpoints.append(folder.last_checkpoint.name)
        self.last_checkpoint = checkpoints[-1] if checkpoints else None
        self.explanation = widgets.HTML(explanation_html(record, len(self.history), self.last_checkpoint))
        self.history_figure = None
        curves: widgets.Widget
        if self.history:
            self.history_figure = figure(
                curve_traces(self.history), curves_layout(self.history), f"experiment-{record.id}-curves"
            )
            curves = self.history_figure
        else:
            curves = note("no epoch was recorded before the run ended")
        present = {item.name: item for item in folder.present()}
        best = folder.best_checkpoint.name
        files = [
            _file("config", KIND_BY_KEY["config"].label, folder.config.name, present),
            _file("best_checkpoint", f"best checkpoint so far ({best})", best, present),
        ]
        if self.last_checkpoint is not None:
            label = f"last checkpoint ({self.last_checkpoint})"
            files.append(_file("epoch_checkpoint", label, self.last_checkpoint, present))
        self.downloads = FileDownloads(folder.path, record.id, files)
        self.children = [
            self.explanation,
            section("Training history (the epochs it ran)"),
            curves,
            section("What it left"),
            self.downloads,
        ]
