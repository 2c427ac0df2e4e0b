"""The results page's title extras and its Overview tab: metric cards, training summary, baselines,
recommendations, rendered from the experiment's `ResultsInfo`."""

from __future__ import annotations

from datetime import datetime

import ipywidgets as widgets

from bearing_workbench.analysis import format as fmt
from bearing_workbench.analysis.results_info import ResultsInfo
from bearing_workbench.config import theme
from bearing_workbench.panels.kit import MetricCards, fragments
from bearing_workbench.panels.results.elements import esc, section

# Recommendation level -> (stripe colour token, background token, icon).
LEVEL_STYLES = {
    "success": ("success", "success_bg", "&#10004;"),
    "info": ("link", "selected_bg", "&#8505;"),
    "warning": ("warning", "warning_bg", "&#9888;"),
}


def title_extras(
    experiment_id: int, status: str, family: str, duration_s: float | None, finished_at: datetime | None
) -> list[str]:
    """What the page title carries beside the name: status, family and id, duration, end time."""
    ended = "completed" if status == "completed" else "ended"
    return [
        fragments.status_badge(status),
        fragments.muted(f"{family} · experiment #{experiment_id}"),
        f"<span>duration {esc(fmt.duration(duration_s))}</span>",
        f"<span>{ended} {esc(fmt.local_time(finished_at, with_date=True))}</span>",
    ]


class OverviewTab(widgets.VBox):
    """Metric cards, the training summary, the baselines and the recommendations (built with the page),
    all from the `ResultsInfo` the report renders too."""

    def __init__(self, info: ResultsInfo):
        self.cards_html = MetricCards()
        self.cards_html.show_cards(
            [fragments.metric_card(card.label, card.text, key=card.key) for card in info.cards]
        )
        # What else the test split measured (records, macro AUC, log loss, window level), as in the report.
        facts = " · ".join(f"{f.label} {f.text}" for f in info.test_facts)
        self.test_facts_html = widgets.HTML(fragments.muted(f"test split: {facts}") if facts else "")
        self.summary_html = widgets.HTML(fragments.label_table([(f.label, f.text) for f in info.training]))
        self.baselines_html = widgets.HTML(baselines_html(info))
        self.recommendations_html = widgets.HTML(recommendations_html(info))
        super().__init__(
            [
                self.cards_html,
                self.test_facts_html,
                section("Training"),
                self.summary_html,
                section("Baselines"),
                self.baselines_html,
                section("Recommendations"),
                self.recommendations_html,
            ]
        )


def baselines_html(info: ResultsInfo) -> str:
    if not info.baselines:
        return fragments.message(
            f"no other completed run on {info.baseline_scope}: nothing measured on the same test records "
            "to compare with",
            "muted",
        )
    rows = []
    for b in info.baselines:
        diff = b.difference
        if diff is None:
            shown = fmt.NO_VALUE
        else:
            tone = "success" if diff > 0 else "danger" if diff < 0 else "muted"
            shown = (
                f'<span class="bw-diff" style="color:{theme.color(tone)};font-weight:600">'
                f"{esc(fmt.points(diff))}</span>"
            )
        rows.append(
            (
                esc(b.label),
                fragments.app_link(
                    "results", f"#{b.experiment_id} {b.name}", new_tab=False, experiment=b.experiment_id
                ),
                esc(b.family),
                esc(fmt.percent(b.accuracy)),
                shown,
            )
        )
    header = ("baseline", "experiment", "family", "test accuracy", "this one vs it")
    table = fragments.data_table(header, rows)
    return table + fragments.message(f"runs on {info.baseline_scope}", "muted")


def recommendations_html(info: ResultsInfo) -> str:
    items = []
    for r in info.recommendations:
        stripe, background, icon = LEVEL_STYLES[r.level]
        items.append(
            f'<div class="bw-recommendation bw-{r.level}" style="border-left:4px solid {theme.color(stripe)};'
            f'background:{theme.color(background)};padding:4px 10px;margin:3px 0">{icon} {esc(r.text)}</div>'
        )
    return "".join(items) or fragments.message("no recommendation", "muted")
