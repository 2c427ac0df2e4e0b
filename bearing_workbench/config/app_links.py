"""The one builder of app URLs: ``app_url("results", experiment=12)`` is ``results.ipynb?experiment=12``.

Every link between pages, in a toast, in the served app list, comes from `app_url`, so an app's name
and its query parameters are spelled once. It lives in the configuration layer because the runner's
notices (toast links) need it as well as the panels and ``serve``; it imports no widget.

Links are relative by default: the apps are served side by side by Voilà (``/voila/render/<app>.ipynb``),
so ``results.ipynb?experiment=12`` from the monitor page opens the results page. ``base`` makes an
absolute one (``serve`` prints those, with the access token).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final
from urllib.parse import urlencode

# The Voilà apps (dashboards/<app>.ipynb) and the query parameters each reads (serve/apps.py).
APPS: Final[dict[str, frozenset[str]]] = {
    "wizard": frozenset({"family", "clone", "members"}),
    "monitor": frozenset({"experiment"}),
    "results": frozenset({"experiment"}),
    "history": frozenset(),
}
TOKEN = "token"  # accepted by every app (Jupyter's access token), never read by one


def _query_value(app: str, name: str, value: object) -> str:
    if isinstance(value, bool):
        raise ValueError(f"app_url({app!r}): {name} must be a number, text or list of ids, got {value!r}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Iterable):
        items = list(value)
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in items):
            raise ValueError(f"app_url({app!r}): {name} must list integer ids, got {items!r}")
        return ",".join(str(i) for i in items)
    raise ValueError(f"app_url({app!r}): {name} must be a number, text or list of ids, got {value!r}")


def app_url(app: str, *, base: str = "", **params: object) -> str:
    """The URL of Voilà app `app` with `params` as its query (None values left out).

    Args:
        app: one of `APPS` ("wizard", "monitor", "results", "history"); ValueError otherwise.
        base: prefix of an absolute URL (``http://127.0.0.1:8866/voila/render/``); default relative.
        params: the app's query parameters (see `APPS`; plus ``token``): ints, text (escaped) or
            lists of ids (``members=[2, 6]`` -> ``members=2,6``). An unknown one is a ValueError.
    """
    if app not in APPS:
        raise ValueError(f"app must be one of {', '.join(APPS)}, got {app!r}")
    allowed = APPS[app] | {TOKEN}
    unknown = sorted(set(params) - allowed)
    if unknown:
        known = ", ".join(sorted(APPS[app])) or "none"
        raise ValueError(f"app_url({app!r}): unknown parameter {unknown[0]!r} (it reads: {known})")
    query = {k: _query_value(app, k, v) for k, v in params.items() if v is not None}
    if base and not base.endswith("/"):
        base += "/"
    encoded = urlencode(query, safe=",")
    return f"{base}{app}.ipynb" + (f"?{encoded}" if encoded else "")
