"""An experiment's PDF report: a self-contained HTML document printed by headless Chromium.

The document needs nothing from outside: figures are matplotlib SVGs inlined as data URIs (text drawn
as paths, so no font is fetched), styles are inline, there is no script at all, and a
Content-Security-Policy forbids any other source. Every piece of user text (names, tags, notes, class
names, record ids, the config) is escaped. The print CSS sets A4 pages with page numbers in the
margins and keeps tables and figures whole on a page.
"""

from __future__ import annotations

import base64
import io
import math
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from bearing_workbench.analysis.pdf import DEFAULT_TIMEOUT_S, html_to_pdf
from bearing_workbench.analysis.results import (
    RECALL_READY,
    Baseline,
    Recommendation,
    ResultBundle,
    baselines,
    confusion_matrix,
    load_results,
    per_class_rows,
    recommendations,
    roc_curves,
    training_summary,
)
from bearing_workbench.config.yaml_io import dump_yaml
from bearing_workbench.store import Store
from bearing_workbench.store.artifacts import ExperimentFolder

Progress = Callable[[float, str], Any]

# A4 (210 mm) less 2 x 16 mm margins: 178 mm = 7.0 in. Figures are drawn at the size they are printed.
CONTENT_WIDTH_IN = 7.0
TOP_FEATURES = 15
# Share of `write_report`'s progress spent building the HTML; the rest is Chromium printing it.
HTML_SHARE = 0.75

# Print palette: one accent, greys, and the three advice levels.
ACCENT = "#1f4e79"
TRAIN_COLOUR = "#1f77b4"
VAL_COLOUR = "#d62728"

_CSS = """
@page {
  size: A4;
  margin: 16mm 16mm 18mm 16mm;
  @bottom-left { content: "Bearing Workbench \\00B7  experiment report"; font: 7.5pt "DejaVu Sans";
                 color: #777; }
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 7.5pt "DejaVu Sans";
                  color: #777; }
}
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 9pt; line-height: 1.4;
       color: #1d1d1f; margin: 0; }
header.title { border-bottom: 2.5pt solid ACCENT; padding-bottom: 8pt; margin-bottom: 12pt; }
header.title .kicker { text-transform: uppercase; letter-spacing: 0.12em; font-size: 7.5pt; color: ACCENT;
                       font-weight: bold; }
header.title h1 { font-size: 19pt; margin: 3pt 0 2pt 0; color: #111; overflow-wrap: anywhere; }
header.title .subtitle { font-size: 9.5pt; color: #555; }
h2 { font-size: 12pt; color: ACCENT; margin: 16pt 0 6pt 0; padding-bottom: 2pt;
     border-bottom: 0.6pt solid #c9d3de; break-after: avoid; page-break-after: avoid; }
h3 { font-size: 9.5pt; margin: 8pt 0 4pt 0; break-after: avoid; }
p { margin: 3pt 0 6pt 0; }
.muted { color: #6b6b6b; }
.small { font-size: 7.5pt; }
dl.meta { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 2pt 12pt; margin: 0; }
dl.meta dt { color: #6b6b6b; }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
.notes { white-space: pre-wrap; border-left: 2pt solid #c9d3de; padding: 2pt 8pt; margin-top: 6pt;
         color: #333; }
.cards { display: flex; gap: 8pt; margin: 4pt 0 6pt 0; break-inside: avoid; }
.card { flex: 1; border: 0.6pt solid #c9d3de; border-radius: 4pt; padding: 7pt 9pt; background: #f5f8fb; }
.card.main { background: ACCENT; border-color: ACCENT; color: #fff; }
.card .label { font-size: 7.5pt; text-transform: uppercase; letter-spacing: 0.06em; opacity: 0.8; }
.card .value { font-size: 17pt; font-weight: bold; margin-top: 2pt; }
table { border-collapse: collapse; width: 100%; margin: 2pt 0 6pt 0; break-inside: avoid; font-size: 8.5pt; }
th, td { padding: 3pt 6pt; text-align: left; vertical-align: top; border-bottom: 0.5pt solid #dde3ea;
         overflow-wrap: break-word; }
th { background: #eef2f6; font-weight: bold; color: #333; border-bottom: 0.8pt solid #b8c4d0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.weak td { background: #fdecea; }
table.kv td:first-child { color: #6b6b6b; width: 38%; }
.badge { display: inline-block; font-size: 7pt; font-weight: bold; padding: 0.5pt 5pt; border-radius: 6pt;
         text-transform: uppercase; letter-spacing: 0.04em; }
.badge.weak, .badge.warning, .badge.wrong { background: #f8d7d3; color: #9b1c12; }
.badge.info { background: #dbe8f6; color: #1f4e79; }
.badge.success, .badge.right { background: #d8efdc; color: #1b5e20; }
.pos { color: #1b5e20; } .neg { color: #b3261e; }
ul.advice { list-style: none; padding: 0; margin: 2pt 0 6pt 0; }
ul.advice li { padding: 4pt 8pt; margin-bottom: 4pt; border-left: 3pt solid; border-radius: 2pt;
               break-inside: avoid; }
ul.advice li.success { border-color: #2e7d32; background: #eef7ef; }
ul.advice li.info { border-color: #1f4e79; background: #eef3f9; }
ul.advice li.warning { border-color: #c62828; background: #fcefed; }
figure { margin: 4pt 0 10pt 0; break-inside: avoid; page-break-inside: avoid; text-align: center; }
figure img { display: block; margin: 0 auto; max-width: 100%; }
figcaption { font-size: 7.5pt; color: #555; margin-top: 3pt; text-align: left; }
pre.yaml { font-family: "DejaVu Sans Mono", monospace; font-size: 7pt; line-height: 1.35; background: #f6f7f9;
           border: 0.5pt solid #dde3ea; padding: 6pt 8pt; white-space: pre-wrap; overflow-wrap: anywhere; }
footer { margin-top: 16pt; padding-top: 5pt; border-top: 0.6pt solid #c9d3de; font-size: 7.5pt; color: #777; }
""".replace("ACCENT", ACCENT)


