"""The loss and accuracy curves of a run, as plotly trace and layout dicts (no plotly import here).

One definition for the live monitor and the results page, so that a run's curves look the same in
both: train and val loss on the left axis, train and val accuracy on the right, the best epoch
starred.
"""

from __future__ import annotations

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
            "hovertemplate": "%{y:.4g}" if axis == "y" else "%{y:.1%}",
        }
        for key, name, axis, dash, color in CURVES
    ]


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
        "hovertemplate": "best %{y:.1%}",
    }


def curves_layout() -> dict[str, Any]:
    """Two y axes: loss from zero on the left, accuracy 0-100 % on the right."""
    return {
        "height": 340,
        "margin": {"l": 60, "r": 60, "t": 30, "b": 45},
        "hovermode": "x unified",
        "dragmode": "zoom",
        "legend": {"orientation": "h", "y": 1.12, "x": 0},
        "xaxis": {"title": {"text": "epoch"}},
        "yaxis": {"title": {"text": "loss"}, "rangemode": "tozero"},
        "yaxis2": {
            "title": {"text": "accuracy"},
            "overlaying": "y",
            "side": "right",
            "range": [0, 1.02],
            "dtick": 0.2,
            "tickformat": ".0%",
            "showgrid": False,
        },
    }
