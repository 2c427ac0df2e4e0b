"""ExperimentHistory driven in Python as a user would: search, filters, sort by header, pages, selection,
compare, delete with its confirmation, export, presets, columns and row actions."""

from __future__ import annotations

import base64
import csv
import importlib.util
import io
import re
import shutil
import subprocess
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import ipywidgets as widgets
import pytest
import traitlets

from bearing_workbench.panels import CompareView, ExperimentHistory, history_table
from bearing_workbench.panels.kit.download import DownloadLink
from bearing_workbench.store import Store, experiment_dir
from bearing_workbench.store.tables import ExperimentRow

from .history_runs import completed_run, pattern

N_PLAIN = 57


def _link_bytes(link: widgets.HTML) -> bytes:
    match = re.search(r'href="data:[^;]+;base64,([^"]+)"', link.value)
    assert match, f"no data in the link: {link.value[:200]}"
    return base64.b64decode(match.group(1))


@pytest.fixture
def runs(fresh_store: Store) -> tuple[Store, dict[str, int]]:
    """57 pending cnn1d runs, 3 completed runs with artifacts, 2 failed resnet1d runs, a campaign trial."""
    store = fresh_store
    ids: dict[str, int] = {}
    for i in range(N_PLAIN):
        store.create_experiment(f"plain {i:02d}", "cnn1d", {"model": {"family": "cnn1d"}})
    a, b = pattern(both_right=20, both_wrong=5, only_a=12, only_b=3)
    ids["best"] = completed_run(store, "best cnn", "cnn1d", a, epochs=3)
    ids["second"] = completed_run(store, "second cnn", "cnn1d", b, epochs=2)
    ids["forest"] = completed_run(store, "forest", "classical", [True] * 30 + [False] * 10)
    for name in ("resnet broken", "resnet broken again"):
        ids[name] = store.create_experiment(name, "resnet1d", {})
        store.transition(ids[name], "start")
        store.transition(ids[name], "fail", error="CUDA out of memory")
    campaign = store.create_campaign("sweep", "study-1")
    ids["trial"] = store.create_experiment("trial 0", "transformer", {}, campaign_id=campaign)
    ids["campaign"] = campaign
    store.set_notes(ids["forest"], "baseline on the 36 features")
    store.set_tags(ids["second"], ["wide", "candidate"])
    # spread the creation dates: the trial in 2025, the rest now
    with store.transaction() as session:
        session.get(ExperimentRow, ids["trial"]).created_at = datetime(2025, 3, 10, 12, tzinfo=UTC)
    return store, ids


def _names(history: ExperimentHistory) -> list[str]:
    return [row["cells"]["name"] for row in history.table.rows]


def test_first_page_comes_from_the_store_with_its_count(runs) -> None:
    store, ids = runs
    history = ExperimentHistory(store=store)
    assert history.total == N_PLAIN + 6 == store.count_experiments()
    assert len(history.table.rows) == 50 and history.page == 1
    assert "1\u201350 of 63" in history.page_label.value
    assert history.prev_button.disabled and not history.next_button.disabled
    assert _names(history)[0] == "resnet broken again"  # newest first (the trial is dated 2025)
    first = history.table.rows[0]
    assert first["view_href"] == f"results.ipynb?experiment={first['id']}"
    assert first["clone_href"] == f"wizard.ipynb?clone={first['id']}"
    best = store.get_experiment(ids["best"])
    history.search.value = "best cnn"
    row = history.table.rows[0]
    assert row["cells"]["metrics.accuracy"] == "80.0 %" and row["cells"]["name"] == best.name
    assert row["status"] == "completed"


def test_search_and_filters_narrow_the_list(runs) -> None:
    store, ids = runs
    history = ExperimentHistory(store=store)
    history.search.value = "CANDIDATE"  # a tag, any case
    assert _names(history) == ["second cnn"]
    history.search.value = "36 features"  # notes
    assert _names(history) == ["forest"]
    history.search.value = ""
    history.families.value = ("resnet1d",)
    assert history.total == 2
    history.families.value = ("resnet1d", "classical")
    history.statuses.value = ("failed",)
    assert sorted(_names(history)) == ["resnet broken", "resnet broken again"]
    history.clear_filters()
    assert history.total == 63
    history.created_to.value = date(2025, 12, 31)
    assert _names(history) == ["trial 0"]
    history.created_to.value = None
    history.created_from.value = date(2025, 3, 11)
    assert history.total == 62
    history.created_to.value = date(2025, 3, 1)  # before "from": refused, named
    assert history.notice_error and "created_before" in history.notice and history.total == 62
    history.clear_filters()
    history.campaign.value = ids["campaign"]
    assert _names(history) == ["trial 0"]
    assert (f"#{ids['campaign']} sweep", ids["campaign"]) in history.campaign.options