# -- formatting --------------------------------------------------------------------------------------


def _e(value: Any) -> str:
    """Escaped text of any value (None as a dash)."""
    return "–" if value is None else escape(str(value), quote=True)


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _pct(value: Any, digits: int = 1) -> str:
    number = _finite(value)
    return "–" if number is None else f"{100 * number:.{digits}f} %"


def _num(value: Any, digits: int = 4) -> str:
    number = _finite(value)
    return "–" if number is None else f"{number:.{digits}f}"


def _seconds(value: Any) -> str:
    number = _finite(value)
    if number is None:
        return "–"
    if number < 60:
        return f"{number:.1f} s"
    minutes, seconds = divmod(round(number), 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _when(value: datetime | None) -> str:
    if value is None:
        return "–"
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)  # the store keeps UTC
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _signed_points(difference: float | None) -> str:
    if difference is None:
        return "–"
    points = 100 * difference
    css = "pos" if points > 0 else "neg" if points < 0 else ""
    return f'<span class="{css}">{points:+.1f} pts</span>'


def _table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: frozenset[int] | set[int] = frozenset(),
    row_classes: Sequence[str] | None = None,
    css: str = "",
) -> str:
    """An HTML table of already escaped cells; columns in `numeric` are right-aligned, `row_classes`
    gives each body row a CSS class ("" for none)."""
    head = "".join(
        f'<th class="num">{h}</th>' if i in numeric else f"<th>{h}</th>" for i, h in enumerate(headers)
    )
    body = []
    for k, row in enumerate(rows):
        row_css = row_classes[k] if row_classes is not None else ""
        cells = "".join(
            f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(row)
        )
        body.append(f'<tr class="{row_css}">{cells}</tr>' if row_css else f"<tr>{cells}</tr>")
    table_css = f' class="{css}"' if css else ""
    return f"<table{table_css}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# -- figures -----------------------------------------------------------------------------------------


def _figure(width_in: float, height_in: float) -> Any:
    from matplotlib.figure import Figure

    # A bare Figure (no pyplot): no global backend state, safe in a worker thread.
    return Figure(figsize=(width_in, height_in), layout="constrained")


def _img(fig: Any, alt: str) -> str:
    """The figure as an <img> of an inline SVG data URI, printed at the figure's own size."""
    import matplotlib

    buffer = io.BytesIO()
    rc = {"svg.fonttype": "path", "svg.hashsalt": "bearing-workbench-report"}
    with matplotlib.rc_context(rc):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    width, height = fig.get_size_inches()
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'<img alt="{_e(alt)}" style="width:{width:.2f}in;height:{height:.2f}in" '
        f'src="data:image/svg+xml;base64,{data}">'
    )


def _style_axes(ax: Any) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(True, color="#e3e3e3", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=7)


