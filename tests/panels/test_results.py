"""The results panel driven from Python: tabs built on selection, the confusion matrix and its cells,
failure cases, downloads confined to the experiment folder, the PDF report button, delete."""

from __future__ import annotations

import base64
import re
import shutil
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import pytest
from plotly.callbacks import Points

from bearing_workbench.analysis import format as fmt
from bearing_workbench.analysis.report import render_report
from bearing_workbench.analysis.results import (
    ResultBundle,
    baselines,
    cell_records,
    confusion_matrix,
    load_results,
    recommendations,
)
from bearing_workbench.analysis.results_info import ResultFile
from bearing_workbench.config import theme
from bearing_workbench.panels.failure_detail import FailureDetail
from bearing_workbench.panels.kit import fragments
from bearing_workbench.panels.kit import page as kit_page
from bearing_workbench.panels.model_views import ModelViews
from bearing_workbench.panels.results import TAB_TITLES, ExperimentResults
from bearing_workbench.panels.results import downloads as downloads_module
from bearing_workbench.panels.results import visuals as visuals_tab
from bearing_workbench.runner import reports
from bearing_workbench.store import ExperimentFolder, NotFoundError, Store

from ..analysis.results_fixtures import experiment_folder, results_ids, results_store  # noqa: F401


@pytest.fixture
def cnn(results_store: Store, results_ids: dict[str, int]) -> ExperimentResults:  # noqa: F811
    return ExperimentResults(results_ids["cnn1d_later"], store=results_store)


@pytest.fixture
def bundle(cnn: ExperimentResults, results_store: Store) -> ResultBundle:  # noqa: F811
    """What the store holds about `cnn`'s experiment, read apart from the page (to check it against)."""
    return load_results(results_store, cnn.experiment_id)


def _link_bytes(link: widgets.HTML) -> bytes:
    match = re.search(r'href="data:[^;]+;base64,([^"]+)"', link.value)
    assert match, f"no data in the link: {link.value[:200]}"
    return base64.b64decode(match.group(1))


def _copy_of(source: Store, experiment_id: int, target: Store, family: str | None = None) -> int:
    """A completed experiment of `target` holding a copy of `experiment_id`'s real artifacts."""
    record = source.get_experiment(experiment_id)
    copy = target.create_experiment(record.name, family or record.family, record.config)
    shutil.copytree(experiment_folder(source, experiment_id), experiment_folder(target, copy))
    target.transition(copy, "start")
    target.set_metrics(copy, record.metrics or {})
    target.transition(copy, "complete")
    return copy


# -- construction, header, overview -------------------------------------------------------------------


def test_only_the_overview_is_built_with_the_panel(
    cnn: ExperimentResults,
    bundle: ResultBundle,
    results_store: Store,  # noqa: F811
    results_ids: dict[str, int],  # noqa: F811
) -> None:
    record = results_store.get_experiment(results_ids["cnn1d_later"])
    assert cnn.built_tabs == ["Overview"]
    assert [cnn.tabs.get_title(i) for i in range(len(TAB_TITLES))] == list(TAB_TITLES)
    assert all(not cnn.tabs.children[i].children for i in range(1, len(TAB_TITLES)))
    assert cnn.experiment_id == record.id and cnn.status == "completed"
    assert record.name in cnn.title_html.value and 'data-status="completed"' in cnn.title_html.value
    assert cnn.url == f"results.ipynb?experiment={record.id}"
    accuracy = bundle.metrics["accuracy"]
    assert 'data-key="accuracy"' in cnn.overview.cards_html.value
    assert f"{100 * accuracy:.1f} %" in cnn.overview.cards_html.value
    assert (
        "best epoch (the saved model)" in cnn.overview.summary_html.value
        and "time per epoch" in cnn.overview.summary_html.value
    )


