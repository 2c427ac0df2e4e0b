"""Headless Chromium as used on these machines: Debian's package, flags that keep it offline and quiet.

A top-level module that imports nothing of the package, outside the layers, because three of them need it:
the browser tests and the app benchmark, and `analysis` (print-to-PDF reports).
"""

from __future__ import annotations

import shutil

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    """The chromium executable: on PATH, else Debian's /usr/bin/chromium."""
    return shutil.which("chromium") or "/usr/bin/chromium"