def _confusion_figure(counts: np.ndarray, rates: np.ndarray, names: Sequence[str]) -> Any:
    """Counts and row-normalised rates side by side (one set of class labels), sized to the page width."""
    n = len(names)
    longest = max((len(name) for name in names), default=1)
    labels_in = min(1.6, 0.3 + 0.055 * longest)  # room for the tick labels at 7 pt
    side = min((CONTENT_WIDTH_IN - labels_in - 0.35) / 2, 1.2 + 0.3 * n)
    fig = _figure(labels_in + 2 * side + 0.35, side + 0.8 * labels_in + 0.35)
    axes = fig.subplots(1, 2, sharey=True)
    size = 7 if n <= 8 else 6 if n <= 12 else 5
    ticks = np.arange(n)
    for ax, matrix, normalised in ((axes[0], counts, False), (axes[1], rates, True)):
        shown = matrix.astype(float)
        top = 1.0 if normalised else max(1.0, float(shown.max()))
        ax.imshow(shown, cmap="Blues", vmin=0.0, vmax=top)
        ax.set_xticks(ticks, labels=names, rotation=45, ha="right", rotation_mode="anchor", fontsize=7)
        ax.set_yticks(ticks, labels=names, fontsize=7)
        ax.tick_params(length=0)
        ax.set_xlabel("Predicted class", fontsize=7.5)
        ax.set_title("Records" if not normalised else "Share of the true class (%)", fontsize=8)
        for i in range(n):
            for j in range(n):
                value = shown[i, j]
                if value == 0:
                    continue  # empty cells stay blank: the few mistakes stand out
                text = f"{100 * value:.0f}" if normalised else f"{int(value)}"
                colour = "white" if value > 0.55 * top else "#222"
                ax.text(j, i, text, ha="center", va="center", fontsize=size, color=colour)
    axes[0].set_ylabel("True class", fontsize=7.5)
    return fig


def _curves_figure(history: Sequence[Mapping[str, Any]], best_epoch: int | None) -> Any:
    fig = _figure(CONTENT_WIDTH_IN, 2.6)
    epochs = [row.get("epoch") for row in history]
    marker = "o" if len(history) <= 25 else None
    for k, (key, title) in enumerate((("loss", "Loss"), ("acc", "Accuracy"))):
        ax = fig.add_subplot(1, 2, k + 1)
        _style_axes(ax)
        for split, colour in (("train", TRAIN_COLOUR), ("val", VAL_COLOUR)):
            values = [_finite(row.get(f"{split}_{key}")) for row in history]
            ys = [np.nan if v is None else v for v in values]
            if any(v is not None for v in values):
                label = "training" if split == "train" else "validation"
                ax.plot(epochs, ys, marker=marker, markersize=3, linewidth=1.4, color=colour, label=label)
        if best_epoch is not None:
            ax.axvline(
                best_epoch, color="#888", linestyle="--", linewidth=0.8, label=f"best epoch ({best_epoch})"
            )
        ax.set_title(title, fontsize=8.5)
        ax.set_xlabel("Epoch", fontsize=7.5)
        if key == "acc":
            ax.yaxis.set_major_formatter(_percent_formatter())
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=6.5, frameon=False)
    return fig


def _percent_formatter() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)


def _roc_figure(curves: Sequence[Mapping[str, Any]]) -> Any:
    fig = _figure(CONTENT_WIDTH_IN, 2.9)
    full, corner = fig.subplots(1, 2)
    colours = _colours(len(curves))
    # Good models hug the top-left corner: the second axes zooms into it.
    for ax, (low, high) in ((full, (0.0, 1.0)), (corner, (0.0, 0.2))):
        _style_axes(ax)
        for curve, colour in zip(curves, colours, strict=True):
            auc = _finite(curve.get("auc"))
            label = f"{curve['class']} (AUC {auc:.3f})" if auc is not None else str(curve["class"])
            ax.plot(curve["fpr"], curve["tpr"], linewidth=1.1, color=colour, label=label)
        ax.plot([0, 1], [0, 1], color="#aaa", linestyle=":", linewidth=0.8, label="chance")
        margin = 0.01 * (high - low)
        ax.set_xlim(low - margin, high + margin)
        ax.set_ylim(1 - high - margin, 1 + margin)
        ax.set_aspect("equal")
        ax.set_xlabel("False positive rate", fontsize=7.5)
    full.set_ylabel("True positive rate", fontsize=7.5)
    full.set_title("All thresholds", fontsize=8)
    corner.set_title("Top-left corner (zoom)", fontsize=8)
    corner.legend(fontsize=6.5, frameon=False, loc="upper left", bbox_to_anchor=(1.04, 1.0), borderaxespad=0)
    return fig


