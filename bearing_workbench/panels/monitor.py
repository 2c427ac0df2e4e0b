"""The live training monitor: ``TrainingMonitor(experiment_id)`` in a notebook or a Voilà app.

It replays the run's stored epochs and events, then follows it live (`runner.following`): opened during
the run, long after it or in a new kernel, it shows the same thing, since nothing lives only in a
kernel. Messages arrive on a background thread and are folded at once into a `RunState` (the
traitlets below mirror it, for tests and for code that observes the monitor); the widgets are
redrawn from that state by a `Coalescer`, at most every 250 ms with a trailing redraw, so a flood
of messages costs a few redraws, not one per message. Every computation (state, texts, CSV, log
tail) lives in the layers below; this module only lays widgets out and wires the buttons.

A family not trained in epochs (classical, ensemble; `runner.monitoring.trains_by_epoch`) gets its
phase and percentage on the bar, result cards (CV, validation and test accuracy, macro-F1, filled
from the store once the run has completed) and a note instead of the epoch curves.
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import traitlets

from bearing_workbench.analysis.history import history_csv
from bearing_workbench.panels.curves import CURVES, best_epoch_trace, curve_traces, curves_layout
from bearing_workbench.panels.download import DownloadLink
from bearing_workbench.panels.throttle import DEFAULT_INTERVAL_S, Coalescer
from bearing_workbench.runner.cluster import existing_client
from bearing_workbench.runner.following import Follower
from bearing_workbench.runner.monitoring import (
    DOWN,
    ERROR,
    EVENTS,
    HISTORY,
    PARTS,
    PROGRESS,
    RESOURCES,
    RESULTS,
    STATUS,
    UP,
    LogTail,
    RunState,
    epoch_axis,
    header,
    local_time,
    resource_lines,
    results_summary,
    stored_results,
    trains_by_epoch,
)
from bearing_workbench.runner.run_end_hooks import run_end_event
from bearing_workbench.store import InvalidTransition, RunStatus, Store, is_terminal

if TYPE_CHECKING:  # plotly is imported with the first figure (about 0.5 s; the app defers it)
    from bearing_workbench.panels.live_figure import LiveFigureWidget

log = logging.getLogger(__name__)

STATUS_COLORS = {
    "pending": "#7b61b3",
    "running": "#1f6fb4",
    "paused": "#c98a00",
    "stopped": "#6b7280",
    "failed": "#c62828",
    "completed": "#2e7d32",
}
BAR_STYLES = {"completed": "success", "failed": "danger", "paused": "warning", "stopped": "warning"}
LOG_LINES = 500
ASKED = {
    "pause": "pause asked: the run checkpoints after its current batch, then waits",
    "resume": "resume asked",
    "stop": "stop asked: the run ends after its current batch and keeps a checkpoint",
}
MUTED = "color:#6b7280"
POLLING_NOTE = (
    "following the store every second: no Dask scheduler is reachable from this kernel. If the run's "
    "local cluster ended with the kernel that started it, bearing_workbench.runner.reconcile() marks "
    "it failed and Retry continues it from its checkpoint."
)


def _esc(text: Any) -> str:
    return html.escape(str(text))


def _experiment_id(value: Any) -> int:
    """An experiment id given as an integer or as digits (a Voilà app reads it from the URL query)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"experiment_id must be a positive integer, got {value!r}")
    return value


def _box(title: str) -> widgets.HTML:
    return widgets.HTML(f"<b>{_esc(title)}</b>")


