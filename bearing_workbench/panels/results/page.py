"""The results page of one experiment: ``ExperimentResults(experiment_id)``, a kit `Page`.

A completed run gets five tabs: Overview (`overview`), Detailed metrics (`details`), Visualisations
(`visuals`, with the failure cases of `failures`), Artifacts (`artifacts`, with the downloads of
`downloads` and the PDF report of `report`) and Evaluations (`evaluations`: the model on other data,
its robustness sweep, and the controls that start them). Only the Overview is built with the page; the others
on their first selection, under a busy indicator (plotly's first figure and the model views take
seconds). A stopped or failed run gets what it left instead (`ended`). Every number comes from one
`ResultsInfo` (`analysis.results_info`), the object the PDF report renders too, so the page and the
report cannot disagree; the tabs lay widgets out.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import traitlets

from bearing_workbench.analysis.results_info import CellRecord, ResultsInfo, results_info
from bearing_workbench.config.arguments import QueryExperimentId, check
from bearing_workbench.panels.kit import BusyIndicator, Page, fragments
from bearing_workbench.panels.results.artifacts import ArtifactsTab
from bearing_workbench.panels.results.details import DetailsTab
from bearing_workbench.panels.results.downloads import artifact_file, download_name
from bearing_workbench.panels.results.ended import ENDED_EARLY, EndedRun
from bearing_workbench.panels.results.evaluations import EvaluationsTab
from bearing_workbench.panels.results.overview import OverviewTab, title_extras
from bearing_workbench.store import ExperimentRecord, Store

if TYPE_CHECKING:
    from bearing_workbench.panels.results.visuals import VisualsTab

log = logging.getLogger(__name__)

TAB_TITLES = ("Overview", "Detailed metrics", "Visualisations", "Artifacts", "Evaluations")
OVERVIEW, DETAILS, VISUALS, ARTIFACTS, EVALUATIONS = range(5)
# What the reader is told while a tab is built (plotly's first figure and the model views take seconds).
BUILDING = {
    DETAILS: "Detailed metrics: drawing the confusion matrix and the ROC curves…",
    VISUALS: "Visualisations: drawing the training curves, the model-specific views and the failure cases…",
    ARTIFACTS: "Artifacts: reading the experiment's files…",
    EVALUATIONS: "Evaluations: reading this model's evaluations on other data…",
}


def _warm_plotly() -> None:
    """Import plotly's widget in the background: the first figure then comes without that wait."""
    try:
        from bearing_workbench.panels import live_figure  # noqa: F401
    except Exception:  # the tab that needs it will say what went wrong
        log.debug("plotly could not be imported ahead", exc_info=True)


