"""HTML fragments of the kit: strings for an ``ipywidgets.HTML`` (cards, badges, error box, links).

Each fragment carries a ``bw-...`` class that ``kit.css`` styles (shipped with the package, loaded by
every `Page`), so a page's HTML holds structure and text, not colours. Every text is escaped here:
callers pass plain text. Colours that depend on data (a status, a series) come from `theme` tokens.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from bearing_workbench.config import theme
from bearing_workbench.config.app_links import app_url

UP, DOWN = "up", "down"
Tone = Literal["info", "muted", "success", "warning", "error"]
TONES: tuple[str, ...] = ("info", "muted", "success", "warning", "error")


def esc(value: Any) -> str:
    """`value` as text, HTML-escaped (quotes too: safe in attributes)."""
    return html.escape(str(value))


def metric_card(
    label: str,
    value: str,
    *,
    note: str | None = None,
    trend: str | None = None,
    improved: bool | None = None,
    key: str | None = None,
) -> str:
    """One metric card: a label, a big value, an optional note and a trend arrow.

    Args:
        trend: "up" or "down" draws an arrow; improved: green (True) or red (False) arrow.
        key: a ``data-key`` attribute naming the card (tests and browser checks find it by that).
    """
    arrow = ""
    if trend in (UP, DOWN):
        tone = "bw-good" if improved else "bw-bad"
        arrow = f' <span class="bw-trend {tone}">{"&#9650;" if trend == UP else "&#9660;"}</span>'
    data_key = f' data-key="{esc(key)}"' if key else ""
    note_html = f'<div class="bw-card-note">{esc(note)}</div>' if note else ""
    return (
        f'<div class="bw-card"{data_key}><div class="bw-card-label">{esc(label)}</div>'
        f'<div class="bw-card-value">{esc(value)}{arrow}</div>{note_html}</div>'
    )


def metric_cards(cards: Iterable[str]) -> str:
    """A wrapping row of `metric_card` fragments."""
    return f'<div class="bw-cards">{"".join(cards)}</div>'


def status_badge(status: Any) -> str:
    """A run status as a coloured pill (the colour from `theme.STATUS_COLORS`)."""
    text = str(getattr(status, "value", status))
    return (
        f'<span class="bw-badge" data-status="{esc(text)}" '
        f'style="background:{theme.status_color(text)}">{esc(text)}</span>'
    )


def status_text(status: Any) -> str:
    """A run status as coloured text (tables)."""
    text = str(getattr(status, "value", status))
    return f'<span data-status="{esc(text)}" style="color:{theme.status_color(text)}">{esc(text)}</span>'


def error_box(error: str, hint: str | None = None, title: str = "Failed") -> str:
    """What went wrong, in red, with the hint (what to do about it) under it."""
    hint_html = f'<div class="bw-error-hint"><b>Hint:</b> {esc(hint)}</div>' if hint else ""
    return f'<div class="bw-error-box"><div><b>{esc(title)}:</b> {esc(error)}</div>{hint_html}</div>'


def message(text: str, tone: Tone = "info") -> str:
    """One line telling the user something (``tone`` "error" in red, "warning" in amber...)."""
    if tone not in TONES:
        raise ValueError(f"tone must be one of {', '.join(TONES)}, got {tone!r}")
    return f'<div class="bw-message bw-{tone}">{esc(text)}</div>' if text else ""


def muted(text: str) -> str:
    """Secondary text (greyed)."""
    return f'<span class="bw-muted">{esc(text)}</span>'


def link(href: str, text: str, *, new_tab: bool = True, css_class: str = "") -> str:
    """An underlined link (widget HTML otherwise takes the page's plain text colour)."""
    target = ' target="_blank" rel="noopener"' if new_tab else ""
    classes = f"bw-link {css_class}".strip()
    return f'<a class="{esc(classes)}" href="{esc(href)}"{target}>{esc(text)}</a>'


def app_link(app: str, text: str, *, new_tab: bool = True, css_class: str = "", **params: object) -> str:
    """A link to a Voilà app page (`app_links.app_url` builds the address)."""
    return link(app_url(app, **params), text, new_tab=new_tab, css_class=css_class)


def section_title(text: str) -> str:
    """A section heading inside a page."""
    return f'<div class="bw-section-title">{esc(text)}</div>'


def label_table(rows: Sequence[tuple[str, str]]) -> str:
    """Label/value pairs as a two-column table, labels greyed."""
    body = "".join(f'<tr><td class="bw-label">{esc(k)}</td><td>{esc(v)}</td></tr>' for k, v in rows)
    return f'<table class="bw-label-table">{body}</table>'


def data_table(header: Sequence[str], rows: Iterable[Sequence[str]], *, row_attrs: Sequence[str] = ()) -> str:
    """A table whose cells are HTML already (escape text with `esc`); `row_attrs[i]` goes into row i's tag."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = []
    for i, cells in enumerate(rows):
        attrs = f" {row_attrs[i]}" if i < len(row_attrs) and row_attrs[i] else ""
        body.append(f"<tr{attrs}>{''.join(f'<td>{c}</td>' for c in cells)}</tr>")
    return f'<table class="bw-table"><tr>{head}</tr>{"".join(body)}</table>'


def swatch(color: str) -> str:
    """A small square of a series colour (a legend entry in a table)."""
    return f'<span class="bw-swatch" style="color:{esc(color)}">&#9632;</span>'


def empty_state(text: str, *, action: str | None = None, app: str = "wizard", **params: object) -> str:
    """A page with nothing to show yet: `text`, and a link to the app where it starts (`action`)."""
    action_html = f" &mdash; {app_link(app, action, new_tab=False, **params)}" if action else ""
    return f'<div class="bw-empty-state">{esc(text)}{action_html}</div>'
