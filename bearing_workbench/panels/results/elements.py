"""The small pieces the tabs of the results page share: section titles, notes and figures that save a
PNG under a useful name. Looks come from the kit (`panels.kit`); numbers from `analysis.format`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from bearing_workbench.panels.kit import fragments

if TYPE_CHECKING:
    from bearing_workbench.panels.live_figure import LiveFigureWidget

esc = fragments.esc


def section(title: str) -> widgets.HTML:
    return widgets.HTML(fragments.section_title(title))


def note(text: str) -> widgets.HTML:
    return widgets.HTML(fragments.message(text, "muted"))


def figure(data: list[dict[str, Any]], layout: dict[str, Any], png_name: str) -> LiveFigureWidget:
    """A figure whose camera button saves a PNG named `png_name` (client-side: no kaleido needed)."""
    from bearing_workbench.panels.live_figure import LiveFigureWidget  # plotly: with the first figure

    widget = LiveFigureWidget(data=data, layout={"margin": {"l": 60, "r": 30, "t": 30, "b": 50}, **layout})
    widget._config = {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": png_name, "scale": 2},
    }
    return widget
