"""One test record in detail on the results page: signal, spectrum with shaft orders, probabilities.

Every computation is `analysis.failure_cases.failure_case`; long signals and spectra are min-max
decimated for display (`analysis.decimation`), and the axis titles say so.
"""

from __future__ import annotations

import html
import logging
from typing import Any

import ipywidgets as widgets
import numpy as np

from bearing_workbench.analysis import format as fmt
from bearing_workbench.analysis.decimation import min_max_decimate
from bearing_workbench.analysis.failure_cases import FailureCase, failure_case
from bearing_workbench.config import theme
from bearing_workbench.panels.kit import fragments
from bearing_workbench.panels.live_figure import LiveFigureWidget
from bearing_workbench.store import Store

log = logging.getLogger(__name__)

MAX_POINTS = 4000
ORDERS_ZOOM = 1.2  # the orders view reaches 1.2 x the highest marked order
MAX_WINDOW_LINES = 40  # more window boundaries than this would only grey the plot
FIGURE_HEIGHT = 300
WRONG_COLOR = theme.color("danger")
RIGHT_COLOR = theme.color("success")
OTHER_COLOR = theme.color("border")
WINDOW_LINE_COLOR = theme.color("faint")
ORDER_LINE_COLOR = theme.CURVE_COLORS["loss"]
OUTLINE_COLOR = theme.color("text")
# Operating metadata shown first, in this order (the rest follows alphabetically).
LEADING_METADATA = ("speed_hz", "load_frac", "temperature_c", "sommerfeld", "reynolds", "severity", "snr_db")


def _esc(text: Any) -> str:
    return html.escape(str(text))


def _value(value: Any) -> str:
    if isinstance(value, float):
        return fmt.significant(value)
    return "" if value is None else str(value)


def _points_note(shown: int, total: int) -> str:
    return f", min-max decimated to {shown} of {total} points" if shown < total else ""


