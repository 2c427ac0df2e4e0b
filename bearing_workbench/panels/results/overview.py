"""The results page's title extras and its Overview tab: metric cards, training summary, baselines,
recommendations."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from bearing_workbench.analysis.format import duration as format_duration
from bearing_workbench.analysis.format import local_time
from bearing_workbench.analysis.results import Baseline, Recommendation, ResultBundle
from bearing_workbench.config import theme
from bearing_workbench.panels.kit import MetricCards, fragments
from bearing_workbench.panels.results.elements import esc, num, pct, section
from bearing_workbench.store import ExperimentRecord

# Recommendation level -> (stripe colour token, background token, icon).
LEVEL_STYLES = {
    "success": ("success", "success_bg", "&#10004;"),
    "info": ("link", "selected_bg", "&#8505;"),
    "warning": ("warning", "warning_bg", "&#9888;"),
}


def title_extras(record: ExperimentRecord) -> list[str]:
    """What the page title carries beside the name: status, family and id, duration, end time."""
    finished = local_time(record.finished_at, with_date=True) if record.finished_at else "—"
    ended = "completed" if str(record.status) == "completed" else "ended"
    return [
        fragments.status_badge(record.status),
        fragments.muted(f"{record.family} · experiment #{record.id}"),
        f"<span>duration {esc(format_duration(record.duration_s))}</span>",
        f"<span>{ended} {esc(finished)}</span>",
    ]


class OverviewTab(widgets.VBox):
    """Metric cards, the training summary, the baselines and the recommendations (built with the page).

    Args:
        summary: `analysis.results.training_summary` of `bundle`.
    """

    def __init__(
        self,
        bundle: ResultBundle,
        summary: dict[str, Any],
        baselines: list[Baseline],
        recommendations: list[Recommendation],
    ):
        metrics = bundle.metrics
        self.cards_html = MetricCards()
        self.cards_html.show_cards(
            [
                fragments.metric_card(
                    "test accuracy (record level)", pct(metrics.get("accuracy")), key="accuracy"
                ),
                fragments.metric_card(
                    "precision (macro)", pct(metrics.get("macro_precision")), key="macro_precision"
                ),
                fragments.metric_card("recall (macro)", pct(metrics.get("macro_recall")), key="macro_recall"),
                fragments.metric_card("macro-F1", pct(metrics.get("macro_f1")), key="macro_f1"),
            ]
        )
        self.summary_html = widgets.HTML(summary_html(summary))
        self.baselines_html = widgets.HTML(baselines_html(baselines))
        self.recommendations_html = widgets.HTML(recommendations_html(recommendations))
        super().__init__(
            [
                self.cards_html,
                section("Training"),
                self.summary_html,
                section("Baselines"),
                self.baselines_html,
                section("Recommendations"),
                self.recommendations_html,
            ]
        )


def summary_html(s: dict[str, Any]) -> str:
    lines: list[tuple[str, str]] = []
    if s["epoch_based"]:
        planned = f" of {s['epochs_planned']}" if s["epochs_planned"] else ""
        stopped = {True: " (stopped early)", False: ""}.get(s["stopped_early"], "")
        lines += [
            ("epochs run", f"{s['epochs_run']}{planned}{stopped}"),
            ("best epoch", f"{s['best_epoch']} ({s['best_by']})" if s["best_epoch"] is not None else "—"),
            ("final train loss / accuracy", f"{num(s['final_train_loss'])} / {pct(s['final_train_acc'])}"),
            ("final val loss / accuracy", f"{num(s['final_val_loss'])} / {pct(s['final_val_acc'])}"),
            ("time per epoch", format_duration(s["seconds_per_epoch"])),
        ]
    else:
        lines.append(("training", f"{s['family']} models are fitted at once, not in epochs"))
    lines += [
        ("validation accuracy", pct(s["val_accuracy"])),
        ("total training time", format_duration(s["total_seconds"])),
        (
            "GPU utilisation",
            pct(s["gpu_utilisation"] / 100, 0) if s["gpu_utilisation"] is not None else "not sampled",
        ),
    ]
    return fragments.label_table(lines)


def baselines_html(baselines: list[Baseline]) -> str:
    if not baselines:
        return fragments.message("no other completed experiment to compare with yet", "muted")
    rows = []
    for b in baselines:
        diff = b.difference
        if diff is None:
            shown = "—"
        else:
            tone = "success" if diff > 0 else "danger" if diff < 0 else "muted"
            points = f"{100 * diff:+.1f} pts" if diff else "±0.0 pts"
            shown = f'<span class="bw-diff" style="color:{theme.color(tone)};font-weight:600">{points}</span>'
        rows.append(
            (
                esc(b.label),
                fragments.app_link(
                    "results", f"#{b.experiment_id} {b.name}", new_tab=False, experiment=b.experiment_id
                ),
                esc(b.family),
                pct(b.accuracy),
                shown,
            )
        )
    return fragments.data_table(("baseline", "experiment", "family", "test accuracy", "this one vs it"), rows)


def recommendations_html(recommendations: list[Recommendation]) -> str:
    items = []
    for r in recommendations:
        stripe, background, icon = LEVEL_STYLES[r.level]
        items.append(
            f'<div class="bw-recommendation bw-{r.level}" style="border-left:4px solid {theme.color(stripe)};'
            f'background:{theme.color(background)};padding:4px 10px;margin:3px 0">{icon} {esc(r.text)}</div>'
        )
    return "".join(items) or fragments.message("no recommendation", "muted")
