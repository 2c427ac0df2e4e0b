"""One evaluation of a stored model drawn for the Evaluations tab (`evaluations`): the summary line of
every evaluation, and the view of one, by its state and kind.

- completed, on a dataset: its facts, its per-class table and its confusion matrix (`confusion`, the
  same pieces as the Detailed metrics tab, whose cells list nothing: an evaluation keeps no records);
- completed robustness sweep: one figure, record-level accuracy per condition grouped by perturbation,
  the clean accuracy as a reference line, and the table of conditions;
- failed: the kit's error box, with the hint; pending or running: the kit's busy indicator.

Every number is formatted by `analysis.format`; colours come from the theme.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import ipywidgets as widgets

from bearing_workbench.analysis import format as fmt
from bearing_workbench.analysis.class_metrics import RECALL_READY
from bearing_workbench.analysis.evaluations import evaluation_label
from bearing_workbench.analysis.results_info import ResultsInfo
from bearing_workbench.config import theme
from bearing_workbench.panels.kit import BusyIndicator, ErrorBox, fragments
from bearing_workbench.panels.results.confusion import ConfusionMatrix, per_class_table
from bearing_workbench.panels.results.elements import esc, figure, note, section

if TYPE_CHECKING:
    from bearing_workbench.analysis.evaluations import ConditionResult, EvaluationInfo
    from bearing_workbench.panels.live_figure import LiveFigureWidget

ROBUSTNESS = "robustness"
CLEAN = "clean"
REFERENCE_COLOR = theme.color("muted")
ON_BAR = theme.color("on_accent")


def own_dataset(info: ResultsInfo) -> str | None:
    """The dataset the experiment was trained and tested on (its header's "Dataset")."""
    return next((fact.text for fact in info.header if fact.label == "Dataset"), None)


def own_test_label(info: ResultsInfo) -> str:
    """What the experiment's own test split is called in the summary: ``"demo test split"``, worded as
    an evaluation's label (`analysis.evaluations.evaluation_label`: a file by its name)."""
    dataset = own_dataset(info)
    return evaluation_label("dataset", dataset, "test") if dataset else "test split"


def own_accuracy(info: ResultsInfo) -> float | None:
    """The experiment's own test accuracy (record level), its first headline card."""
    return next((card.value for card in info.cards if card.key == "accuracy"), None)


def summary_html(info: ResultsInfo, evaluations: Sequence[EvaluationInfo]) -> str:
    """`summary_text` as the tab's first line, its lead in bold."""
    lead, _, rest = summary_text(info, evaluations).partition(": ")
    return f'<div class="bw-evaluations-line"><b>{esc(lead)}:</b> {esc(rest)}</div>'


def summary_text(info: ResultsInfo, evaluations: Sequence[EvaluationInfo]) -> str:
    """``"evaluated on: demo test split 98.1 %; plant-a all records 91.0 %"``: the experiment's own test
    accuracy first, then each completed dataset evaluation's (the newest of each label, newest first)."""
    parts = [f"{own_test_label(info)} {fmt.percent(own_accuracy(info))}"]
    seen: set[str] = set()
    for evaluation in evaluations:
        if evaluation.kind == ROBUSTNESS or evaluation.status != "completed" or evaluation.label in seen:
            continue
        seen.add(evaluation.label)
        parts.append(evaluation.summary)
    return "evaluated on: " + "; ".join(parts)


def choice_text(evaluation: EvaluationInfo) -> str:
    """How the chooser names an evaluation: ``"#3 plant-a all records: 91.0 % (completed)"``."""
    score = f": {evaluation.accuracy_text}" if evaluation.status == "completed" else ""
    return f"#{evaluation.evaluation_id} {evaluation.label}{score} ({evaluation.status})"


def list_table(evaluations: Sequence[EvaluationInfo]) -> str:
    """Every evaluation of the experiment, newest first: what data, its state and its scores."""
    rows = [
        (
            esc(f"#{e.evaluation_id}"),
            esc(e.label),
            esc(e.kind),
            fragments.status_text(e.status),
            esc(e.n_records if e.n_records is not None else fmt.NO_VALUE),
            esc(e.accuracy_text),
            esc(fmt.percent(e.macro_f1)),
            esc(fmt.utc_time(e.created)),
        )
        for e in evaluations
    ]
    return fragments.data_table(
        ("", "evaluated on", "kind", "status", "records", "accuracy", "macro F1", "created"),
        rows,
        row_attrs=[f'data-evaluation="{e.evaluation_id}"' for e in evaluations],
    )


def _facts(evaluation: EvaluationInfo) -> str:
    lines = [
        ("Evaluated on", evaluation.label),
        ("Records", str(evaluation.n_records) if evaluation.n_records is not None else fmt.NO_VALUE),
        ("Accuracy (record level)", evaluation.accuracy_text),
        ("Macro F1", fmt.percent(evaluation.macro_f1)),
    ]
    if evaluation.classes_map:
        lines.append(("Classes map (dataset -> model)", evaluation.classes_map_text))
    if evaluation.absent_classes:
        lines.append(("Model classes without records here", ", ".join(evaluation.absent_classes)))
    lines.append(("Created", fmt.utc_time(evaluation.created)))
    warnings = "".join(fragments.message(f"warning: {w}", "warning") for w in evaluation.warnings)
    return fragments.label_table(lines) + warnings


class EvaluationView(widgets.VBox):
    """One evaluation, drawn by its state and kind (see the module doc).

    Parts, where the evaluation has them (else None): `facts`, `per_class_html`, `confusion`
    (`ConfusionMatrix`), `robustness_figure`, `conditions_html`, `error_box`, `busy`.
    """

    def __init__(self, evaluation: EvaluationInfo):
        super().__init__()
        self.evaluation = evaluation
        self.add_class("bw-evaluation")
        self.facts: widgets.HTML | None = None
        self.per_class_html: widgets.HTML | None = None
        self.confusion: ConfusionMatrix | None = None
        self.robustness_figure: LiveFigureWidget | None = None
        self.conditions_html: widgets.HTML | None = None
        self.error_box: ErrorBox | None = None
        self.busy: BusyIndicator | None = None
        if evaluation.status == "failed":
            self.error_box = ErrorBox()
            self.error_box.show_error(
                evaluation.error or "no error was recorded", evaluation.hint, f"{evaluation.label} failed"
            )
            self.children = [self.error_box]
        elif evaluation.status != "completed":
            self.busy = BusyIndicator()
            self.busy.start(
                f"{evaluation.label}: {evaluation.status} since {fmt.utc_time(evaluation.created)}; "
                "the page shows the result when the job ends (or press Refresh)"
            )
            self.children = [self.busy]
        else:
            self.facts = widgets.HTML(_facts(evaluation))
            self.children = [self.facts, *self._completed()]

    def _completed(self) -> list[widgets.Widget]:
        evaluation = self.evaluation
        png = f"experiment-{evaluation.experiment_id}-evaluation-{evaluation.evaluation_id}"
        if evaluation.kind == ROBUSTNESS:
            if not evaluation.conditions:
                return [note("the robustness sweep stored no condition")]
            self.robustness_figure = robustness_figure(evaluation.conditions, f"{png}-robustness")
            self.conditions_html = widgets.HTML(conditions_table(evaluation.conditions))
            return [
                section("Accuracy per condition"),
                self.robustness_figure,
                self.conditions_html,
            ]
        parts: list[widgets.Widget] = [section("Per class")]
        if evaluation.per_class:
            self.per_class_html = widgets.HTML(per_class_table(evaluation.per_class, RECALL_READY, "records"))
            parts.append(self.per_class_html)
        else:
            parts.append(note("no per-class metrics were stored"))
        parts.append(section("Confusion matrix"))
        if evaluation.confusion:
            self.confusion = ConfusionMatrix(
                evaluation.class_names, evaluation.confusion, f"{png}-confusion-matrix"
            )
            parts.append(self.confusion)
        else:
            parts.append(note("no confusion matrix was stored"))
        return parts


def clean_accuracy(conditions: Sequence[ConditionResult]) -> float | None:
    return next((c.accuracy for c in conditions if c.group == CLEAN), None)


def conditions_table(conditions: Sequence[ConditionResult]) -> str:
    """Each condition's accuracy and macro F1, and how far the accuracy fell from the clean one."""
    clean = clean_accuracy(conditions)
    rows = [
        (
            esc(c.name),
            esc(c.texts[0]),
            esc(fmt.points(c.accuracy - clean) if clean is not None and c.group != CLEAN else ""),
            esc(c.texts[1]),
        )
        for c in conditions
    ]
    return fragments.data_table(("condition", "accuracy", "vs clean", "macro F1"), rows)


def tick_text(name: str) -> str:
    """A condition's name on two lines (``"SNR<br>20 dB"``): eight names side by side then fit level,
    where plotly would turn them on end."""
    return name.replace(" ", "<br>", 1)


def robustness_figure(conditions: Sequence[ConditionResult], png_name: str) -> LiveFigureWidget:
    """Record-level accuracy per condition: one bar series per perturbation group (clean, noise, gain,
    speed; grouped on a two-level axis), the clean accuracy as a dashed reference line."""
    groups = list(dict.fromkeys(c.group for c in conditions))
    colours = dict(zip(groups, theme.palette(len(groups)), strict=True))
    data = []
    for group in groups:
        members = [c for c in conditions if c.group == group]
        data.append(
            {
                "type": "bar",
                "name": group,
                "x": [[group] * len(members), [tick_text(c.name) for c in members]],
                "customdata": [c.name for c in members],
                "y": [c.accuracy for c in members],
                "text": [fmt.percent(c.accuracy) for c in members],
                # inside the bar's top: above it, the labels of bars near the clean line would cross it
                "textposition": "inside",
                "insidetextanchor": "end",
                "textfont": {"color": ON_BAR},
                "marker": {"color": colours[group]},
                "hovertemplate": "%{customdata}<br>accuracy %{text}<extra></extra>",
            }
        )
    layout: dict = {
        "height": 380,
        "barmode": "relative",  # one bar per category: "group" would keep a slot for every series
        "showlegend": False,
        "yaxis": {"title": {"text": "record-level accuracy"}, "range": [0, 1.08], "tickformat": ".0%"},
        "xaxis": {"type": "multicategory", "tickangle": 0},
    }
    clean = clean_accuracy(conditions)
    if clean is not None:
        layout["shapes"] = [
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": clean,
                "y1": clean,
                "line": {"dash": "dash", "color": REFERENCE_COLOR, "width": 1.5},
            }
        ]
        layout["annotations"] = [
            {
                "xref": "paper",
                "x": 1,
                "y": clean,
                "yanchor": "bottom",
                "xanchor": "right",
                "showarrow": False,
                "text": f"clean {fmt.percent(clean)}",
                "font": {"color": REFERENCE_COLOR},
            }
        ]
    return figure(data, layout, png_name)
