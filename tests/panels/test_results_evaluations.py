"""The Evaluations tab of the results page, driven from Python: the summary line, the view of one
evaluation by state and kind (confusion matrix and per-class table, robustness figure, error box,
progress), and the launch controls (classes map checked, the job's progress and end)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from bearing_workbench.analysis import format as fmt
from bearing_workbench.analysis.results_info import ResultsInfo, results_info
from bearing_workbench.analysis.results_rows import ClassRow
from bearing_workbench.panels.kit import BusyIndicator, ErrorBox
from bearing_workbench.panels.results import evaluations as tab_module
from bearing_workbench.panels.results.evaluation_views import EvaluationView, summary_text
from bearing_workbench.panels.results.evaluations import EvaluationsTab
from bearing_workbench.store import Store

from ..analysis.conftest import DATASET
from ..analysis.results_fixtures import results_ids, results_store  # noqa: F401

CLASSES = ("healthy", "imbalance", "misalignment")
CREATED = datetime(2026, 12, 2, 17, 40, tzinfo=UTC)


@dataclass(frozen=True)
class ConditionResult:  # the contract's shape (analysis.evaluations), until that module lands
    group: str
    name: str
    accuracy: float
    macro_f1: float


@dataclass(frozen=True)
class EvaluationInfo:  # the contract's shape (analysis.evaluations), until that module lands
    evaluation_id: int
    experiment_id: int
    kind: str
    label: str
    status: str
    created: datetime
    error: str | None = None
    hint: str | None = None
    n_records: int | None = None
    accuracy: float | None = None
    macro_f1: float | None = None
    class_names: tuple[str, ...] = CLASSES
    confusion: tuple[tuple[int, ...], ...] | None = None
    per_class: tuple[ClassRow, ...] = ()
    conditions: tuple[ConditionResult, ...] = ()
    classes_map: dict[str, str] = field(default_factory=dict)


CONFUSION = ((5, 1, 0), (0, 6, 0), (2, 0, 4))
PER_CLASS = (
    ClassRow("healthy", 5 / 7, 5 / 6, 0.769, None, 6, False),
    ClassRow("imbalance", 6 / 7, 1.0, 0.923, None, 6, False),
    ClassRow("misalignment", 1.0, 4 / 6, 0.8, None, 6, True),
)
CONDITIONS = (
    ConditionResult("clean", "clean", 0.95, 0.94),
    ConditionResult("noise", "SNR 20 dB", 0.9, 0.89),
    ConditionResult("noise", "SNR 10 dB", 0.8, 0.78),
    ConditionResult("noise", "SNR 5 dB", 0.6, 0.55),
    ConditionResult("gain", "gain x0.5", 0.85, 0.84),
    ConditionResult("gain", "gain x2", 0.7, 0.66),
    ConditionResult("speed", "speed -10 %", 0.75, 0.74),
    ConditionResult("speed", "speed +10 %", 0.65, 0.6),
)


def dataset_evaluation(evaluation_id: int, experiment_id: int, **changes: Any) -> EvaluationInfo:
    base = EvaluationInfo(
        evaluation_id=evaluation_id,
        experiment_id=experiment_id,
        kind="dataset",
        label="plant-a all records",
        status="completed",
        created=CREATED,
        n_records=18,
        accuracy=15 / 18,
        macro_f1=0.83,
        confusion=CONFUSION,
        per_class=PER_CLASS,
        classes_map={"cav": "healthy"},
    )
    return replace(base, **changes)


def robustness_evaluation(evaluation_id: int, experiment_id: int) -> EvaluationInfo:
    return EvaluationInfo(
        evaluation_id=evaluation_id,
        experiment_id=experiment_id,
        kind="robustness",
        label=f"robustness on {DATASET} test split",
        status="completed",
        created=CREATED,
        n_records=6,
        accuracy=0.95,
        macro_f1=0.94,
        conditions=CONDITIONS,
    )


@pytest.fixture
def info(results_store: Store, results_ids: dict[str, int]) -> ResultsInfo:  # noqa: F811
    return results_info(results_store, results_ids["classical"])


class Stored:
    """What `read_evaluations` returns, changed by the test (and by the fake jobs)."""

    def __init__(self) -> None:
        self.evaluations: list[EvaluationInfo] = []
        self.reads = 0

    def read(self, store: Store, experiment_id: int) -> tuple[EvaluationInfo, ...]:
        self.reads += 1
        return tuple(e for e in self.evaluations if e.experiment_id == experiment_id)


@pytest.fixture
def stored(monkeypatch: pytest.MonkeyPatch) -> Stored:
    held = Stored()
    monkeypatch.setattr(tab_module, "read_evaluations", held.read)
    return held


class Jobs:
    """Stands in for `runner.evaluations`: records each submission, hands out futures the test ends."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, dict[str, Any]]] = []
        self.futures: list[Future[Any]] = []
        self.refuse: Exception | None = None

    def submit(self, kind: str, experiment_id: int, **kwargs: Any) -> Future[Any]:
        if self.refuse is not None:
            raise self.refuse
        self.calls.append((kind, experiment_id, kwargs))
        future: Future[Any] = Future()
        self.futures.append(future)
        return future