def _colours(n: int) -> list[Any]:
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _importance_figure(importance: Mapping[str, float]) -> Any:
    items = sorted(
        ((str(k), float(v)) for k, v in importance.items() if _finite(v) is not None), key=lambda kv: -kv[1]
    )[:TOP_FEATURES]
    fig = _figure(CONTENT_WIDTH_IN * 0.8, 0.5 + 0.2 * len(items))
    ax = fig.add_subplot()
    _style_axes(ax)
    ax.grid(axis="y", visible=False)
    names = [k for k, _ in items][::-1]
    values = [v for _, v in items][::-1]
    ax.barh(names, values, color=ACCENT, height=0.65)
    ax.set_xlabel("Importance", fontsize=7.5)
    return fig


# -- sections ----------------------------------------------------------------------------------------


def _header(bundle: ResultBundle) -> str:
    record = bundle.record
    dataset = (bundle.config.get("data") or {}).get("dataset")
    status = record.status.value if hasattr(record.status, "value") else str(record.status)
    meta = [
        ("Experiment", f"#{record.id}"),
        ("Family", record.family),
        ("Status", status),
        ("Dataset", dataset),
        ("Created", _when(record.created_at)),
        ("Started", _when(record.started_at)),
        ("Finished", _when(record.finished_at)),
        ("Run time", _seconds(record.duration_s)),
        ("Tags", ", ".join(record.tags) if record.tags else None),
        ("Parent", f"#{record.parent_id}" if record.parent_id is not None else None),
        ("Campaign", f"#{record.campaign_id}" if record.campaign_id is not None else None),
        ("Worker", record.worker),
    ]
    cells = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in meta if v is not None)
    notes = f'<div class="notes">{_e(record.notes)}</div>' if record.notes and record.notes.strip() else ""
    return (
        '<header class="title"><div class="kicker">Bearing Workbench &middot; experiment report</div>'
        f"<h1>{_e(record.name)}</h1>"
        f'<div class="subtitle">Experiment #{record.id} &middot; {_e(record.family)} &middot; '
        f"{_e(status)}</div>"
        f'</header><dl class="meta">{cells}</dl>{notes}'
    )


def _metric_cards(bundle: ResultBundle) -> str:
    metrics = bundle.metrics
    cards = [
        ("Accuracy", metrics.get("accuracy"), "main"),
        ("Macro precision", metrics.get("macro_precision"), ""),
        ("Macro recall", metrics.get("macro_recall"), ""),
        ("Macro F1", metrics.get("macro_f1"), ""),
    ]
    html = "".join(
        f'<div class="card {css}"><div class="label">{label}</div>'
        f'<div class="value">{_pct(value)}</div></div>'
        for label, value, css in cards
    )
    facts = []
    if isinstance(metrics.get("n"), int):
        facts.append(f"{metrics['n']} test records")
    if _finite(metrics.get("macro_auc")) is not None:
        facts.append(f"macro AUC {_num(metrics['macro_auc'], 4)}")
    if _finite(metrics.get("log_loss")) is not None:
        facts.append(f"log loss {_num(metrics['log_loss'], 4)}")
    if _finite(metrics.get("window_accuracy")) is not None:
        windows = f" over {metrics['n_windows']} windows" if isinstance(metrics.get("n_windows"), int) else ""
        facts.append(f"window accuracy {_pct(metrics['window_accuracy'])}{windows}")
    if _finite(metrics.get("val_accuracy")) is not None:
        facts.append(f"validation accuracy {_pct(metrics['val_accuracy'])}")
    level = metrics.get("level")
    scope = " (per record)" if level == "record" else ""
    line = f'<p class="muted">Test split{scope}: {_e(" · ".join(facts))}.</p>' if facts else ""
    return f'<h2>Test metrics</h2><div class="cards">{html}</div>{line}'


def _advice(items: Sequence[Recommendation]) -> str:
    if not items:
        return '<h2>Recommendations</h2><p class="muted">No recommendations for this experiment.</p>'
    lis = "".join(
        f'<li class="{_e(r.level)}"><span class="badge {_e(r.level)}">{_e(r.level)}</span> {_e(r.text)}</li>'
        for r in items
    )
    return f'<h2>Recommendations</h2><ul class="advice">{lis}</ul>'


