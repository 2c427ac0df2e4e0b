"""The Evaluations tab: how the experiment's model did on data other than its own test split.

Top to bottom: the summary line ("evaluated on: demo test split 98.1 %; plant-a all records 91.0 %"),
every evaluation in a table, a chooser showing one (`evaluation_views.EvaluationView`), and the launch
controls (`evaluation_launch`). A launch submits a job through `runner.evaluations` (the runner owns
Dask; this tab never imports it), shows its progress in the page's busy indicator, and re-reads the
evaluations (`analysis.evaluations.evaluation_infos`) when the job ends.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets
import traitlets

from bearing_workbench.analysis import format as fmt
from bearing_workbench.analysis.evaluations import EvaluationInfo, evaluation_infos
from bearing_workbench.analysis.results_info import ResultsInfo
from bearing_workbench.panels.kit import BusyIndicator, fragments
from bearing_workbench.panels.results.elements import section
from bearing_workbench.panels.results.evaluation_launch import LaunchControls
from bearing_workbench.panels.results.evaluation_views import (
    EvaluationView,
    choice_text,
    list_table,
    own_dataset,
    summary_html,
)
from bearing_workbench.store import Store

log = logging.getLogger(__name__)

Tell = Callable[[str, fragments.Tone], Any]


def submit(kind: str, experiment_id: int, **kwargs: Any) -> Any:
    """Submit an evaluation job (`kind` "dataset" or "robustness") through the runner; its future.

    distributed comes with the runner: imported on the first launch, not with the page.
    """
    from bearing_workbench.runner import evaluations

    if kind == "robustness":
        return evaluations.submit_robustness(experiment_id, **kwargs)
    return evaluations.submit_evaluation(experiment_id, **kwargs)


class EvaluationsTab(widgets.VBox):
    """The evaluations of one experiment and the controls that start new ones (see the module doc).

    Args:
        busy: the page's busy indicator (a job's progress goes there).
        tell: the page's message line (a job's outcome goes there).
        lock: the page's state lock, held while the tab redraws from a job's thread.
        client: a Dask client for the jobs (default: the runner's choice).

    Traits: `selected` (the evaluation shown, None when there is none), `job` ("" before any launch,
    "running", "done", "failed"). Parts: `summary_html`, `list_html`, `chooser`, `view`, `launch`.
    """

    selected = traitlets.Int(None, allow_none=True)
    job = traitlets.Unicode("")

    def __init__(
        self,
        store: Store,
        info: ResultsInfo,
        *,
        busy: BusyIndicator,
        tell: Tell,
        lock: threading.RLock | None = None,
        client: Any = None,
    ):
        super().__init__()
        self.add_class("bw-evaluations")
        self._store = store
        self._client = client
        self._busy = busy
        self._tell = tell
        self._lock = lock if lock is not None else threading.RLock()
        self.info = info
        self.experiment_id = info.experiment_id
        self.evaluations: tuple[EvaluationInfo, ...] = ()
        self.summary_html = widgets.HTML()
        self.summary_html.add_class("bw-evaluations-summary")
        self.list_html = widgets.HTML()
        self.chooser = widgets.Dropdown(
            description="show", style={"description_width": "initial"}, layout=widgets.Layout(width="auto")
        )
        self.chooser.add_class("bw-evaluation-chooser")
        self.refresh_button = widgets.Button(description="Refresh", layout=widgets.Layout(width="auto"))
        self.refresh_button.on_click(lambda _: self.reload())
        self.view_box = widgets.VBox()
        self.view: EvaluationView | None = None
        self._redrawing = False
        own = own_dataset(info)
        names = [d.name for d in store.list_datasets()]  # newest first; the model's own dataset last
        self.launch = LaunchControls(
            [name for name in names if name != own] + [name for name in names if name == own],
            on_evaluate=self.evaluate,
            on_robustness=self.robustness,
        )
        self.children = [
            self.summary_html,
            section("Evaluations of this model"),
            self.list_html,
            widgets.HBox([self.chooser, self.refresh_button], layout=widgets.Layout(align_items="center")),
            self.view_box,
            section("Evaluate this model"),
            self.launch,
        ]
        self.chooser.observe(self._on_choice, names="value")
        self.reload()

    # -- reading and drawing -------------------------------------------------------------------------

    def reload(self, select: int | None = None) -> None:
        """Read the evaluations again and redraw; show evaluation `select`, else the one shown before,
        else the newest."""
        evaluations = evaluation_infos(self._store, self.experiment_id)
        with self._lock:
            self.evaluations = evaluations
            ids = [e.evaluation_id for e in evaluations]
            if select in ids:
                chosen: int | None = select
            elif self.selected in ids:
                chosen = self.selected
            else:
                chosen = ids[0] if ids else None
            self.summary_html.value = summary_html(self.info, evaluations)
            if evaluations:
                self.list_html.value = list_table(evaluations)
            else:
                self.list_html.value = fragments.message(
                    "no evaluation yet: evaluate this model on another dataset, "
                    "or run a robustness sweep, below",
                    "muted",
                )
            self._redrawing = True  # the chooser's passing values while its options change draw nothing
            try:
                self.chooser.options = [(choice_text(e), e.evaluation_id) for e in evaluations]
                self.chooser.value = chosen
            finally:
                self._redrawing = False
            self.chooser.layout.display = "" if evaluations else "none"
            self._show(chosen)

    def _on_choice(self, change: Mapping[str, Any]) -> None:
        if not self._redrawing and change["new"] != self.selected:
            with self._lock:
                self._show(change["new"])

    def _show(self, evaluation_id: int | None) -> None:
        evaluation = next((e for e in self.evaluations if e.evaluation_id == evaluation_id), None)
        if self.view is not None and (evaluation is None or evaluation != self.view.evaluation):
            self.view.close()
            self.view = None
        if evaluation is not None and self.view is None:
            self.view = EvaluationView(evaluation)
        self.view_box.children = (self.view,) if self.view is not None else ()
        self.selected = evaluation_id if evaluation is not None else None

    def select(self, evaluation_id: int) -> EvaluationView:
        """Show evaluation `evaluation_id` (ValueError when the experiment has no such evaluation)."""
        if evaluation_id not in [e.evaluation_id for e in self.evaluations]:
            raise ValueError(f"experiment {self.experiment_id} has no evaluation {evaluation_id}")
        self.chooser.value = evaluation_id
        assert self.view is not None
        return self.view

    # -- launching ------------------------------------------------------------------------------------

    def evaluate(self, dataset: str, split: str | None, classes_map: Mapping[str, str]) -> None:
        """Evaluate the model on `dataset` (every record, or one split), classes renamed by `classes_map`."""
        where = f"{dataset} {'all records' if split is None else f'{split} split'}"
        self._launch(
            f"evaluating on {where}",
            "dataset",
            dataset=dataset,
            split=split,
            classes_map=dict(classes_map) or None,
        )

    def robustness(self) -> None:
        """Run the robustness sweep on the experiment's own test split."""
        self._launch("robustness sweep", "robustness")

    def _launch(self, what: str, kind: str, **kwargs: Any) -> None:
        if self.job == "running":
            self._tell("an evaluation started from this page is still running: wait for it to end", "warning")
            return
        self.job = "running"
        self.launch.set_running(True)
        self._busy.start(f"{what}: submitting…", 0.0)
        self._say(f"{what}: submitting…", "muted")

        def step(fraction: float, message: str) -> None:  # on_progress: in this process, any thread
            if self.job == "running":
                share = min(1.0, max(0.0, float(fraction)))
                self._busy.update(f"{what}: {message}", share)
                self._say(f"{what}: {fmt.percent(share, 0)} · {message}", "muted")

        try:
            future = submit(
                kind, self.experiment_id, store=self._store, client=self._client, on_progress=step, **kwargs
            )
        except Exception as exc:  # refused before it ran: a bad split, an unreachable cluster...
            log.warning("evaluation of experiment %s not submitted: %s", self.experiment_id, exc)
            self._ended(what, None, exc)
            return
        future.add_done_callback(lambda done: self._done(what, done))

    def _done(self, what: str, future: Any) -> None:
        """The job ended: its result is the stored evaluation's id. A failure after the evaluation was
        stored carries its id (`EvaluationFailed`); input refused before that left nothing."""
        try:
            evaluation_id = future.result()
        except Exception as exc:
            self._ended(what, getattr(exc, "evaluation_id", None), exc)
            return
        self._ended(what, evaluation_id if isinstance(evaluation_id, int) else None, None)

    def _ended(self, what: str, evaluation_id: int | None, error: BaseException | None) -> None:
        """Stop the progress, read the evaluations again (showing the job's, when it stored one) and
        say how it went. Runs on the job's thread: it never raises."""
        self._busy.stop()
        self.launch.set_running(False)
        try:
            self.reload(evaluation_id)
        except Exception as exc:
            log.exception("evaluations of experiment %s could not be read", self.experiment_id)
            self._tell(f"the evaluations could not be read: {exc}", "error")
        if error is not None:
            self.job = "failed"
            self._say(f"{what} failed: {getattr(error, 'message', None) or error}", "error")
            return
        self.job = "done"
        shown = next((e for e in self.evaluations if e.evaluation_id == evaluation_id), None)
        if shown is not None:
            self._say(f"{shown.label}: accuracy {shown.accuracy_text}", "success")
        else:
            self._say(f"{what}: done", "success")

    def _say(self, text: str, tone: fragments.Tone) -> None:
        """A job's news, on the page's message line and under the buttons that started it (the page's
        top may be scrolled out of sight when the buttons are clicked)."""
        self.launch.message.say(text, tone)
        if tone != "muted":  # progress goes to the page's busy indicator; the outcome to its message line
            self._tell(text, tone)
