"""The results page of one completed experiment: ``ExperimentResults(experiment_id)``.

Four tabs: Overview (metric cards, training summary, baselines, recommendations), Detailed metrics
(per-class table, confusion matrix whose cells filter the failure cases, ROC curves),
Visualisations (training curves, model-specific views, failure cases with their detail) and
Artifacts (downloads, PDF report, clone / add to ensemble / delete). Only the Overview is built
with the panel; the others on their first selection (plotly's first figure costs about a second).
Every number comes from `analysis.results`; this module lays widgets out and wires the buttons.

The model-specific views (`panels.model_views`), the failure detail (`panels.failure_detail`), the
notification area (`panels.toast_area`) and the PDF report (`runner.reports`) are imported when
needed; where one is missing the page says so and works without it.
"""

from __future__ import annotations

import html
import importlib
import importlib.util
import logging
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import traitlets

from bearing_workbench.analysis.results import (
    ENSEMBLE_FAMILY,
    Baseline,
    Recommendation,
    ResultBundle,
    baselines,
    cell_records,
    confusion_matrix,
    load_results,
    per_class_rows,
    recommendations,
    roc_curves,
    training_summary,
)
from bearing_workbench.panels.curves import best_epoch_trace, curve_traces, curves_layout
from bearing_workbench.panels.download import MAX_BYTES, DownloadLink, safe_filename
from bearing_workbench.runner.monitoring import format_bytes, format_duration, local_time
from bearing_workbench.store import Store, confined_path

if TYPE_CHECKING:
    from bearing_workbench.panels.live_figure import LiveFigureWidget

log = logging.getLogger(__name__)

TAB_TITLES = ("Overview", "Detailed metrics", "Visualisations", "Artifacts")
OVERVIEW, DETAILS, VISUALS, ARTIFACTS = range(4)
MUTED = "color:#6b7280"
LEVEL_STYLES = {
    "success": ("#2e7d32", "#e8f5e9", "&#10004;"),
    "info": ("#1f6fb4", "#e8f1fb", "&#8505;"),
    "warning": ("#b26a00", "#fff4e5", "&#9888;"),
}
# The experiment folder's files offered for download: (label, file name, MIME type).
DOWNLOADS = (
    ("checkpoint (best.pt)", "best.pt", "application/octet-stream"),
    ("ONNX model", "model.onnx", "application/octet-stream"),
    ("config YAML", "config.yaml", "text/yaml"),
    ("test predictions CSV", "predictions_test.csv", "text/csv"),
    ("history JSON", "history.json", "application/json"),
    ("metrics JSON", "metrics.json", "application/json"),
)
# Files up to this size are put in their link when the tab opens; larger ones on a click.
EAGER_BYTES = 2 * 2**20
MODEL_VIEWS = "bearing_workbench.panels.model_views"
FAILURE_DETAIL = "bearing_workbench.panels.failure_detail"
NOTIFICATIONS = "bearing_workbench.panels.toast_area"
REPORTS = "bearing_workbench.runner.reports"


def _esc(text: Any) -> str:
    return html.escape(str(text))


def _pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f} %"


def _num(value: float | None, fmt: str = ".4g") -> str:
    return "—" if value is None else format(value, fmt)


def _experiment_id(value: Any) -> int:
    """An experiment id given as an integer or as digits (a Voilà app reads it from the URL query)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"experiment_id must be a positive integer, got {value!r}")
    return value


def _optional(module: str, name: str) -> Callable[..., Any] | None:
    """`module.name`, or None when that module is not there (another part of the page not written yet)."""
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as exc:
        log.info("%s.%s is not available: %s", module, name, exc)
        return None
    except AttributeError:
        log.info("%s has no %s", module, name)
        return None


def _module_exists(module: str) -> bool:
    """Whether `module` can be imported, without importing it."""
    if module in sys.modules:
        return sys.modules[module] is not None  # None: its import was blocked
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent missing, or the module blocked (None in sys.modules)
        return False


def _warm_plotly() -> None:
    """Import plotly's widget in the background: the first figure then comes without that wait."""
    try:
        importlib.import_module("bearing_workbench.panels.live_figure")
    except Exception:  # the tab that needs it will say what went wrong
        log.debug("plotly could not be imported ahead", exc_info=True)


def _section(title: str) -> widgets.HTML:
    return widgets.HTML(f'<div style="font-weight:600;margin:10px 0 4px">{_esc(title)}</div>')


