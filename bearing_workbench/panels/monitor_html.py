"""What the training monitor writes in its HTML widgets, from a `RunInfo` snapshot
(`RunState.info()`; kit fragments, no widgets).

One epoch convention everywhere on the page (defect 3 of issue 13), written once by
`RunState.progress_text`: while an epoch runs the bar reads "epoch 2/3, batch 5/40" (epoch 2 in
progress); between epochs, paused or ended it reads "1/3 epochs done". The run's own events say the
same ("paused during epoch 2", "paused after epoch 1", `runner.control`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bearing_workbench.analysis.format import local_time, significant
from bearing_workbench.analysis.run_info import RunInfo
from bearing_workbench.analysis.run_texts import LOST, header, lost_words, resource_lines, shown_status
from bearing_workbench.panels.kit import app_url, fragments
from bearing_workbench.store import ExperimentRecord

POLLING_NOTE = (
    "following the store every second: no Dask scheduler is reachable from this kernel. A run whose "
    "worker stops answering is marked lost once its heartbeats are older than the grace period, and "
    "Retry continues it from its last checkpoint."
)
ENDED_TITLES = {"failed": "Failed", LOST: "Lost"}  # the error box's title


def error_text(info: RunInfo) -> tuple[str, str]:
    """(title, text) of a failed run's error box: "Lost" and the reason without its "lost:" mark for a
    lost run, "Failed" and the error for another."""
    error = info.error or "no error message was stored"
    shown = shown_status(info.status, info.lost)
    return ENDED_TITLES[shown], lost_words(error) if shown == LOST else error


NO_SAMPLES_ENDED = "none recorded for this run (it ran where the workbench samples nothing, or ended first)"


def progress_line(info: RunInfo) -> str:
    """The HTML beside the bar: progress (in the one epoch convention, `RunState.progress_text`), ETA
    (or the status), the latest batch loss while one runs."""
    # an ended run's slot says its status: "lost" rather than "failed" for a lost one
    eta = (
        shown_status(info.status, info.lost)
        if info.finished and info.eta_text == info.status
        else info.eta_text
    )
    parts = [info.progress_text, eta]
    if info.batch_loss is not None:
        parts.append(f"batch loss {significant(info.batch_loss)}")
    return "&nbsp;" + " &middot; ".join(fragments.esc(p) for p in parts)


def title_extras(
    record: ExperimentRecord, info: RunInfo, mode: str, now: datetime | None = None
) -> list[str]:
    """Beside the run's name: status badge, family and id, start, elapsed, how the view follows it."""
    facts = header(record, now or datetime.now(UTC))
    follow = "run ended" if info.finished else mode
    return [
        fragments.status_badge(shown_status(info.status, info.lost)),
        fragments.muted(f"{facts['family']} · experiment #{facts['id']}"),
        f"<span>started {fragments.esc(facts['started'])}</span>",
        f"<span>elapsed {fragments.esc(facts['elapsed'])}</span>",
        # How this view follows the run ("live", "polling"), or that there is nothing left to follow.
        f'<span class="bw-follow-mode bw-faint">{fragments.esc(follow)}</span>',
    ]


def cards_html(info: RunInfo) -> str:
    """The metric cards of the latest epoch (or a fit's results), trend arrows included."""
    return fragments.metric_cards(
        fragments.metric_card(c.label, c.text, note=c.note, trend=c.trend, improved=c.improved, key=c.key)
        for c in info.cards
    )


def events_html(info: RunInfo) -> str:
    """The latest events, newest first; a failure (or the run marked lost) in red."""
    if not info.events:
        return fragments.muted("no events yet")
    rows = []
    for event in reversed(info.events):
        tone = ' class="bw-event-failed"' if event["kind"] in ("failed", LOST) else ""
        text = lost_words(event["message"]) if event["kind"] == LOST else event["message"]
        rows.append(
            f"<div{tone}>{fragments.muted(local_time(event['time']))} "
            f"<b>{fragments.esc(event['kind'])}</b> {fragments.esc(text)}</div>"
        )
    return "".join(rows)


def resources_html(info: RunInfo) -> str:
    """The latest resource sample; an ended run without one says so instead of "while the run trains"."""
    if not info.resources and info.finished:
        return fragments.label_table([("resources", NO_SAMPLES_ENDED)])
    return fragments.label_table(resource_lines(info.resources))


def log_html(text: str, path: Any, finished: bool) -> str:
    """The log's tail, kept scrolled to the newest line; what an empty log means depends on the run."""
    if not text:
        text = (
            f"(this run wrote nothing to {path})"
            if finished
            else "(the log is empty so far: it is written while the run trains)"
        )
    # column-reverse keeps the view scrolled to the newest line as lines are added
    return f'<div class="bw-log"><pre>{fragments.esc(text)}</pre></div>'


def results_html(
    lines: list[tuple[str, str]], metrics_path: Any, has_metrics_file: bool, experiment_id: int
) -> str:
    """The stored headline results, where the metrics file is, and the way to the results page."""
    where = (
        f"<div>metrics file: <code>{fragments.esc(metrics_path)}</code></div>"
        if has_metrics_file
        else f"<div>{fragments.muted(f'no metrics file ({metrics_path.name}) yet')}</div>"
    )
    page = fragments.link(app_url("results", experiment=experiment_id), "the results page")
    return (
        fragments.label_table(lines)
        + where
        + '<div class="bw-muted">per-class results, confusion matrix, ROC, failure cases, downloads and '
        f"the PDF report: {page} (in a notebook: <code>ExperimentResults({experiment_id})</code>)</div>"
    )
