"""Small pieces the wizard's steps share: a field's error line, choice cards, label widths.

Their look is the kit's: error lines are `fragments.message(..., "error")`, borders the theme's tokens.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

import ipywidgets as widgets

from bearing_workbench.panels.kit import fragments, theme

# The label column as wide as its text: ipywidgets' default 80 px cut "Preset name" to "Preset na…".
LABEL_FITS = {"description_width": "initial"}


def _border(width: int, token: str) -> str:
    return f"{width}px solid {theme.color(token)}"


def error_html(message: str) -> str:
    """The red line that says what is wrong ('' for no message)."""
    return fragments.message(message, "error")


def choice_card(
    title: str, lines: list[str], tooltip: str, width: str
) -> tuple[widgets.Button, widgets.VBox]:
    """A card to choose by clicking its button (a model family, a preset); `lines` are HTML already."""
    button = widgets.Button(description=title, tooltip=tooltip, layout={"width": "100%"})
    text = widgets.HTML(card_text(lines))
    card = widgets.VBox(
        [button, text], layout={"width": width, "border": _border(1, "border"), "padding": "6px"}
    )
    card.layout.margin = "4px"
    return button, card


def card_text(lines: list[str]) -> str:
    return f'<div style="font-size:{theme.FONT_SIZES["label"]};line-height:1.35">{"<br>".join(lines)}</div>'


def highlight(cards: Mapping[str, tuple[widgets.Button, widgets.VBox]], selected: str | None) -> None:
    """Mark the chosen card (button style and a thicker border in the link colour)."""
    for key, (button, card) in cards.items():
        chosen = key == selected
        button.button_style = "info" if chosen else ""
        card.layout.border = _border(2, "link") if chosen else _border(1, "border")


def plain_text(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))
