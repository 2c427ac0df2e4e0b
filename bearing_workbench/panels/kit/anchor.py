"""The page's anchor in the browser: ships the kit's CSS and says when a front end has attached.

One small anywidget per `Page`. Its stylesheet is the theme's CSS variables followed by ``kit.css``
(both from this package: nothing is fetched from a CDN); anywidget adds it to the document, the same
way in JupyterLab and Voilà. Its view sends ``{"type": "connected"}`` once it is drawn, which is when
the page's other views exist too: the page then sends its full state again (see `Page.resend_state`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import anywidget

from bearing_workbench.config.theme import css_variables

log = logging.getLogger(__name__)

_HERE = Path(__file__).parent


@cache
def kit_stylesheet() -> str:
    """The theme's variables and the kit's rules, as one stylesheet."""
    return css_variables() + (_HERE / "kit.css").read_text(encoding="utf-8")


def stylesheet(path: Path) -> str:
    """A component's own stylesheet (`path`) after the theme's variables, for an anywidget's ``_css``."""
    return css_variables() + path.read_text(encoding="utf-8")


class PageAnchor(anywidget.AnyWidget):
    """Invisible; calls `on_connect()` each time a front end draws it (a page shown or reloaded)."""

    _esm = _HERE / "anchor.js"
    _css = kit_stylesheet()

    def __init__(self, on_connect: Callable[[], Any] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.on_connect = on_connect
        self.on_msg(self._on_browser_message)

    def _on_browser_message(self, _widget: Any, content: Any, _buffers: Any = None) -> None:
        if not isinstance(content, dict) or content.get("type") != "connected":
            return
        if self.on_connect is not None:
            try:
                self.on_connect()
            except Exception:  # a failed resend must not break the comm handler
                log.exception("resending the page state failed")