@pytest.fixture
def jobs(monkeypatch: pytest.MonkeyPatch) -> Jobs:
    fake = Jobs()
    monkeypatch.setattr(tab_module, "submit", fake.submit)
    return fake


@pytest.fixture
def told() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def tab(
    results_store: Store,  # noqa: F811
    info: ResultsInfo,
    stored: Stored,
    jobs: Jobs,
    told: list[tuple[str, str]],
) -> Iterator[EvaluationsTab]:
    stored.evaluations = [
        robustness_evaluation(2, info.experiment_id),
        dataset_evaluation(1, info.experiment_id),
    ]
    widget = EvaluationsTab(
        results_store, info, busy=BusyIndicator(), tell=lambda text, tone="info": told.append((text, tone))
    )
    yield widget
    widget.close()


# -- the summary line ---------------------------------------------------------------------------------


def test_summary_puts_the_own_test_split_first_then_each_completed_dataset(info: ResultsInfo) -> None:
    own = next(card.value for card in info.cards if card.key == "accuracy")
    eid = info.experiment_id
    evaluations = [
        dataset_evaluation(6, eid, label="plant-b all records", status="running", accuracy=None),
        dataset_evaluation(5, eid, label="plant-c test split", status="failed", error="no such class"),
        robustness_evaluation(4, eid),
        dataset_evaluation(3, eid, accuracy=0.91),
        dataset_evaluation(2, eid, accuracy=0.5),  # an older run of the same: the newest one counts
        dataset_evaluation(1, eid, label="plant-d test split", accuracy=0.876),
    ]
    own_text = f"evaluated on: {DATASET} test split {fmt.percent(own)}"
    assert (
        summary_text(info, evaluations)
        == f"{own_text}; plant-a all records 91.0 %; plant-d test split 87.6 %"
    )
    assert summary_text(info, []) == own_text


# -- one evaluation -----------------------------------------------------------------------------------


def test_a_dataset_evaluation_shows_its_confusion_matrix_and_per_class_table() -> None:
    view = EvaluationView(dataset_evaluation(1, 7))
    assert view.robustness_figure is None and view.error_box is None and view.busy is None
    assert "plant-a all records" in view.facts.value and "83.3 %" in view.facts.value
    assert "cav=healthy" in view.facts.value and "18" in view.facts.value
    table = view.per_class_html.value
    for row in PER_CLASS:
        assert f"<td>{row.name}</td>" in table and fmt.percent(row.recall) in table
    assert table.count("bw-weak") == 1 and "<th>records</th>" in table
    trace = view.confusion.figure.data[0]
    assert trace.type == "heatmap"
    assert np.array_equal(np.asarray(trace.z), np.asarray(CONFUSION))
    assert list(trace.x) == list(CLASSES) and list(trace.y) == list(CLASSES)
    view.confusion.normalised = True
    shares = np.asarray(trace.z)
    assert np.allclose(shares.sum(axis=1), 1.0) and shares[2][0] == pytest.approx(2 / 6)
    assert np.array_equal(np.asarray(trace.customdata), np.asarray(CONFUSION))
    assert view.confusion.figure._config["toImageButtonOptions"]["filename"] == (
        "experiment-7-evaluation-1-confusion-matrix"
    )


