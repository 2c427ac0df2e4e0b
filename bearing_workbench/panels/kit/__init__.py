"""The page kit: the one place that knows the look (theme tokens) and the parts every page shares.

Every panel subclasses `Page` and builds its look from these parts; no panel writes a colour (a test
fails on a hex literal outside ``config/theme.py`` and this package).

Theme (``bearing_workbench.config.theme``, re-exported here as `theme`)
    `theme.COLORS` (text, muted, faint, border, rule, surface, surface_alt, code_bg, link, on_accent,
    success/danger/warning and their *_bg, highlight_bg, selected_bg, accent), `theme.STATUS_COLORS`
    (pending, running, paused, stopped, failed, completed; `theme.status_color(status)`),
    `theme.CLASS_PALETTE` (12 distinct colours: fault classes, compared runs; `theme.palette(n)`),
    `theme.CURVE_COLORS` (loss, accuracy), `theme.SPACING`, `theme.FONT_SIZES`, `theme.RADIUS`,
    `theme.css_variables()` (the tokens as ``--bw-...`` CSS variables). The tokens live in the config
    layer, not here, because the PDF report (analysis) needs them and analysis may not import panels.

App links (``bearing_workbench.config.app_links``)
    `app_url(app, **params)`: the only builder of Voilà app URLs, e.g. ``app_url("results",
    experiment=12)`` -> ``"results.ipynb?experiment=12"``, ``app_url("wizard", family="ensemble",
    members=[2, 6])``; an unknown app or parameter is a ValueError. ``base=`` makes it absolute.

Page (`kit.page`)
    ``class MyPage(Page): app = "results"`` -- ``super().__init__(title, store=store)``, then
    ``self.set_body([...widgets])``. It gives: ``self.notifications`` (this kernel's shared
    notification area; `notification_area(store)` is the one way to obtain it), ``self.title_html``
    and `set_title(title, *extra_html)`, ``self.busy`` (`BusyIndicator`), ``self.error_box`` and
    `show_error(error, hint)` / `clear_error()`, ``self.message`` and `tell(text, tone)`, `url`
    (from `app` and `app_params()`), `refresh_view()` (override: draw what is pending) and
    `resend_state()`, called when a front end attaches (``connects`` counts them); a page drawing from
    other threads holds ``page.state_lock`` while it does. ``wait_for(condition, timeout, names)``
    blocks until a condition on the page's traits holds (tests, scripts).

Widgets (`kit.components`, `kit.download`)
    `ConfirmDialog` (``ask(question, on_confirm, confirm_label=..., on_cancel=...)``, `confirm()`,
    `cancel()`, `dismiss()`; trait ``asking``), `BusyIndicator` (`start(message, progress=None)`,
    `update(...)`, `stop()`, ``with busy.working(message):``), `ErrorBox`, `MessageLine`,
    `MetricCards`, `empty_state(text, action=..., app=...)`, `section(title, *children)`,
    `DownloadLink(label, filename, mime)` with `set_data(bytes | str | None)`, `show(widget, visible)`.

HTML fragments (`kit.fragments`, strings for ``widgets.HTML``; text is escaped for you)
    `metric_card`, `metric_cards`, `status_badge`, `status_text`, `error_box`, `message`, `muted`,
    `link`, `app_link(app, text, **params)`, `section_title`, `label_table`, `data_table`, `swatch`,
    `empty_state`, `esc`. Their ``bw-...`` classes are styled by ``kit.css``, which ships in this
    package and which each page's anchor loads (no CDN), so they look the same in JupyterLab and Voilà.
    An anywidget with its own stylesheet uses ``_css = stylesheet(path)`` (`kit.anchor`) to get the
    theme's CSS variables before its rules.
"""

from __future__ import annotations

from bearing_workbench.config import theme
from bearing_workbench.config.app_links import APPS, app_url
from bearing_workbench.panels.kit import fragments
from bearing_workbench.panels.kit.components import (
    BusyIndicator,
    ConfirmDialog,
    ErrorBox,
    MessageLine,
    MetricCards,
    empty_state,
    section,
    show,
)
from bearing_workbench.panels.kit.download import MAX_BYTES, DownloadLink, download_html, safe_filename
from bearing_workbench.panels.kit.page import Page, notification_area

__all__ = [
    "APPS",
    "MAX_BYTES",
    "BusyIndicator",
    "ConfirmDialog",
    "DownloadLink",
    "ErrorBox",
    "MessageLine",
    "MetricCards",
    "Page",
    "app_url",
    "download_html",
    "empty_state",
    "fragments",
    "notification_area",
    "safe_filename",
    "section",
    "show",
    "theme",
]