def test_overview_shows_signed_baselines_and_the_recommendations(
    cnn: ExperimentResults,
    bundle: ResultBundle,
    results_store: Store,  # noqa: F811
) -> None:
    found = baselines(results_store, bundle)
    assert [b.experiment_id for b in cnn.info.baselines] == [b.experiment_id for b in found]
    html = cnn.overview.baselines_html.value
    for b in found:
        assert f"?experiment={b.experiment_id}" in html
        if b.difference:
            color = theme.color("success" if b.difference > 0 else "danger")
            assert f'style="color:{color};font-weight:600">{100 * b.difference:+.1f} pts' in html
        else:
            assert "+0.0 pts" in html
    for r in recommendations(results_store, bundle, found):
        assert f"bw-{r.level}" in cnn.overview.recommendations_html.value
        assert r.text.replace("'", "&#x27;") in cnn.overview.recommendations_html.value


def test_the_page_and_the_report_show_the_same_numbers(cnn: ExperimentResults) -> None:
    """Issue 13: the result page and the report cannot disagree. Every metric card, training line and
    per-class cell the page shows is read back from its HTML and found, as written, in the report
    rendered from the page's own `ResultsInfo`."""
    report = render_report(cnn.info)
    cards = re.findall(
        r'<div class="bw-card-label">([^<]*)</div><div class="bw-card-value">([^<]*)</div>',
        cnn.overview.cards_html.value,
    )
    assert [value for _, value in cards] == [card.text for card in cnn.info.cards]
    for label, value in cards:
        assert f'<div class="label">{label}</div><div class="value">{value}</div>' in report
    training = re.findall(
        r'<td class="bw-label">([^<]*)</td><td>([^<]*)</td>', cnn.overview.summary_html.value
    )
    assert len(training) == len(cnn.info.training)
    for label, value in training:
        assert f"<tr><td>{label}</td><td>{value}</td></tr>" in report
    cnn.show_tab("Detailed metrics")
    page_rows = re.findall(
        r"<tr[^>]*><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>"
        r"<td>([^<]*)</td><td>(\d+)</td>",
        cnn.details.per_class_html.value,
    )
    assert len(page_rows) == len(cnn.info.per_class) > 0
    for name, *values, support in page_rows:
        cells = "".join(f'<td class="num">{v}</td>' for v in (*values, support))
        assert re.search(f"<td>{re.escape(name)}(?: <span[^<]*</span>)?</td>{re.escape(cells)}</tr>", report)
    assert all(fmt.NO_VALUE != card.text for card in cnn.info.cards)
    # And the other way: every metric text of the info (cards, test facts, training lines, per-class
    # numbers, baselines) is on the page as it is in the report.
    shown = "".join(
        w.value for w in (*cnn.overview.children, *cnn.details.children) if isinstance(w, widgets.HTML)
    )
    for text in cnn.info.metric_texts():
        assert fmt.NO_VALUE == text or (fragments.esc(text) in shown and fragments.esc(text) in report), text


def test_a_classical_run_has_no_epoch_summary(results_store: Store, results_ids: dict[str, int]) -> None:  # noqa: F811
    panel = ExperimentResults(str(results_ids["classical"]), store=results_store)  # digits, as from a URL
    assert "not in epochs" in panel.overview.summary_html.value
    assert "time per epoch" not in panel.overview.summary_html.value
    panel.show_tab("Visualisations")
    assert panel.visuals.history_figure is None
    assert panel.tabs.children[2].children == (panel.visuals,)
    assert "not trained in epochs" in panel.visuals.children[1].value


def test_refuses_unknown_and_unfinished_experiments(fresh_store: Store) -> None:
    with pytest.raises(NotFoundError):
        ExperimentResults(42, store=fresh_store)
    pending = fresh_store.create_experiment("waiting", "cnn1d", {})
    with pytest.raises(ValueError, match="is pending, not completed"):
        ExperimentResults(pending, store=fresh_store)
    with pytest.raises(ValueError, match="positive integer"):
        ExperimentResults("abc", store=fresh_store)


# -- detailed metrics -----------------------------------------------------------------------------------