class FailureDetail(widgets.VBox):
    """Signal, spectrum, class probabilities and metadata of one test record of an experiment.

    Attributes kept for callers and tests: `case` (None when it could not be built, with `message`
    saying why), `signal_figure`, `spectrum_figure` (0 Hz to Nyquist), `orders_figure` (a zoom on
    the shaft orders; None without a speed) and `probability_figure`.
    """

    def __init__(self, store: Store, experiment_id: int, record_id: str):
        super().__init__()
        self.case: FailureCase | None = None
        self.signal_figure: LiveFigureWidget | None = None
        self.spectrum_figure: LiveFigureWidget | None = None
        self.orders_figure: LiveFigureWidget | None = None
        self.probability_figure: LiveFigureWidget | None = None
        self.message = widgets.HTML()
        try:
            self.case = failure_case(store, experiment_id, record_id)
        except (ValueError, LookupError, OSError) as exc:
            log.info("failure detail of record %r, experiment %s: %s", record_id, experiment_id, exc)
            self.message.value = fragments.message(str(exc), "error")
            self.children = [self.message]
            return
        case = self.case
        self.signal_figure = self._signal(case)
        self.spectrum_figure = self._spectrum(case)
        if case.order_markers:
            # Orders crowd into the first per cent of a 0-Nyquist axis: a zoom of their own.
            self.orders_figure = self._spectrum(case, top_hz=ORDERS_ZOOM * case.order_markers[-1][1])
        self.probability_figure = self._probabilities(case)
        self.message.value = self._header(case)
        self.children = [
            self.message,
            self.signal_figure,
            self.spectrum_figure,
            *([self.orders_figure] if self.orders_figure is not None else []),
            widgets.HBox([self.probability_figure, widgets.HTML(self._metadata_table(case))]),
        ]

    @staticmethod
    def _header(case: FailureCase) -> str:
        verdict = (
            f"<span style='color:{RIGHT_COLOR}'>correct</span>"
            if case.correct
            else f"<span style='color:{WRONG_COLOR}'>misclassified</span>"
        )
        return (
            f"<h4 style='margin:6px 0'>Record {_esc(case.record_id)}: {verdict}</h4>"
            f"<div>true <b>{_esc(case.true_label)}</b> ({_esc(fmt.percent(case.true_probability))}), "
            f"predicted <b>{_esc(case.predicted_label)}</b> ({_esc(fmt.percent(case.confidence))}); "
            f"{case.signal.size} samples at {case.fs:g} Hz ({case.signal.size / case.fs:g} s)</div>"
        )

    @staticmethod
    def _metadata_table(case: FailureCase) -> str:
        keys = [k for k in LEADING_METADATA if k in case.metadata]
        keys += sorted(k for k in case.metadata if k not in keys)
        rows = "".join(
            f"<tr><td style='padding-right:12px'>{_esc(k)}</td><td>{_esc(_value(case.metadata[k]))}</td></tr>"
            for k in keys
        )
        return f"<b>Operating metadata</b><table style='font-size:90%'>{rows}</table>"

    @staticmethod
    def _signal(case: FailureCase) -> LiveFigureWidget:
        t, y = min_max_decimate(case.time_s, case.signal, MAX_POINTS)
        shapes = []
        if case.window_samples and case.window_samples < case.signal.size:
            starts = np.arange(case.window_samples, case.signal.size, case.window_samples)
            if starts.size <= MAX_WINDOW_LINES:
                shapes = [
                    {
                        "type": "line",
                        "xref": "x",
                        "yref": "paper",
                        "x0": float(s / case.fs),
                        "x1": float(s / case.fs),
                        "y0": 0,
                        "y1": 1,
                        "line": {"color": WINDOW_LINE_COLOR, "dash": "dot", "width": 1},
                    }
                    for s in starts
                ]
        windows = f"; dotted: model windows of {case.window_samples} samples" if shapes else ""
        return LiveFigureWidget(
            data=[
                {"type": "scatter", "x": t.tolist(), "y": y.tolist(), "mode": "lines", "line": {"width": 1}}
            ],
            layout={
                "title": {"text": f"signal{windows}", "font": {"size": 13}},
                "height": FIGURE_HEIGHT,
                "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
                "xaxis": {"title": {"text": f"time (s){_points_note(t.size, case.signal.size)}"}},
                "yaxis": {"title": {"text": "amplitude"}},
                "shapes": shapes,
            },
        )

    @staticmethod
    def _spectrum(case: FailureCase, top_hz: float | None = None) -> LiveFigureWidget:
        """The amplitude spectrum up to `top_hz` (default Nyquist); shaft orders marked when zoomed."""
        keep = case.frequencies_hz <= top_hz if top_hz is not None else slice(None)
        frequencies, magnitude = case.frequencies_hz[keep], case.magnitude[keep]
        f, m = min_max_decimate(frequencies, magnitude, MAX_POINTS)
        floor = float(np.max(case.magnitude)) * 1e-7 if case.magnitude.size else 0.0
        shapes, annotations = [], []
        for label, hz in case.order_markers if top_hz is not None else ():
            shapes.append(
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": hz,
                    "x1": hz,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": ORDER_LINE_COLOR, "dash": "dash", "width": 1},
                }
            )
            annotations.append(
                {
                    "x": hz,
                    "y": 1.0,
                    "xref": "x",
                    "yref": "paper",
                    "text": label,
                    "showarrow": False,
                    "yanchor": "bottom",
                }
            )
        if top_hz is None:
            title = "magnitude spectrum (Hann window), 0 Hz to Nyquist"
        else:
            title = f"shaft orders: spectrum to {top_hz:.0f} Hz, speed {case.speed_hz:.2f} Hz (metadata)"
        return LiveFigureWidget(
            data=[
                {
                    "type": "scatter",
                    "x": f.tolist(),
                    "y": np.maximum(m, floor).tolist(),  # log axis: no zeros
                    "mode": "lines",
                    "line": {"width": 1},
                    "hovertemplate": "%{x:.1f} Hz: %{y:.3g}<extra></extra>",
                }
            ],
            layout={
                "title": {"text": title, "font": {"size": 13}},
                "height": FIGURE_HEIGHT,
                "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
                "xaxis": {"title": {"text": f"frequency (Hz){_points_note(f.size, frequencies.size)}"}},
                "yaxis": {"title": {"text": "amplitude"}, "type": "log"},
                "shapes": shapes,
                "annotations": annotations,
            },
        )

    @staticmethod
    def _probabilities(case: FailureCase) -> LiveFigureWidget:
        names = list(case.class_names)
        colors = [
            (RIGHT_COLOR if case.correct else WRONG_COLOR) if name == case.predicted_label else OTHER_COLOR
            for name in names
        ]
        line_widths = [3 if name == case.true_label else 0 for name in names]
        return LiveFigureWidget(
            data=[
                {
                    "type": "bar",
                    "orientation": "h",
                    "x": case.probabilities.tolist(),
                    "y": names,
                    "marker": {"color": colors, "line": {"color": OUTLINE_COLOR, "width": line_widths}},
                    "hovertemplate": "%{y}: %{x:.3f}<extra></extra>",
                }
            ],
            layout={
                "title": {"text": "class probabilities (outlined: true class)", "font": {"size": 13}},
                "height": max(FIGURE_HEIGHT, 60 + 22 * len(names)),
                "width": 520,  # fixed: it shares a row with the metadata table
                "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
                "xaxis": {"title": {"text": "probability"}, "range": [0, 1]},
                "yaxis": {"autorange": "reversed", "automargin": True},
            },
        )


def failure_detail_widget(store: Store, experiment_id: int, record_id: str) -> widgets.Widget:
    """Signal, spectrum, probabilities and metadata of test record `record_id` (see `FailureDetail`)."""
    return FailureDetail(store, experiment_id, record_id)
