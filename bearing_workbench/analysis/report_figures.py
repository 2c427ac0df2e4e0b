"""The report's figures, drawn with matplotlib from a `ResultsInfo`: the same data the results page plots.

Each figure is drawn at the size it is printed (A4 less the margins) and returned as an inline SVG data
URI (`Image`), so that the document needs nothing from outside.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bearing_workbench.analysis.format import finite
from bearing_workbench.analysis.results_info import ResultsInfo, RocCurve

# A4 (210 mm) less 2 x 16 mm margins: 178 mm = 7.0 in. Figures are drawn at the size they are printed.
CONTENT_WIDTH_IN = 7.0
# Print palette in matplotlib's own names (the report is printed on white; the pages' theme is the
# panels' kit, which this layer cannot import): the accent is the report CSS's dark blue.
ACCENT = (0.122, 0.306, 0.475)
TRAIN_COLOUR = "tab:blue"
VAL_COLOUR = "tab:red"
GRID_GREY, LINE_GREY, LIGHT_GREY, TEXT_GREY = "0.89", "0.53", "0.67", "0.13"  # grey levels, 0 = black


@dataclass(frozen=True)
class Image:
    """A figure as an ``<img>`` source: its alt text, data URI and printed size in inches."""

    alt: str
    src: str
    width_in: float
    height_in: float


def figures(info: ResultsInfo) -> dict[str, Image]:
    """The figures `info` has data for: ``confusion``, ``curves``, ``roc``, ``importance``."""
    out: dict[str, Image] = {}
    if info.confusion:
        counts = np.asarray(info.confusion, dtype=np.int64)
        totals = counts.sum(axis=1, keepdims=True)
        rates = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
        out["confusion"] = image(_confusion_figure(counts, rates, info.class_names), "confusion matrix")
    if info.history:
        out["curves"] = image(_curves_figure(info.history, info.best_epoch), "training curves")
    if info.roc:
        out["roc"] = image(_roc_figure(info.roc), "ROC curves")
    if info.importance:
        out["importance"] = image(_importance_figure(info.importance), "feature importance")
    return out


def _figure(width_in: float, height_in: float) -> Any:
    from matplotlib.figure import Figure

    # A bare Figure (no pyplot): no global backend state, safe in a worker thread.
    return Figure(figsize=(width_in, height_in), layout="constrained")


def image(fig: Any, alt: str) -> Image:
    """The figure as an inline SVG data URI (text drawn as paths: no font is fetched), printed at the
    figure's own size."""
    import matplotlib

    buffer = io.BytesIO()
    rc = {"svg.fonttype": "path", "svg.hashsalt": "bearing-workbench-report"}
    with matplotlib.rc_context(rc):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    width, height = fig.get_size_inches()
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return Image(alt, f"data:image/svg+xml;base64,{data}", float(width), float(height))


def _style_axes(ax: Any) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(True, color=GRID_GREY, linewidth=0.6)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=7)


def _confusion_figure(counts: np.ndarray, rates: np.ndarray, names: Sequence[str]) -> Any:
    """Counts and row-normalised rates side by side (one set of class labels), sized to the page width."""
    n = len(names)
    longest = max((len(name) for name in names), default=1)
    labels_in = min(1.6, 0.3 + 0.055 * longest)  # room for the tick labels at 7 pt
    side = min((CONTENT_WIDTH_IN - labels_in - 0.35) / 2, 1.2 + 0.3 * n)
    fig = _figure(labels_in + 2 * side + 0.35, side + 0.8 * labels_in + 0.35)
    axes = fig.subplots(1, 2, sharey=True)
    size = 7 if n <= 8 else 6 if n <= 12 else 5
    ticks = np.arange(n)
    for ax, matrix, normalised in ((axes[0], counts, False), (axes[1], rates, True)):
        shown = matrix.astype(float)
        top = 1.0 if normalised else max(1.0, float(shown.max()))
        ax.imshow(shown, cmap="Blues", vmin=0.0, vmax=top)
        ax.set_xticks(ticks, labels=names, rotation=45, ha="right", rotation_mode="anchor", fontsize=7)
        ax.set_yticks(ticks, labels=names, fontsize=7)
        ax.tick_params(length=0)
        ax.set_xlabel("Predicted class", fontsize=7.5)
        ax.set_title("Records" if not normalised else "Share of the true class (%)", fontsize=8)
        for i in range(n):
            for j in range(n):
                value = shown[i, j]
                if value == 0:
                    continue  # empty cells stay blank: the few mistakes stand out
                text = f"{100 * value:.0f}" if normalised else f"{int(value)}"
                colour = "white" if value > 0.55 * top else TEXT_GREY
                ax.text(j, i, text, ha="center", va="center", fontsize=size, color=colour)
    axes[0].set_ylabel("True class", fontsize=7.5)
    return fig


