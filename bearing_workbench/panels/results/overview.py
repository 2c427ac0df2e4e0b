"""The results page's header and its Overview tab: metric cards, training summary, baselines, advice."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from bearing_workbench.analysis.results import Baseline, Recommendation, ResultBundle
from bearing_workbench.panels.results.elements import MUTED, esc, num, pct, section, table
from bearing_workbench.runner.monitoring import format_duration, local_time

LEVEL_STYLES = {
    "success": ("#2e7d32", "#e8f5e9", "&#10004;"),
    "info": ("#1f6fb4", "#e8f1fb", "&#8505;"),
    "warning": ("#b26a00", "#fff4e5", "&#9888;"),
}


def header_html(bundle: ResultBundle) -> str:
    """Name, status, family, id, duration and completion time of the experiment."""
    record = bundle.record
    finished = local_time(record.finished_at, with_date=True) if record.finished_at else "—"
    return (
        '<div style="display:flex;gap:14px;align-items:baseline;flex-wrap:wrap">'
        f'<span style="font-size:1.3em;font-weight:600">{esc(record.name)}</span>'
        '<span style="background:#2e7d32;color:#fff;border-radius:10px;padding:1px 9px">'
        f"{esc(record.status)}</span>"
        f'<span style="{MUTED}">{esc(record.family)} &middot; experiment #{record.id}</span>'
        f"<span>duration {esc(format_duration(record.duration_s))}</span>"
        f"<span>completed {esc(finished)}</span></div>"
    )


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
        cards = [
            ("accuracy", "accuracy", pct(metrics.get("accuracy"))),
            ("macro_precision", "precision (macro)", pct(metrics.get("macro_precision"))),
            ("macro_recall", "recall (macro)", pct(metrics.get("macro_recall"))),
            ("macro_f1", "F1 (macro)", num(metrics.get("macro_f1"), ".3f")),
        ]
        self.cards_html = widgets.HTML(
            '<div style="display:flex;gap:10px;flex-wrap:wrap;margin:6px 0">'
            + "".join(
                f'<div class="bw-card" data-key="{key}" style="border:1px solid #d1d5db;border-radius:6px;'
                f'padding:6px 12px;min-width:120px"><div style="{MUTED};font-size:0.85em">{esc(label)}</div>'
                f'<div style="font-size:1.3em;font-weight:600">{esc(text)}</div></div>'
                for key, label, text in cards
            )
            + "</div>"
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
            ("best epoch", num(s["best_epoch"], "d") if s["best_epoch"] is not None else "—"),
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
    return table(("", ""), [(f'<span style="{MUTED}">{esc(a)}</span>', esc(b)) for a, b in lines])


def baselines_html(baselines: list[Baseline]) -> str:
    if not baselines:
        return f'<div style="{MUTED}">no other completed experiment to compare with yet</div>'
    rows = []
    for b in baselines:
        diff = b.difference
        if diff is None:
            shown = "—"
        else:
            color = "#2e7d32" if diff > 0 else "#c62828" if diff < 0 else "#6b7280"
            points = f"{100 * diff:+.1f} pts" if diff else "±0.0 pts"
            shown = f'<span class="bw-diff" style="color:{color};font-weight:600">{points}</span>'
        rows.append(
            (
                esc(b.label),
                f'<a href="results.ipynb?experiment={b.experiment_id}">#{b.experiment_id} {esc(b.name)}</a>',
                esc(b.family),
                pct(b.accuracy),
                shown,
            )
        )
    return table(("baseline", "experiment", "family", "test accuracy", "this one vs it"), rows)


def recommendations_html(recommendations: list[Recommendation]) -> str:
    items = []
    for r in recommendations:
        color, background, icon = LEVEL_STYLES[r.level]
        items.append(
            f'<div class="bw-recommendation bw-{r.level}" style="border-left:4px solid {color};'
            f'background:{background};padding:4px 10px;margin:3px 0">{icon} {esc(r.text)}</div>'
        )
    return "".join(items) or f'<div style="{MUTED}">no recommendation</div>'
