"""Toast texts: what the toast area says about a run, one notice (a plain dict) per thing worth a toast.

A notice is ``{"kind", "title", "text", "link", "link_text", "experiment_id"}``. Kinds: ``started``
(a launch), ``completed`` (with the test accuracy), ``failed`` (with the error and the hint),
``stopped``, and ``warning``: a completed run whose test accuracy is below the best classical model's
(`analysis.results.baselines`). Run-end notices are made from the events of `runner.run_end_hooks`;
nothing here knows widgets or needs a cluster.

Links are relative to the app pages in ``dashboards/`` (Voilà serves them side by side): a finished
run's results, or the monitor of a run that has no results (started, failed, stopped).

Three modules tell the user about runs, one concept each:

- `runner.run_end_hooks`: *run-end hooks*, the notifiers (any callable, and the
  webhook) called with an event dict when a run ends, wherever it ran;
- `runner.toasts`: *toast texts* (this module), what a toast says about a run event (pure data, no widget);
- `panels.toast_area`: the *toast area*, the widget that shows the toasts (and browser notifications).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bearing_workbench.analysis.format import duration as format_duration
from bearing_workbench.analysis.format import metric_value as format_metric
from bearing_workbench.config.app_links import app_url
from bearing_workbench.runner.run_end_hooks import END_STATUSES

if TYPE_CHECKING:
    from bearing_workbench.store import Store

log = logging.getLogger(__name__)

KINDS = ("started", "completed", "failed", "stopped", "warning")
# Failures stay on screen until closed; the rest go after a few seconds.
STICKY_KINDS = frozenset({"failed"})
# Kinds worth a browser notification when the page is hidden: a run has ended.
RUN_END_KINDS = frozenset({"completed", "failed", "stopped", "warning"})
RESULTS_APP = "results"
MONITOR_APP = "monitor"
# The baseline a completed run is compared with: its `analysis.results.Baseline` label (several labels
# of one model are joined by " / ").
BEST_CLASSICAL = "best classical"
_LINKS = {
    "started": (MONITOR_APP, "Open the monitor"),
    "completed": (RESULTS_APP, "Open the results"),
    "warning": (RESULTS_APP, "Open the results"),
    "failed": (MONITOR_APP, "Open the monitor"),
    "stopped": (MONITOR_APP, "Open the monitor"),
}


def app_link(app: str, experiment_id: int) -> str:
    """The relative address of app page `app` for one experiment: ``results.ipynb?experiment=12``."""
    return app_url(app, experiment=int(experiment_id))


def results_link(experiment_id: int) -> str:
    """The relative address of an experiment's results page."""
    return app_link(RESULTS_APP, experiment_id)


