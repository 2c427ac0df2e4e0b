"""Browser downloads without a server route: an ``<a download>`` link carrying the file as a data URI.

It works the same in JupyterLab and Voilà, offline, and needs no kernel round trip when clicked;
fit for the small files a panel offers (a history CSV, a metrics JSON: kilobytes, not megabytes).
"""

from __future__ import annotations

import base64
import html
import re

import ipywidgets as widgets

MAX_BYTES = 20 * 2**20  # a data URI beyond this makes the page heavy; offer such files another way
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str) -> str:
    """`name` reduced to letters, digits, dot, dash and underscore (no folders), never empty."""
    cleaned = _UNSAFE.sub("_", str(name).replace("\\", "/").rsplit("/", 1)[-1]).strip("._")
    return cleaned or "download"


def download_html(filename: str, data: bytes | str, mime: str, label: str, title: str = "") -> str:
    """HTML of a link that saves `data` as `filename` when clicked (styled by the kit's ``bw-download``)."""
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(payload) > MAX_BYTES:
        raise ValueError(
            f"{filename}: {len(payload)} bytes is too large for a download link (max {MAX_BYTES})"
        )
    if not re.fullmatch(r"[\w.+-]+/[\w.+-]+", mime):
        raise ValueError(f"mime must look like 'text/csv', got {mime!r}")
    href = f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"
    tip = f' title="{html.escape(title)}"' if title else ""
    return (
        f'<a class="bw-download" download="{html.escape(safe_filename(filename))}" href="{href}"{tip}>'
        f"&#8595; {html.escape(label)}</a>"
    )


class DownloadLink(widgets.HTML):
    """An HTML widget showing one download button; `set_data` replaces the file it carries.

    Args:
        label: the button's text; filename: the name the browser saves it as; mime: its type
            (``text/csv``); title: a tooltip.
    """

    def __init__(self, label: str, filename: str, mime: str, title: str = "", **kwargs: object):
        super().__init__(**kwargs)
        self.label = label
        self.filename = filename
        self.mime = mime
        self.title = title
        self.size = 0
        self.disabled_text = (
            f'<span class="bw-download bw-download-disabled">&#8595; {html.escape(label)}</span>'
        )
        self.value = self.disabled_text

    def set_data(self, data: bytes | str | None) -> None:
        """Offer `data` (None: show the label greyed out, nothing to download yet)."""
        if data is None:
            self.size = 0
            self.value = self.disabled_text
            return
        self.size = len(data.encode("utf-8") if isinstance(data, str) else data)
        self.value = download_html(self.filename, data, self.mime, self.label, self.title)