def test_a_robustness_evaluation_shows_accuracy_per_condition_against_the_clean_line() -> None:
    view = EvaluationView(robustness_evaluation(2, 7))
    assert view.confusion is None and view.per_class_html is None
    figure = view.robustness_figure
    assert [trace.name for trace in figure.data] == ["clean", "noise", "gain", "speed"]
    bars = [
        (group, name, y)
        for trace in figure.data
        for group, name, y in zip(trace.x[0], trace.x[1], trace.y, strict=True)
    ]
    assert bars == [(c.group, c.name, c.accuracy) for c in CONDITIONS]
    assert len({trace.marker.color for trace in figure.data}) == 4
    (line,) = figure.layout.shapes
    assert line.y0 == line.y1 == 0.95 and line.line.dash == "dash"
    assert figure.layout.annotations[0].text == "clean 95.0 %"
    table = view.conditions_html.value
    assert "<td>SNR 5 dB</td><td>60.0 %</td><td>-35.0 pts</td>" in table
    assert "<td>clean</td><td>95.0 %</td><td></td>" in table


def test_a_failed_evaluation_shows_its_error_and_hint_in_an_error_box() -> None:
    failed = dataset_evaluation(
        3,
        7,
        status="failed",
        error="classes of plant-a not in the model: cav, loose",
        hint="pass a classes map, e.g. cav=cavitation",
        accuracy=None,
        confusion=None,
        per_class=(),
    )
    view = EvaluationView(failed)
    assert isinstance(view.error_box, ErrorBox) and view.children == (view.error_box,)
    assert view.error_box.error == failed.error and view.error_box.hint == failed.hint
    assert "plant-a all records failed" in view.error_box.value


@pytest.mark.parametrize("status", ["pending", "running"])
def test_a_pending_or_running_evaluation_shows_it_is_under_way(status: str) -> None:
    view = EvaluationView(dataset_evaluation(4, 7, status=status, accuracy=None, confusion=None))
    assert isinstance(view.busy, BusyIndicator) and view.busy.busy
    assert view.busy.message.startswith(f"plant-a all records: {status} since ")
    assert view.confusion is None and view.facts is None


def test_a_completed_evaluation_without_details_says_so() -> None:
    view = EvaluationView(dataset_evaluation(5, 7, confusion=None, per_class=()))
    texts = " ".join(getattr(child, "value", "") for child in view.children)
    assert "no per-class metrics were stored" in texts and "no confusion matrix was stored" in texts


# -- the tab ------------------------------------------------------------------------------------------


def test_the_tab_lists_the_evaluations_and_shows_the_chosen_one(
    tab: EvaluationsTab, info: ResultsInfo
) -> None:
    assert "plant-a all records 83.3 %" in tab.summary_html.value
    assert tab.list_html.value.count("data-evaluation=") == 2
    assert [value for _, value in tab.chooser.options] == [2, 1]
    assert tab.selected == 2 and tab.view.robustness_figure is not None  # the newest first
    tab.chooser.value = 1
    assert tab.selected == 1 and tab.view.confusion is not None
    assert tab.view_box.children == (tab.view,)
    assert tab.select(2).robustness_figure is not None
    with pytest.raises(ValueError, match="has no evaluation 99"):
        tab.select(99)