def notice(
    kind: str,
    title: str,
    text: str,
    link: str | None = None,
    *,
    experiment_id: int | None = None,
    link_text: str | None = None,
) -> dict[str, Any]:
    """One notice; `link` defaults to the experiment's app page for `kind` when `experiment_id` is given."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    app, default_text = _LINKS[kind]
    if link is None and experiment_id is not None:
        link = app_link(app, experiment_id)
    return {
        "kind": kind,
        "title": str(title),
        "text": str(text),
        "link": link,
        "link_text": (link_text or default_text) if link else None,
        "experiment_id": experiment_id,
    }


def _who(experiment_id: Any, name: Any) -> str:
    return f"#{experiment_id} {name}" if name else f"Experiment #{experiment_id}"


def started_notice(experiment_id: int, name: str | None = None, verb: str = "started") -> dict[str, Any]:
    """The notice of a run just launched (`verb`: "started", "resumed"...)."""
    return notice(
        "started",
        f"{_who(experiment_id, name)} {verb}",
        "It is queued on the Dask cluster and trains in the background: you can close this page.",
        experiment_id=experiment_id,
    )


def _scores(metrics: Mapping[str, Any] | None) -> str:
    metrics = metrics or {}
    parts = []
    if isinstance(metrics.get("accuracy"), int | float):
        parts.append(f"test accuracy {format_metric('accuracy', metrics['accuracy'])}")
    if isinstance(metrics.get("macro_f1"), int | float):
        parts.append(f"macro-F1 {format_metric('macro_f1', metrics['macro_f1'])}")
    return ", ".join(parts)


def run_end_notice(event: Mapping[str, Any]) -> dict[str, Any]:
    """The notice of a run-end event (`runner.notify.run_end_event`): completed, failed or stopped."""
    status = str(event.get("status"))
    if status not in END_STATUSES:
        raise ValueError(f"event status must be one of {', '.join(END_STATUSES)}, got {status!r}")
    experiment_id = event.get("experiment_id")
    title = f"{_who(experiment_id, event.get('name'))} {status}"
    duration = event.get("duration_s")
    after = f" after {format_duration(duration)}" if isinstance(duration, int | float) else ""
    if status == "completed":
        scores = _scores(event.get("metrics"))
        text = f"{scores}{after}" if scores else f"completed{after}; no test metrics were stored"
    elif status == "failed":
        text = str(event.get("error") or "no error message was stored")
        if event.get("hint"):
            text += f". Hint: {event['hint']}"
    else:
        text = f"stopped on request{after}; Retry in the monitor continues it from its checkpoint"
    return notice(status, title, text, experiment_id=experiment_id)


def _value(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, Mapping) else getattr(item, key, None)


def best_classical(baselines: Sequence[Any], experiment_id: int | None = None) -> Any | None:
    """The best classical model among `baselines` (not the experiment itself); None when there is none."""
    for baseline in baselines:
        labels = [part.strip().lower() for part in str(_value(baseline, "label") or "").split("/")]
        if BEST_CLASSICAL in labels and _value(baseline, "experiment_id") != experiment_id:
            if isinstance(_value(baseline, "accuracy"), int | float):
                return baseline
    return None


def below_baseline_notice(event: Mapping[str, Any], baselines: Sequence[Any]) -> dict[str, Any] | None:
    """A warning when a completed run's test accuracy is below the best classical model's, else None.

    Args:
        baselines: `analysis.results.Baseline` items (or mappings with the same keys) for the run.
    """
    if event.get("status") != "completed":
        return None
    accuracy = (event.get("metrics") or {}).get("accuracy")
    experiment_id = event.get("experiment_id")
    baseline = best_classical(baselines, experiment_id)
    if not isinstance(accuracy, int | float) or baseline is None:
        return None
    reference = float(_value(baseline, "accuracy"))
    if accuracy >= reference:
        return None
    points = 100 * (reference - accuracy)
    model = _value(baseline, "name") or _value(baseline, "family") or "a classical model"
    return notice(
        "warning",
        f"{_who(experiment_id, event.get('name'))}: below the baseline",
        f"test accuracy {format_metric('accuracy', accuracy)} is {points:.1f} points below the best "
        f"classical model's {format_metric('accuracy', reference)} "
        f"(#{_value(baseline, 'experiment_id')} {model})",
        experiment_id=experiment_id,
    )


def stored_baselines(store: Store, experiment_id: int) -> list[Any]:
    """The baselines of a completed experiment (`analysis.results`); [] when they cannot be read."""
    try:
        from bearing_workbench.analysis.results import baselines, load_results

        return list(baselines(store, load_results(store, experiment_id)))
    except Exception as exc:  # results missing or unreadable: the completed notice still goes out
        log.warning("no baselines for experiment %s: %s", experiment_id, exc)
        return []


def run_end_notices(event: Mapping[str, Any], store: Store | None = None) -> list[dict[str, Any]]:
    """The notices of a run-end event: its end, then a below-baseline warning (looked up in `store`)."""
    notices = [run_end_notice(event)]
    experiment_id = event.get("experiment_id")
    if store is not None and event.get("status") == "completed" and isinstance(experiment_id, int):
        warning = below_baseline_notice(event, stored_baselines(store, experiment_id))
        if warning is not None:
            notices.append(warning)
    return notices