def _training(bundle: ResultBundle, summary: Mapping[str, Any]) -> str:
    rows: list[tuple[str, str]] = []
    if summary.get("epoch_based"):
        run, planned = summary.get("epochs_run"), summary.get("epochs_planned")
        rows.append(("Epochs", f"{_e(run)} of {_e(planned)} planned" if planned else _e(run)))
        stopped = summary.get("stopped_early")
        rows.append(
            ("Early stopping", "–" if stopped is None else "stopped early" if stopped else "not triggered")
        )
        rows.append(("Best epoch", _e(summary.get("best_epoch"))))
        rows.append(
            (
                "Final training loss / accuracy",
                f"{_num(summary.get('final_train_loss'))} / {_pct(summary.get('final_train_acc'))}",
            )
        )
        rows.append(
            (
                "Final validation loss / accuracy",
                f"{_num(summary.get('final_val_loss'))} / {_pct(summary.get('final_val_acc'))}",
            )
        )
        rows.append(("Time per epoch (mean)", _seconds(summary.get("seconds_per_epoch"))))
    else:
        rows.append(("Training", f"not trained in epochs ({_e(summary.get('family'))})"))
    rows.append(("Training time", _seconds(summary.get("total_seconds"))))
    if summary.get("val_accuracy") is not None:
        rows.append(("Validation accuracy (best model)", _pct(summary.get("val_accuracy"))))
    gpu = summary.get("gpu_utilisation")
    rows.append(("GPU utilisation (mean)", f"{gpu:.0f} %" if gpu is not None else "no GPU samples"))
    table = _table(["Item", "Value"], [[_e(k), v] for k, v in rows], css="kv")
    return f"<h2>Training summary</h2>{table}"


def _baselines(items: Sequence[Baseline]) -> str:
    if not items:
        return (
            '<h2>Baselines</h2><p class="muted">No other completed experiment to compare with in this '
            "workspace.</p>"
        )
    rows = [
        [
            _e(b.label),
            f"#{b.experiment_id} {_e(b.name)}",
            _e(b.family),
            _pct(b.accuracy),
            _signed_points(b.difference),
        ]
        for b in items
    ]
    table = _table(["Baseline", "Experiment", "Family", "Test accuracy", "This model"], rows, numeric={3, 4})
    note = (
        '<p class="muted small">&ldquo;This model&rdquo;: its test accuracy minus the baseline&rsquo;s.</p>'
    )
    return f"<h2>Baselines</h2>{table}{note}"


def _per_class(bundle: ResultBundle) -> str:
    rows = per_class_rows(bundle.metrics, weak_below=RECALL_READY)
    roc = bundle.metrics.get("roc") or {}
    cells = []
    for row in rows:
        auc = (roc.get(row["class"]) or {}).get("auc")
        badge = ' <span class="badge weak">weak</span>' if row["weak"] else ""
        cells.append(
            [
                f"{_e(row['class'])}{badge}",
                _pct(row["precision"]),
                _pct(row["recall"]),
                _pct(row["f1"]),
                _num(auc, 3),
                _e(row["support"]),
            ]
        )
    weak = sum(r["weak"] for r in rows)
    note = (
        f'<p class="muted small">{weak} weak class{"es" if weak != 1 else ""}: recall below '
        f"{_pct(RECALL_READY, 0)} on the test split (flagged in red).</p>"
    )
    table = _table(
        ["Class", "Precision", "Recall", "F1", "AUC", "Test records"],
        cells,
        numeric={1, 2, 3, 4, 5},
        row_classes=["weak" if r["weak"] else "" for r in rows],
    )
    return f"<h2>Per-class metrics</h2>{table}{note}"


def _confusion(bundle: ResultBundle) -> str:
    names = bundle.class_names
    try:
        counts = confusion_matrix(bundle.metrics)
        rates = confusion_matrix(bundle.metrics, normalised=True)
    except ValueError as exc:
        return f'<h2>Confusion matrix</h2><p class="muted">{_e(exc)}</p>'
    if counts.size == 0:
        return '<h2>Confusion matrix</h2><p class="muted">No confusion matrix was stored.</p>'
    names = names or [str(i) for i in range(counts.shape[0])]
    image = _img(_confusion_figure(counts, rates, names), "confusion matrix")
    return (
        f"<h2>Confusion matrix</h2><figure>{image}<figcaption>Test records by true class (rows) and "
        "predicted class (columns): counts on the left; on the right each row divided by its "
        "class&rsquo;s test records, in per cent, so that the diagonal is each class&rsquo;s recall."
        "</figcaption></figure>"
    )


