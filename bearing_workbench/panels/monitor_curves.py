"""The training monitor's live chart: epoch curves, the batches of the epoch in progress, downloads.

The chart is labelled and ranged from the start (epoch axis over the planned run, loss and accuracy
axes), so a neural run's first epoch is not a blank box (defect 2 of issue 13): while an epoch runs,
its batch losses are drawn at fractional epochs and the chart's title says which batch it is on.
The traces stay for the monitor's life; only their data changes (a rebuild would reset the user's
zoom and legend), and the axes are set only when they change (setting them undoes a zoom).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from bearing_workbench.analysis.history import history_csv
from bearing_workbench.analysis.run_state import RunState
from bearing_workbench.panels.curves import (
    CURVES,
    batch_trace,
    best_epoch_trace,
    curve_traces,
    curves_layout,
    epoch_axis,
    loss_range,
)
from bearing_workbench.panels.kit import DownloadLink, fragments

if TYPE_CHECKING:  # plotly is imported with the first figure (about 0.5 s; the app defers it)
    from bearing_workbench.panels.live_figure import LiveFigureWidget

BEST, BATCHES = len(CURVES), len(CURVES) + 1  # trace indices after the four curves
MAX_BATCH_POINTS = 400  # per epoch; beyond that every other point is dropped (the shape stays)


def in_epoch_text(state: RunState) -> str:
    """The chart's title: the batch of the epoch in progress, or what the chart waits for."""
    if state.finished:
        return ""
    if state.current_epoch is not None and state.batch is not None:
        total = f"/{state.total_epochs}" if state.total_epochs else ""
        steps = f"/{state.steps_per_epoch}" if state.steps_per_epoch else ""
        return f"epoch {state.current_epoch}{total} in progress: batch {int(state.batch) + 1}{steps}"
    if not state.history:
        return "waiting for the first batch"
    return ""


class MonitorCurves:
    """The chart and its downloads for one run; `draw(state)` brings it up to date.

    Args:
        experiment_id: names the PNG and CSV files; lock: the monitor's lock, held while drawing.
    """

    def __init__(self, experiment_id: int, lock: threading.RLock):
        self.experiment_id = experiment_id
        self._lock = lock
        self.figure: LiveFigureWidget | None = None
        self.csv_link = DownloadLink(
            "history CSV", f"experiment-{experiment_id}-history.csv", "text/csv", title="one row per epoch"
        )
        self.png_hint = widgets.HTML(
            fragments.muted("PNG: the camera button above the chart"),
            layout=widgets.Layout(margin="0 0 0 16px"),
        )
        self.redraws = 0
        self._batch_epoch: int | None = None
        self._batch_x: list[float] = []
        self._batch_y: list[float] = []
        self._drawn: tuple[Any, ...] = ()
        self._x_axis: dict[str, Any] | None = None
        self._y_top: float | None = None

    def build(self, total_epochs: int) -> LiveFigureWidget:
        """Make the figure (labelled axes over `total_epochs`, no data yet)."""
        from bearing_workbench.panels.live_figure import LiveFigureWidget

        figure = LiveFigureWidget(
            data=[*curve_traces(), best_epoch_trace(), batch_trace()],
            layout=curves_layout(total_epochs=total_epochs) | {"title": {"text": "", "font": {"size": 12}}},
            state_lock=self._lock,  # the monitor changes the figure under this lock
        )
        # PNG export is plotly's own camera button (client-side, offline); name the file after the run.
        figure._config = {
            "displaylogo": False,
            "toImageButtonOptions": {
                "format": "png",
                "filename": f"experiment-{self.experiment_id}-curves",
                "scale": 2,
            },
        }
        with self._lock:  # last: a redraw on another thread draws the curves once `figure` is set
            self.figure = figure
            self._drawn = ()
            self._x_axis = self._y_top = None
        return figure

    def widgets(self) -> tuple[widgets.Widget, ...]:
        """What goes in the monitor's chart slot."""
        assert self.figure is not None
        return (self.figure, widgets.HBox([self.csv_link, self.png_hint]))

    def note_batch(self, state: RunState) -> None:
        """Keep the batch just applied to `state` as a point of the epoch in progress (lock held)."""
        epoch, batch, steps, loss = state.current_epoch, state.batch, state.steps_per_epoch, state.batch_loss
        if epoch is None or batch is None or not steps or loss is None:
            return
        if epoch != self._batch_epoch:
            self._batch_epoch, self._batch_x, self._batch_y = epoch, [], []
        x = epoch - 1 + (int(batch) + 1) / steps
        if self._batch_x and x <= self._batch_x[-1]:
            return  # a repeated or late batch
        self._batch_x.append(x)
        self._batch_y.append(float(loss))
        if len(self._batch_x) > MAX_BATCH_POINTS:
            self._batch_x, self._batch_y = self._batch_x[::2], self._batch_y[::2]

    def reset(self) -> None:
        """Forget what was drawn and the batches kept (a new attempt starts)."""
        self._batch_epoch, self._batch_x, self._batch_y = None, [], []
        self._drawn = ()
        self._y_top = None

    def draw(self, state: RunState) -> bool:
        """Bring the chart up to `state`; False when nothing changed (caller holds the lock)."""
        figure = self.figure
        if figure is None:
            return False
        live_batches = state.current_epoch is not None and state.current_epoch == self._batch_epoch
        batch_x = self._batch_x if live_batches and not state.finished else []
        batch_y = self._batch_y if batch_x else []
        title = in_epoch_text(state)
        key = (len(state.history), state.history_version, len(batch_x), self._batch_epoch, title)
        if key == self._drawn:
            return False
        curves = state.curves()
        epochs = tuple(curves["epoch"])
        with figure.batch_update():
            for trace, (name, *_) in zip(figure.data, CURVES, strict=False):
                trace.x = epochs
                trace.y = tuple(curves[name])
            best = figure.data[BEST]
            known = state.best_epoch is not None and state.best_val_acc is not None
            best.x, best.y = ((state.best_epoch,), (state.best_val_acc,)) if known else ((), ())
            figure.data[BATCHES].x, figure.data[BATCHES].y = tuple(batch_x), tuple(batch_y)
            figure.layout.title.text = title
            x_axis = epoch_axis(max(state.total_epochs, state.epoch))
            if x_axis is not None and x_axis != self._x_axis:
                figure.layout.xaxis.update(x_axis)
                self._x_axis = x_axis
            y_range = loss_range(state.history, batch_y)
            if self._y_top is None or y_range[1] > self._y_top:  # only grows: a shrinking axis jumps about
                figure.layout.yaxis.range = y_range
                self._y_top = y_range[1]
        self._drawn = key
        self.redraws += 1
        return True

    def update_csv(self, state: RunState) -> None:
        """Offer the epochs so far as a CSV download."""
        self.csv_link.set_data(history_csv(state.history) if state.history else None)