def _note(text: str) -> widgets.HTML:
    return widgets.HTML(f'<div style="{MUTED};margin:4px 0">{_esc(text)}</div>')


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], row_styles: Sequence[str] = ()) -> str:
    """An HTML table; cells are HTML already (escape them first)."""
    head = "".join(f'<th style="text-align:left;padding:2px 10px 2px 0">{_esc(h)}</th>' for h in header)
    body = []
    for i, row in enumerate(rows):
        style = row_styles[i] if i < len(row_styles) else ""
        cells = "".join(f'<td style="padding:2px 10px 2px 0">{c}</td>' for c in row)
        body.append(f'<tr style="{style}">{cells}</tr>')
    return f'<table style="border-collapse:collapse"><tr>{head}</tr>{"".join(body)}</table>'


def _figure(data: list[dict[str, Any]], layout: dict[str, Any], png_name: str) -> LiveFigureWidget:
    """A figure whose camera button saves a PNG named `png_name` (client-side: no kaleido needed)."""
    from bearing_workbench.panels.live_figure import LiveFigureWidget  # plotly: with the first figure

    figure = LiveFigureWidget(data=data, layout={"margin": {"l": 60, "r": 30, "t": 30, "b": 50}, **layout})
    figure._config = {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": png_name, "scale": 2},
    }
    return figure