def test_an_experiment_without_evaluations_says_how_to_make_one(
    results_store: Store,  # noqa: F811
    info: ResultsInfo,
    stored: Stored,
    jobs: Jobs,
) -> None:
    tab = EvaluationsTab(results_store, info, busy=BusyIndicator(), tell=lambda *_: None)
    assert "no evaluation yet" in tab.list_html.value and tab.selected is None and tab.view is None
    assert tab.chooser.layout.display == "none"
    assert tab.launch.dataset.options == tuple(d.name for d in results_store.list_datasets())


def test_a_bad_classes_map_is_named_and_nothing_is_submitted(tab: EvaluationsTab, jobs: Jobs) -> None:
    tab.launch.classes_map.value = "cav=healthy, loose"
    tab.launch.evaluate_button.click()
    assert jobs.calls == [] and tab.job == ""
    assert tab.launch.message.tone == "error"
    assert tab.launch.message.text.startswith("classes map: 'loose' is not a pair")


def test_evaluate_on_a_dataset_shows_progress_then_the_new_evaluation(
    tab: EvaluationsTab, info: ResultsInfo, stored: Stored, jobs: Jobs, told: list[tuple[str, str]]
) -> None:
    busy = tab._busy
    tab.launch.dataset.value = tab.launch.dataset.options[0]
    tab.launch.split.value = "test"
    tab.launch.classes_map.value = " cav = healthy "
    stored.evaluations.insert(0, dataset_evaluation(3, info.experiment_id, status="pending", accuracy=None))
    tab.launch.evaluate_button.click()
    ((kind, experiment_id, kwargs),) = jobs.calls
    assert kind == "dataset" and experiment_id == info.experiment_id
    assert kwargs["dataset"] == tab.launch.dataset.value and kwargs["split"] == "test"
    assert kwargs["classes_map"] == {"cav": "healthy"} and callable(kwargs["on_progress"])
    assert tab.job == "running" and busy.busy
    assert tab.launch.evaluate_button.disabled and tab.launch.robustness_button.disabled
    assert tab.selected == 3 and tab.view.busy is not None  # the pending row, shown at once
    kwargs["on_progress"](0.5, "predicting 9 of 18 records")
    assert busy.progress == 0.5 and busy.message.endswith("predicting 9 of 18 records")
    tab.launch.robustness_button.click()  # one job at a time
    assert len(jobs.calls) == 1 and told[-1][1] == "warning"
    stored.evaluations[0] = dataset_evaluation(3, info.experiment_id, accuracy=0.91)
    jobs.futures[0].set_result(3)
    assert tab.job == "done" and not busy.busy and not tab.launch.evaluate_button.disabled
    assert tab.selected == 3 and tab.view.confusion is not None
    assert "plant-a all records 91.0 %" in tab.summary_html.value
    assert told[-1] == ("plant-a all records: accuracy 91.0 %", "success")


def test_robustness_sweep_and_a_failed_job(
    tab: EvaluationsTab, info: ResultsInfo, stored: Stored, jobs: Jobs, told: list[tuple[str, str]]
) -> None:
    tab.launch.robustness_button.click()
    ((kind, _, kwargs),) = jobs.calls
    assert kind == "robustness" and "dataset" not in kwargs
    stored.evaluations.insert(
        0,
        replace(
            robustness_evaluation(3, info.experiment_id),
            status="failed",
            error="record too short",
            hint="use longer records",
        ),
    )
    jobs.futures[0].set_exception(ValueError("record too short"))
    assert tab.job == "failed" and not tab._busy.busy
    assert told[-1] == ("robustness sweep failed: record too short", "error")
    assert tab.selected == 3 and tab.view.error_box.hint == "use longer records"


def test_a_refused_submission_is_said_and_the_buttons_come_back(
    tab: EvaluationsTab, jobs: Jobs, told: list[tuple[str, str]]
) -> None:
    jobs.refuse = ValueError("dataset 'nope' is not registered")
    tab.launch.evaluate_button.click()
    assert tab.job == "failed" and not tab._busy.busy and not tab.launch.evaluate_button.disabled
    assert told[-1] == (
        f"evaluating on {DATASET} all records failed: dataset 'nope' is not registered",
        "error",
    )