def test_selecting_a_tab_builds_it_once(cnn: ExperimentResults) -> None:
    cnn.tabs.selected_index = 1
    assert cnn.built_tabs == ["Overview", "Detailed metrics"]
    figure = cnn.details.confusion_figure
    cnn.tabs.selected_index = 0
    cnn.show_tab("Detailed metrics")
    assert cnn.details.confusion_figure is figure and cnn.built_tabs.count("Detailed metrics") == 1
    with pytest.raises(ValueError, match="tab must be one of"):
        cnn.show_tab("Nope")


def test_per_class_table_flags_weak_classes(cnn: ExperimentResults) -> None:
    cnn.show_tab("Detailed metrics")
    weak = [r for r in cnn.info.per_class if r.weak]
    assert cnn.details.per_class_html.value.count("bw-weak") == len(weak)
    for row in cnn.info.per_class:
        assert f"<td>{row.name}</td>" in cnn.details.per_class_html.value


def test_confusion_matrix_toggles_between_counts_and_row_shares(
    cnn: ExperimentResults, bundle: ResultBundle
) -> None:
    cnn.show_tab("Detailed metrics")
    trace = cnn.details.confusion_figure.data[0]
    counts = confusion_matrix(bundle.metrics)
    assert np.array_equal(np.asarray(trace.z), counts)
    assert np.array_equal(np.asarray(trace.customdata), counts)  # hover shows the counts either way
    assert list(trace.x) == bundle.class_names and list(trace.y) == bundle.class_names
    cnn.details.normalised_toggle.value = True
    assert cnn.details.normalised is True
    shares = np.asarray(trace.z)
    assert np.allclose(shares, confusion_matrix(bundle.metrics, normalised=True))
    assert np.allclose(shares.sum(axis=1)[counts.sum(axis=1) > 0], 1.0)
    assert np.array_equal(np.asarray(trace.customdata), counts)
    assert "of the true class" in trace.hovertemplate and "%{customdata} record(s)" in trace.hovertemplate
    cnn.details.normalised = False
    assert "of the true class" not in trace.hovertemplate
    assert np.array_equal(np.asarray(trace.z), counts) and cnn.details.normalised_toggle.value is False


def test_roc_curves_one_per_class_with_auc(cnn: ExperimentResults, bundle: ResultBundle) -> None:
    cnn.show_tab("Detailed metrics")
    names = [t.name for t in cnn.details.roc_figure.data]
    for name in bundle.class_names:
        auc = bundle.metrics["roc"][name]["auc"]
        assert f"{name} (AUC {auc:.3f})" in names
    assert names[-1] == "chance"


def test_clicking_a_cell_filters_the_failure_cases(cnn: ExperimentResults, bundle: ResultBundle) -> None:
    cnn.show_tab("Detailed metrics")
    predictions = bundle.predictions
    names = list(predictions.class_names)
    # The cell of the first test record: never empty.
    t, p = int(predictions.y_true[0]), int(predictions.y_pred[0])
    trace = cnn.details.confusion_figure.data[0]
    points = Points(point_inds=[[t, p]], xs=[names[p]], ys=[names[t]], trace_name=trace.name, trace_index=0)
    trace._dispatch_on_click(points, None)  # what plotly does when the browser reports a click
    expected = cell_records(predictions, names[t], names[p])
    assert cnn.selected_cell == (names[t], names[p])
    assert f"{len(expected)} test record(s)" in cnn.details.cell_html.value
    for row in expected:
        assert row["record_id"] in cnn.details.cell_html.value
    # The failure cases, built afterwards, list that cell's records, not the 10 worst.
    cnn.details.cell_button.click()
    assert cnn.tabs.selected_index == 2 and "Visualisations" in cnn.built_tabs
    assert [v for _, v in cnn.visuals.failures.select.options] == [r["record_id"] for r in expected]
    assert cnn.visuals.failures.reset.layout.display == ""
    cnn.visuals.failures.reset.click()
    worst = [w["record_id"] for w in bundle.metrics["worst_predictions"]]
    assert [v for _, v in cnn.visuals.failures.select.options] == worst and cnn.selected_cell == ()
    # A click with the tab already built filters the list at once.
    cnn.select_cell(names[t], names[p])
    assert [v for _, v in cnn.visuals.failures.select.options] == [r["record_id"] for r in expected]


