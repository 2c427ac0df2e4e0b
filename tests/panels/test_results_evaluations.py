"""The Evaluations tab of the results page, driven from Python: the summary line, the view of one
evaluation by state and kind (confusion matrix and per-class table, robustness figure, error box,
progress), and the launch controls (classes map checked, the job's progress and end)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from bearing_workbench.analysis import format as fmt
from bearing_workbench.analysis.evaluations import EvaluationInfo, evaluation_infos
from bearing_workbench.analysis.results_info import ResultsInfo, results_info
from bearing_workbench.panels.kit import BusyIndicator, ErrorBox
from bearing_workbench.panels.results import TAB_TITLES, ExperimentResults
from bearing_workbench.panels.results import evaluations as tab_module
from bearing_workbench.panels.results.evaluation_views import EvaluationView, summary_text
from bearing_workbench.panels.results.evaluations import EvaluationsTab
from bearing_workbench.store import Store
from bearing_workbench.training.cross_evaluation import EvaluationFailed

from ..analysis.conftest import DATASET
from ..analysis.results_fixtures import results_ids, results_store  # noqa: F401

CLASSES = ["healthy", "imbalance", "misalignment"]
CONFUSION = [[5, 1, 0], [0, 6, 0], [2, 0, 4]]
# The result layout `training.cross_evaluation` writes (see `analysis.evaluations`).
METRICS = {
    "accuracy": 15 / 18,
    "macro_f1": 0.83,
    "class_names": CLASSES,
    "confusion_matrix": CONFUSION,
    "per_class": {
        "healthy": {"precision": 5 / 7, "recall": 5 / 6, "f1": 0.769, "support": 6},
        "imbalance": {"precision": 6 / 7, "recall": 1.0, "f1": 0.923, "support": 6},
        "misalignment": {"precision": 1.0, "recall": 4 / 6, "f1": 0.8, "support": 6},
    },
}
CONDITIONS = [
    {"group": "clean", "name": "clean", "accuracy": 0.95, "macro_f1": 0.94},
    {"group": "noise", "name": "SNR 20 dB", "accuracy": 0.9, "macro_f1": 0.89},
    {"group": "noise", "name": "SNR 10 dB", "accuracy": 0.8, "macro_f1": 0.78},
    {"group": "noise", "name": "SNR 5 dB", "accuracy": 0.6, "macro_f1": 0.55},
    {"group": "gain", "name": "gain x0.5", "accuracy": 0.85, "macro_f1": 0.84},
    {"group": "gain", "name": "gain x2", "accuracy": 0.7, "macro_f1": 0.66},
    {"group": "speed", "name": "speed -10 %", "accuracy": 0.75, "macro_f1": 0.74},
    {"group": "speed", "name": "speed +10 %", "accuracy": 0.65, "macro_f1": 0.6},
]


def add_evaluation(
    store: Store,
    experiment_id: int,
    kind: str = "dataset",
    dataset: str = "plant-a",
    *,
    split: str | None = None,
    status: str = "completed",
    accuracy: float | None = None,
    error: str | None = None,
    hint: str | None = None,
    **create: Any,
) -> int:
    """A stored evaluation in state `status`, its result laid out as the runner's jobs write it."""
    evaluation_id = store.create_evaluation(experiment_id, kind, dataset, split=split, **create)
    if status == "pending":
        return evaluation_id
    store.transition_evaluation(evaluation_id, "start")
    if status == "completed":
        metrics = dict(METRICS, accuracy=accuracy if accuracy is not None else METRICS["accuracy"])
        result: dict[str, Any] = {"metrics": metrics, "n_records": 18}
        if kind == "robustness":
            result["conditions"] = CONDITIONS
        store.transition_evaluation(evaluation_id, "complete", result=result)
    elif status == "failed":
        store.transition_evaluation(evaluation_id, "fail", error=error or "it failed", hint=hint)
    return evaluation_id