def test_header_click_sorts_in_the_store(runs, monkeypatch) -> None:
    store, ids = runs
    history = ExperimentHistory(store=store)
    fetches = []
    list_experiments = store.list_experiments
    monkeypatch.setattr(store, "list_experiments", lambda **kw: fetches.append(kw) or list_experiments(**kw))
    with history.table.hold_trait_notifications():  # as a browser message sets both traits
        history.table.order_by = "duration_s"
        history.table.descending = False
    assert [(f["order_by"], f["descending"]) for f in fetches] == [("duration_s", False)]
    history.table.order_by = "metrics.accuracy"  # what a header click sets
    history.table.descending = True
    assert _names(history)[:3] == ["best cnn", "forest", "second cnn"]  # 80 %, 75 %, 57.5 %
    history.table.descending = False
    assert _names(history)[:3] == ["second cnn", "forest", "best cnn"]
    history.table.order_by = "name"
    assert _names(history)[0] == "best cnn"
    with pytest.raises(traitlets.TraitError, match="cannot sort by 'tags'"):
        history.table.order_by = "tags"
    assert {c["key"]: c["sortable"] for c in history.table.columns}["notes"] is False


def test_pages_and_page_size(runs) -> None:
    store, _ = runs
    history = ExperimentHistory(store=store)
    history.next_button.click()
    assert history.offset == 50 and len(history.table.rows) == 13 and history.next_button.disabled
    assert "51\u201363 of 63" in history.page_label.value
    shown = {row["id"] for row in history.table.rows}
    history.prev_button.click()
    assert shown.isdisjoint(row["id"] for row in history.table.rows)  # pages never repeat rows
    history.page_size_select.value = 100
    assert len(history.table.rows) == 63 and history.offset == 0
    history.page_size_select.value = 50
    history.go_to(50)
    history.statuses.value = ("failed",)  # a filter starts again at the first page
    assert history.offset == 0 and history.total == 2
    with pytest.raises(ValueError, match="page_size must be one of 50, 100, 200"):
        ExperimentHistory(store=store, page_size=75)


def test_selection_spans_pages_and_drives_bulk_buttons(runs) -> None:
    store, ids = runs
    history = ExperimentHistory(store=store)
    assert history.compare_button.disabled and history.delete_button.disabled
    first_page = history.table.rows[0]["id"]
    history.table.selected = [first_page]  # a ticked checkbox
    history.next_button.click()
    other = history.table.rows[0]["id"]
    history.table.selected = [*history.table.selected, other]
    assert history.selected == [first_page, other]
    assert not history.compare_button.disabled and not history.delete_button.disabled
    assert f"members={first_page},{other}" in history.ensemble_html.value
    assert "wizard.ipynb?family=ensemble" in history.ensemble_html.value
    history.clear_selection_button.click()
    assert history.selected == [] and history.table.selected == [] and history.ensemble_html.value == ""


def test_select_two_and_compare(runs) -> None:
    store, ids = runs
    history = ExperimentHistory(store=store)
    history.select([ids["best"], ids["second"]])
    history.compare_button.click()
    view = history.compare_view
    assert isinstance(view, CompareView) and view.experiment_ids == [ids["best"], ids["second"]]
    assert history.compare_box.layout.display == "" and view in history.compare_box.children
    assert "is right on 12 records where" in view.mcnemar_html.value
    history.close_compare()
    assert history.compare_view is None and history.compare_box.layout.display == "none"
    history.select([ids["best"], ids["resnet broken"]])
    history.compare_button.click()
    assert history.compare_view is None and history.notice_error
    assert f"{ids['resnet broken']}: not completed (failed)" in history.notice


def test_delete_asks_first_then_deletes_rows_and_files(runs) -> None:
    store, ids = runs
    history = ExperimentHistory(store=store)
    folder = experiment_dir(ids["forest"], store.workspace)
    history.select([ids["forest"], ids["resnet broken"]])
    history.delete_button.click()
    assert history.confirm.layout.display == ""
    assert "Delete 2 experiment(s)" in history.confirm.question_html.value
    assert store.count_experiments() == 63  # nothing yet
    history.confirm.cancel_button.click()
    assert history.confirm.layout.display == "none" and store.count_experiments() == 63
    history.delete_button.click()
    history.confirm.confirm_button.click()
    assert store.count_experiments() == 61 and history.total == 61 and not folder.exists()
    assert history.selected == [] and "deleted 2 experiment(s)" in history.notice
    running = store.create_experiment("running", "cnn1d", {})
    store.transition(running, "start")
    history.select([ids["best"], running])
    history.delete_button.click()
    history.confirm.confirm_button.click()
    assert history.notice_error and history.notice.startswith("nothing was deleted")
    assert store.count_experiments() == 62 and experiment_dir(ids["best"], store.workspace).exists()