def _curves_figure(history: Sequence[Mapping[str, Any]], best_epoch: int | None) -> Any:
    fig = _figure(CONTENT_WIDTH_IN, 2.6)
    epochs = [row.get("epoch") for row in history]
    marker = "o" if len(history) <= 25 else None
    for k, (key, title) in enumerate((("loss", "Loss"), ("acc", "Accuracy"))):
        ax = fig.add_subplot(1, 2, k + 1)
        _style_axes(ax)
        for split, colour in (("train", TRAIN_COLOUR), ("val", VAL_COLOUR)):
            values = [finite(row.get(f"{split}_{key}")) for row in history]
            ys = [np.nan if v is None else v for v in values]
            if any(v is not None for v in values):
                label = "training" if split == "train" else "validation"
                ax.plot(epochs, ys, marker=marker, markersize=3, linewidth=1.4, color=colour, label=label)
        if best_epoch is not None:
            ax.axvline(
                best_epoch, color=LINE_GREY, linestyle="--", linewidth=0.8, label=f"best epoch ({best_epoch})"
            )
        ax.set_title(title, fontsize=8.5)
        ax.set_xlabel("Epoch", fontsize=7.5)
        if key == "acc":
            ax.yaxis.set_major_formatter(_percent_formatter())
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=6.5, frameon=False)
    return fig


def _percent_formatter() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)


def _roc_figure(curves: Sequence[RocCurve]) -> Any:
    fig = _figure(CONTENT_WIDTH_IN, 2.9)
    full, corner = fig.subplots(1, 2)
    colours = _colours(len(curves))
    # Good models hug the top-left corner: the second axes zooms into it.
    for ax, (low, high) in ((full, (0.0, 1.0)), (corner, (0.0, 0.2))):
        _style_axes(ax)
        for curve, colour in zip(curves, colours, strict=True):
            label = f"{curve.name} (AUC {curve.auc:.3f})" if curve.auc is not None else curve.name
            ax.plot(curve.fpr, curve.tpr, linewidth=1.1, color=colour, label=label)
        ax.plot([0, 1], [0, 1], color=LIGHT_GREY, linestyle=":", linewidth=0.8, label="chance")
        margin = 0.01 * (high - low)
        ax.set_xlim(low - margin, high + margin)
        ax.set_ylim(1 - high - margin, 1 + margin)
        ax.set_aspect("equal")
        ax.set_xlabel("False positive rate", fontsize=7.5)
    full.set_ylabel("True positive rate", fontsize=7.5)
    full.set_title("All thresholds", fontsize=8)
    corner.set_title("Top-left corner (zoom)", fontsize=8)
    corner.legend(fontsize=6.5, frameon=False, loc="upper left", bbox_to_anchor=(1.04, 1.0), borderaxespad=0)
    return fig


def _colours(n: int) -> list[Any]:
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _importance_figure(items: Sequence[tuple[str, float]]) -> Any:
    fig = _figure(CONTENT_WIDTH_IN * 0.8, 0.5 + 0.2 * len(items))
    ax = fig.add_subplot()
    _style_axes(ax)
    ax.grid(axis="y", visible=False)
    names = [k for k, _ in items][::-1]
    values = [v for _, v in items][::-1]
    ax.barh(names, values, color=ACCENT, height=0.65)
    ax.set_xlabel("Importance", fontsize=7.5)
    return fig
