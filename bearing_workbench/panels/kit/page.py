"""`Page`: the base of every panel (an ``ipywidgets.VBox``).

A page is, top to bottom: this kernel's notification area, its anchor (the kit's CSS, and word that
a front end attached), its title, a busy indicator, an error box and a message line, then its
own body (`set_body`). It knows its Voilà app (`app`, `app_params`, `url`) and sends its full state
again when a front end attaches (`resend_state`), so a Voilà page that attached late shows what the
kernel has, not what it had sent before the page was there.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import ipywidgets as widgets
import traitlets

from bearing_workbench.config.app_links import app_url
from bearing_workbench.panels.kit import fragments
from bearing_workbench.panels.kit.components import BusyIndicator, ErrorBox, MessageLine, show

if TYPE_CHECKING:
    from bearing_workbench.store import Store

log = logging.getLogger(__name__)


def notification_area(store: Store | None = None) -> widgets.Widget | None:
    """This kernel's notification area, shared by every page; None when it cannot be made (a page must
    still open without its toasts). The one way a page obtains it."""
    try:
        from bearing_workbench.panels.toast_area import notification_area as area  # anywidget

        return area(store)
    except Exception:
        log.exception("the notification area could not be shown")
        return None


class Page(widgets.VBox):
    """Title, notifications, busy state, errors, messages, Voilà URL and state resend, for one panel.

    Args:
        title: the page's heading (`set_title` changes it, with extra HTML beside it).
        store: where the notification area's baseline check reads results.
        notifications: False for a page shown inside another page (it has the area already).

    Subclasses set `app` (their Voilà app, `config.app_links.APPS`) and override `app_params` (its
    query) and `refresh_view` (bring every widget up to date before a resend); they lay out their
    widgets with `set_body`. Traits: `page_title`, `connects` (front ends that attached).
    """

    app: ClassVar[str | None] = None
    page_title = traitlets.Unicode("")
    connects = traitlets.Int(0)

    def __init__(
        self, title: str = "", *, store: Store | None = None, notifications: bool = True, **kwargs: Any
    ):
        super().__init__(**kwargs)
        from bearing_workbench.panels.kit.anchor import PageAnchor  # anywidget: with the first page

        self.add_class("bw-page")
        # Held by a page that changes its widgets from other threads (the monitor's redraws).
        self.state_lock = threading.RLock()
        self.anchor = PageAnchor(on_connect=self._front_end_connected)
        self.notifications = notification_area(store) if notifications else None
        self.title_html = widgets.HTML()
        self.title_html.add_class("bw-title")
        self.busy = BusyIndicator()
        self.error_box = ErrorBox()
        self.message = MessageLine()
        self._body: list[widgets.Widget] = []
        self.set_title(title)
        self._place()

    # -- layout ------------------------------------------------------------------------------------

    def header(self) -> list[widgets.Widget]:
        """The widgets above the body: notification area, anchor, title, busy indicator, error box."""
        top = [] if self.notifications is None else [self.notifications]
        return [*top, self.anchor, self.title_html, self.busy, self.error_box]

    def set_body(self, children: Sequence[widgets.Widget]) -> None:
        """The page's own widgets, under the header (the message line goes first unless placed)."""
        self._body = list(children)
        self._place()

    def _place(self) -> None:
        body = self._body if any(w is self.message for w in self._body) else [self.message, *self._body]
        self.children = [*self.header(), *body]

    def set_title(self, title: str, *extra_html: str) -> None:
        """The heading, and HTML fragments beside it (a status badge, details)."""
        self.page_title = title
        extras = "".join(extra_html)
        show(self.title_html, bool(title or extras))  # a page without a title shows no empty heading
        self.title_html.value = (
            f'<div class="bw-page-title"><span class="bw-page-title-text">{fragments.esc(title)}</span>'
            f"{extras}</div>"
        )

    # -- messages and errors -----------------------------------------------------------------------

    def tell(self, text: str, tone: fragments.Tone = "info") -> None:
        """Show one line to the user ("" clears it); tone "error" when something could not be done."""
        self.message.say(text, tone)

    def show_error(self, error: str, hint: str | None = None, title: str = "Failed") -> None:
        """Show what went wrong, with a hint of what to do."""
        self.error_box.show_error(error, hint, title)

    def clear_error(self) -> None:
        self.error_box.clear()

    # -- Voilà -------------------------------------------------------------------------------------

    def app_params(self) -> dict[str, object]:
        """The query of this page's Voilà app (``{"experiment": 12}``); override per page."""
        return {}

    @property
    def url(self) -> str | None:
        """This page's relative Voilà URL (``monitor.ipynb?experiment=12``); None without an app."""
        return app_url(self.app, **self.app_params()) if self.app else None

    def refresh_view(self) -> None:
        """Bring every widget up to date now (a page redrawing in the background draws what is pending)."""

    def resend_state(self) -> int:
        """Send every widget's full state to the front ends; returns how many widgets were sent.

        plotly figures are left out: they hand a front end their current figure when it asks
        (`live_figure.LiveFigureWidget`) and ignore a resent copy.
        """
        self.refresh_view()  # before taking the lock: a redraw in flight may be waiting for it
        sent = 0
        with self.state_lock:  # whoever redraws from another thread holds it: no half-drawn state goes
            for widget in self.descendants():
                if widget.comm is None or hasattr(widget, "_widget_data"):  # closed, or a plotly figure
                    continue
                widget.send_state()
                sent += 1
        return sent

    def _front_end_connected(self) -> None:
        self.connects += 1
        self.resend_state()

    # -- lifecycle ---------------------------------------------------------------------------------

    def wait_for(
        self, condition: Callable[[Any], bool], timeout: float = 60.0, names: Sequence[str] | None = None
    ) -> bool:
        """Block until `condition(self)` holds, checked on each change of the traits `names` (default
        all), or `timeout` seconds pass; True when it held. For tests and scripts, never a widget callback
        (it would block the kernel that delivers the changes)."""
        done = threading.Event()

        def check(_: Any = None) -> None:
            if condition(self):
                done.set()

        watched = list(names) if names is not None else traitlets.All
        self.observe(check, names=watched)
        try:
            check()
            return done.wait(timeout)
        finally:
            self.unobserve(check, names=watched)

    def descendants(self) -> list[widgets.Widget]:
        """Every widget under this page (children of children too), the page itself included."""
        found: list[widgets.Widget] = []
        seen: set[int] = set()
        stack: list[widgets.Widget] = [self]
        while stack:
            widget = stack.pop()
            if id(widget) in seen:
                continue
            seen.add(id(widget))
            found.append(widget)
            stack.extend(getattr(widget, "children", ()))
        return found

    def close(self) -> None:
        """Close this page's widgets (not the notification area: other pages share it)."""
        for widget in self.descendants():
            if widget is not self and widget is not self.notifications:
                widget.close()
        super().close()