def test_presets_save_apply_and_delete(runs) -> None:
    store, ids = runs
    history = ExperimentHistory(store=store)
    assert [v for _, v in history.presets.options][1:3] == ["failed runs", "top performers"]
    history.presets.value = "failed runs"
    assert history.statuses.value == ("failed",) and history.total == 2
    history.presets.value = "top performers"
    assert history.table.order_by == "metrics.accuracy" and _names(history)[0] == "best cnn"
    history.clear_filters()
    history.search.value = "cnn"
    history.families.value = ("cnn1d",)
    history.table.order_by = "name"
    history.table.descending = False
    history.save_preset("cnn by name")
    assert "saved as preset 'cnn by name'" in history.notice and history.presets.value == "cnn by name"
    history.clear_filters()
    assert history.total == 63
    history.presets.value = "cnn by name"
    assert (history.search.value, history.families.value, history.table.order_by) == (
        "cnn",
        ("cnn1d",),
        "name",
    )
    assert history.table.descending is False and _names(history) == ["best cnn", "second cnn"]
    history.save_preset("cnn by name")
    assert history.notice_error and "already exists" in history.notice
    history.save_preset("failed runs")
    assert history.notice_error and "built-in preset" in history.notice
    history.presets.value = "cnn by name"
    history.delete_preset_button.click()
    assert "cnn by name" not in [v for _, v in history.presets.options]
    assert [p.name for p in store.list_filter_presets()] == ["failed runs", "top performers"]


def test_columns_and_csv_of_the_filtered_list(runs) -> None:
    store, ids = runs
    history = ExperimentHistory(store=store)
    history.columns.value = ("id", "name", "metrics.accuracy", "tags")
    assert history.table.visible_columns == ["id", "name", "metrics.accuracy", "tags"]
    assert "notes" in history.table.hidden
    history.statuses.value = ("completed",)
    history.table.order_by = "metrics.accuracy"
    text = history.prepare_csv()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["id", "name", "metrics.accuracy", "tags"]
    assert [r[1] for r in rows[1:]] == ["best cnn", "forest", "second cnn"]
    assert rows[3][3] == "wide; candidate"
    assert _link_bytes(history.csv_link).decode() == text


def test_export_of_the_selection(runs) -> None:
    store, ids = runs
    history = ExperimentHistory(store=store)
    history.select([ids["best"], ids["second"]])
    history.export_button.click()
    assert not history.notice_error and history.export_link.layout.display == ""
    with zipfile.ZipFile(io.BytesIO(_link_bytes(history.export_link))) as archive:
        names = set(archive.namelist())
    assert {f"{ids['best']}/predictions_test.csv", f"{ids['second']}/config.yaml", "manifest.json"} <= names
    assert (store.workspace / "exports" / history.export_link.filename).is_file()


def test_row_actions_note_and_model(runs) -> None:
    store, ids = runs
    history = ExperimentHistory(store=store)
    # what the browser sends for a row's "note" button
    history.table._on_browser_message(
        history.table, {"type": "action", "action": "note", "id": ids["best"]}, []
    )
    assert history.row_box.layout.display == "" and history.note_text.value == ""
    history.note_text.value = "keep this one"
    history.tags_text.value = "final, , paper"
    history.row_box.children[-2].click()  # Save
    record = store.get_experiment(ids["best"])
    assert (record.notes, record.tags) == ("keep this one", ["final", "paper"])
    assert history.row_box.layout.display == "none"
    history.search.value = "paper"
    assert _names(history) == ["best cnn"]
    # model files: an ONNX file is offered; a completed run without model files says why it has none
    onnx = experiment_dir(ids["best"], store.workspace) / "model.onnx"
    onnx.write_bytes(b"onnx bytes")
    history.row_action("model", ids["best"])
    links = [c for c in history.row_box.children if isinstance(c, DownloadLink)]
    assert [_link_bytes(link) for link in links] == [b"onnx bytes"]
    history.row_action("model", ids["forest"])
    assert any(
        "no model file in its folder" in c.value for c in history.row_box.children if hasattr(c, "value")
    )
    # malformed messages are ignored; an unknown id is reported
    history.table._on_browser_message(history.table, {"type": "action", "action": "rm -rf", "id": 1}, [])
    history.row_action("note", 9999)
    assert history.notice_error and "experiment 9999 not found" in history.notice


def test_model_files_stay_in_the_experiment_folder(runs, tmp_path) -> None:
    store, ids = runs
    history = ExperimentHistory(store=store)
    outside = tmp_path / "secret.onnx"
    outside.write_bytes(b"not yours")
    (experiment_dir(ids["second"], store.workspace) / "model.onnx").symlink_to(outside)
    with pytest.raises(ValueError, match="escapes the folder"):
        history.model_files(ids["second"])


def test_the_panel_opens_on_an_empty_store(fresh_store: Store) -> None:
    history = ExperimentHistory(store=fresh_store)
    if importlib.util.find_spec("bearing_workbench.panels.toast_area") is not None:
        assert type(history.children[0]).__name__ == "NotificationArea"
    assert history.total == 0 and history.table.rows == []
    assert "no experiment yet" in history.page_label.value
    # the kit's empty state says how to start, with a link to the wizard; a filter hides it
    assert history.empty_html.layout.display == "" and 'href="wizard.ipynb"' in history.empty_html.value
    history.search.value = "nothing"
    assert history.empty_html.layout.display == "none"
    assert history.prev_button.disabled and history.next_button.disabled


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_table_es_module_parses(tmp_path) -> None:
    source = Path(history_table.__file__).with_name("history_table.js")
    module = tmp_path / "history_table.mjs"  # node reads ES module syntax from .mjs files
    module.write_text(source.read_text())
    done = subprocess.run(["node", "--check", str(module)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