class TrainingMonitor(widgets.VBox):
    """Live view of one experiment: progress, metric cards, curves, resources, events, log, controls.

    Args:
        experiment_id: the experiment to show (any status; unknown ids raise `NotFoundError`).
        store: default the workspace's store.
        client: a Dask client; default this process's (or ``$BEARING_WORKBENCH_SCHEDULER``'s); without
            one the monitor follows the store every second and the controls say why they cannot act.
        defer_figure: build the curves on a background thread once the constructor has returned (the
            Voila app does, so that its page comes sooner): a kernel's first FigureWidget costs about
            a second (plotly loads its template and validators). Voila's front end asks the kernel for
            every widget's state when it connects, so the figure added later is not lost.

    The traits mirror the run's state as last received (they are not synced to the browser). For a
    family not trained in epochs, `metrics` holds its results and `figure` is None (no curves).
    """

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
        self._store = store if store is not None else Store()
        self._record = self._store.get_experiment(_experiment_id(experiment_id))  # NotFoundError if unknown
        self._client = client
        self._lock = threading.RLock()
        self._closed = False
        self._generation = 0
        self._replaying = False
        self._dirty: set[str] = set(PARTS)
        self._awaiting: str | None = None  # a pause/resume/stop asked for and not yet seen
        self._drawn = (-1, -1)  # (history length, history version) the figure shows
        self._x_axis: tuple[list[float], int] | None = None
        self._follower: Follower | None = None
        self._epoch_based = trains_by_epoch(self._record.family)
        self._log_tail = LogTail.of_experiment(self._record.id, self._store.workspace, LOG_LINES)
        from bearing_workbench.panels.toast_area import notification_area  # anywidget: here only

        self.notifications = notification_area(self._store)  # shared by every panel of this kernel
        self._ended_live = False  # a final status arrived live: toast it once the record is read
        self.figure_ready = threading.Event()  # set once the curves are drawn (or there are none)
        self._build(defer_figure)
        super().__init__(children=self._layout())
        self.add_class("bw-training-monitor")
        self.experiment_id = self._record.id
        self._state = self._new_state()
        self._redraw = Coalescer(self._render, DEFAULT_INTERVAL_S, name=f"monitor-{self._record.id}")
        self._follow()
        if self._epoch_based and defer_figure:
            threading.Thread(target=self._attach_figure, name="monitor-figure", daemon=True).start()
        else:
            self.figure_ready.set()

    # -- widgets -----------------------------------------------------------------------------------

    def _build(self, defer_figure: bool) -> None:
        record = self._record
        self.header_html = widgets.HTML()
        self.progress_bar = widgets.FloatProgress(
            value=0.0, min=0.0, max=1.0, layout=widgets.Layout(width="55%", height="22px")
        )
        self.progress_label = widgets.HTML()
        self.notice_html = widgets.HTML()
        self.error_html = widgets.HTML(layout=widgets.Layout(display="none"))
        self.cards_html = widgets.HTML()
        self.pause_button = widgets.Button(
            description="Pause", tooltip="checkpoint after the current batch and wait"
        )
        self.stop_button = widgets.Button(
            description="Stop", button_style="danger", tooltip="end the run (keeps a checkpoint)"
        )
        self.logs_button = widgets.Button(
            description="Logs", tooltip="show the run's training.log, following it"
        )
        self.retry_button = widgets.Button(
            description="Retry", button_style="warning", tooltip="run it again from its latest checkpoint"
        )
        self.results_button = widgets.Button(description="View results", button_style="success")
        self.confirm_text = widgets.HTML(
            "Stop this run? It ends after the current batch and keeps a checkpoint; Retry continues it."
        )
        self.confirm_yes = widgets.Button(description="Yes, stop", button_style="danger")
        self.confirm_no = widgets.Button(description="Cancel")
        self.confirm_box = widgets.HBox(
            [self.confirm_text, self.confirm_yes, self.confirm_no], layout=widgets.Layout(display="none")
        )
        self.pause_button.on_click(self._on_pause)
        self.stop_button.on_click(self._on_stop)
        self.confirm_yes.on_click(self._on_confirm_stop)
        self.confirm_no.on_click(self._on_cancel_stop)
        self.logs_button.on_click(self._on_logs)
        self.retry_button.on_click(self._on_retry)
        self.results_button.on_click(self._on_results)

        self.figure: LiveFigureWidget | None = None
        self.curves_note = widgets.HTML(
            f'<div class="bw-no-curves" style="{MUTED};margin:8px 0">No training curves for '
            f"{_esc(record.family)} models: they are not trained in epochs. The bar shows the fit's "
            "progress; the cards show its results once the run has completed.</div>"
        )
        self.figure_slot = widgets.VBox()
        if self._epoch_based and defer_figure:
            self.figure_slot.children = (
                widgets.HTML(f'<div style="{MUTED};margin:8px 0">drawing the training curves…</div>'),
            )
        elif self._epoch_based:
            self._build_figure()
            self.figure_slot.children = (self.figure, widgets.HBox([self.csv_link, self.png_hint]))
        else:
            self.figure_slot.children = (self.curves_note,)
        self.resources_html = widgets.HTML()
        self.events_html = widgets.HTML()
        self.results_html = widgets.HTML()
        self.metrics_link = DownloadLink(
            "metrics.json", f"experiment-{record.id}-metrics.json", "application/json"
        )
        self.results_box = widgets.VBox(
            [_box("Results"), self.results_html, self.metrics_link], layout=widgets.Layout(display="none")
        )
        self.log_html = widgets.HTML()
        self.log_box = widgets.VBox(
            [_box("training.log"), widgets.HTML(f"<code>{_esc(self._log_tail.path)}</code>"), self.log_html],
            layout=widgets.Layout(display="none"),
        )

    def _build_figure(self) -> None:
        """The epoch curves (loss and accuracy, train and val, the best epoch) and their downloads."""
        from bearing_workbench.panels.live_figure import LiveFigureWidget

        record = self._record
        figure = LiveFigureWidget(
            data=[*curve_traces(), best_epoch_trace()],
            layout=curves_layout(),
            state_lock=self._lock,  # _render changes the figure under this lock
        )
        # PNG export is plotly's own camera button (client-side, offline); name the file after the run.
        figure._config = {
            "displaylogo": False,
            "toImageButtonOptions": {
                "format": "png",
                "filename": f"experiment-{record.id}-curves",
                "scale": 2,
            },
        }
        self.csv_link = DownloadLink(
            "history CSV", f"experiment-{record.id}-history.csv", "text/csv", title="one row per epoch"
        )
        self.png_hint = widgets.HTML(
            f'<span style="{MUTED}">PNG: the camera button above the chart</span>',
            layout=widgets.Layout(margin="0 0 0 16px"),
        )
        with self._lock:  # last: a redraw on another thread draws the curves once `figure` is set
            self.figure = figure

    def _attach_figure(self) -> None:
        """The deferred figure: build it, put it in its slot, draw the history received so far."""
        try:
            self._build_figure()
            with self._lock:
                self.figure_slot.children = (self.figure, widgets.HBox([self.csv_link, self.png_hint]))
                self._drawn = (-1, -1)
                self._dirty.add(HISTORY)
            if not self._closed:
                self._redraw.request()
                self._redraw.flush()
        except Exception as exc:  # the rest of the monitor works without its curves
            log.exception("monitor %s: the curves could not be built", self._record.id)
            failed = widgets.HTML(f"the training curves could not be drawn: {_esc(exc)}")
            self.figure_slot.children = (failed,)
        finally:
            self.figure_ready.set()

    def _layout(self) -> list[widgets.Widget]:
        half = widgets.Layout(width="50%", padding="0 8px 0 0")
        return [
            self.notifications,
            self.header_html,
            widgets.HBox(
                [self.progress_bar, self.progress_label], layout=widgets.Layout(align_items="center")
            ),
            self.error_html,
            self.cards_html,
            widgets.HBox(
                [
                    self.pause_button,
                    self.stop_button,
                    self.logs_button,
                    self.retry_button,
                    self.results_button,
                ]
            ),
            self.confirm_box,
            self.notice_html,
            self.results_box,
            self.figure_slot,
            widgets.HBox(
                [
                    widgets.VBox([_box("Resources"), self.resources_html], layout=half),
                    widgets.VBox([_box("Recent events"), self.events_html], layout=half),
                ]
            ),
            self.log_box,
        ]

    # -- following ---------------------------------------------------------------------------------

    def _new_state(self) -> RunState:
        epochs = int((self._record.config.get("training") or {}).get("epochs") or 0)
        return RunState(self._record.id, total_epochs=epochs, epoch_based=self._epoch_based)

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
            self.status = state.status
            self.progress = float(state.progress)
            self.epoch = state.epoch
            self.total_epochs = state.total_epochs
            self.eta_s = state.eta_s
            self.metrics = state.latest_metrics()
            self.best_val_acc = state.best_val_acc
            self.best_epoch = state.best_epoch
            self.error = state.error
            self.hint = state.hint
            self.events = list(state.events)
            self.resources = state.resources
            self.messages = state.messages
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
            self.header_html.value = self._header_html()
            if dirty & {STATUS, PROGRESS}:
                self.progress_bar.value = min(1.0, max(0.0, state.progress))
                self.progress_bar.bar_style = BAR_STYLES.get(state.status, "")
                self.progress_label.value = (
                    f"&nbsp;{_esc(state.progress_text())} &middot; {_esc(state.eta_text())}"
                    + (
                        f" &middot; batch loss {state.batch_loss:.4g}"
                        if state.batch is not None and state.batch_loss is not None
                        else ""
                    )
                )
            if dirty & {HISTORY, RESULTS}:
                self.cards_html.value = self._cards_html()
            if HISTORY in dirty and self.figure is not None:
                self._draw_curves()
                self.csv_link.set_data(history_csv(state.history) if state.history else None)
            if EVENTS in dirty:
                self.events_html.value = self._events_html()
            if RESOURCES in dirty:
                self.resources_html.value = self._table(resource_lines(state.resources))
            if dirty & {STATUS, ERROR}:
                self._show_error()
                self._show_buttons()
            if self.log_box.layout.display != "none":
                self._read_log()
            if self.results_box.layout.display != "none" and dirty & {STATUS, HISTORY}:
                self._show_results()
            if self.notice:
                self.notice_html.value = f'<span style="color:#8a5a00">{_esc(self.notice)}</span>'
            elif self.mode == "polling" and not state.finished:
                self.notice_html.value = f'<span style="{MUTED}">{_esc(POLLING_NOTE)}</span>'
            else:
                self.notice_html.value = ""
            self.renders += 1

    def _toast_end(self) -> None:
        """The run ended while watched: a toast (the area drops it if the cluster's notifier was first)."""
        state, record = self._state, self._record
        stored = str(record.status) == state.status  # the store has the end's error, hint and metrics
        event = run_end_event(
            record.id,
            state.status,
            name=record.name,
            metrics=record.metrics if stored else None,
            error=(record.error if stored else None) or state.error,
            hint=(record.hint if stored else None) or state.hint,
            duration_s=record.duration_s if stored else None,
        )
        self.notifications.run_end_later(event, self._store)

    def _header_html(self) -> str:
        info = header(self._record, datetime.now(UTC))
        status = self._state.status
        color = STATUS_COLORS.get(status, "#6b7280")
        return (
            '<div style="display:flex;gap:14px;align-items:baseline;flex-wrap:wrap">'
            f'<span style="font-size:1.3em;font-weight:600">{_esc(info["name"])}</span>'
            f'<span style="background:{color};color:#fff;border-radius:10px;padding:1px 9px">'
            f"{_esc(status)}</span>"
            f'<span style="{MUTED}">{_esc(info["family"])} &middot; experiment #{_esc(info["id"])}</span>'
            f"<span>started {_esc(info['started'])}</span>"
            f"<span>elapsed {_esc(info['elapsed'])}</span>"
            # How this view follows the run ("live", "polling"), or that there is nothing left to follow.
            f'<span class="bw-follow-mode" style="color:#9aa5b1">'
            f"{_esc('run ended' if self._state.finished else self.mode)}</span>"
            "</div>"
        )

    def _cards_html(self) -> str:
        cells = []
        for card in self._state.cards():
            arrow = ""
            if card.trend in (UP, DOWN):
                color = "#2e7d32" if card.improved else "#c62828"
                arrow = f'<span style="color:{color}">{"&#9650;" if card.trend == UP else "&#9660;"}</span>'
            note = f'<div style="color:#6b7280;font-size:0.85em">{_esc(card.note)}</div>' if card.note else ""
            cells.append(
                f'<div class="bw-card" data-key="{card.key}" style="border:1px solid #d1d5db;'
                'border-radius:6px;padding:6px 12px;min-width:120px">'
                f'<div style="color:#6b7280;font-size:0.85em">{_esc(card.label)}</div>'
                f'<div style="font-size:1.3em;font-weight:600">{_esc(card.text)} {arrow}</div>{note}</div>'
            )
        return f'<div style="display:flex;gap:10px;flex-wrap:wrap;margin:6px 0">{"".join(cells)}</div>'

    def _draw_curves(self) -> None:
        state = self._state
        if self.figure is None:  # a family not trained in epochs has no curves
            return
        drawn = (len(state.history), state.history_version)
        if drawn == self._drawn:
            return
        curves = state.curves()
        epochs = tuple(curves["epoch"])
        with self.figure.batch_update():
            # The traces stay; only their data grows (a rebuild would reset the user's zoom and legend).
            for trace, (key, *_) in zip(self.figure.data, CURVES, strict=False):
                trace.x = epochs
                trace.y = tuple(curves[key])
            axis = epoch_axis(state.total_epochs, state.epoch)
            if axis is not None and axis != self._x_axis:  # only when it changes: it would undo a zoom
                self.figure.layout.xaxis.range, self.figure.layout.xaxis.dtick = axis
                self._x_axis = axis
            best = self.figure.data[len(CURVES)]
            if state.best_epoch is not None:
                best.x, best.y = (state.best_epoch,), (state.best_val_acc,)
            else:
                best.x, best.y = (), ()
        self._drawn = drawn
        self.redraws += 1

    def _events_html(self) -> str:
        if not self._state.events:
            return '<span style="color:#6b7280">no events yet</span>'
        rows = []
        for event in reversed(self._state.events):
            color = "#c62828" if event["kind"] == "failed" else "#111827"
            rows.append(
                f'<div style="color:{color}"><span style="{MUTED}">{_esc(local_time(event["time"]))}</span> '
                f"<b>{_esc(event['kind'])}</b> {_esc(event['message'])}</div>"
            )
        return "".join(rows)

    @staticmethod
    def _table(lines: list[tuple[str, str]]) -> str:
        rows = "".join(
            f'<tr><td style="color:#6b7280;padding-right:10px">{_esc(label)}</td><td>{_esc(text)}</td></tr>'
            for label, text in lines
        )
        return f"<table>{rows}</table>"

    def _show_error(self) -> None:
        state = self._state
        if state.status != RunStatus.FAILED:
            self.error_html.layout.display = "none"
            self.error_html.value = ""
            return
        hint = f"<div><b>Hint:</b> {_esc(state.hint)}</div>" if state.hint else ""
        self.error_html.value = (
            '<div style="border-left:4px solid #c62828;background:#fdecea;padding:6px 10px;margin:4px 0">'
            f"<div><b>Failed:</b> {_esc(state.error or 'no error message was stored')}</div>{hint}</div>"
        )
        self.error_html.layout.display = ""

    def _show_buttons(self) -> None:
        status = self._state.status
        live = status in (RunStatus.RUNNING, RunStatus.PAUSED)
        self._display(self.pause_button, live)
        self._display(self.stop_button, live or status == RunStatus.PENDING)
        self._display(self.retry_button, status in (RunStatus.FAILED, RunStatus.STOPPED))
        self._display(self.results_button, is_terminal(status))
        if self.results_box.layout.display != "none":
            self.results_button.description = "Hide results"
        else:
            self.results_button.description = "View results" if status == RunStatus.COMPLETED else "Results"
        self.results_button.button_style = "success" if status == RunStatus.COMPLETED else ""
        awaiting = self._awaiting
        self.pause_button.description = {"pause": "Pausing…", "resume": "Resuming…"}.get(
            awaiting or "", "Resume" if status == RunStatus.PAUSED else "Pause"
        )
        self.pause_button.disabled = awaiting is not None
        self.stop_button.description = "Stopping…" if awaiting == "stop" else "Stop"
        self.stop_button.disabled = awaiting == "stop"
        if not (live or status == RunStatus.PENDING):
            self.confirm_box.layout.display = "none"

    @staticmethod
    def _display(widget: widgets.Widget, visible: bool) -> None:
        widget.layout.display = "" if visible else "none"

    def _read_log(self) -> None:
        try:
            new = self._log_tail.read()
        except OSError as exc:
            self.log_html.value = f"<i>cannot read the log: {_esc(exc)}</i>"
            return
        if not new and self.log_html.value:
            return
        text = self._log_tail.text or "(the log is empty so far: it is written while the run trains)"
        # column-reverse keeps the view scrolled to the newest line as lines are added
        self.log_html.value = (
            '<div style="max-height:280px;overflow:auto;display:flex;flex-direction:column-reverse;'
            'border:1px solid #d1d5db;background:#f9fafb">'
            '<pre style="margin:0;padding:6px;font-size:12px;line-height:1.35;white-space:pre-wrap">'
            f"{_esc(text)}</pre></div>"
        )

    def _show_results(self) -> None:
        summary = results_summary(self._record, self._store.workspace)
        where = (
            f"<div>metrics file: <code>{_esc(summary.metrics_path)}</code></div>"
            if summary.has_metrics_file
            else f"<div style='color:#6b7280'>no metrics file ({_esc(summary.metrics_path.name)}) yet</div>"
        )
        self.results_html.value = (
            self._table(summary.lines)
            + where
            + f'<div style="{MUTED}">per-class results, confusion matrix, ROC, failure cases, downloads and '
            f'the PDF report: <a href="results.ipynb?experiment={self._record.id}" target="_blank" '
            f'style="color:#1565c0;text-decoration:underline">the results page</a> '
            f"(in a notebook: <code>ExperimentResults({self._record.id})</code>)</div>"
        )
        data = summary.metrics_path.read_bytes() if summary.has_metrics_file else None
        self.metrics_link.set_data(data)

    # -- buttons -----------------------------------------------------------------------------------

    def _say(self, text: str, awaiting: str | None = None) -> None:
        """Show `text` under the buttons; `awaiting`: the action whose answer the buttons wait for."""
        with self._lock:
            self.notice = text
            self._awaiting = awaiting
            self._dirty.add(STATUS)
        self._redraw.request()

    def _control(self, action: str) -> None:
        """Ask the run to pause, resume or stop through its Dask control variable."""
        client = existing_client(self._client)
        if client is None:
            self._say(
                f"cannot {action} from here: no Dask scheduler is reachable from this kernel "
                "(the run was started from another one; set BEARING_WORKBENCH_SCHEDULER to reach it)"
            )
            return
        from bearing_workbench.runner import control  # imports torch (checkpoint names): on first click only

        # Marked before asking: the run's answer (a status event) may come back before the call returns.
        self._say(ASKED[action], awaiting=action)
        try:
            getattr(control, action)(self._record.id, client=client, store=self._store)
        except InvalidTransition as exc:
            self._say(str(exc))
        except Exception as exc:
            log.exception("%s of experiment %s failed", action, self._record.id)
            self._say(f"could not {action} the run: {type(exc).__name__}: {exc}")

    def _on_pause(self, _: Any = None) -> None:
        self._control("resume" if self._state.status == RunStatus.PAUSED else "pause")

    def _on_stop(self, _: Any = None) -> None:
        self.confirm_box.layout.display = ""

    def _on_confirm_stop(self, _: Any = None) -> None:
        self.confirm_box.layout.display = "none"
        self._control("stop")

    def _on_cancel_stop(self, _: Any = None) -> None:
        self.confirm_box.layout.display = "none"

    def _on_logs(self, _: Any = None) -> None:
        opening = self.log_box.layout.display == "none"
        self.log_box.layout.display = "" if opening else "none"
        self.logs_button.description = "Hide logs" if opening else "Logs"
        if opening:
            with self._lock:
                self._read_log()

    def _on_results(self, _: Any = None) -> None:
        opening = self.results_box.layout.display == "none"
        self.results_box.layout.display = "" if opening else "none"
        with self._lock:
            if opening:
                self._show_results()
            self._show_buttons()

    def _on_retry(self, _: Any = None) -> None:
        from bearing_workbench.runner.launch import resubmit  # imports torch: on first click only

        try:
            resubmit(self._record.id, client=self._client, store=self._store)
        except Exception as exc:
            log.exception("retry of experiment %s failed", self._record.id)
            self._say(f"could not retry: {type(exc).__name__}: {exc}")
            return
        self.notifications.forget(self._record.id)  # its next end is news
        self._restart()
        self._say("resubmitted: the run continues from its latest checkpoint")

    def _restart(self) -> None:
        """Follow again from scratch (a new attempt: fresh state, replay, live)."""
        old, self._follower = self._follower, None
        if old is not None:
            old.close()  # outside the lock: its thread may be waiting for it
        with self._lock:
            self._state = self._new_state()
            self._drawn = (-1, -1)
            self._awaiting = None
        self._follow()

    # -- lifecycle ---------------------------------------------------------------------------------

    def wait_for(self, condition: Callable[[TrainingMonitor], bool], timeout: float = 60.0) -> bool:
        """Block until `condition(self)` holds (checked on every state change) or `timeout` s pass."""
        done = threading.Event()

        def check(_: Any = None) -> None:
            if condition(self):
                done.set()

        self.observe(check, names=["messages", "status"])
        try:
            check()
            return done.wait(timeout)
        finally:
            self.unobserve(check, names=["messages", "status"])

    def close(self) -> None:
        """Stop following and remove the widgets (the run itself goes on)."""
        if not hasattr(self, "_redraw"):  # the constructor failed (unknown id): nothing was started
            super().close()
            return
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._follower is not None:
            self._follower.close()
        self._redraw.close()
        for child in self._all_widgets():
            if child is not self.notifications:  # shared with the other panels
                child.close()
        super().close()

    def _all_widgets(self) -> list[widgets.Widget]:
        found: list[widgets.Widget] = []
        stack = list(self.children)
        while stack:
            widget = stack.pop()
            found.append(widget)
            stack.extend(getattr(widget, "children", ()))
        return found

    def __repr__(self) -> str:
        where = (
            self._state.progress_text()
            if not self._epoch_based
            else f"epoch {self.epoch}/{self.total_epochs}"
        )
        return f"TrainingMonitor(experiment {self._record.id}, {self.status}, {where})"
