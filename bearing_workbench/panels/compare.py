"""Side-by-side comparison of 2 to 10 completed experiments: ``CompareView([3, 5, 7])``.

Everything shown comes from `analysis.comparison.compare_experiments`: the metrics table (best value
of each column in bold), the validation curves overlaid (accuracy and loss, one colour per
experiment), the settings that differ (highlighted; unchanged ones behind a toggle), McNemar's test
of each pair with its conclusion in words, and the suggested winner. "Save comparison" keeps the
result in the store (`Store.save_comparison`).
"""

from __future__ import annotations

import logging
from typing import Any

import ipywidgets as widgets
import traitlets

from bearing_workbench.analysis import format as fmt
from bearing_workbench.analysis.comparison import Comparison, compare_experiments
from bearing_workbench.analysis.format import NO_VALUE
from bearing_workbench.analysis.format import p_value as p_text
from bearing_workbench.panels.curves import epoch_axis
from bearing_workbench.panels.kit import Page, fragments, section, theme
from bearing_workbench.store import Store

log = logging.getLogger(__name__)

COLORS = theme.CLASS_PALETTE  # one colour per experiment (at most ten are compared)
# Metrics table columns: (key, label, higher is better?) ; None: not ranked. Names and values from
# analysis.format, so a metric reads here as on the results page and the history.
METRIC_COLUMNS = (
    ("accuracy", fmt.metric_name("accuracy"), True),
    ("macro_precision", fmt.metric_name("macro_precision"), True),
    ("macro_recall", fmt.metric_name("macro_recall"), True),
    ("macro_f1", fmt.metric_name("macro_f1"), True),
    ("epochs", "epochs", None),
    ("duration_s", fmt.metric_name("duration_s"), False),
    ("n_test", "test records", None),
)


_esc = fragments.esc


def _value_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _td(content: Any) -> str:
    return f"<td>{content}</td>"


def _table(header: list[str], rows: list[str]) -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    return f"<table class='bw-table'><tr>{head}</tr>{''.join(rows)}</table>"


def metrics_table_html(comparison: Comparison) -> str:
    """The metrics table, the best value of each ranked column in bold."""
    best: dict[str, Any] = {}
    for key, _label, higher in METRIC_COLUMNS:
        values = [getattr(s, key) for s in comparison.experiments if getattr(s, key) is not None]
        if higher is not None and values:
            best[key] = max(values) if higher else min(values)
    rows = []
    for i, summary in enumerate(comparison.experiments):
        cells = [
            _td(f"{fragments.swatch(COLORS[i % len(COLORS)])} #{summary.id}"),
            _td(_esc(summary.name)),
            _td(_esc(summary.family)),
        ]
        for key, _label, _higher in METRIC_COLUMNS:
            value = getattr(summary, key)
            if value is None or (key == "epochs" and not value):  # 0 epochs: not trained in epochs
                text = NO_VALUE
            elif key in ("epochs", "n_test"):
                text = str(value)
            else:
                text = fmt.metric_value(key, value)
            bold = key in best and value == best[key]
            cells.append(_td(f"<b>{text}</b>" if bold else text))
        marker = " class='bw-winner'" if summary.id == comparison.winner.experiment_id else ""
        rows.append(f"<tr{marker}>{''.join(cells)}</tr>")
    return _table(["#", "name", "model", *(label for _, label, _ in METRIC_COLUMNS)], rows)


def settings_table_html(comparison: Comparison, only_changed: bool = True) -> str:
    """The settings diff: changed rows highlighted; unchanged ones too unless `only_changed`."""
    ids = comparison.experiment_ids
    rows = []
    for row in comparison.hyperparameters:
        if only_changed and not row.changed:
            continue
        cells = "".join(_td(_esc(_value_text(row.values[i])) if i in row.values else NO_VALUE) for i in ids)
        style = " class='bw-changed'" if row.changed else ""
        key = _td(f"<code>{_esc(row.key)}</code>")
        rows.append(f"<tr{style} data-changed='{str(row.changed).lower()}'>{key}{cells}</tr>")
    if not rows:
        return fragments.muted("every setting is the same")
    return _table(["setting", *(f"#{i}" for i in ids)], rows)


def mcnemar_table_html(comparison: Comparison) -> str:
    """One row per pair: the 2x2 counts, the p value and the conclusion."""
    rows = []
    for test in comparison.mcnemar:
        verdict = "significant" if test.significant else "not significant"
        cells = [
            f"#{test.a} vs #{test.b}",
            test.n_shared,
            test.both_right,
            test.only_a_right,
            test.only_b_right,
            test.both_wrong,
            f"{_esc(p_text(test.p_value))}<br>{fragments.muted(test.method)}",
            f"<b>{verdict}</b><br>{_esc(test.conclusion)}",
        ]
        rows.append("<tr>" + "".join(_td(c) for c in cells) + "</tr>")
    return _table(
        [
            "pair",
            "shared records",
            "both right",
            "only first right",
            "only second right",
            "both wrong",
            "p",
            "conclusion",
        ],
        rows,
    )


