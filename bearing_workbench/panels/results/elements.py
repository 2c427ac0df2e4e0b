"""The small pieces every tab of the results page is made of: escaped text, numbers as shown,
section titles, notes, HTML tables and figures that save a PNG under a useful name."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

if TYPE_CHECKING:
    from bearing_workbench.panels.live_figure import LiveFigureWidget

MUTED = "color:#6b7280"


def esc(text: Any) -> str:
    return html.escape(str(text))


def pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f} %"


def num(value: float | None, fmt: str = ".4g") -> str:
    return "—" if value is None else format(value, fmt)


def section(title: str) -> widgets.HTML:
    return widgets.HTML(f'<div style="font-weight:600;margin:10px 0 4px">{esc(title)}</div>')


def note(text: str) -> widgets.HTML:
    return widgets.HTML(f'<div style="{MUTED};margin:4px 0">{esc(text)}</div>')


def table(header: Sequence[str], rows: Sequence[Sequence[str]], row_styles: Sequence[str] = ()) -> str:
    """An HTML table; cells are HTML already (escape them first)."""
    head = "".join(f'<th style="text-align:left;padding:2px 10px 2px 0">{esc(h)}</th>' for h in header)
    body = []
    for i, row in enumerate(rows):
        style = row_styles[i] if i < len(row_styles) else ""
        cells = "".join(f'<td style="padding:2px 10px 2px 0">{c}</td>' for c in row)
        body.append(f'<tr style="{style}">{cells}</tr>')
    return f'<table style="border-collapse:collapse"><tr>{head}</tr>{"".join(body)}</table>'


def figure(data: list[dict[str, Any]], layout: dict[str, Any], png_name: str) -> LiveFigureWidget:
    """A figure whose camera button saves a PNG named `png_name` (client-side: no kaleido needed)."""
    from bearing_workbench.panels.live_figure import LiveFigureWidget  # plotly: with the first figure

    widget = LiveFigureWidget(data=data, layout={"margin": {"l": 60, "r": 30, "t": 30, "b": 50}, **layout})
    widget._config = {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": png_name, "scale": 2},
    }
    return widget