class ExperimentResults(Page):
    """The results of one experiment (a kit `Page`: its title, notifications, messages).

    Args:
        experiment_id: a completed experiment, or one that was stopped or failed (its page shows what
            it left: `ended`, no tabs). An unknown id raises `NotFoundError`; one still pending,
            running or paused, or a completed one whose metrics.json is missing, a `ValueError`
            naming what is missing.
        store: default the workspace's store.
        client: a Dask client for the PDF report (default: the runner's choice).

    The tabs, once built: `overview`, `details`, `visuals`, `artifacts`, `evaluations` (None before).
    Traits (not synced to the browser; for tests and observers): `built_tabs` (titles of the tabs
    built so far), `selected_cell` ((true, predicted) labels of the clicked cell, empty for the 10
    worst predictions), `deleted`.
    """

    app = "results"
    experiment_id = traitlets.Int()
    status = traitlets.Unicode()
    built_tabs = traitlets.List(traitlets.Unicode())
    selected_cell = traitlets.Tuple()
    deleted = traitlets.Bool(False)

    def __init__(self, experiment_id: int, store: Store | None = None, *, client: Any = None):
        self._store = store if store is not None else Store()
        self._client = client
        experiment_id = check(QueryExperimentId, experiment_id, "experiment_id")
        self.ended: EndedRun | None = None
        record = self._store.get_experiment(experiment_id)
        if record.status in ENDED_EARLY:
            self._init_ended(record)
            return
        self.info: ResultsInfo = results_info(self._store, experiment_id)
        info = self.info
        self.cell_rows: tuple[CellRecord, ...] = ()
        self.details: DetailsTab | None = None
        self.visuals: VisualsTab | None = None
        self.artifacts: ArtifactsTab | None = None
        self.evaluations: EvaluationsTab | None = None
        super().__init__(info.name, store=self._store)
        self.set_title(
            info.name,
            *title_extras(info.experiment_id, info.status, info.family, info.duration_s, info.finished_at),
        )
        self.overview = OverviewTab(info)
        self.tabs = widgets.Tab(
            children=[self.overview, *(widgets.VBox() for _ in TAB_TITLES[1:])], titles=TAB_TITLES
        )
        self._builders: dict[int, Callable[[], widgets.Widget]] = {
            DETAILS: self._build_details,
            VISUALS: self._build_visuals,
            ARTIFACTS: self._build_artifacts,
            EVALUATIONS: self._build_evaluations,
        }
        self.tabs.observe(self._on_tab, names="selected_index")
        self.set_body([self.tabs])
        self.add_class("bw-experiment-results")
        self.experiment_id = info.experiment_id
        self.status = info.status
        self.built_tabs = [TAB_TITLES[OVERVIEW]]
        if "plotly.basewidget" not in sys.modules:
            threading.Thread(target=_warm_plotly, name="results-plotly", daemon=True).start()

    def _init_ended(self, record: ExperimentRecord) -> None:
        """The page of a stopped or failed run: what it left (`panels.results.ended`), no tabs."""
        super().__init__(record.name, store=self._store)
        extras = title_extras(
            record.id, record.status.value, record.family, record.duration_s, record.finished_at
        )
        self.set_title(record.name, *extras)
        self.ended = EndedRun(self._store, record)
        self.set_body([self.ended])
        self.add_class("bw-experiment-results")
        self.experiment_id = record.id
        self.status = record.status.value

    def app_params(self) -> dict[str, object]:
        return {"experiment": self.experiment_id}

    # -- tabs ------------------------------------------------------------------------------------------

    def show_tab(self, title: str) -> None:
        """Select the tab called `title` (building it on first selection)."""
        if self.ended is not None:
            raise ValueError(f"experiment {self.experiment_id} is {self.status}: its page has no tabs")
        if title not in TAB_TITLES:
            raise ValueError(f"tab must be one of {', '.join(TAB_TITLES)}, got {title!r}")
        self.tabs.selected_index = TAB_TITLES.index(title)
        self._ensure(TAB_TITLES.index(title))  # selecting the tab already shown fires no change

    def _on_tab(self, change: Mapping[str, Any]) -> None:
        if change["new"] is not None:
            self._ensure(change["new"])

    def _ensure(self, index: int) -> None:
        with self.state_lock:  # a front end attaching meanwhile gets the tab whole (Page.resend_state)
            title = TAB_TITLES[index]
            if title in self.built_tabs:
                return
            container = self.tabs.children[index]
            # Sent to the front end before the build starts: the tab is never blank without a word.
            indicator = BusyIndicator()
            with indicator.working(BUILDING[index]):
                container.children = (indicator,)
                try:
                    children: tuple[widgets.Widget, ...] = (self._builders[index](),)
                except Exception as exc:  # one broken section must not take the page down
                    log.exception("results of experiment %s: the %s tab failed", self.experiment_id, title)
                    error = fragments.error_box(str(exc), title="this tab could not be built")
                    children = (widgets.HTML(error),)
            container.children = children
            indicator.close()
            self.built_tabs = [*self.built_tabs, title]

    def _build_details(self) -> DetailsTab:
        self.details = DetailsTab(
            self.info, on_cell=self.select_cell, on_inspect=lambda: self.show_tab(TAB_TITLES[VISUALS])
        )
        if self.selected_cell:
            self.details.show_cell(self._cell_title(), self.cell_rows)
        return self.details

    def _build_visuals(self) -> VisualsTab:
        from bearing_workbench.panels.results.visuals import VisualsTab  # plotly: on first selection

        self.visuals = VisualsTab(self._store, self.info, self.show_worst)
        self._list_failures()
        return self.visuals

    def _build_artifacts(self) -> ArtifactsTab:
        self.artifacts = ArtifactsTab(self._store, self.info, self._delete, self._client)
        return self.artifacts

    def _build_evaluations(self) -> EvaluationsTab:
        self.evaluations = EvaluationsTab(
            self._store, self.info, busy=self.busy, tell=self.tell, lock=self.state_lock, client=self._client
        )
        return self.evaluations

    # -- confusion-matrix cells and failure cases -------------------------------------------------------

    def select_cell(self, true_label: str, predicted_label: str) -> tuple[CellRecord, ...]:
        """Show the test records of one confusion-matrix cell and list them in the failure cases."""
        if self.info.predictions is None:
            self.tell(
                "no test predictions in the experiment folder: the cell's records are unknown", "warning"
            )
            return ()
        self.cell_rows = self.info.cell_records(true_label, predicted_label)
        self.selected_cell = (true_label, predicted_label)
        if self.details is not None:
            self.details.show_cell(self._cell_title(), self.cell_rows)
        self._list_failures()
        return self.cell_rows

    def show_worst(self) -> None:
        """List the 10 worst test predictions (metrics.json) in the failure cases."""
        self.selected_cell = ()
        self._list_failures()

    def select_record(self, record_id: str) -> None:
        """Show the detail of one test record in the failure cases (building the Visualisations tab)."""
        self._ensure(VISUALS)
        assert self.visuals is not None
        self.visuals.failures.select_record(record_id)

    def _cell_title(self) -> str:
        true_label, predicted_label = self.selected_cell
        return f"true {true_label}, predicted {predicted_label}: {len(self.cell_rows)} test record(s)"

    def _list_failures(self) -> None:
        if self.visuals is None:
            return  # the Visualisations tab is not built yet; it lists the selected cell when it is
        if self.selected_cell:
            self.visuals.failures.show_cell(self._cell_title(), self.cell_rows)
        else:
            self.visuals.failures.show_worst()

    # -- artifacts -------------------------------------------------------------------------------------

    def artifact_file(self, name: str) -> Path:
        """The path of file `name` in this experiment's folder; names that leave the folder are refused
        (ValueError), a file that is not there raises FileNotFoundError."""
        assert self.info.folder is not None  # results_info always names it
        return artifact_file(self.info.folder, self.experiment_id, name)

    def download_name(self, name: str) -> str:
        """The file name a download of `name` is saved under."""
        return download_name(self.experiment_id, name)

    def prepare_download(self, name: str) -> None:
        """Put file `name` of the experiment folder into its download link (building the Artifacts tab)."""
        self._ensure(ARTIFACTS)
        assert self.artifacts is not None
        self.artifacts.prepare_download(name)

    def _delete(self) -> None:
        try:
            self._store.delete_experiment(self.experiment_id)
        except Exception as exc:
            log.exception("deleting experiment %s failed", self.experiment_id)
            self.tell(f"could not delete experiment {self.experiment_id}: {exc}", "error")
            return
        info = self.info
        self.deleted_html = widgets.HTML(
            fragments.message(
                f"experiment {info.experiment_id} ({info.name}) was deleted, with its results and its folder",
                "muted",
            )
        )
        self.deleted_html.add_class("bw-deleted")
        self.set_title(info.name, fragments.muted("deleted"))
        self.set_body([self.deleted_html])
        self.deleted = True

    def __repr__(self) -> str:
        return f"ExperimentResults(experiment_id={self.experiment_id}, tabs built={self.built_tabs})"
