"""Voilà as `serve` runs it (``python -m bearing_workbench.serve voila``): Voilà's server with the
workbench's home page at ``/`` instead of the bare file list, a login page that says where the token
is, and static routes that answer 404 to any path outside their folders.

Only Voilà's handler table changes; its token check (jupyter_server's identity provider), kernels and
templates are Voilà's own.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import tornado.ioloop
import tornado.web
from jupyter_core.paths import jupyter_path
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_escape
from traitlets import Enum
from voila.app import Voila
from voila.static_file_handler import MultiStaticFileHandler, TemplateStaticFileHandler
from voila.voila_identity_provider import VoilaLoginHandler

from bearing_workbench.serve.home import build_home, render_error, render_home, render_login

if TYPE_CHECKING:
    from bearing_workbench.serve.home import HomeInfo

SETTINGS_KEY = "bearing_workbench"


class HomeHandler(JupyterHandler):
    """``/``: the apps, the latest runs, the cluster and the datasets (behind the token)."""

    @tornado.web.authenticated
    async def get(self) -> None:
        options = self.settings[SETTINGS_KEY]
        self.set_header("Cache-Control", "no-store")  # runs change; the page must not be replayed
        try:
            # The store and the scheduler block: off the server's event loop.
            info = await tornado.ioloop.IOLoop.current().run_in_executor(
                None, _home_info, options["apps_dir"]
            )
        except Exception as exc:  # a store that cannot be read, a bad setting: say it on the page
            self.log.exception("the home page could not be built")
            self.set_status(500)
            self.finish(render_error("the home page could not read the workspace", str(exc), self.base_url))
            return
        self.finish(render_home(info, self.base_url))


def _home_info(apps_dir: Path) -> HomeInfo:
    # Imported here: the server starts without the store or Dask, and a page view pays once.
    from bearing_workbench.config.settings import settings
    from bearing_workbench.runner.remote_scheduler import cluster_summary
    from bearing_workbench.store import Store

    scheduler = settings().scheduler
    cluster = cluster_summary(scheduler) if scheduler else None
    store = Store()
    try:
        return build_home(store, apps_dir, scheduler, cluster)
    finally:
        store.dispose()


class WorkbenchLoginHandler(VoilaLoginHandler):
    """jupyter_server's token form (same checks, same cookie), on a page that says where the token is."""

    def _render(self, message: dict[str, str] | str | None = None) -> None:
        options = self.settings[SETTINGS_KEY]
        if isinstance(message, dict):  # jupyter_server's {"error": "Invalid credentials"}
            message = "; ".join(message.values())
        if message == "Invalid credentials":
            message = "That is not this server's token."
        self.write(
            render_login(
                source=options["token_source"],
                port=options["port"],
                next_url=url_escape(self.get_argument("next", default=self.base_url)),
                message=message,
                xsrf_form=self.xsrf_form_html(),
                base_url=self.base_url,
            )
        )


def _not_found(error: Exception) -> tornado.web.HTTPError:
    return tornado.web.HTTPError(404, "no such static file (%s)", type(error).__name__)


def _validated(validate: Callable[[str, str], str | None], root: str, absolute_path: str) -> str | None:
    """tornado's check that a path stays in its root, with 404 for every path that does not: outside
    the root (tornado: 403) or not a path at all (a NUL byte: ValueError, a 500 otherwise)."""
    try:
        return validate(root, absolute_path)
    except tornado.web.HTTPError as error:
        if error.status_code == 403:
            raise _not_found(error) from None
        raise
    except ValueError as error:
        raise _not_found(error) from None


class StaticFiles(MultiStaticFileHandler):
    """Voilà's static files; a path that leaves their folders is not found (404), not forbidden (403)."""

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        return _validated(super().validate_absolute_path, root, absolute_path)


class TemplateStaticFiles(TemplateStaticFileHandler):
    """Voilà's template assets (``<template>/static/<path>``); any other path, or one that leaves the
    template's folders, is not found. Voilà's own handler asserts the shape and answers 500."""

    def parse_url_path(self, url_path: str) -> str:
        parts = url_path.split("/", 2)
        if len(parts) != 3 or parts[1] != "static" or not parts[0] or not parts[2]:
            raise tornado.web.HTTPError(404)
        try:
            return super().parse_url_path(url_path)
        except (AssertionError, ValueError) as error:
            raise _not_found(error) from None

    @classmethod
    def get_absolute_path(cls, root: str, path: str) -> str:
        parts = os.path.normpath(path).split(os.path.sep, 2)
        if len(parts) != 3 or parts[1] != "static":  # `..` walked out of <template>/static/
            raise tornado.web.HTTPError(404)
        return super().get_absolute_path(root, path)

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        return _validated(super().validate_absolute_path, root, absolute_path)


def _data_subdir(name: str) -> str | None:
    """The first Voilà data folder on the Jupyter path that holds `name`."""
    for folder in jupyter_path("voila"):
        if os.path.isdir(os.path.join(folder, name)):
            return os.path.join(folder, name)
    return None


_SAFE = {MultiStaticFileHandler: StaticFiles, TemplateStaticFileHandler: TemplateStaticFiles}


class WorkbenchVoila(Voila):
    """Voilà with the workbench's home and login pages. Configured like Voilà (``Voila.*``), plus
    where the token came from (said on the login page; the token itself is never shown)."""

    token_source = Enum(
        ["generated", "option", "environment"],
        default_value="generated",
        config=True,
        help="Where the token came from: generated at start, the --token option, or the environment.",
    )

    @property
    def themes_dir(self) -> str:
        # Voilà takes the first voila data folder on JUPYTER_PATH, which is serve/share (the template
        # only): its themes (the apps' and these pages' CSS variables) are in a later one.
        return _data_subdir("themes") or super().themes_dir

    @property
    def schemas_dir(self) -> str:
        return _data_subdir("schemas") or super().schemas_dir

    def init_settings(self) -> dict:
        settings = super().init_settings()
        self.identity_provider.login_handler_class = WorkbenchLoginHandler
        settings[SETTINGS_KEY] = {
            "apps_dir": Path(self.root_dir),
            "token_source": self.token_source,
            "port": self.port,
        }
        return settings

    def init_handlers(self) -> list:
        handlers = []
        for spec in super().init_handlers():
            pattern, handler, *rest = spec
            handlers.append((pattern, _SAFE.get(handler, handler), *rest))
        # Before Voilà's file list, which had the same route: the first match wins.
        return [(self.server_url, HomeHandler), *handlers]


def main(argv: list[str]) -> int:
    """Run the server (blocks until it is stopped)."""
    WorkbenchVoila.launch_instance(argv)
    return 0