def info_of(store: Store, experiment_id: int, evaluation_id: int) -> EvaluationInfo:
    return next(e for e in evaluation_infos(store, experiment_id) if e.evaluation_id == evaluation_id)


@pytest.fixture
def experiment(results_store: Store, results_ids: dict[str, int]) -> Iterator[int]:  # noqa: F811
    """The classical run of the shared workspace, its evaluations removed after each test."""
    experiment_id = results_ids["classical"]
    yield experiment_id
    for record in results_store.list_evaluations(experiment_id):
        results_store.delete_evaluation(record.id)


@pytest.fixture
def info(results_store: Store, experiment: int) -> ResultsInfo:  # noqa: F811
    return results_info(results_store, experiment)


class Jobs:
    """Stands in for `runner.evaluations`: records each submission and hands out a future the test
    ends. As with the real jobs, the task (here: the test) writes the evaluation's row, then the future
    gives its id."""

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
    experiment: int,
    info: ResultsInfo,
    jobs: Jobs,
    told: list[tuple[str, str]],
) -> Iterator[EvaluationsTab]:
    """The tab of an experiment evaluated on plant-a (id in `tab.first`), then swept (`tab.second`)."""
    first = add_evaluation(results_store, experiment)
    second = add_evaluation(results_store, experiment, "robustness", DATASET, split="test")
    widget = EvaluationsTab(
        results_store, info, busy=BusyIndicator(), tell=lambda text, tone="info": told.append((text, tone))
    )
    widget.first, widget.second = first, second  # type: ignore[attr-defined]
    yield widget
    widget.close()


# -- the summary line ---------------------------------------------------------------------------------


def test_summary_puts_the_own_test_split_first_then_each_completed_dataset(
    results_store: Store,  # noqa: F811
    experiment: int,
    info: ResultsInfo,
) -> None:
    own = next(card.value for card in info.cards if card.key == "accuracy")
    add_evaluation(results_store, experiment, dataset="plant-d", split="test", accuracy=0.876)
    add_evaluation(results_store, experiment, accuracy=0.5)  # an older run of the same: the newest counts
    add_evaluation(results_store, experiment, accuracy=0.91)
    add_evaluation(results_store, experiment, "robustness", DATASET, split="test")
    add_evaluation(results_store, experiment, dataset="plant-c", status="failed")
    add_evaluation(results_store, experiment, dataset="plant-b", status="running")
    own_text = f"evaluated on: {DATASET} test split {fmt.percent(own)}"
    evaluations = evaluation_infos(results_store, experiment)
    assert (
        summary_text(info, evaluations)
        == f"{own_text}; plant-a all records 91.0 %; plant-d test split 87.6 %"
    )
    assert summary_text(info, []) == own_text
    header = tuple(f if f.label != "Dataset" else replace(f, text="/data/plant/demo.h5") for f in info.header)
    assert summary_text(replace(info, header=header), []).startswith("evaluated on: demo.h5 test split ")


# -- one evaluation -----------------------------------------------------------------------------------


def test_a_dataset_evaluation_shows_its_confusion_matrix_and_per_class_table(
    results_store: Store,  # noqa: F811
    experiment: int,
) -> None:
    evaluation_id = add_evaluation(results_store, experiment, classes_map={"cav": "healthy"})
    view = EvaluationView(info_of(results_store, experiment, evaluation_id))
    assert view.robustness_figure is None and view.error_box is None and view.busy is None
    assert "plant-a all records" in view.facts.value and "83.3 %" in view.facts.value
    assert "cav -&gt; healthy" in view.facts.value and "<td>18</td>" in view.facts.value
    table = view.per_class_html.value
    for name, row in METRICS["per_class"].items():
        assert f"<td>{name}</td>" in table and fmt.percent(row["recall"]) in table
    assert table.count("bw-weak") == 2 and "<th>records</th>" in table  # recall below 90 %: 2 classes
    trace = view.confusion.figure.data[0]
    assert trace.type == "heatmap"
    assert np.array_equal(np.asarray(trace.z), np.asarray(CONFUSION))
    assert list(trace.x) == CLASSES and list(trace.y) == CLASSES
    view.confusion.normalised = True
    shares = np.asarray(trace.z)
    assert np.allclose(shares.sum(axis=1), 1.0) and shares[2][0] == pytest.approx(2 / 6)
    assert np.array_equal(np.asarray(trace.customdata), np.asarray(CONFUSION))
    assert view.confusion.figure._config["toImageButtonOptions"]["filename"] == (
        f"experiment-{experiment}-evaluation-{evaluation_id}-confusion-matrix"
    )