def _curves(bundle: ResultBundle, summary: Mapping[str, Any]) -> str:
    if not bundle.history:
        why = (
            f"{_e(bundle.record.family)} models are not trained in epochs"
            if not summary.get("epoch_based")
            else "no epochs were stored"
        )
        return f'<h2>Training curves</h2><p class="muted">No training curves: {why}.</p>'
    fig = _curves_figure(bundle.history, summary.get("best_epoch"))
    return (
        f"<h2>Training curves</h2><figure>{_img(fig, 'training curves')}<figcaption>Loss and accuracy per "
        "epoch on the training and validation splits.</figcaption></figure>"
    )


def _roc(bundle: ResultBundle) -> str:
    curves = roc_curves(bundle.metrics)
    if not curves:
        return '<h2>ROC curves</h2><p class="muted">No ROC curves were stored for this experiment.</p>'
    macro = _finite(bundle.metrics.get("macro_auc"))
    caption = "One-vs-rest ROC curve of each class on the test split"
    caption += f"; macro-averaged AUC {macro:.4f}." if macro is not None else "."
    return (
        f"<h2>ROC curves</h2><figure>{_img(_roc_figure(curves), 'ROC curves')}"
        f"<figcaption>{caption}</figcaption></figure>"
    )


def _importance(bundle: ResultBundle) -> str:
    importance = (bundle.model_summary or {}).get("feature_importance")
    if not isinstance(importance, Mapping) or not importance:
        return ""
    fig = _importance_figure(importance)
    shown = min(TOP_FEATURES, len(importance))
    return (
        f"<h2>Feature importance</h2><figure>{_img(fig, 'feature importance')}<figcaption>The {shown} most "
        "important of the hand-crafted features, as the model ranks them.</figcaption></figure>"
    )


def _worst(bundle: ResultBundle) -> str:
    worst = bundle.metrics.get("worst_predictions") or []
    if not worst:
        return '<h2>Worst predictions</h2><p class="muted">No predictions were stored.</p>'
    rows = []
    for k, item in enumerate(worst, 1):
        right = bool(item.get("correct"))
        verdict = (
            '<span class="badge right">right</span>' if right else '<span class="badge wrong">wrong</span>'
        )
        rows.append(
            [
                str(k),
                _e(item.get("record_id")),
                _e(item.get("true_label")),
                _e(item.get("predicted_label")),
                verdict,
                _pct(item.get("true_probability")),
                _pct(item.get("predicted_probability")),
            ]
        )
    table = _table(
        ["#", "Record", "True class", "Predicted", "", "P(true)", "P(predicted)"], rows, numeric={0, 5, 6}
    )
    note = (
        '<p class="muted small">Wrong predictions first, most confident first; then the right ones the model '
        "was least sure of.</p>"
    )
    return f"<h2>Worst predictions</h2>{table}{note}"


def _config(bundle: ResultBundle) -> str:
    return f'<h2>Configuration</h2><pre class="yaml">{_e(dump_yaml(bundle.config))}</pre>'


# -- document ----------------------------------------------------------------------------------------


def _stepper(on_progress: Progress | None, start: float = 0.0, share: float = 1.0) -> Progress:
    def step(fraction: float, message: str) -> None:
        if on_progress is not None:
            on_progress(min(1.0, start + share * fraction), message)

    return step


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
    found = baselines(store, bundle)
    advice = recommendations(store, bundle, found)
    summary = training_summary(bundle)
    step(0.3, "drawing the confusion matrices")
    sections = [
        _header(bundle),
        _metric_cards(bundle),
        _advice(advice),
        _baselines(found),
        _training(bundle, summary),
    ]
    confusion = _confusion(bundle)
    step(0.55, "drawing the training curves")
    curves = _curves(bundle, summary)
    step(0.7, "drawing the ROC curves")
    roc = _roc(bundle)
    step(0.85, "writing the tables")
    sections += [
        curves,
        _per_class(bundle),
        confusion,
        roc,
        _importance(bundle),
        _worst(bundle),
        _config(bundle),
    ]
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    footer = (
        f"<footer>Generated {generated} by Bearing Workbench from the stored results of experiment "
        f"#{bundle.record.id}.</footer>"
    )
    title = f"Experiment {bundle.record.id}: {bundle.record.name}"
    document = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        # Nothing from outside, no script: the page is printed exactly as written.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        "style-src 'unsafe-inline'\">"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        + "".join(s for s in sections if s)
        + footer
        + "</body></html>"
    )
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