def test_selecting_a_failure_case_shows_its_detail(cnn: ExperimentResults) -> None:
    cnn.show_tab("Visualisations")
    first = cnn.visuals.failures.select.options[0][1]
    cnn.visuals.failures.select.value = first
    assert cnn.visuals.failures.selected_record == first
    (detail,) = cnn.visuals.failures.detail.children
    assert isinstance(detail, FailureDetail)
    assert detail.case is not None and detail.case.record_id == first


def test_history_curves_and_model_views(cnn: ExperimentResults, bundle: ResultBundle) -> None:
    cnn.show_tab("Visualisations")
    epochs = [row["epoch"] for row in bundle.history]
    train_loss = cnn.visuals.history_figure.data[0]
    assert train_loss.name == "train loss" and list(train_loss.x) == epochs
    assert list(train_loss.y) == [row["train_loss"] for row in bundle.history]
    assert (
        cnn.visuals.history_figure._config["toImageButtonOptions"]["filename"]
        == f"experiment-{cnn.experiment_id}-curves"
    )
    assert isinstance(cnn.visuals.model_views, ModelViews)
    assert cnn.visuals.children[3] is cnn.visuals.model_views


def test_a_broken_section_leaves_a_note_and_the_rest_of_the_tab(
    results_store: Store,  # noqa: F811
    results_ids: dict[str, int],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_: Any) -> Any:
        raise RuntimeError("no attention weights")

    monkeypatch.setattr(visuals_tab, "model_views_widget", broken)
    monkeypatch.setattr("bearing_workbench.panels.results.failures.failure_detail_widget", broken)
    panel = ExperimentResults(results_ids["cnn1d"], store=results_store)
    panel.show_tab("Visualisations")
    assert "model-specific views could not be built: no attention weights" in panel.visuals.model_views.value
    assert panel.visuals.history_figure is not None
    panel.visuals.failures.select.value = panel.visuals.failures.select.options[0][1]
    assert "could not be built: no attention weights" in panel.visuals.failures.detail.children[0].value


def test_notification_area_on_top(
    results_store: Store,  # noqa: F811
    results_ids: dict[str, int],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    area = widgets.HTML("toasts")
    seen: list[Any] = []
    monkeypatch.setattr(kit_page, "notification_area", lambda store=None: seen.append(store) or area)
    panel = ExperimentResults(results_ids["cnn1d"], store=results_store)
    assert panel.children[0] is area and seen == [results_store]


# -- artifacts --------------------------------------------------------------------------------------------


def test_downloads_carry_the_experiment_files(cnn: ExperimentResults, bundle: ResultBundle) -> None:
    cnn.show_tab("Artifacts")
    folder = bundle.folder
    for name in ("config.yaml", "predictions_test.csv", "history.json", "metrics.json", "best.pt"):
        link = cnn.artifacts.download_links[name]
        assert f'download="experiment-{cnn.experiment_id}-{name}"' in link.value
        assert _link_bytes(link) == (folder / name).read_bytes()
    # Tiny runs write no ONNX file (the quick preset): the link stays greyed out.
    assert "href" not in cnn.artifacts.download_links["model.onnx"].value
    assert cnn.download_name("model.onnx") == f"experiment-{cnn.experiment_id}-model.onnx"


def test_large_files_wait_for_a_click(
    cnn: ExperimentResults, bundle: ResultBundle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(downloads_module, "EAGER_BYTES", 10)
    cnn.show_tab("Artifacts")
    link = cnn.artifacts.download_links["config.yaml"]
    assert "href" not in link.value
    cnn.artifacts.prepare_buttons["config.yaml"].click()
    assert _link_bytes(link) == (bundle.folder / "config.yaml").read_bytes()
    assert cnn.artifacts.prepare_buttons["config.yaml"].layout.display == "none"


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "../1/metrics.json", "sub/../../x"])
def test_paths_out_of_the_experiment_folder_are_refused(cnn: ExperimentResults, name: str) -> None:
    cnn.show_tab("Artifacts")
    with pytest.raises(ValueError, match="escapes the folder|must be relative"):
        cnn.artifact_file(name)
    with pytest.raises(ValueError):
        cnn.prepare_download(name)