def test_a_robustness_evaluation_shows_accuracy_per_condition_against_the_clean_line(
    results_store: Store,  # noqa: F811
    experiment: int,
) -> None:
    evaluation_id = add_evaluation(results_store, experiment, "robustness", DATASET, split="test")
    view = EvaluationView(info_of(results_store, experiment, evaluation_id))
    assert view.confusion is None and view.per_class_html is None
    assert f"robustness on {DATASET} test split" in view.facts.value
    figure = view.robustness_figure
    assert [trace.name for trace in figure.data] == ["clean", "noise", "gain", "speed"]
    bars = [
        (group, name, y)
        for trace in figure.data
        for group, name, y in zip(trace.x[0], trace.x[1], trace.y, strict=True)
    ]
    assert bars == [(c["group"], c["name"].replace(" ", "<br>", 1), c["accuracy"]) for c in CONDITIONS]
    assert [name for trace in figure.data for name in trace.customdata] == [c["name"] for c in CONDITIONS]
    assert len({trace.marker.color for trace in figure.data}) == 4
    (line,) = figure.layout.shapes
    assert line.y0 == line.y1 == 0.95 and line.line.dash == "dash"
    assert figure.layout.annotations[0].text == "clean 95.0 %"
    table = view.conditions_html.value
    assert "<td>SNR 5 dB</td><td>60.0 %</td><td>-35.0 pts</td><td>55.0 %</td>" in table
    assert "<td>clean</td><td>95.0 %</td><td></td>" in table


def test_a_failed_evaluation_shows_its_error_and_hint_in_an_error_box(
    results_store: Store,  # noqa: F811
    experiment: int,
) -> None:
    error, hint = "classes of plant-a not in the model: cav, loose", "pass a classes map, e.g. cav=healthy"
    evaluation_id = add_evaluation(results_store, experiment, status="failed", error=error, hint=hint)
    view = EvaluationView(info_of(results_store, experiment, evaluation_id))
    assert isinstance(view.error_box, ErrorBox) and view.children == (view.error_box,)
    assert view.error_box.error == error and view.error_box.hint == hint
    assert "plant-a all records failed" in view.error_box.value


@pytest.mark.parametrize("status", ["pending", "running"])
def test_a_pending_or_running_evaluation_shows_it_is_under_way(
    results_store: Store,  # noqa: F811
    experiment: int,
    status: str,
) -> None:
    evaluation_id = add_evaluation(results_store, experiment, status=status)
    view = EvaluationView(info_of(results_store, experiment, evaluation_id))
    assert isinstance(view.busy, BusyIndicator) and view.busy.busy
    assert view.busy.message.startswith(f"plant-a all records: {status} since ")
    assert view.confusion is None and view.facts is None


def test_a_completed_evaluation_without_details_says_so(
    results_store: Store,  # noqa: F811
    experiment: int,
) -> None:
    evaluation_id = results_store.create_evaluation(experiment, "dataset", "plant-a")
    results_store.transition_evaluation(evaluation_id, "start")
    results_store.transition_evaluation(
        evaluation_id, "complete", result={"metrics": {"accuracy": 0.5}, "n_records": 2}
    )
    view = EvaluationView(info_of(results_store, experiment, evaluation_id))
    texts = " ".join(getattr(child, "value", "") for child in view.children)
    assert "no per-class metrics were stored" in texts and "no confusion matrix was stored" in texts


