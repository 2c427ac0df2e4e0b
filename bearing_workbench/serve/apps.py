"""What the Voilà apps in ``dashboards/`` show, from their URL query (one call per app notebook).

Voilà gives a kernel the query string of the page that started it in ``$QUERY_STRING``:

- ``wizard.ipynb``: ``?family=cnn1d`` preselects a model, ``?clone=<id>`` starts from a stored
  experiment's config, ``?family=ensemble&members=2,6`` preselects ensemble members;
- ``monitor.ipynb?experiment=<id>``: that run; without an id, links to the latest experiments;
- ``results.ipynb?experiment=<id>``: that run's results; without an id, links to the latest ones;
- ``history.ipynb``: every experiment (search, filters, compare).

A bad value gets a message naming the parameter on the page (Voilà hides tracebacks).
"""

from __future__ import annotations

import html
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

# plotly's FigureWidget imports nbformat, hence jsonschema, which builds an RFC 3987 grammar at import
# time when the optional rfc3987_syntax is installed (it comes with Jupyter's format checkers): seconds
# of every app kernel's start, for an "iri" format check nothing in an app uses. A None entry makes
# that optional import fail, so jsonschema goes without it; only the app kernels import this module.
if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)

QUERY_ENV = "QUERY_STRING"
RECENT = 20


def query_params(query: str | None = None) -> dict[str, str]:
    """The page's query parameters (the last value of each), without the access token."""
    raw = os.environ.get(QUERY_ENV, "") if query is None else query
    params = {key: values[-1] for key, values in parse_qs(raw, keep_blank_values=True).items()}
    params.pop("token", None)
    return params


def positive_id(params: Mapping[str, str], name: str) -> int | None:
    """Query parameter `name` as an experiment id; None when absent; ValueError naming it when bad."""
    value = params.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"?{name}= must be an experiment id (a positive integer), got {value!r}")
    return int(value)


def id_list(params: Mapping[str, str], name: str) -> list[int]:
    """Query parameter `name` as comma-separated experiment ids (empty when absent); ValueError naming it."""
    values = [v.strip() for v in params.get(name, "").split(",") if v.strip()]
    bad = [v for v in values if not v.isdigit() or int(v) < 1]
    if bad:
        raise ValueError(f"?{name}= must be experiment ids separated by commas, got {bad[0]!r}")
    return [int(v) for v in values]


def _message(text: str) -> Any:
    """A page saying what is wrong with its query, in red (a kit `Page`: it loads the kit's styles)."""
    from bearing_workbench.panels.kit import Page

    page = Page(notifications=False)
    page.tell(text, "error")
    return page


def wizard_app(query: str | None = None) -> Any:
    """The wizard app: `ConfigWizard`, preselected or cloned from the query, or a message."""
    from bearing_workbench.panels.wizard import ConfigWizard

    params = query_params(query)
    try:
        clone = positive_id(params, "clone")
        members = id_list(params, "members")
        extra = {"members": members} if members else {}
        return ConfigWizard(clone_from=clone, family=params.get("family") or None, **extra)
    except (ValueError, LookupError) as exc:  # LookupError: unknown family or experiment
        return _message(f"cannot open the wizard: {exc}")


def _experiment_app(query: str | None, app: str, title: str, open_panel: Callable[[int, Any], Any]) -> Any:
    """`open_panel(id, store)` for ``?experiment=<id>``, else links to the recent experiments in `app`;
    a bad, unknown or (for results) unfinished experiment gets a message naming it."""
    from bearing_workbench.store import NotFoundError, Store

    params = query_params(query)
    try:
        experiment_id = positive_id(params, "experiment")
    except ValueError as exc:
        return _message(str(exc))
    store = Store()
    if experiment_id is None:
        return recent_experiments(store, app=app, title=title)
    try:
        return open_panel(experiment_id, store)
    except NotFoundError:
        return _message(f"?experiment={experiment_id}: there is no such experiment in this workspace")
    except ValueError as exc:  # not completed yet, or its result files are missing
        return _message(f"?experiment={experiment_id}: {exc}")


def monitor_app(query: str | None = None) -> Any:
    """The monitor app: `TrainingMonitor` of ``?experiment=<id>``, else links to recent experiments."""

    def open_panel(experiment_id: int, store: Any) -> Any:
        from bearing_workbench.panels.monitor import TrainingMonitor

        return TrainingMonitor(experiment_id, store=store, defer_figure=True)

    return _experiment_app(query, "monitor", "Choose a run to watch", open_panel)


def results_app(query: str | None = None) -> Any:
    """The results app: `ExperimentResults` of ``?experiment=<id>``, else links to recent experiments."""

    def open_panel(experiment_id: int, store: Any) -> Any:
        from bearing_workbench.panels.results import ExperimentResults

        return ExperimentResults(experiment_id, store=store)

    return _experiment_app(query, "results", "Choose a run to study", open_panel)


def history_app(query: str | None = None) -> Any:
    """The history app: `ExperimentHistory` of every experiment in the workspace."""
    from bearing_workbench.panels.history import ExperimentHistory
    from bearing_workbench.store import Store

    query_params(query)  # no parameters yet; read so that a token never reaches the panel
    return ExperimentHistory(store=Store())


def recent_experiments(
    store: Any, limit: int = RECENT, app: str = "monitor", title: str = "Choose a run to watch"
) -> Any:
    """Links to app `app` ("monitor", "results") for the latest experiments (the page's cookie
    carries the token); the kit's empty state when there is none."""
    import ipywidgets as widgets

    from bearing_workbench.panels.kit import Page, app_url, empty_state, fragments

    page = Page(title, notifications=False)
    records = store.list_experiments(limit=limit)
    if not records:
        page.set_body([empty_state("no experiment yet", action="configure and launch one in the wizard")])
        return page
    rows = [
        (
            fragments.app_link(app, f"#{r.id}", new_tab=False, experiment=r.id),
            fragments.esc(r.name),
            fragments.esc(r.family),
            fragments.status_text(r.status),
            f"{r.created_at:%Y-%m-%d %H:%M}",
        )
        for r in records
    ]
    pattern = html.escape(app_url(app)) + "?experiment=&lt;id&gt;"
    table = fragments.data_table(["id", "name", "family", "status", "created (UTC)"], rows)
    page.set_body([widgets.HTML(f"(or open <code>{pattern}</code>){table}")])
    return page
