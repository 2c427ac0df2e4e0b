"""An experiment's PDF report: the `ResultsInfo` the results page shows, rendered a second time by a
Jinja2 template (``templates/report.html.j2``) and printed by headless Chromium.

The document needs nothing from outside: figures are matplotlib SVGs inlined as data URIs
(`report_figures`), styles are inline, there is no script at all, and a Content-Security-Policy
forbids any other source. The template autoescapes: every piece of user text (names, tags, notes,
class names, record ids, the config) is escaped. The print CSS (``templates/report.css``) sets A4 pages
with page numbers in the margins and keeps tables and figures whole on a page.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from bearing_workbench.analysis import format as fmt
from bearing_workbench.analysis.pdf import DEFAULT_TIMEOUT_S, html_to_pdf
from bearing_workbench.analysis.report_figures import figures
from bearing_workbench.analysis.result_bundle import load_results
from bearing_workbench.analysis.results_info import ResultsInfo, results_info
from bearing_workbench.config import theme
from bearing_workbench.store import Store
from bearing_workbench.store.artifacts import ExperimentFolder

Progress = Callable[[float, str], Any]

TEMPLATE = "report.html.j2"
# Share of `write_report`'s progress spent building the HTML; the rest is Chromium printing it.
HTML_SHARE = 0.75


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bearing_workbench.analysis", "templates"),
        autoescape=True,  # every value is escaped unless a template marks it safe
        undefined=jinja2.StrictUndefined,  # a misspelt field fails the render instead of printing nothing
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(percent=fmt.percent, points=fmt.points, number=fmt.number, duration=fmt.duration)
    return env


def _stepper(on_progress: Progress | None, start: float = 0.0, share: float = 1.0) -> Progress:
    def step(fraction: float, message: str) -> None:
        if on_progress is not None:
            on_progress(min(1.0, start + share * fraction), message)

    return step


def render_report(info: ResultsInfo, on_progress: Progress | None = None) -> str:
    """The report of `info` as one self-contained HTML document (no script, no URL)."""
    step = _stepper(on_progress)
    step(0.3, "drawing the figures")
    images = figures(info)
    step(0.85, "writing the tables")
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return _environment().get_template(TEMPLATE).render(
        info=info,
        figures=images,
        generated=generated,
        dash=fmt.NO_VALUE,
        theme_css=theme.css_variables(),  # the report's colours are the pages' (config.theme)
    )


def report_html(store: Store, experiment_id: int, on_progress: Progress | None = None) -> str:
    """The report of a completed experiment as one self-contained HTML document (no script, no URL).

    Args:
        on_progress: called with (fraction 0..1, message) at each stage.

    Raises:
        NotFoundError: no experiment has this id.
        ValueError: it is not completed, or its metrics cannot be read (see `load_results`).
    """
    step = _stepper(on_progress)
    step(0.0, "loading results")
    bundle = load_results(store, experiment_id)
    step(0.1, "comparing with baselines")
    info = results_info(store, experiment_id, bundle)
    document = render_report(info, on_progress=step)
    step(1.0, "HTML ready")
    return document


def write_report(
    store: Store,
    experiment_id: int,
    pdf_path: str | os.PathLike[str] | None = None,
    on_progress: Progress | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Path:
    """Write the PDF report of a completed experiment; returns its path.

    Args:
        pdf_path: default ``report.pdf`` in the experiment's folder. Written atomically: a failure
            leaves no file (and an earlier report as it was).
        on_progress: called with (fraction 0..1, message) at each stage; 1.0 once the file is written.

    Raises:
        PdfError: chromium is missing or failed (its stderr tail in the message).
    """
    html = report_html(store, experiment_id, on_progress=_stepper(on_progress, 0.0, HTML_SHARE))
    if pdf_path is None:
        pdf_path = ExperimentFolder.of(experiment_id, store.workspace).report
    step = _stepper(on_progress)
    step(HTML_SHARE, "printing the PDF")
    path = html_to_pdf(html, Path(pdf_path), timeout_s=timeout_s)
    step(1.0, "report written")
    return path