# -- the tab ------------------------------------------------------------------------------------------


def test_the_tab_lists_the_evaluations_and_shows_the_chosen_one(tab: EvaluationsTab) -> None:
    first, second = tab.first, tab.second  # type: ignore[attr-defined]
    assert "plant-a all records 83.3 %" in tab.summary_html.value
    assert tab.list_html.value.count("data-evaluation=") == 2
    assert [value for _, value in tab.chooser.options] == [second, first]
    assert tab.selected == second and tab.view.robustness_figure is not None  # the newest first
    tab.chooser.value = first
    assert tab.selected == first and tab.view.confusion is not None
    assert tab.view_box.children == (tab.view,)
    assert tab.select(second).robustness_figure is not None
    with pytest.raises(ValueError, match="has no evaluation 9999"):
        tab.select(9999)


def test_an_experiment_without_evaluations_says_how_to_make_one(
    results_store: Store,  # noqa: F811
    info: ResultsInfo,
    jobs: Jobs,
) -> None:
    tab = EvaluationsTab(results_store, info, busy=BusyIndicator(), tell=lambda *_: None)
    assert "no evaluation yet" in tab.list_html.value and tab.selected is None and tab.view is None
    assert tab.chooser.layout.display == "none"
    assert tab.launch.dataset.options == tuple(d.name for d in results_store.list_datasets())
    assert tab.launch.split.index == 0 and tab.launch.split.label == "all records"  # shown, not blank


def test_a_bad_classes_map_is_named_and_nothing_is_submitted(tab: EvaluationsTab, jobs: Jobs) -> None:
    tab.launch.classes_map.value = "cav=healthy, loose"
    tab.launch.evaluate_button.click()
    assert jobs.calls == [] and tab.job == ""
    assert tab.launch.message.tone == "error"
    assert tab.launch.message.text == (
        "classes map: expected DATASET_CLASS=MODEL_CLASS pairs separated by commas, got 'loose'"
    )


def test_evaluate_on_a_dataset_shows_progress_then_the_new_evaluation(
    tab: EvaluationsTab,
    results_store: Store,  # noqa: F811
    experiment: int,
    jobs: Jobs,
    told: list[tuple[str, str]],
) -> None:
    busy = tab._busy
    tab.launch.dataset.value = DATASET
    tab.launch.split.value = "test"
    tab.launch.classes_map.value = " cav = healthy "
    tab.launch.evaluate_button.click()
    ((kind, experiment_id, kwargs),) = jobs.calls
    assert kind == "dataset" and experiment_id == experiment
    assert kwargs["dataset"] == DATASET and kwargs["split"] == "test"
    assert kwargs["classes_map"] == {"cav": "healthy"} and callable(kwargs["on_progress"])
    assert kwargs["store"] is results_store
    assert tab.job == "running" and busy.busy
    assert tab.launch.evaluate_button.disabled and tab.launch.robustness_button.disabled
    # The task stores its evaluation pending, then running; Refresh shows it under way.
    row = results_store.create_evaluation(experiment, "dataset", DATASET, split="test")
    results_store.transition_evaluation(row, "start")
    tab.refresh_button.click()
    tab.select(row)
    assert tab.view.busy is not None and "running since" in tab.view.busy.message
    kwargs["on_progress"](0.5, "predicting 9 of 18 records")
    assert busy.progress == 0.5 and busy.message.endswith("predicting 9 of 18 records")
    assert tab.launch.message.text == f"evaluating on {DATASET} test split: 50 % · predicting 9 of 18 records"
    tab.launch.robustness_button.click()  # one job at a time
    assert len(jobs.calls) == 1 and told[-1][1] == "warning"
    tab.select(tab.first)  # type: ignore[attr-defined]
    result = {"metrics": dict(METRICS, accuracy=0.91), "n_records": 18}
    results_store.transition_evaluation(row, "complete", result=result)
    jobs.futures[0].set_result(row)  # the future's result: the evaluation's id
    assert tab.job == "done" and not busy.busy and not tab.launch.evaluate_button.disabled
    assert tab.selected == row and tab.view.confusion is not None  # the job's evaluation is shown
    assert f"{DATASET} test split 91.0 %" in tab.summary_html.value
    assert told[-1] == (f"{DATASET} test split: accuracy 91.0 %", "success")
    assert tab.launch.message.text == told[-1][0]  # said under the buttons too


