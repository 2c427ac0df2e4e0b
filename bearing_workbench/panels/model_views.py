"""The results page's model-specific sections: what the model learned, drawn per section kind.

Every computation is `analysis.model_views.model_sections`; this module only draws its sections:
filters as heatmaps (taps and spectra), 2-D filters as a mosaic, attention as a heatmap per layer
with a layer selector, curves as lines, contributions and importances as bars, diversity as
annotated matrices, and notes as text.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np

from bearing_workbench.analysis import format as fmt
from bearing_workbench.analysis.decimation import min_max_decimate
from bearing_workbench.analysis.model_views import ModelSection, attention_section, model_sections
from bearing_workbench.config import theme
from bearing_workbench.panels.kit import fragments
from bearing_workbench.panels.live_figure import LiveFigureWidget
from bearing_workbench.store import Store

MAX_SIGNAL_POINTS = 4000
FIGURE_HEIGHT = 320
MOSAIC_MAX_FILTERS = 32
HIGHLIGHT_COLOR = theme.CURVE_COLORS["loss"]
BAR_COLOR = theme.CLASS_PALETTE[0]
SIGNAL_COLOR = theme.color("faint")
CLASS_TOKEN_COLOR = theme.CURVE_COLORS["accuracy"]


def _esc(text: Any) -> str:
    return html.escape(str(text))


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "font": {"size": 13}},
        "height": FIGURE_HEIGHT,
        "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
        **extra,
    }


def _list(values: Any) -> list[Any]:
    """Plain floats for plotly, NaN as None (a gap)."""
    array = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(array), array, None).tolist()


class ModelViews(widgets.VBox):
    """The model-specific sections of one experiment, one block per `ModelSection`.

    Attributes kept for callers and tests: `sections`, `figures` (section title -> its figure
    widgets) and, for a transformer, `layer_selector`, `record_selector` (which test record the
    attention is computed on), `attention_figure` and `received_figure`.
    """

    def __init__(self, store: Store, experiment_id: int, sections: Sequence[ModelSection] | None = None):
        super().__init__()
        self.experiment_id = experiment_id
        self.sections = list(model_sections(store, experiment_id) if sections is None else sections)
        self.figures: dict[str, list[LiveFigureWidget]] = {}
        self._store = store
        self.layer_selector: widgets.Dropdown | None = None
        self.record_selector: widgets.Dropdown | None = None
        self.attention_message: widgets.HTML | None = None
        self.attention_figure: LiveFigureWidget | None = None
        self.received_figure: LiveFigureWidget | None = None
        self._attention: ModelSection | None = None
        self.children = [self._block(section) for section in self.sections]

    def _block(self, section: ModelSection) -> widgets.Widget:
        heading = widgets.HTML(f"<h4 style='margin:8px 0 2px'>{_esc(section.title)}</h4>")
        note = widgets.HTML(f"<div class='bw-muted' style='font-size:90%'>{_esc(section.note)}</div>")
        render: Callable[[ModelSection], list[widgets.Widget]] | None = getattr(
            self, f"_render_{section.kind}", None
        )
        body = [] if render is None or section.kind == "note" else render(section)
        figures = [w for w in body if isinstance(w, LiveFigureWidget)]
        if figures:
            self.figures[section.title] = figures
        return widgets.VBox([heading, note, *body])

    # -- renderers, one per section kind ------------------------------------------------------------

    def _render_filters(self, section: ModelSection) -> list[widgets.Widget]:
        data = section.data
        order = np.argsort(data["peak_hz"], kind="stable")
        weights = np.asarray(data["weights"])[order]
        spectra = np.asarray(data["spectra"])[order]
        peak = spectra.max(axis=1, keepdims=True)
        spectra = spectra / np.where(peak > 0, peak, 1.0)
        taps_ms = 1000.0 * np.arange(weights.shape[1]) / float(data["fs"])
        labels = [f"#{i}" for i in order]
        weights_fig = LiveFigureWidget(
            data=[
                {
                    "type": "heatmap",
                    "z": weights.tolist(),
                    "x": taps_ms.tolist(),
                    "y": labels,
                    "colorscale": "RdBu",
                    "zmid": 0.0,
                    "hovertemplate": "filter %{y}<br>%{x:.3f} ms: %{z:.3g}<extra></extra>",
                }
            ],
            layout=_layout(
                "weights (rows sorted by peak frequency)",
                xaxis={"title": {"text": "tap time (ms)"}},
                yaxis={"title": {"text": "filter"}, "type": "category"},
            ),
        )
        spectra_fig = LiveFigureWidget(
            data=[
                {
                    "type": "heatmap",
                    "z": spectra.tolist(),
                    "x": np.asarray(data["frequencies_hz"]).tolist(),
                    "y": labels,
                    "colorscale": "Viridis",
                    "hovertemplate": "filter %{y}<br>%{x:.0f} Hz: %{z:.2f}<extra></extra>",
                }
            ],
            layout=_layout(
                "magnitude spectra (each filter scaled to its peak)",
                xaxis={"title": {"text": "frequency (Hz)"}},
                yaxis={"title": {"text": "filter"}, "type": "category"},
            ),
        )
        return [weights_fig, spectra_fig]

    def _render_filters2d(self, section: ModelSection) -> list[widgets.Widget]:
        weights = np.asarray(section.data["weights"])[:MOSAIC_MAX_FILTERS]
        n, rows, columns = weights.shape
        per_row = int(np.ceil(np.sqrt(n)))
        n_rows = int(np.ceil(n / per_row))
        # One heatmap of kernels with a NaN gap between them: one trace instead of n subplots.
        mosaic = np.full((n_rows * (rows + 1) - 1, per_row * (columns + 1) - 1), np.nan)
        for i, kernel in enumerate(weights):
            r, c = divmod(i, per_row)
            mosaic[
                r * (rows + 1) : r * (rows + 1) + rows, c * (columns + 1) : c * (columns + 1) + columns
            ] = kernel
        shown = f"first {n} of {len(section.data['weights'])}" if len(section.data["weights"]) > n else f"{n}"
        figure = LiveFigureWidget(
            data=[{"type": "heatmap", "z": _nested(mosaic), "colorscale": "RdBu", "zmid": 0.0}],
            layout=_layout(
                f"{shown} kernels (frequency rows, time columns)",
                xaxis={"showticklabels": False},
                yaxis={"showticklabels": False, "autorange": "reversed", "scaleanchor": "x"},
            ),
        )
        return [figure]

    def _render_attention(self, section: ModelSection) -> list[widgets.Widget]:
        data = section.data
        self._attention = section
        n_layers = len(data["layers"])
        self.layer_selector = widgets.Dropdown(
            options=[(f"layer {i + 1} of {n_layers}", i) for i in range(n_layers)],
            value=n_layers - 1,  # the last layer first: the class token is read from it
            description="Layer",
        )
        records = data.get("test_records") or [(data["record_id"], data["true_label"], data["predicted"])]
        self.record_selector = widgets.Dropdown(
            options=[
                (f"{rid}: {true}{'' if true == pred else f' (predicted {pred})'}", rid)
                for rid, true, pred in records
            ],
            value=data["record_id"],
            description="Test record",
            layout=widgets.Layout(width="420px"),
            style={"description_width": "initial"},
        )
        self.attention_message = widgets.HTML()
        self.attention_figure = LiveFigureWidget(
            data=[
                {
                    "type": "heatmap",
                    "colorscale": "Viridis",
                    "hovertemplate": "query %{y} -> key %{x}: %{z:.3f}<extra></extra>",
                }
            ],
            layout=_layout(
                "",
                height=420,
                xaxis={"title": {"text": "key token"}},
                yaxis={"title": {"text": "query token"}, "autorange": "reversed"},
            ),
        )
        self.received_figure = LiveFigureWidget(
            data=[
                {
                    "type": "scatter",
                    "name": "signal",
                    "mode": "lines",
                    "line": {"width": 1, "color": SIGNAL_COLOR},
                },
                {
                    "type": "bar",
                    "name": "attention received",
                    "yaxis": "y2",
                    "opacity": 0.6,
                    "marker": {"color": HIGHLIGHT_COLOR},
                },
                {
                    "type": "scatter",
                    "name": "class token's attention",
                    "yaxis": "y2",
                    "mode": "lines",
                    "line": {"color": CLASS_TOKEN_COLOR},
                },
            ],
            layout=_layout(
                "",
                yaxis={"title": {"text": "signal"}},
                yaxis2={
                    "title": {"text": "attention"},
                    "overlaying": "y",
                    "side": "right",
                    "rangemode": "tozero",
                    "showgrid": False,
                },
                legend={"orientation": "h", "y": -0.3},
            ),
        )
        self._draw_attention()
        self.layer_selector.observe(lambda _: self._draw_attention(), names="value")
        self.record_selector.observe(self._show_record, names="value")
        return [
            widgets.HBox([self.record_selector, self.layer_selector]),
            self.attention_message,
            self.attention_figure,
            self.received_figure,
        ]

    def _show_record(self, change: dict[str, Any]) -> None:
        """Recompute the attention maps on another test record (one forward pass of the model)."""
        section = attention_section(self._store, self.experiment_id, str(change["new"]))
        if section.kind != "attention":
            self.attention_message.value = fragments.message(section.note, "error")
            return
        self._attention = section
        self._draw_attention()

    def _draw_attention(self) -> None:
        """Fill the attention figures from the current section, at the selected layer."""
        if self._attention is None or self.attention_figure is None or self.received_figure is None:
            return
        data = self._attention.data
        layer = int(self.layer_selector.value) if self.layer_selector is not None else 0
        n_tokens = data["layers"][layer].shape[0]
        tokens = ["CLS"] + [f"p{t}" for t in range(1, n_tokens)]
        fs = float(data["fs"])
        signal = np.asarray(data["signal"])
        t, y = min_max_decimate(np.arange(signal.size) / fs, signal, MAX_SIGNAL_POINTS)
        centres = (np.asarray(data["patch_bounds"]).mean(axis=1) / fs).tolist()
        decimated = f", min-max decimated to {t.size} of {signal.size} points" if t.size < signal.size else ""
        verdict = (
            data["predicted"] if data["predicted"] == data["true_label"] else f"{data['predicted']} (wrong)"
        )
        self.attention_message.value = (
            f"<div style='font-size:90%'>record {_esc(data['record_id'])}: true {_esc(data['true_label'])}, "
            f"predicted on this window {_esc(verdict)}</div>"
        )
        with self.attention_figure.batch_update():
            heatmap = self.attention_figure.data[0]
            heatmap.z = data["layers"][layer].tolist()
            heatmap.x = tokens
            heatmap.y = tokens
            self.attention_figure.layout.title.text = (
                f"attention, layer {layer + 1} (mean over {data['n_heads']} heads)"
            )
        with self.received_figure.batch_update():
            trace_signal, trace_received, trace_cls = self.received_figure.data
            trace_signal.x, trace_signal.y = t.tolist(), y.tolist()
            trace_received.x, trace_received.y = centres, data["received"][layer].tolist()
            trace_received.width = float(data["patch_size"]) / fs
            trace_cls.x, trace_cls.y = centres, data["cls_attention"][layer].tolist()
            self.received_figure.layout.title.text = (
                f"where layer {layer + 1} looks: record {data['record_id']}"
            )
            self.received_figure.layout.xaxis.title.text = f"time (s){decimated}"

    def _render_curves(self, section: ModelSection) -> list[widgets.Widget]:
        data = section.data
        x = np.asarray(data["x"]).tolist()
        figure = LiveFigureWidget(
            data=[
                {"type": "scatter", "x": x, "y": _list(values), "name": name, "mode": "lines+markers"}
                for name, values in data["series"].items()
            ],
            layout=_layout(
                "",  # the section heading names it
                xaxis={"title": {"text": data.get("x_label", "epoch")}},
                yaxis={"title": {"text": data.get("y_label", "")}},
            ),
        )
        return [figure]

    def _render_bars(self, section: ModelSection) -> list[widgets.Widget]:
        data = section.data
        labels = list(data["labels"])
        highlight = set(data.get("highlight") or ())
        colors = [HIGHLIGHT_COLOR if i in highlight else BAR_COLOR for i in range(len(labels))]
        figure = LiveFigureWidget(
            data=[
                {
                    "type": "bar",
                    "orientation": "h",
                    "x": _list(data["values"]),
                    "y": labels,
                    "marker": {"color": colors},
                    "hovertemplate": "%{y}: %{x:.4g}<extra></extra>",
                }
            ],
            layout=_layout(
                "",  # the section heading names it
                height=max(FIGURE_HEIGHT, 60 + 22 * len(labels)),
                xaxis={"title": {"text": data.get("value_label", "")}},
                yaxis={"autorange": "reversed", "automargin": True},  # first label on top
            ),
        )
        return [figure]

    def _render_matrices(self, section: ModelSection) -> list[widgets.Widget]:
        data = section.data
        labels = list(data["labels"])
        figures: list[widgets.Widget] = []
        for name, matrix in data["matrices"].items():
            values = np.asarray(matrix, dtype=np.float64)
            text = [["" if not np.isfinite(v) else fmt.number(v, 3) for v in row] for row in values]
            figures.append(
                LiveFigureWidget(
                    data=[
                        {
                            "type": "heatmap",
                            "z": _nested(values),
                            "x": labels,
                            "y": labels,
                            "text": text,
                            "texttemplate": "%{text}",
                            "colorscale": "Blues",
                            "zmin": -1.0 if name.startswith("error") else 0.0,
                            "zmax": 1.0,
                        }
                    ],
                    layout=_layout(name, yaxis={"autorange": "reversed", "automargin": True}),
                )
            )
        if data.get("error_rate") is not None:
            rates = ", ".join(
                f"{_esc(label)}: {_esc(fmt.percent(rate))}"
                for label, rate in zip(labels, data["error_rate"], strict=False)
            )
            figures.append(widgets.HTML(f"<div style='font-size:90%'>Error rate: {rates}</div>"))
        return figures


def _nested(matrix: np.ndarray) -> list[list[float | None]]:
    return [_list(row) for row in np.asarray(matrix, dtype=np.float64)]


def model_views_widget(store: Store, experiment_id: int) -> widgets.Widget:
    """The model-specific sections of experiment `experiment_id` as one widget (see `ModelViews`)."""
    return ModelViews(store, experiment_id)