class CompareView(Page):
    """Metrics, curves, settings diff, McNemar's tests and the suggested winner of 2 to 10 experiments.

    Args:
        experiment_ids: completed experiments, in the order shown (ComparisonError otherwise, naming them).
        store: default the workspace's store.
        embedded: shown inside another page (the history's), which has the notification area already.
    """

    experiment_ids = traitlets.List(traitlets.Int())
    winner_id = traitlets.Int(None, allow_none=True)
    notice = traitlets.Unicode("")

    def __init__(self, experiment_ids: list[int], store: Store | None = None, *, embedded: bool = False):
        store = store if store is not None else Store()
        comparison = compare_experiments(store, experiment_ids)  # ComparisonError before any widget
        ids = ", ".join(f"#{i}" for i in comparison.experiment_ids)
        super().__init__(f"Comparison of {ids}", store=store, notifications=not embedded)
        self._store = store
        self.comparison = comparison
        self.experiment_ids = list(comparison.experiment_ids)
        self.winner_id = comparison.winner.experiment_id
        self._build(ids)
        self.add_class("bw-compare-view")

    def _build(self, ids: str) -> None:
        comparison = self.comparison
        self.winner_html = widgets.HTML(
            # a star: the machines have no emoji font
            f"<div class='bw-callout'>&#9733; {_esc(comparison.winner.summary)}</div>"
        )
        self.metrics_html = widgets.HTML(metrics_table_html(comparison))
        self.figure = self._curves()
        without = [s.label for s in comparison.experiments if not comparison.curves.get(s.id)]
        self.curves_note = widgets.HTML(
            fragments.muted(
                f"no training curves for {', '.join(without)} (trained in one step, not in epochs)"
            )
            if without
            else ""
        )
        curves: list[widgets.Widget] = [self.figure] if self.figure is not None else []
        self.only_changed = widgets.Checkbox(
            value=True, description="only settings that differ", indent=False
        )
        self.settings_html = widgets.HTML(settings_table_html(comparison, True))
        self.only_changed.observe(
            lambda change: setattr(
                self.settings_html, "value", settings_table_html(comparison, change["new"])
            ),
            names="value",
        )
        self.mcnemar_html = widgets.HTML(mcnemar_table_html(comparison))
        # What was left out of the selection, and why, said above the tables (not only in the notes).
        self.left_out_html = widgets.HTML(
            fragments.message("; ".join(x.note for x in comparison.left_out), "warning")
            if comparison.left_out
            else ""
        )
        said = {x.note for x in comparison.left_out}
        notes = "".join(f"<li>{_esc(n)}</li>" for n in comparison.notes if n not in said)
        self.notes_html = widgets.HTML(f"<ul class='bw-muted'>{notes}</ul>" if notes else "")
        self.save_name = widgets.Text(value=f"comparison of {ids}", layout=widgets.Layout(width="320px"))
        self.save_button = widgets.Button(description="Save comparison", layout=widgets.Layout(width="auto"))
        self.save_button.on_click(lambda _: self.save(self.save_name.value))
        self.set_body(
            [
                self.left_out_html,
                self.winner_html,
                section("Test metrics", self.metrics_html),
                section("Validation curves", *curves, self.curves_note),
                section("Settings", self.only_changed, self.settings_html),
                section("McNemar's test, each pair, on the test records they share", self.mcnemar_html),
                self.notes_html,
                widgets.HBox([self.save_name, self.save_button], layout=widgets.Layout(align_items="center")),
                self.message,
            ]
        )

    def _curves(self) -> Any:
        """Val accuracy and val loss per epoch, one colour per experiment; None when none has epochs."""
        comparison = self.comparison
        if not any(comparison.curves.get(i) for i in comparison.experiment_ids):
            return None
        from plotly.subplots import make_subplots

        from bearing_workbench.panels.live_figure import LiveFigureWidget

        figure = make_subplots(rows=1, cols=2, subplot_titles=("validation accuracy", "validation loss"))
        for i, summary in enumerate(comparison.experiments):
            rows = comparison.curves.get(summary.id) or []
            if not rows:
                continue
            epochs = [r["epoch"] for r in rows]
            color = COLORS[i % len(COLORS)]
            for col, key in ((1, "val_acc"), (2, "val_loss")):
                figure.add_scatter(
                    x=epochs,
                    y=[r.get(key) for r in rows],
                    mode="lines+markers",
                    name=summary.label,
                    legendgroup=str(summary.id),
                    showlegend=col == 1,
                    line={"color": color},
                    row=1,
                    col=col,
                )
        last = max((r["epoch"] for rows in comparison.curves.values() for r in rows or ()), default=0)
        figure.update_xaxes(title_text="epoch", **(epoch_axis(last) or {}))  # whole epochs, no 1.5
        figure.update_yaxes(tickformat=".0%", row=1, col=1)
        figure.update_layout(height=340, margin={"l": 50, "r": 20, "t": 40, "b": 40}, template="plotly_white")
        return LiveFigureWidget(figure)

    def save(self, name: str) -> int | None:
        """Save the comparison (ids and result) in the store under `name`; returns its id."""
        try:
            saved = self._store.save_comparison(name, self.experiment_ids, self.comparison.to_dict())
        except (ValueError, LookupError) as exc:
            self.notice = f"not saved: {exc}"
            self.tell(self.notice, "error")
            return None
        self.notice = f"saved as comparison {saved}"
        self.tell(self.notice)
        return saved
