"""Small pieces of markup the wizard's steps share: escaped text, a field's error line, cards."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets

from bearing_workbench.panels.forms import ERROR_COLOR

# The label column as wide as its text: ipywidgets' default 80 px cut "Preset name" to "Preset na…".
LABEL_FITS = {"description_width": "initial"}
_SELECTED_BORDER = "2px solid #1976d2"
_CARD_BORDER = "1px solid #c8c8c8"


def escape(text: Any) -> str:
    return html.escape(str(text))


def error_html(message: str) -> str:
    return f'<span style="color:{ERROR_COLOR};font-size:90%">{escape(message)}</span>' if message else ""


def choice_card(
    title: str, lines: list[str], tooltip: str, width: str
) -> tuple[widgets.Button, widgets.VBox]:
    button = widgets.Button(description=title, tooltip=tooltip, layout={"width": "100%"})
    body = "<br>".join(lines)
    text = widgets.HTML(f'<div style="font-size:90%;line-height:1.35">{body}</div>')
    card = widgets.VBox([button, text], layout={"width": width, "border": _CARD_BORDER, "padding": "6px"})
    card.layout.margin = "4px"
    return button, card


def highlight(cards: Mapping[str, tuple[widgets.Button, widgets.VBox]], selected: str | None) -> None:
    for key, (button, card) in cards.items():
        chosen = key == selected
        button.button_style = "info" if chosen else ""
        card.layout.border = _SELECTED_BORDER if chosen else _CARD_BORDER


def plain_text(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))