def test_missing_files_are_named(cnn: ExperimentResults) -> None:
    with pytest.raises(FileNotFoundError, match=f"experiment {cnn.experiment_id} has no model.onnx"):
        cnn.artifact_file("model.onnx")


def test_clone_and_ensemble_links(
    cnn: ExperimentResults,
    results_store: Store,  # noqa: F811
    results_ids: dict[str, int],  # noqa: F811
    fresh_store: Store,
) -> None:
    cnn.show_tab("Artifacts")
    links = cnn.artifacts.action_links.value
    assert f'href="wizard.ipynb?clone={cnn.experiment_id}"' in links
    assert f'href="wizard.ipynb?family=ensemble&amp;members={cnn.experiment_id}"' in links
    ensemble = _copy_of(results_store, results_ids["classical"], fresh_store, family="ensemble")
    panel = ExperimentResults(ensemble, store=fresh_store)
    panel.show_tab("Artifacts")
    assert "members=" not in panel.artifacts.action_links.value
    assert "cannot be a member" in panel.artifacts.action_links.value


def _fake_reports(monkeypatch: pytest.MonkeyPatch, submit: Any) -> None:
    monkeypatch.setattr(reports, "submit_report", submit)


def test_report_button_shows_progress_then_offers_the_pdf(
    cnn: ExperimentResults, bundle: ResultBundle, monkeypatch: pytest.MonkeyPatch
) -> None:
    pdf = bundle.folder / "report.pdf"
    calls: list[dict[str, Any]] = []
    future: Future[str] = Future()

    def submit_report(experiment_id: int, *, store: Any = None, client: Any = None, on_progress: Any = None):
        calls.append({"id": experiment_id, "store": store})
        on_progress(0.4, "drawing the confusion matrix")
        return future

    _fake_reports(monkeypatch, submit_report)
    cnn.show_tab("Artifacts")
    assert cnn.artifacts.report.status == "" and not cnn.artifacts.report.button.disabled
    cnn.artifacts.report.button.click()
    assert calls == [{"id": cnn.experiment_id, "store": cnn._store}]
    assert cnn.artifacts.report.status == "running" and cnn.artifacts.report.button.disabled
    assert (
        cnn.artifacts.report.bar.value == pytest.approx(0.4)
        and "drawing the confusion matrix" in cnn.artifacts.report.label.value
    )
    pdf.write_bytes(b"%PDF-1.7 tiny")
    try:
        future.set_result(str(pdf))  # runs the done callback
        assert cnn.artifacts.report.status == "done" and cnn.artifacts.report.path == str(pdf.resolve())
        assert _link_bytes(cnn.artifacts.report.link) == b"%PDF-1.7 tiny"
        assert f'download="experiment-{cnn.experiment_id}-report.pdf"' in cnn.artifacts.report.link.value
        assert cnn.artifacts.report.link.layout.display == "" and not cnn.artifacts.report.button.disabled
    finally:
        pdf.unlink()


