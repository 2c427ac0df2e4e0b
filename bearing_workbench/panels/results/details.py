"""The Detailed metrics tab: per-class table, confusion matrix (counts or row shares) whose cells
list their test records, and the one-vs-rest ROC curves. The table and the matrix are `confusion`'s,
shared with the Evaluations tab."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import traitlets

from bearing_workbench.analysis import format as fmt
from bearing_workbench.analysis.results_info import CellRecord, ResultsInfo, RocCurve
from bearing_workbench.config import theme
from bearing_workbench.panels.kit import fragments
from bearing_workbench.panels.results.confusion import ConfusionMatrix, per_class_table
from bearing_workbench.panels.results.elements import esc, figure, note, section

if TYPE_CHECKING:
    from bearing_workbench.panels.live_figure import LiveFigureWidget


CHANCE_COLOR = theme.color("faint")


class DetailsTab(widgets.VBox):
    """Per-class metrics, the confusion matrix and the ROC curves of one experiment (its `ResultsInfo`).

    Args:
        on_cell: called with (true label, predicted label) when a confusion-matrix cell is clicked.
        on_inspect: called by the "Inspect in failure cases" button.

    Traits: `normalised` (the matrix shown row-normalised).
    """

    normalised = traitlets.Bool(False)

    def __init__(
        self,
        info: ResultsInfo,
        *,
        on_cell: Callable[[str, str], Any],
        on_inspect: Callable[[], Any],
    ):
        super().__init__()
        self.info = info
        self.experiment_id = info.experiment_id
        self.per_class_html = widgets.HTML(per_class_table(info.per_class, info.recall_ready))
        self.confusion = ConfusionMatrix(
            info.class_names,
            info.confusion,
            f"experiment-{self.experiment_id}-confusion-matrix",
            on_cell=on_cell,
        )
        self.normalised_toggle = self.confusion.toggle
        self.confusion_figure = self.confusion.figure
        widgets.link((self.confusion, "normalised"), (self, "normalised"))
        self.cell_html = widgets.HTML(
            fragments.message(
                "click a cell to list its test records (and show them in the failure cases)", "muted"
            )
        )
        self.cell_button = widgets.Button(
            description="Inspect in failure cases",
            layout=widgets.Layout(display="none", width="auto", align_self="flex-start"),
        )
        self.cell_button.on_click(lambda _: on_inspect())
        curves = info.roc
        children: list[widgets.Widget] = [
            section("Per class"),
            self.per_class_html,
            section("Confusion matrix"),
            self.confusion,
            self.cell_html,
            self.cell_button,
            section("ROC curves (one class vs the rest)"),
        ]
        self.roc_figure: LiveFigureWidget | None = None
        if curves:
            self.roc_figure = roc_figure(curves, info.macro_auc, f"experiment-{self.experiment_id}-roc")
            children.append(self.roc_figure)
        else:
            children.append(note("no ROC curve: no class has both positives and negatives in the test split"))
        self.children = children

    def show_cell(self, title: str, records: Sequence[CellRecord]) -> None:
        """List the test records of the selected cell under the matrix."""
        rows = [
            (esc(r.record_id), esc(fmt.percent(r.predicted_probability)), esc(r.top_classes()))
            for r in records
        ]
        self.cell_html.value = f"<div><b>{esc(title)}</b></div>" + (
            fragments.data_table(("record", "confidence", "top probabilities"), rows) if rows else ""
        )
        self.cell_button.layout.display = "" if records else "none"


def roc_figure(curves: Sequence[RocCurve], macro_auc: float | None, png_name: str) -> LiveFigureWidget:
    """One ROC curve per class, the chance diagonal, macro AUC on top (four decimals, as the report).

    Each class its own colour from the theme's class palette: plotly's default cycle has 10, and the
    datasets have up to 11 classes.
    """
    colours = theme.palette(len(curves))
    data = [
        {
            "type": "scatter",
            "x": list(c.fpr),
            "y": list(c.tpr),
            "mode": "lines",
            "line": {"color": colour},
            "name": f"{c.name} (AUC {fmt.number(c.auc, 3)})" if c.auc is not None else c.name,
            "hovertemplate": f"{esc(c.name)}<br>FPR %{{x:.3f}}<br>TPR %{{y:.3f}}<extra></extra>",
        }
        for c, colour in zip(curves, colours, strict=True)
    ]
    data.append(
        {
            "type": "scatter",
            "x": [0, 1],
            "y": [0, 1],
            "mode": "lines",
            "name": "chance",
            "line": {"dash": "dash", "color": CHANCE_COLOR},
            "hoverinfo": "skip",
        }
    )
    return figure(
        data,
        {
            "height": 380,
            "title": {"text": f"macro AUC {fmt.number(macro_auc, 4)}" if macro_auc is not None else ""},
            "xaxis": {"title": {"text": "false positive rate"}, "range": [0, 1]},
            "yaxis": {"title": {"text": "true positive rate"}, "range": [0, 1.02]},
        },
        png_name,
    )