def test_robustness_sweep_and_a_failed_job(
    tab: EvaluationsTab,
    results_store: Store,  # noqa: F811
    experiment: int,
    jobs: Jobs,
    told: list[tuple[str, str]],
) -> None:
    tab.launch.robustness_button.click()
    ((kind, _, kwargs),) = jobs.calls
    assert kind == "robustness" and "dataset" not in kwargs
    # A failure once the sweep had started is stored with it, and is the future's exception too.
    row = results_store.create_evaluation(experiment, "robustness", DATASET, split="test")
    results_store.transition_evaluation(row, "start")
    results_store.transition_evaluation(row, "fail", error="record too short", hint="use longer records")
    jobs.futures[0].set_exception(EvaluationFailed("record too short", row, "use longer records"))
    assert tab.job == "failed" and not tab._busy.busy
    assert told[-1] == ("robustness sweep failed: record too short", "error")
    assert tab.selected == row and tab.view.error_box.hint == "use longer records"


def test_refused_input_is_said_the_view_stays_and_the_buttons_come_back(
    tab: EvaluationsTab, jobs: Jobs, told: list[tuple[str, str]]
) -> None:
    tab.select(tab.first)  # type: ignore[attr-defined]
    jobs.refuse = ValueError("split: must be a non-empty string")  # refused by submit itself
    tab.launch.evaluate_button.click()
    assert tab.job == "failed" and not tab._busy.busy and not tab.launch.evaluate_button.disabled
    assert told[-1] == (
        f"evaluating on {DATASET} all records failed: split: must be a non-empty string",
        "error",
    )
    assert tab.selected == tab.first  # type: ignore[attr-defined]
    jobs.refuse = None  # refused by the task, before it stored anything: the future's exception
    tab.launch.evaluate_button.click()
    jobs.futures[0].set_exception(ValueError("dataset classes not in the model: cav"))
    assert tab.job == "failed" and told[-1][0].endswith("failed: dataset classes not in the model: cav")
    assert tab.selected == tab.first  # type: ignore[attr-defined]


def test_the_results_page_builds_the_tab_on_selection(
    results_store: Store,  # noqa: F811
    experiment: int,
    jobs: Jobs,
) -> None:
    evaluation_id = add_evaluation(results_store, experiment, accuracy=0.91)
    page = ExperimentResults(experiment, store=results_store)
    assert page.evaluations is None
    page.show_tab("Evaluations")
    tab = page.evaluations
    assert isinstance(tab, EvaluationsTab) and page.built_tabs[-1] == "Evaluations"
    assert page.tabs.children[TAB_TITLES.index("Evaluations")].children == (tab,)
    assert "plant-a all records 91.0 %" in tab.summary_html.value and tab.selected == evaluation_id
    tab.robustness()
    kwargs = jobs.calls[0][2]
    kwargs["on_progress"](0.25, "noise at SNR 20 dB")
    assert page.busy.busy and page.busy.progress == 0.25  # the page's own indicator
    jobs.futures[0].set_exception(RuntimeError("no worker left"))
    assert not page.busy.busy and page.message.tone == "error" and "no worker left" in page.message.text
    page.close()
