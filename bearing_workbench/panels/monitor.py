"""The live training monitor: ``TrainingMonitor(experiment_id)`` in a notebook or a Voilà app.

It replays the run's stored epochs and events, then follows it live (`runner.following`): opened during
the run, long after it or in a new kernel, it shows the same thing, since nothing lives only in a
kernel. Messages arrive on a background thread and are folded at once into a `RunState` (the
traitlets below mirror it, for tests and for code that observes the monitor); the widgets are
redrawn from that state by a `Coalescer`, at most every 250 ms with a trailing redraw, so a flood
of messages costs a few redraws, not one per message. The texts are `monitor_html`, the chart is
`monitor_curves`, the look is the page kit's; this module lays widgets out and wires the buttons.

A family not trained in epochs (classical, ensemble; `runner.monitoring.trains_by_epoch`) gets its
phase and percentage on the bar, result cards (CV, validation and test accuracy, macro-F1, filled
from the store once the run has completed) and a note instead of the epoch curves.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets
import traitlets

from bearing_workbench.analysis.run_info import RunInfo, monitor_of
from bearing_workbench.analysis.run_state import (
    ERROR,
    EVENTS,
    HISTORY,
    PARTS,
    PROGRESS,
    RESOURCES,
    RESULTS,
    STATUS,
    RunState,
)
from bearing_workbench.analysis.run_texts import stored_results, trains_by_epoch
from bearing_workbench.config.arguments import QueryExperimentId, check
from bearing_workbench.panels import monitor_html as texts
from bearing_workbench.panels.kit import DownloadLink, Page, fragments, section
from bearing_workbench.panels.monitor_controls import MonitorControls
from bearing_workbench.panels.monitor_curves import MonitorCurves
from bearing_workbench.panels.throttle import DEFAULT_INTERVAL_S, Coalescer
from bearing_workbench.runner.following import Follower
from bearing_workbench.runner.monitoring import LogTail
from bearing_workbench.store import RunStatus, Store, is_terminal

log = logging.getLogger(__name__)

BAR_STYLES = {"completed": "success", "failed": "danger", "paused": "warning", "stopped": "warning"}
LOG_LINES = 500
# RunState attributes the traits of the same name mirror as they are
MIRRORED = ("status", "epoch", "total_epochs", "eta_s", "best_val_acc", "best_epoch", "error", "hint")
MIRRORED += ("resources", "messages")


class TrainingMonitor(MonitorControls, Page):
    """Live view of one experiment: progress, metric cards, curves, resources, events, log, controls.

    Args:
        experiment_id: the experiment to show (any status; unknown ids raise `NotFoundError`).
        store: default the workspace's store.
        client: a Dask client; default this process's (or ``$BEARING_WORKBENCH_SCHEDULER``'s); without
            one the monitor follows the store every second and the controls say why they cannot act.
        defer_figure: build the curves on a background thread once the constructor has returned (the
            Voila app does, so that its page comes sooner): a kernel's first FigureWidget costs about
            a second (plotly loads its template and validators). The page resends its state when a
            front end attaches, so the figure added later is not lost.

    The traits mirror the run's state as last received (they are not synced to the browser). For a
    family not trained in epochs, `metrics` holds its results and `figure` is None (no curves).
    """

    app = "monitor"
    experiment_id = traitlets.Int()
    status = traitlets.Unicode("pending")
    progress = traitlets.Float(0.0)
    epoch = traitlets.Int(0)
    total_epochs = traitlets.Int(0)
    eta_s = traitlets.Float(None, allow_none=True)
    metrics = traitlets.Dict()
    best_val_acc = traitlets.Float(None, allow_none=True)
    best_epoch = traitlets.Int(None, allow_none=True)
    error = traitlets.Unicode(None, allow_none=True)
    hint = traitlets.Unicode(None, allow_none=True)
    events = traitlets.List()
    resources = traitlets.Dict(None, allow_none=True)
    mode = traitlets.Unicode("starting")
    messages = traitlets.Int(0)
    renders = traitlets.Int(0)
    redraws = traitlets.Int(0)
    notice = traitlets.Unicode("")

    def __init__(
        self,
        experiment_id: int,
        *,
        store: Store | None = None,
        client: Any = None,
        defer_figure: bool = False,
    ):
        store = store if store is not None else Store()
        experiment_id = check(QueryExperimentId, experiment_id, "experiment_id")
        record = store.get_experiment(experiment_id)  # NotFoundError if unknown
        super().__init__(record.name, store=store)
        self._store, self._record, self._client = store, record, client
        self._lock = self.state_lock  # the page's: a resend waits for a redraw in progress
        self._closed = False
        self._generation = 0
        self._replaying = False
        self._dirty: set[str] = set(PARTS)
        self._follower: Follower | None = None
        self._epoch_based = trains_by_epoch(record.family)
        self._log_tail = LogTail.of_experiment(record.id, store.workspace, LOG_LINES)
        self._ended_live = False  # a final status arrived live: toast it once the record is read
        self.figure_ready = threading.Event()  # set once the curves are drawn (or there are none)
        self.curves = MonitorCurves(record.id, self._lock) if self._epoch_based else None
        self._build(defer_figure)
        self.set_body(self._layout())
        self.add_class("bw-training-monitor")
        self.experiment_id = record.id
        self._state = self._new_state()
        self._redraw = Coalescer(self._render, DEFAULT_INTERVAL_S, name=f"monitor-{record.id}")
        self._follow()
        if self.curves is not None and defer_figure:
            threading.Thread(target=self._attach_figure, name="monitor-figure", daemon=True).start()
        else:
            self.figure_ready.set()

    @property
    def figure(self) -> Any:
        """The curves' plotly figure; None for a family not trained in epochs (or not built yet)."""
        return self.curves.figure if self.curves is not None else None

    @property
    def csv_link(self) -> DownloadLink | None:
        return self.curves.csv_link if self.curves is not None else None

    def app_params(self) -> dict[str, object]:
        return {"experiment": self._record.id}

    # -- widgets -----------------------------------------------------------------------------------

    def _build(self, defer_figure: bool) -> None:
        record = self._record
        self.progress_bar = widgets.FloatProgress(
            value=0.0, min=0.0, max=1.0, layout=widgets.Layout(width="55%", height="22px")
        )
        self.progress_label = widgets.HTML()
        self.cards_html = widgets.HTML()
        self._build_controls()

        self.curves_note = widgets.HTML(
            f'<div class="bw-no-curves bw-muted">No training curves for {fragments.esc(record.family)} '
            "models: they are not trained in epochs. The bar shows the fit's progress; the cards show "
            "its results once the run has completed.</div>"
        )
        self.figure_slot = widgets.VBox()
        if self.curves is None:
            self.figure_slot.children = (self.curves_note,)
        elif defer_figure:
            self.busy.start("drawing the training curves…")
        else:
            self.curves.build(self._planned_epochs())
            self.figure_slot.children = self.curves.widgets()
        self.resources_html = widgets.HTML()
        self.events_html = widgets.HTML()

    def _attach_figure(self) -> None:
        """The deferred figure: build it, put it in its slot, draw the history received so far."""
        assert self.curves is not None
        try:
            self.curves.build(self._planned_epochs())
            with self._lock:
                self.figure_slot.children = self.curves.widgets()
                self._dirty.add(HISTORY)
            if not self._closed:
                self._redraw.request()
                self._redraw.flush()
        except Exception as exc:  # the rest of the monitor works without its curves
            log.exception("monitor %s: the curves could not be built", self._record.id)
            failed = widgets.HTML(
                fragments.message(f"the training curves could not be drawn: {exc}", "error")
            )
            self.figure_slot.children = (failed,)
        finally:
            self.busy.stop()
            self.figure_ready.set()

    def _layout(self) -> list[widgets.Widget]:
        half = {"width": "50%", "padding": "0 8px 0 0"}
        buttons = [
            self.pause_button,
            self.stop_button,
            self.logs_button,
            self.retry_button,
            self.results_button,
        ]
        return [
            widgets.HBox(
                [self.progress_bar, self.progress_label], layout=widgets.Layout(align_items="center")
            ),
            self.cards_html,
            widgets.HBox(buttons),
            self.confirm,
            self.message,
            self.results_box,
            self.figure_slot,
            widgets.HBox(
                [
                    section("Resources", self.resources_html, **half),
                    section("Recent events", self.events_html, **half),
                ]
            ),
            self.log_box,
        ]

    # -- following ---------------------------------------------------------------------------------

    def _planned_epochs(self) -> int:
        return int((self._record.config.get("training") or {}).get("epochs") or 0) if self._epoch_based else 0

    def _new_state(self) -> RunState:
        return RunState(
            self._record.id,
            total_epochs=self._planned_epochs(),
            epoch_based=self._epoch_based,
            monitor=monitor_of(self._record.config),
        )

    def _follow(self) -> None:
        """Replay the store into a fresh state, then follow live; draws once the replay is in."""
        with self._lock:
            self._generation += 1
            generation = self._generation
            self._replaying = True
        follower = Follower(
            self._record.id,
            lambda message: self._receive(generation, message),
            client=self._client,
            store=self._store,
        )
        try:
            follower.start()  # the replay runs here, in this thread
        finally:
            with self._lock:
                self._replaying = False
        with self._lock:
            self._follower = follower
            self.mode = follower.mode
            self._refresh_record()
            if is_terminal(self._record.status) and not self._state.finished:
                # The record is newer than the replay (or events are missing): it has the last word.
                self._dirty |= self._state.settle(self._record.status)
                self._sync_traits()
            self._dirty |= PARTS
        self._redraw.request()
        self._redraw.flush()  # the full state is on screen when the constructor returns

    def _receive(self, generation: int, message: Mapping[str, Any]) -> None:
        with self._lock:
            if self._closed or generation != self._generation:
                return  # a follower replaced by Retry still delivering
            was_final = is_terminal(self._state.status)
            changed = self._state.apply(message)
            if not changed:
                return
            if message.get("kind") == "batch" and self.curves is not None:
                self.curves.note_batch(self._state)
            if STATUS in changed:
                self._awaiting = None
                self.notice = ""  # what an action said is answered by the new status
                # Seen ending here, not replayed: a run already over when the monitor opened gets no toast.
                if not self._replaying and not was_final and is_terminal(self._state.status):
                    self._ended_live = True
            self._dirty |= changed
            self._sync_traits()
            replaying = self._replaying
        if not replaying:
            self._redraw.request()

    def handle(self, message: Mapping[str, Any]) -> None:
        """Take one progress message (as `runner.following` delivers them; safe from any thread)."""
        self._receive(self._generation, message)

    def _sync_traits(self) -> None:
        state = self._state
        with self.hold_trait_notifications():
            for name in MIRRORED:
                setattr(self, name, getattr(state, name))
            self.progress = float(state.progress)
            self.metrics = state.latest_metrics()
            self.events = list(state.events)
            if self._follower is not None:
                self.mode = self._follower.mode  # "polling" once the scheduler is gone

    def _refresh_record(self) -> None:
        try:
            self._record = self._store.get_experiment(self._record.id)
        except Exception as exc:  # database briefly unavailable: keep what we have
            log.warning("reading experiment %s failed: %s", self._record.id, exc)
            return
        if self._record.status == RunStatus.FAILED and self._state.set_outcome(
            self._record.error, self._record.hint
        ):
            self._dirty.add(ERROR)
            self._sync_traits()
        if (
            not self._epoch_based
            and self._record.status == RunStatus.COMPLETED
            and self._state.set_results(stored_results(self._record, self._store.workspace))
        ):
            self._dirty.add(RESULTS)
            self._sync_traits()

    # -- drawing -----------------------------------------------------------------------------------

    def flush(self) -> bool:
        """Draw now what is pending (tests and benchmarks; the monitor redraws by itself)."""
        return self._redraw.flush()

    def refresh_view(self) -> None:
        """Draw everything now (a front end attached: it gets the whole picture)."""
        with self._lock:
            if self._closed:
                return
            self._dirty |= PARTS
        self._redraw.request()
        self._redraw.flush()

    def _render(self) -> None:
        with self._lock:
            if self._closed:
                return
            dirty, self._dirty = self._dirty, set()
            state = self._state
            if STATUS in dirty and not self._replaying:
                self._refresh_record()
                dirty |= self._dirty
                self._dirty = set()
                if self._ended_live:
                    self._ended_live = False
                    self._toast_end()
            info = state.info()  # the snapshot the texts render (the curves still read the state)
            self.set_title(self._record.name, *texts.title_extras(self._record, info, self.mode))
            if dirty & {STATUS, PROGRESS}:
                self.progress_bar.value = min(1.0, max(0.0, info.progress))
                self.progress_bar.bar_style = BAR_STYLES.get(info.status, "")
                self.progress_label.value = texts.progress_line(info)
            if dirty & {HISTORY, RESULTS}:
                self.cards_html.value = texts.cards_html(info)
            if self.curves is not None and dirty & {HISTORY, PROGRESS, STATUS}:
                if self.curves.draw(state):
                    self.redraws = self.curves.redraws
                if HISTORY in dirty:
                    self.curves.update_csv(state)
            if EVENTS in dirty:
                self.events_html.value = texts.events_html(info)
            if dirty & {RESOURCES, STATUS}:
                self.resources_html.value = texts.resources_html(info)
            if dirty & {STATUS, ERROR}:
                self._show_error(info)
                self._show_buttons()
            if self.log_box.layout.display != "none":
                self._read_log()
            if self.results_box.layout.display != "none" and dirty & {STATUS, HISTORY}:
                self._show_results()
            self._show_notice()
            self.renders += 1

    def _show_error(self, info: RunInfo) -> None:
        if info.status != RunStatus.FAILED:
            self.clear_error()
        else:
            title, error = texts.error_text(info)
            self.show_error(error, info.hint, title)

    # -- lifecycle ---------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop following and remove the widgets (the run itself goes on)."""
        if not hasattr(self, "_redraw"):  # the constructor failed: nothing was started
            super().close()
            return
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._follower is not None:
            self._follower.close()
        self._redraw.close()
        super().close()

    def __repr__(self) -> str:
        where = self._state.progress_text()
        return f"TrainingMonitor(experiment {self._record.id}, {self.status}, {where})"
