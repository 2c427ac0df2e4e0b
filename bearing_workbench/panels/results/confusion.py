"""The pieces of the Detailed metrics tab that other views of a model's predictions reuse: the
per-class table and the confusion matrix (counts or row shares, cells clickable). The experiment's own
test split (`details`) and its evaluations on other data (`evaluations`) draw them the same way."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import traitlets

from bearing_workbench.analysis import format as fmt
from bearing_workbench.analysis.results_rows import ClassRow, row_shares
from bearing_workbench.config import theme
from bearing_workbench.panels.kit import fragments
from bearing_workbench.panels.results.elements import esc, figure

if TYPE_CHECKING:
    from bearing_workbench.panels.live_figure import LiveFigureWidget

WEAK_ROW = f'data-weak="1" style="background:{theme.color("warning_bg")}"'


def weak_mark(recall_ready: float) -> str:
    return (
        f'<span class="bw-weak" style="color:{theme.color("warning")}">&#9888; weak '
        f"(recall below {esc(fmt.percent(recall_ready, 0))})</span>"
    )


def per_class_table(rows: Sequence[ClassRow], recall_ready: float, records: str = "test records") -> str:
    """The per-class table (precision, recall, F1, AUC, records), weak classes marked and shaded.

    Args:
        records: the heading of the records column ("test records", "records").
    """
    mark = weak_mark(recall_ready)
    return fragments.data_table(
        ("class", "precision", "recall", "F1", "AUC", records, ""),
        [
            (esc(r.name), *(esc(text) for text in r.texts), str(r.support), mark if r.weak else "")
            for r in rows
        ],
        row_attrs=[WEAK_ROW if r.weak else "" for r in rows],
    )


class ConfusionMatrix(widgets.VBox):
    """A confusion matrix (rows: true class, columns: predicted) with a counts / row-shares toggle.

    Args:
        class_names: the classes, in the matrix's order.
        confusion: the counts.
        png_name: the name its camera button saves a PNG under.
        on_cell: called with (true label, predicted label) when a cell is clicked; None: cells do nothing.

    Traits: `normalised` (row shares shown). Parts: `toggle`, `figure` (its trace 0 is the heatmap).
    """

    normalised = traitlets.Bool(False)

    def __init__(
        self,
        class_names: Sequence[str],
        confusion: Sequence[Sequence[int]],
        png_name: str,
        on_cell: Callable[[str, str], Any] | None = None,
    ):
        super().__init__()
        self.class_names = list(class_names)
        self.counts = [[int(v) for v in row] for row in confusion]
        self.shares = [list(row) for row in row_shares(confusion)]
        self._on_cell = on_cell
        self.toggle = widgets.ToggleButtons(
            options=[("counts", False), ("normalised by true class", True)],
            value=self.normalised,
            style={"button_width": "auto"},
        )
        widgets.link((self.toggle, "value"), (self, "normalised"))
        self.figure = self._figure(png_name)
        self.children = [self.toggle, self.figure]
        self.observe(self._on_normalised, names="normalised")

    def _values(self) -> list[list[float]] | list[list[int]]:
        return self.shares if self.normalised else self.counts

    def _figure(self, png_name: str) -> LiveFigureWidget:
        z = self._values()
        widget = figure(
            [
                {
                    "type": "heatmap",
                    "z": z,
                    "x": self.class_names,
                    "y": self.class_names,
                    "customdata": self.counts,
                    "colorscale": "Blues",
                    "text": self._cell_texts(z),
                    "texttemplate": "%{text}",
                    "hovertemplate": self._cell_hover(),
                }
            ],
            {
                "height": 120 + 34 * len(self.class_names),
                "xaxis": {"title": {"text": "predicted"}, "side": "bottom"},
                "yaxis": {"title": {"text": "true"}, "autorange": "reversed"},
            },
            png_name,
        )
        if self._on_cell is not None:
            widget.data[0].on_click(self._on_cell_click)
        return widget

    def _cell_hover(self) -> str:
        share = ", %{z:.1%} of the true class" if self.normalised else ""
        return f"true %{{y}}<br>predicted %{{x}}<br>%{{customdata}} record(s){share}<extra></extra>"

    def _cell_texts(self, z: Sequence[Sequence[float]]) -> list[list[str]]:
        if self.normalised:
            return [[fmt.percent(v, 0) if v else "" for v in row] for row in z]
        return [[str(int(v)) if v else "" for v in row] for row in z]

    def _on_normalised(self, change: Mapping[str, Any]) -> None:
        z = self._values()
        trace = self.figure.data[0]
        with self.figure.batch_update():
            trace.z = z
            trace.text = self._cell_texts(z)
            trace.hovertemplate = self._cell_hover()

    def _on_cell_click(self, trace: Any, points: Any, selector: Any = None) -> None:
        """Heatmap click: `points.ys` / `points.xs` hold the true / predicted class of the cell."""
        if self._on_cell is None or not points.xs or not points.ys:
            return
        self._on_cell(str(points.ys[0]), str(points.xs[0]))
