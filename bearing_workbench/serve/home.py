"""The first pages a user of `serve` sees: the home page (apps, latest runs, cluster, datasets) and the
login page saying where the token is. Built as plain data first (`HomeInfo`), then rendered by Jinja2
templates (``serve/templates/``), so that the data is tested without a server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from bearing_workbench.analysis import format as fmt
from bearing_workbench.config import app_links, theme

if TYPE_CHECKING:
    from bearing_workbench.runner.remote_scheduler import ClusterSummary
    from bearing_workbench.store import DatasetRecord, ExperimentRecord, Store

LATEST_RUNS = 10
TEMPLATES = Path(__file__).resolve().parent / "templates"
RENDER_PATH = "voila/render/"  # where Voilà serves the apps, below the server's base URL
# The apps of dashboards/, in the order a user needs them; other notebooks follow by name.
APP_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "wizard": ("New experiment", "Choose a model, a preset and a dataset; review and launch a training run."),
    "monitor": (
        "Training monitor",
        "Watch a run live: loss and accuracy by epoch; pause, resume or stop it.",
    ),
    "results": ("Results", "Study a finished run: metrics, confusion matrix, failure cases, PDF report."),
    "history": ("Experiment history", "Every experiment: search, filter, compare and export."),
}
TokenSource = Literal["generated", "option", "environment"]


@dataclass(frozen=True)
class AppLink:
    name: str
    title: str
    description: str
    url: str


@dataclass(frozen=True)
class RunRow:
    id: int
    name: str
    family: str
    dataset: str
    status: str
    created: datetime
    monitor_url: str | None
    results_url: str | None


@dataclass(frozen=True)
class DatasetRow:
    name: str
    records: int
    classes: tuple[str, ...]
    sample_rate_hz: float
    record_s: float


@dataclass(frozen=True)
class HomeInfo:
    """Everything the home page shows; `cluster` None: no scheduler answered at `scheduler`."""

    workspace: str
    apps: tuple[AppLink, ...]
    runs: tuple[RunRow, ...]
    datasets: tuple[DatasetRow, ...]
    scheduler: str
    cluster: ClusterSummary | None


def app_url(app: str, **query: object) -> str:
    """The path (below the server's base URL) of a Voilà app, with its query; the login cookie
    carries the token. The workbench's apps go through the one URL builder (`config.app_links`);
    another notebook a user put in the apps folder is linked by its name, without a query."""
    if app in app_links.APPS:
        return app_links.app_url(app, base=RENDER_PATH, **query)
    return f"{RENDER_PATH}{quote(app)}.ipynb"


def _notebook_title(path: Path) -> str:
    """The first markdown heading of a notebook, else its file name."""
    import nbformat  # here: it brings jsonschema, which serve.apps must be first to import in a kernel

    try:
        cells = nbformat.read(path, as_version=4).cells
    except (OSError, ValueError):  # unreadable or not a notebook: still listed, by name
        cells = []
    for cell in cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return path.stem


def list_apps(apps_dir: Path) -> tuple[AppLink, ...]:
    """Every notebook of `apps_dir`: the workbench's apps first, with their one-line description."""
    names = sorted(p.stem for p in apps_dir.glob("*.ipynb") if not p.name.startswith("."))
    order = list(APP_DESCRIPTIONS)
    names.sort(key=lambda n: (order.index(n) if n in order else len(order), n))
    apps = []
    for name in names:
        title, description = APP_DESCRIPTIONS.get(name) or (_notebook_title(apps_dir / f"{name}.ipynb"), "")
        apps.append(AppLink(name, title, description, app_url(name)))
    return tuple(apps)


def _run_row(record: ExperimentRecord, datasets: dict[int, str], apps: set[str]) -> RunRow:
    status = str(record.status)
    return RunRow(
        id=record.id,
        name=record.name,
        family=record.family,
        dataset=datasets.get(record.dataset_id, "—") if record.dataset_id is not None else "—",
        status=status,
        created=record.created_at,
        monitor_url=app_url("monitor", experiment=record.id) if "monitor" in apps else None,
        results_url=(
            app_url("results", experiment=record.id) if "results" in apps and status == "completed" else None
        ),
    )


def _dataset_row(record: DatasetRecord) -> DatasetRow:
    return DatasetRow(
        name=record.name,
        records=record.n_records,
        classes=tuple(record.class_names),
        sample_rate_hz=record.fs,
        record_s=record.n_samples / record.fs if record.fs else 0.0,
    )


def build_home(
    store: Store,
    apps_dir: Path,
    scheduler: str,
    cluster: ClusterSummary | None,
    latest: int = LATEST_RUNS,
) -> HomeInfo:
    """The home page's data: the apps of `apps_dir`, the `latest` runs, the datasets, the cluster."""
    apps = list_apps(apps_dir)
    datasets = store.list_datasets()
    names = {d.id: d.name for d in datasets}
    app_names = {a.name for a in apps}
    runs = tuple(_run_row(r, names, app_names) for r in store.list_experiments(limit=latest))
    return HomeInfo(
        workspace=str(store.workspace),
        apps=apps,
        runs=runs,
        datasets=tuple(_dataset_row(d) for d in datasets),
        scheduler=scheduler,
        cluster=cluster,
    )


# -- rendering -----------------------------------------------------------------------------------------


def _memory(n_bytes: int | None) -> str:
    """A worker's memory in binary units (`analysis.format.size`); a dash when unknown or zero."""
    return fmt.size(n_bytes) if n_bytes else fmt.NO_VALUE


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,  # a misspelt field fails the tests, not silently blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["memory"] = _memory
    # the status colours of the badges are the pages' own (config.theme), as CSS variables
    env.globals["theme_css"] = Markup(theme.css_variables())
    return env


def render_home(info: HomeInfo, base_url: str = "/") -> str:
    """The home page's HTML (links relative to `base_url`)."""
    return _environment().get_template("home.html").render(info=info, base_url=base_url)


def render_error(title: str, message: str, base_url: str = "/") -> str:
    """A page saying what went wrong (jupyter_server's own error page cannot render in Voilà)."""
    return _environment().get_template("error.html").render(title=title, message=message, base_url=base_url)


def token_hint(source: TokenSource) -> str:
    """Where the token of this server comes from, in one sentence."""
    if source == "environment":
        return (
            "This server took its token from the environment variable BEARING_WORKBENCH_TOKEN of the "
            "shell that started it."
        )
    if source == "option":
        return "This server took its token from the --token option it was started with."
    return (
        "This server generated a new token when it started: it is shown only in that terminal, and a "
        "restart makes a new one (set BEARING_WORKBENCH_TOKEN to keep one)."
    )


def render_login(
    *,
    source: TokenSource,
    port: int,
    next_url: str,
    message: str | None = None,
    xsrf_form: str = "",
    base_url: str = "/",
) -> str:
    """The login page: where the token is, and a form to paste it (`next_url` already URL-escaped)."""
    return (
        _environment()
        .get_template("login.html")
        .render(
            base_url=base_url,
            hint=token_hint(source),
            serving_line=f"Bearing Workbench is serving at http://127.0.0.1:{port}/?token=…",
            next_url=next_url,
            message=message,
            xsrf_form=Markup(xsrf_form),  # the handler's own hidden field
        )
    )