def test_report_failures_and_paths_outside_the_experiment_folder(
    cnn: ExperimentResults, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere.pdf"
    outside.write_bytes(b"%PDF")
    futures: list[Future[str]] = []

    def submit_report(experiment_id: int, **_: Any) -> Future[str]:
        futures.append(Future())
        return futures[-1]

    _fake_reports(monkeypatch, submit_report)
    cnn.show_tab("Artifacts")
    cnn.artifacts.report.button.click()
    futures[-1].set_result(str(outside))
    assert (
        cnn.artifacts.report.status == "failed"
        and "outside the experiment folder" in cnn.artifacts.report.label.value
    )
    assert "href" not in cnn.artifacts.report.link.value
    # another experiment's folder in the same workspace is outside this one's too
    neighbour = ExperimentFolder.of(cnn.experiment_id + 1000, cnn._store.workspace).create().report
    neighbour.write_bytes(b"%PDF")
    cnn.artifacts.report.button.click()
    try:
        futures[-1].set_result(str(neighbour))
    finally:
        neighbour.unlink()
        neighbour.parent.rmdir()
    assert (
        cnn.artifacts.report.status == "failed"
        and "outside the experiment folder" in cnn.artifacts.report.label.value
    )
    assert "href" not in cnn.artifacts.report.link.value
    cnn.artifacts.report.button.click()
    futures[-1].set_exception(RuntimeError("chromium crashed"))
    assert cnn.artifacts.report.status == "failed" and "chromium crashed" in cnn.artifacts.report.label.value


def test_delete_asks_first_then_removes_rows_and_folder(
    results_store: Store,  # noqa: F811
    results_ids: dict[str, int],  # noqa: F811
    fresh_store: Store,
) -> None:
    copy = _copy_of(results_store, results_ids["cnn1d"], fresh_store)
    folder = experiment_folder(fresh_store, copy)
    panel = ExperimentResults(copy, store=fresh_store)
    panel.show_tab("Artifacts")
    confirm = panel.artifacts.confirm
    assert confirm.layout.display == "none" and not confirm.asking
    panel.artifacts.delete_button.click()
    assert confirm.asking and f"Delete experiment {copy}" in confirm.question
    confirm.cancel_button.click()
    assert not confirm.asking and fresh_store.get_experiment(copy) and folder.is_dir()
    panel.artifacts.delete_button.click()
    confirm.confirm_button.click()
    assert panel.deleted is True
    assert panel.tabs not in panel.children and panel.deleted_html in panel.children
    assert "was deleted" in panel.deleted_html.value
    with pytest.raises(NotFoundError):
        fresh_store.get_experiment(copy)
    assert not folder.exists()


def test_a_refused_delete_is_said(
    results_store: Store,  # noqa: F811
    results_ids: dict[str, int],  # noqa: F811
    fresh_store: Store,
) -> None:
    copy = _copy_of(results_store, results_ids["classical"], fresh_store)
    panel = ExperimentResults(copy, store=fresh_store)
    panel.show_tab("Artifacts")
    fresh_store.delete_experiment(copy)  # deleted elsewhere meanwhile
    panel.artifacts.delete_button.click()
    panel.artifacts.confirm.confirm_button.click()
    assert panel.deleted is False and "could not delete" in panel.message.text


def test_a_file_removed_since_the_info_was_read_is_said(tmp_path: Path) -> None:
    """The downloads render `ResultsInfo.files`; a file gone since then is named, not a traceback."""
    folder = tmp_path / "experiments" / "3"
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text("name: kept\n")
    files = [
        ResultFile("config", "config YAML", "config.yaml", "text/yaml", 11),
        ResultFile("metrics", "metrics JSON", "metrics.json", "application/json", 120),  # removed since
        ResultFile("onnx", "ONNX model", "model.onnx", "application/octet-stream", None),
    ]
    downloads = downloads_module.FileDownloads(folder, 3, files)
    assert _link_bytes(downloads.links["config.yaml"]) == b"name: kept\n"
    texts = [" ".join(w.value for w in row.children[1:]) for row in downloads.children]
    assert "11 B" in texts[0]
    assert (
        "no longer in the experiment folder" in texts[1]
        and "href" not in downloads.links["metrics.json"].value
    )
    assert "not written for this experiment" in texts[2]