class ExperimentResults(widgets.VBox):
    """The results of one completed experiment.

    Args:
        experiment_id: a completed experiment (an unknown id raises `NotFoundError`; one that has not
            completed, or whose metrics.json is missing, a `ValueError` naming what is missing).
        store: default the workspace's store.
        client: a Dask client for the PDF report (default: the runner's choice).

    Traits (not synced to the browser; for tests and observers): `built_tabs` (titles of the tabs
    built so far), `normalised` (confusion matrix shown row-normalised), `selected_cell` ((true,
    predicted) labels of the clicked cell, empty for the 10 worst predictions), `selected_record`,
    `report_status` ("", "running", "done", "failed", "unavailable"), `report_path`, `deleted`.
    """

    experiment_id = traitlets.Int()
    status = traitlets.Unicode()
    built_tabs = traitlets.List(traitlets.Unicode())
    normalised = traitlets.Bool(False)
    selected_cell = traitlets.Tuple()
    selected_record = traitlets.Unicode(None, allow_none=True)
    report_status = traitlets.Unicode("")
    report_progress = traitlets.Float(0.0)
    report_path = traitlets.Unicode(None, allow_none=True)
    deleted = traitlets.Bool(False)
    notice = traitlets.Unicode("")

    def __init__(self, experiment_id: int, store: Store | None = None, *, client: Any = None):
        self._store = store if store is not None else Store()
        self._client = client
        self._lock = threading.RLock()
        self.bundle: ResultBundle = load_results(self._store, _experiment_id(experiment_id))
        record = self.bundle.record
        self.summary = training_summary(self.bundle)
        self.baselines: list[Baseline] = baselines(self._store, self.bundle)
        self.recommendations: list[Recommendation] = recommendations(self._store, self.bundle, self.baselines)
        self.header_html = widgets.HTML(self._header_html())
        self.notice_html = widgets.HTML()
        self.tabs = widgets.Tab(
            children=[self._build_overview(), *(widgets.VBox() for _ in TAB_TITLES[1:])],
            titles=TAB_TITLES,
        )
        self._builders = {
            DETAILS: self._build_details,
            VISUALS: self._build_visuals,
            ARTIFACTS: self._build_artifacts,
        }
        self.tabs.observe(self._on_tab, names="selected_index")
        top = []
        area = _optional(NOTIFICATIONS, "notification_area")
        if area is not None:
            try:
                top.append(area(store=self._store))
            except Exception:  # the page works without its toasts
                log.exception("the notification area could not be shown")
        super().__init__(children=[*top, self.header_html, self.notice_html, self.tabs])
        self.add_class("bw-experiment-results")
        self.experiment_id = record.id
        self.status = str(record.status)
        self.built_tabs = [TAB_TITLES[OVERVIEW]]
        self.observe(self._on_normalised, names="normalised")
        self.observe(self._show_notice, names="notice")
        if "plotly.basewidget" not in sys.modules:
            threading.Thread(target=_warm_plotly, name="results-plotly", daemon=True).start()

    # -- tabs ------------------------------------------------------------------------------------------

    def show_tab(self, title: str) -> None:
        """Select the tab called `title` (building it on first selection)."""
        if title not in TAB_TITLES:
            raise ValueError(f"tab must be one of {', '.join(TAB_TITLES)}, got {title!r}")
        self.tabs.selected_index = TAB_TITLES.index(title)
        self._ensure(TAB_TITLES.index(title))  # selecting the tab already shown fires no change

    def _on_tab(self, change: Mapping[str, Any]) -> None:
        if change["new"] is not None:
            self._ensure(change["new"])

    def _ensure(self, index: int) -> None:
        with self._lock:
            title = TAB_TITLES[index]
            if title in self.built_tabs:
                return
            try:
                children = self._builders[index]()
            except Exception as exc:  # one broken section must not take the page down
                log.exception("results of experiment %s: the %s tab failed", self.experiment_id, title)
                children = [
                    widgets.HTML(f"<div style='color:#c62828'>this tab could not be built: {_esc(exc)}</div>")
                ]
            self.tabs.children[index].children = tuple(children)
            self.built_tabs = [*self.built_tabs, title]

    # -- header and overview ---------------------------------------------------------------------------

    def _header_html(self) -> str:
        record = self.bundle.record
        finished = local_time(record.finished_at, with_date=True) if record.finished_at else "—"
        return (
            '<div style="display:flex;gap:14px;align-items:baseline;flex-wrap:wrap">'
            f'<span style="font-size:1.3em;font-weight:600">{_esc(record.name)}</span>'
            '<span style="background:#2e7d32;color:#fff;border-radius:10px;padding:1px 9px">'
            f"{_esc(record.status)}</span>"
            f'<span style="{MUTED}">{_esc(record.family)} &middot; experiment #{record.id}</span>'
            f"<span>duration {_esc(format_duration(record.duration_s))}</span>"
            f"<span>completed {_esc(finished)}</span></div>"
        )

    def _build_overview(self) -> widgets.VBox:
        metrics = self.bundle.metrics
        cards = [
            ("accuracy", "accuracy", _pct(metrics.get("accuracy"))),
            ("macro_precision", "precision (macro)", _pct(metrics.get("macro_precision"))),
            ("macro_recall", "recall (macro)", _pct(metrics.get("macro_recall"))),
            ("macro_f1", "F1 (macro)", _num(metrics.get("macro_f1"), ".3f")),
        ]
        self.cards_html = widgets.HTML(
            '<div style="display:flex;gap:10px;flex-wrap:wrap;margin:6px 0">'
            + "".join(
                f'<div class="bw-card" data-key="{key}" style="border:1px solid #d1d5db;border-radius:6px;'
                f'padding:6px 12px;min-width:120px"><div style="{MUTED};font-size:0.85em">{_esc(label)}</div>'
                f'<div style="font-size:1.3em;font-weight:600">{_esc(text)}</div></div>'
                for key, label, text in cards
            )
            + "</div>"
        )
        self.summary_html = widgets.HTML(self._summary_html())
        self.baselines_html = widgets.HTML(self._baselines_html())
        self.recommendations_html = widgets.HTML(self._recommendations_html())
        return widgets.VBox(
            [
                self.cards_html,
                _section("Training"),
                self.summary_html,
                _section("Baselines"),
                self.baselines_html,
                _section("Recommendations"),
                self.recommendations_html,
            ]
        )

    def _summary_html(self) -> str:
        s = self.summary
        lines: list[tuple[str, str]] = []
        if s["epoch_based"]:
            planned = f" of {s['epochs_planned']}" if s["epochs_planned"] else ""
            stopped = {True: " (stopped early)", False: ""}.get(s["stopped_early"], "")
            lines += [
                ("epochs run", f"{s['epochs_run']}{planned}{stopped}"),
                ("best epoch", _num(s["best_epoch"], "d") if s["best_epoch"] is not None else "—"),
                (
                    "final train loss / accuracy",
                    f"{_num(s['final_train_loss'])} / {_pct(s['final_train_acc'])}",
                ),
                ("final val loss / accuracy", f"{_num(s['final_val_loss'])} / {_pct(s['final_val_acc'])}"),
                ("time per epoch", format_duration(s["seconds_per_epoch"])),
            ]
        else:
            lines.append(("training", f"{s['family']} models are fitted at once, not in epochs"))
        lines += [
            ("validation accuracy", _pct(s["val_accuracy"])),
            ("total training time", format_duration(s["total_seconds"])),
            (
                "GPU utilisation",
                _pct(s["gpu_utilisation"] / 100, 0) if s["gpu_utilisation"] is not None else "not sampled",
            ),
        ]
        return _table(("", ""), [(f'<span style="{MUTED}">{_esc(a)}</span>', _esc(b)) for a, b in lines])

    def _baselines_html(self) -> str:
        if not self.baselines:
            return f'<div style="{MUTED}">no other completed experiment to compare with yet</div>'
        rows = []
        for b in self.baselines:
            diff = b.difference
            if diff is None:
                shown = "—"
            else:
                color = "#2e7d32" if diff > 0 else "#c62828" if diff < 0 else "#6b7280"
                points = f"{100 * diff:+.1f} pts" if diff else "±0.0 pts"
                shown = f'<span class="bw-diff" style="color:{color};font-weight:600">{points}</span>'
            rows.append(
                (
                    _esc(b.label),
                    f'<a href="results.ipynb?experiment={b.experiment_id}">'
                    f"#{b.experiment_id} {_esc(b.name)}</a>",
                    _esc(b.family),
                    _pct(b.accuracy),
                    shown,
                )
            )
        return _table(("baseline", "experiment", "family", "test accuracy", "this one vs it"), rows)

    def _recommendations_html(self) -> str:
        items = []
        for r in self.recommendations:
            color, background, icon = LEVEL_STYLES[r.level]
            items.append(
                f'<div class="bw-recommendation bw-{r.level}" style="border-left:4px solid {color};'
                f'background:{background};padding:4px 10px;margin:3px 0">{icon} {_esc(r.text)}</div>'
            )
        return "".join(items) or f'<div style="{MUTED}">no recommendation</div>'

    # -- detailed metrics -------------------------------------------------------------------------------

    def _build_details(self) -> list[widgets.Widget]:
        metrics = self.bundle.metrics
        rows = per_class_rows(metrics)
        self.per_class_rows = rows
        self.per_class_html = widgets.HTML(
            _table(
                ("class", "precision", "recall", "F1", "support", ""),
                [
                    (
                        _esc(r["class"]),
                        _pct(r["precision"]),
                        _pct(r["recall"]),
                        _num(r["f1"], ".3f"),
                        str(r["support"]),
                        '<span class="bw-weak" style="color:#b26a00">&#9888; weak (recall below 90 %)</span>'
                        if r["weak"]
                        else "",
                    )
                    for r in rows
                ],
                ["background:#fff4e5" if r["weak"] else "" for r in rows],
            )
        )
        self.normalised_toggle = widgets.ToggleButtons(
            options=[("counts", False), ("normalised by true class", True)],
            value=self.normalised,
            style={"button_width": "auto"},
        )
        widgets.link((self.normalised_toggle, "value"), (self, "normalised"))
        self.confusion_figure = self._confusion_figure()
        self.cell_html = widgets.HTML(
            f'<div style="{MUTED}">click a cell to list its test records (and show them in the failure cases)'
            "</div>"
        )
        self.cell_button = widgets.Button(
            description="Inspect in failure cases", layout=widgets.Layout(display="none", width="auto")
        )
        self.cell_button.on_click(lambda _: self.show_tab(TAB_TITLES[VISUALS]))
        curves = roc_curves(metrics)
        children: list[widgets.Widget] = [
            _section("Per class"),
            self.per_class_html,
            _section("Confusion matrix"),
            self.normalised_toggle,
            self.confusion_figure,
            self.cell_html,
            self.cell_button,
            _section("ROC curves (one class vs the rest)"),
        ]
        if curves:
            self.roc_figure = self._roc_figure(curves)
            children.append(self.roc_figure)
        else:
            self.roc_figure = None
            children.append(
                _note("no ROC curve: no class has both positives and negatives in the test split")
            )
        return children

    def _matrix_values(self) -> tuple[list[list[float]], list[list[int]]]:
        counts = confusion_matrix(self.bundle.metrics)
        shown = confusion_matrix(self.bundle.metrics, normalised=True) if self.normalised else counts
        return shown.tolist(), counts.tolist()

    def _confusion_figure(self) -> LiveFigureWidget:
        names = self.bundle.class_names
        z, counts = self._matrix_values()
        figure = _figure(
            [
                {
                    "type": "heatmap",
                    "z": z,
                    "x": names,
                    "y": names,
                    "customdata": counts,
                    "colorscale": "Blues",
                    "text": self._cell_texts(z),
                    "texttemplate": "%{text}",
                    "hovertemplate": self._cell_hover(),
                }
            ],
            {
                "height": 120 + 34 * len(names),
                "xaxis": {"title": {"text": "predicted"}, "side": "bottom"},
                "yaxis": {"title": {"text": "true"}, "autorange": "reversed"},
            },
            f"experiment-{self.experiment_id}-confusion-matrix",
        )
        figure.data[0].on_click(self._on_cell_click)
        return figure

    def _cell_hover(self) -> str:
        share = ", %{z:.1%} of the true class" if self.normalised else ""
        return f"true %{{y}}<br>predicted %{{x}}<br>%{{customdata}} record(s){share}<extra></extra>"

    def _cell_texts(self, z: list[list[float]]) -> list[list[str]]:
        if self.normalised:
            return [[f"{v:.0%}" if v else "" for v in row] for row in z]
        return [[str(int(v)) if v else "" for v in row] for row in z]

    def _on_normalised(self, change: Mapping[str, Any]) -> None:
        figure = getattr(self, "confusion_figure", None)
        if figure is None:
            return
        z, _ = self._matrix_values()
        with figure.batch_update():
            figure.data[0].z = z
            figure.data[0].text = self._cell_texts(z)
            figure.data[0].hovertemplate = self._cell_hover()

    def _on_cell_click(self, trace: Any, points: Any, selector: Any = None) -> None:
        """Heatmap click: `points.ys` / `points.xs` hold the true / predicted class of the cell."""
        if not points.xs or not points.ys:
            return
        self.select_cell(str(points.ys[0]), str(points.xs[0]))

    def select_cell(self, true_label: str, predicted_label: str) -> list[dict[str, Any]]:
        """Show the test records of one confusion-matrix cell and list them in the failure cases."""
        predictions = self.bundle.predictions
        if predictions is None:
            self.notice = "no predictions_test.csv in the experiment folder: the cell's records are unknown"
            return []
        records = cell_records(predictions, true_label, predicted_label)
        self.selected_cell = (true_label, predicted_label)
        self.cell_rows = records
        title = f"true {true_label}, predicted {predicted_label}: {len(records)} test record(s)"
        if hasattr(self, "cell_html"):
            rows = [
                (
                    _esc(r["record_id"]),
                    _pct(r["predicted_probability"]),
                    _esc(self._top_classes(r["probabilities"])),
                )
                for r in records
            ]
            self.cell_html.value = f"<div><b>{_esc(title)}</b></div>" + (
                _table(("record", "confidence", "top probabilities"), rows) if rows else ""
            )
            self.cell_button.layout.display = "" if records else "none"
        self._set_failure_list(records, title)
        return records

    @staticmethod
    def _top_classes(probabilities: Mapping[str, float], n: int = 3) -> str:
        top = sorted(probabilities.items(), key=lambda kv: -kv[1])[:n]
        return ", ".join(f"{name} {100 * p:.0f} %" for name, p in top)

    def _roc_figure(self, curves: list[dict[str, Any]]) -> LiveFigureWidget:
        data = [
            {
                "type": "scatter",
                "x": c["fpr"],
                "y": c["tpr"],
                "mode": "lines",
                "name": f"{c['class']} (AUC {c['auc']:.3f})" if c["auc"] is not None else c["class"],
                "hovertemplate": f"{_esc(c['class'])}<br>FPR %{{x:.3f}}<br>TPR %{{y:.3f}}<extra></extra>",
            }
            for c in curves
        ]
        data.append(
            {
                "type": "scatter",
                "x": [0, 1],
                "y": [0, 1],
                "mode": "lines",
                "name": "chance",
                "line": {"dash": "dash", "color": "#9aa5b1"},
                "hoverinfo": "skip",
            }
        )
        auc = self.bundle.metrics.get("macro_auc")
        return _figure(
            data,
            {
                "height": 380,
                "title": {"text": f"macro AUC {auc:.3f}" if isinstance(auc, float) else ""},
                "xaxis": {"title": {"text": "false positive rate"}, "range": [0, 1]},
                "yaxis": {"title": {"text": "true positive rate"}, "range": [0, 1.02]},
            },
            f"experiment-{self.experiment_id}-roc",
        )

    # -- visualisations --------------------------------------------------------------------------------

    def _build_visuals(self) -> list[widgets.Widget]:
        children: list[widgets.Widget] = [_section("Training history")]
        self.history_figure = None
        if self.bundle.history:
            self.history_figure = self._history_figure()
            children.append(self.history_figure)
        else:
            children.append(
                _note(f"no training curves: {self.bundle.record.family} models are not trained in epochs")
            )
        children.append(_section("Model-specific views"))
        children.append(self._model_views())
        children += [_section("Failure cases"), *self._failure_cases()]
        return children

    def _history_figure(self) -> LiveFigureWidget:
        history = self.bundle.history
        best = self.summary["best_epoch"]
        best_row = next((row for row in history if row["epoch"] == best), None)
        star = best_epoch_trace(best, best_row.get("val_acc") if best_row else None)
        return _figure(
            [*curve_traces(history), star], curves_layout(), f"experiment-{self.experiment_id}-curves"
        )

    def _model_views(self) -> widgets.Widget:
        build = _optional(MODEL_VIEWS, "model_views_widget")
        if build is None:
            return _note("model-specific views are not available in this installation yet")
        try:
            return build(self._store, self.experiment_id)
        except Exception as exc:
            log.exception("model views of experiment %s failed", self.experiment_id)
            return _note(f"the model-specific views could not be built: {exc}")

    def _failure_cases(self) -> list[widgets.Widget]:
        self.failure_title = widgets.HTML()
        self.failure_select = widgets.Select(options=[], rows=10, layout=widgets.Layout(width="100%"))
        self.failure_select.observe(self._on_failure_selected, names="value")
        self.failure_reset = widgets.Button(
            description="Show the 10 worst predictions", layout=widgets.Layout(width="auto")
        )
        self.failure_reset.on_click(lambda _: self.show_worst())
        self.failure_detail = widgets.VBox()
        cell = getattr(self, "cell_rows", None)
        if self.selected_cell and cell is not None:
            true_label, predicted_label = self.selected_cell
            self._set_failure_list(
                cell, f"true {true_label}, predicted {predicted_label}: {len(cell)} test record(s)"
            )
        else:
            self.show_worst()
        return [self.failure_title, self.failure_select, self.failure_reset, self.failure_detail]

    def show_worst(self) -> None:
        """List the 10 worst test predictions (metrics.json) in the failure cases."""
        worst = self.bundle.metrics.get("worst_predictions") or []
        rows = [
            {
                "record_id": w["record_id"],
                "true": w["true_label"],
                "predicted": w["predicted_label"],
                "predicted_probability": w["predicted_probability"],
            }
            for w in worst
        ]
        self.selected_cell = ()
        self._set_failure_list(
            rows, "the 10 worst predictions: confidently wrong first, then the least sure right"
        )

    def _set_failure_list(self, rows: Sequence[Mapping[str, Any]], title: str) -> None:
        if not hasattr(self, "failure_select"):
            return  # the Visualisations tab is not built yet; it lists the selected cell when it is
        self.failure_title.value = f"<div>{_esc(title)}</div>"
        options = [
            (
                f"{r['record_id']}: true {r['true']} → predicted {r['predicted']} "
                f"({100 * r['predicted_probability']:.0f} %)",
                str(r["record_id"]),
            )
            for r in rows
        ]
        self.failure_select.options = options
        self.failure_select.value = None
        self.failure_reset.layout.display = "" if self.selected_cell else "none"
        self.failure_detail.children = ()
        self.selected_record = None

    def _on_failure_selected(self, change: Mapping[str, Any]) -> None:
        if change["new"] is not None:
            self.select_record(change["new"])

    def select_record(self, record_id: str) -> None:
        """Show the detail (signal, spectrum, probabilities) of one test record of the failure list."""
        self.selected_record = record_id
        build = _optional(FAILURE_DETAIL, "failure_detail_widget")
        if build is None:
            self.failure_detail.children = (
                _note("the failure-case detail is not available in this installation yet"),
            )
            return
        try:
            detail = build(self._store, self.experiment_id, record_id)
        except Exception as exc:
            log.exception("failure detail of %r failed", record_id)
            detail = _note(f"the detail of record {record_id} could not be built: {exc}")
        self.failure_detail.children = (detail,)

    # -- artifacts -------------------------------------------------------------------------------------

    def artifact_file(self, name: str) -> Path:
        """The path of file `name` in this experiment's folder; names that leave the folder are refused
        (ValueError), a file that is not there raises FileNotFoundError."""
        path = confined_path(self.bundle.folder, name)
        if not path.is_file():
            raise FileNotFoundError(f"experiment {self.experiment_id} has no {name} in {self.bundle.folder}")
        return path

    def download_name(self, name: str) -> str:
        """The file name a download of `name` is saved under."""
        return safe_filename(f"experiment-{self.experiment_id}-{name}")

    def _build_artifacts(self) -> list[widgets.Widget]:
        self.download_links: dict[str, DownloadLink] = {}
        self.prepare_buttons: dict[str, widgets.Button] = {}
        rows = []
        extra: list[widgets.Widget]
        for label, name, mime in DOWNLOADS:
            link = DownloadLink(label, self.download_name(name), mime)
            self.download_links[name] = link
            try:
                size = self.artifact_file(name).stat().st_size
            except FileNotFoundError:
                extra = [_note("not written for this experiment")]
                rows.append(self._download_row(link, extra))
                continue
            extra = [_note(format_bytes(size))]
            if size > MAX_BYTES:
                extra.append(_note(f"too large for a browser download: {self.artifact_file(name)}"))
            elif size <= EAGER_BYTES:
                self.prepare_download(name)
            else:
                button = widgets.Button(description="Prepare download", layout=widgets.Layout(width="auto"))
                button.on_click(lambda _, n=name: self.prepare_download(n))
                self.prepare_buttons[name] = button
                extra.append(button)
            rows.append(self._download_row(link, extra))
        png = _note(
            "PNG of the confusion matrix, ROC and training curves: the camera button above each chart"
        )
        return [
            _section("Downloads"),
            *rows,
            png,
            _section("Report"),
            *self._report_widgets(),
            _section("Actions"),
            *self._action_widgets(),
        ]

    @staticmethod
    def _download_row(link: DownloadLink, extra: list[widgets.Widget]) -> widgets.HBox:
        for widget in extra:
            widget.layout.margin = "0 0 0 10px"
        return widgets.HBox([link, *extra], layout=widgets.Layout(align_items="center"))

    def prepare_download(self, name: str) -> None:
        """Put file `name` of the experiment folder into its download link."""
        path = self.artifact_file(name)
        self.download_links[name].set_data(path.read_bytes())
        button = self.prepare_buttons.get(name)
        if button is not None:
            button.layout.display = "none"

    # report

    def _report_widgets(self) -> list[widgets.Widget]:
        self.report_button = widgets.Button(
            description="Generate PDF report", icon="file-pdf-o", layout=widgets.Layout(width="auto")
        )
        self.report_button.on_click(self._on_report)
        self.report_bar = widgets.FloatProgress(
            value=0.0, min=0.0, max=1.0, layout=widgets.Layout(width="40%", display="none")
        )
        self.report_label = widgets.HTML()
        self.report_link = DownloadLink("PDF report", self.download_name("report.pdf"), "application/pdf")
        self.report_link.layout.display = "none"
        if not _module_exists(REPORTS):
            self._report_unavailable()
        return [
            widgets.HBox(
                [self.report_button, self.report_bar, self.report_label],
                layout=widgets.Layout(align_items="center"),
            ),
            self.report_link,
        ]

    def _report_unavailable(self, why: str = "") -> None:
        self.report_status = "unavailable"
        self.report_button.disabled = True
        self.report_label.value = f'<span style="{MUTED}">report generation not available{_esc(why)}</span>'

    def _on_report(self, _: Any = None) -> None:
        submit = _optional(REPORTS, "submit_report")
        if submit is None:
            self._report_unavailable()
            return
        self.report_status = "running"
        self.report_path = None
        self.report_button.disabled = True
        self.report_bar.value = 0.0
        self.report_bar.bar_style = ""
        self.report_bar.layout.display = ""
        self.report_label.value = "starting…"
        self.report_link.layout.display = "none"
        try:
            future = submit(
                self.experiment_id, store=self._store, client=self._client, on_progress=self._report_step
            )
        except Exception as exc:
            log.exception("report of experiment %s could not be submitted", self.experiment_id)
            self._report_failed(exc)
            return
        future.add_done_callback(self._report_done)

    def _report_step(self, fraction: float, message: str) -> None:
        """`on_progress` of the report: called in this process, possibly on another thread."""
        if self.report_status != "running":
            return
        self.report_progress = min(1.0, max(0.0, float(fraction)))
        self.report_bar.value = self.report_progress
        self.report_label.value = f"{100 * self.report_progress:.0f} % &middot; {_esc(message)}"

    def _report_done(self, future: Any) -> None:
        try:
            path = Path(future.result()).resolve()
            # The path comes back from a worker: read it only inside this workspace.
            root = Path(self._store.workspace).resolve()
            if not path.is_relative_to(root):
                raise ValueError(f"the report {path} is outside the workspace {root}; not offered")
            inside = confined_path(root, path.relative_to(root))
            data = inside.read_bytes()
            self.report_link.set_data(data)  # refuses a file too large for a link
        except Exception as exc:
            log.warning("report of experiment %s failed: %s", self.experiment_id, exc)
            self._report_failed(exc)
            return
        self.report_link.layout.display = ""
        self.report_bar.value = 1.0
        self.report_bar.bar_style = "success"
        self.report_label.value = f"report ready: {_esc(inside.name)} ({_esc(format_bytes(len(data)))})"
        self.report_button.disabled = False
        self.report_progress = 1.0
        self.report_path = str(inside)
        self.report_status = "done"

    def _report_failed(self, exc: BaseException) -> None:
        self.report_bar.bar_style = "danger"
        self.report_label.value = (
            f'<span style="color:#c62828">report failed: {_esc(type(exc).__name__)}: {_esc(exc)}</span>'
        )
        self.report_button.disabled = False
        self.report_status = "failed"

    # actions

    def _action_widgets(self) -> list[widgets.Widget]:
        experiment_id = self.experiment_id
        style = (
            "border:1px solid #9aa5b1;border-radius:4px;padding:2px 8px;text-decoration:none;color:inherit"
        )
        links = [
            f'<a class="bw-clone" href="wizard.ipynb?clone={experiment_id}" style="{style}">'
            "Clone &amp; retrain</a>"
        ]
        if self.bundle.record.family == ENSEMBLE_FAMILY:
            links.append(f'<span style="{MUTED}">an ensemble cannot be a member of another ensemble</span>')
        else:
            links.append(
                f'<a class="bw-ensemble" href="wizard.ipynb?family=ensemble&amp;members={experiment_id}" '
                f'style="{style}">Add to ensemble</a>'
            )
        self.action_links = widgets.HTML(
            f'<div style="display:flex;gap:10px;align-items:center">{"".join(links)}</div>'
        )
        self.delete_button = widgets.Button(description="Delete", button_style="danger", icon="trash")
        self.delete_button.on_click(self._on_delete)
        self.confirm_yes = widgets.Button(description="Yes, delete", button_style="danger")
        self.confirm_no = widgets.Button(description="Cancel")
        self.confirm_yes.on_click(self._on_confirm_delete)
        self.confirm_no.on_click(self._on_cancel_delete)
        self.confirm_box = widgets.HBox(
            [
                widgets.HTML(
                    f"Delete experiment {experiment_id} ({_esc(self.bundle.record.name)}), its results and "
                    "its folder? This cannot be undone."
                ),
                self.confirm_yes,
                self.confirm_no,
            ],
            layout=widgets.Layout(display="none"),
        )
        return [self.action_links, self.delete_button, self.confirm_box]

    def _on_delete(self, _: Any = None) -> None:
        self.confirm_box.layout.display = ""

    def _on_cancel_delete(self, _: Any = None) -> None:
        self.confirm_box.layout.display = "none"

    def _on_confirm_delete(self, _: Any = None) -> None:
        self.confirm_box.layout.display = "none"
        try:
            self._store.delete_experiment(self.experiment_id)
        except Exception as exc:
            log.exception("deleting experiment %s failed", self.experiment_id)
            self.notice = f"could not delete experiment {self.experiment_id}: {exc}"
            return
        record = self.bundle.record
        self.children = [
            widgets.HTML(
                f'<div class="bw-deleted" style="{MUTED};margin:8px 0">experiment {record.id} '
                f"({_esc(record.name)}) was deleted, with its results and its folder</div>"
            )
        ]
        self.deleted = True

    def _show_notice(self, change: Mapping[str, Any]) -> None:
        text = change["new"]
        self.notice_html.value = f'<div style="color:#8a5a00">{_esc(text)}</div>' if text else ""

    def __repr__(self) -> str:
        return f"ExperimentResults(experiment_id={self.experiment_id}, tabs built={self.built_tabs})"
