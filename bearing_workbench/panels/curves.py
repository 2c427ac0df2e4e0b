"""The loss and accuracy curves of a run, as plotly trace and layout dicts (no plotly import here).

One definition for the live monitor and the results page, so that a run's curves look the same in
both: train and val loss on the left axis, train and val accuracy on the right, the best epoch
starred. The axes are labelled and ranged before there is any data (a run's chart is never bare),
epochs are whole-number ticks, the ranges leave room for the highest point and the star, and the
legend sits under the chart, where it covers no point.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from bearing_workbench.config.theme import CURVE_COLORS

LOSS_COLOR = CURVE_COLORS["loss"]
ACCURACY_COLOR = CURVE_COLORS["accuracy"]
# (metric key, legend name, y axis, line dash, colour), in trace order
CURVES = (
    ("train_loss", "train loss", "y", "solid", LOSS_COLOR),
    ("val_loss", "val loss", "y", "dot", LOSS_COLOR),
    ("train_acc", "train accuracy", "y2", "solid", ACCURACY_COLOR),
    ("val_acc", "val accuracy", "y2", "dot", ACCURACY_COLOR),
)
# Tick steps for the epoch axis: whole epochs, about ten ticks.
EPOCH_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000)
LOSS_HEADROOM = 1.12  # the loss axis ends this much above the highest loss
ACCURACY_RANGE = (0.0, 1.06)  # room above 100 % for the star's marker


def curve_traces(history: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """One line per curve of `CURVES`, drawn from `history` rows (empty when none yet)."""
    epochs = [row["epoch"] for row in history]
    return [
        {
            "type": "scatter",
            "x": epochs,
            "y": [row.get(key) for row in history],
            "name": name,
            "yaxis": axis,
            "mode": "lines+markers",
            "line": {"dash": dash, "color": color},
            "cliponaxis": False,  # a marker on the axis edge is drawn whole
            "hovertemplate": "%{y:.4g}" if axis == "y" else "%{y:.1%}",
        }
        for key, name, axis, dash, color in CURVES
    ]


def batch_trace(x: Sequence[float] = (), y: Sequence[float] = ()) -> dict[str, Any]:
    """The batch losses of the epoch in progress, at fractional epochs (epoch 2, batch 10/40 -> 1.25)."""
    return {
        "type": "scatter",
        "x": list(x),
        "y": list(y),
        "name": "batch loss (epoch in progress)",
        "yaxis": "y",
        "mode": "lines",
        "line": {"color": LOSS_COLOR, "width": 1},
        "opacity": 0.55,
        "hovertemplate": "batch loss %{y:.4g}",
    }


def best_epoch_trace(epoch: int | None = None, val_acc: float | None = None) -> dict[str, Any]:
    """The star on the best epoch's validation accuracy (empty when not known)."""
    known = epoch is not None and val_acc is not None
    return {
        "type": "scatter",
        "x": [epoch] if known else [],
        "y": [val_acc] if known else [],
        "name": "best val accuracy",
        "yaxis": "y2",
        "mode": "markers",
        "marker": {"symbol": "star", "size": 13, "color": ACCURACY_COLOR},
        "cliponaxis": False,
        "hovertemplate": "best %{y:.1%}",
    }


def epoch_axis(last_epoch: int) -> dict[str, Any] | None:
    """x axis settings for epochs 1..`last_epoch` in whole-epoch ticks; None when no epoch is known."""
    last = int(last_epoch or 0)
    if last < 1:
        return None
    wanted = max(1, math.ceil(last / 10))
    step = next((s for s in EPOCH_STEPS if s >= wanted), wanted)
    return {"range": [0.5, last + 0.5], "tickmode": "linear", "tick0": 0, "dtick": step, "tickformat": "d"}


def loss_range(history: Sequence[Mapping[str, Any]] = (), extra: Sequence[float] = ()) -> list[float]:
    """[0, a little above the highest loss] (of the epochs and any `extra` batch losses); [0, 1] when none."""
    values = [row.get(key) for row in history for key in ("train_loss", "val_loss")] + list(extra)
    finite = [float(v) for v in values if isinstance(v, int | float) and math.isfinite(v)]
    top = max(finite, default=0.0)
    return [0.0, top * LOSS_HEADROOM if top > 0 else 1.0]


def curves_layout(history: Sequence[Mapping[str, Any]] = (), total_epochs: int = 0) -> dict[str, Any]:
    """Two labelled y axes (loss from zero on the left, accuracy 0-100 % on the right) and the epoch
    axis over the planned run (`total_epochs`) or the epochs in `history`, the legend under the chart."""
    last = max([int(total_epochs or 0), *(int(row["epoch"]) for row in history)])
    xaxis: dict[str, Any] = {"title": {"text": "epoch"}, "tickformat": "d"}
    xaxis |= epoch_axis(last) or {}
    # Without data the loss axis is left to plotly (a caller drawing live data sets it, `loss_range`).
    loss_axis = {"range": loss_range(history)} if history else {}
    return {
        "height": 360,
        "margin": {"l": 60, "r": 60, "t": 30, "b": 90},
        "hovermode": "x unified",
        "dragmode": "zoom",
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": -0.22, "yanchor": "top"},
        "xaxis": xaxis,
        "yaxis": {"title": {"text": "loss"}, "rangemode": "tozero"} | loss_axis,
        "yaxis2": {
            "title": {"text": "accuracy"},
            "overlaying": "y",
            "side": "right",
            "range": list(ACCURACY_RANGE),
            "tickvals": [0, 0.2, 0.4, 0.6, 0.8, 1.0],
            "tickformat": ".0%",
            "showgrid": False,
        },
    }
