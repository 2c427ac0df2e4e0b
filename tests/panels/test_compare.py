"""CompareView driven in Python: tables, curves, settings toggle, McNemar's conclusions, save."""

from __future__ import annotations

import re

import pytest

from bearing_workbench.analysis import format as fmt
from bearing_workbench.analysis.comparison import ComparisonError
from bearing_workbench.panels import CompareView
from bearing_workbench.panels.compare import METRIC_COLUMNS
from bearing_workbench.panels.history_table import COLUMNS, table_row
from bearing_workbench.store import Store

from .history_runs import completed_run, config_of, pattern


@pytest.fixture
def trio(fresh_store: Store) -> tuple[Store, dict[str, int]]:
    a, b = pattern(both_right=20, both_wrong=5, only_a=12, only_b=3)
    ids = {
        "cnn": completed_run(fresh_store, "cnn", "cnn1d", a, epochs=3, config=config_of("cnn1d", filters=32)),
        "cnn wide": completed_run(
            fresh_store, "cnn wide", "cnn1d", b, epochs=2, config=config_of("cnn1d", filters=64)
        ),
        "forest": completed_run(fresh_store, "forest", "classical", b),
    }
    return fresh_store, ids


def test_compare_view_shows_metrics_curves_settings_and_tests(trio) -> None:
    store, ids = trio
    view = CompareView([ids["cnn"], ids["cnn wide"], ids["forest"]], store=store)
    assert view.experiment_ids == [ids["cnn"], ids["cnn wide"], ids["forest"]]
    assert view.winner_id == ids["cnn"]  # 32/40 right against 23/40
    assert f"Suggested: #{ids['cnn']} cnn" in view.winner_html.value
    # the best accuracy, precision and recall (80.0 %, the same here) are bold; the others are not
    assert view.metrics_html.value.count("<b>80.0 %</b>") == 3
    assert "57.5 %" in view.metrics_html.value and "<b>57.5 %</b>" not in view.metrics_html.value
    # curves: val accuracy and val loss per experiment with epochs; the classical one has none
    names = [trace.name for trace in view.figure.data]
    assert names == [f"#{ids['cnn']} cnn"] * 2 + [f"#{ids['cnn wide']} cnn wide"] * 2
    assert list(view.figure.data[0].y) == pytest.approx([0.6, 0.7, 0.8])
    assert f"no training curves for #{ids['forest']} forest" in view.curves_note.value
    # whole epochs on the x axes (3 epochs drew ticks at 1, 1.5, 2...), accuracy in percent
    assert (view.figure.layout.xaxis.dtick, view.figure.layout.xaxis.tickformat) == (1, "d")
    assert view.figure.layout.xaxis2.dtick == 1 and view.figure.layout.yaxis.tickformat == ".0%"
    # a classical run has no epochs: a dash, not "0"
    forest_row = re.search(rf"<tr[^>]*><td>[^<]*<span[^>]*>[^<]*</span> #{ids['forest']}</td>(.*?)</tr>",
                           view.metrics_html.value)  # fmt: skip
    epochs_column = 3 + [label for _, label, _ in METRIC_COLUMNS].index("epochs")
    assert re.findall(r"<td>(.*?)</td>", forest_row.group(0))[epochs_column] == "\u2014"
    # settings: only the differing rows, highlighted; the toggle shows the unchanged ones too
    changed = view.settings_html.value
    assert "model.params.filters" in changed and "model.family" in changed
    assert "training.learning_rate" not in changed
    assert "data-changed='false'" not in changed
    view.only_changed.value = False
    everything = view.settings_html.value
    assert "training.learning_rate" in everything and "data-changed='false'" in everything
    assert len(re.findall("class=.bw-changed.", everything)) == len(
        re.findall("data-changed='true'", everything)
    )
    # McNemar: cnn against cnn wide has the known counts and conclusion
    table = view.mcnemar_html.value
    assert f"#{ids['cnn']} vs #{ids['cnn wide']}" in table
    assert "is right on 12 records where" in table and "p = 0.035" in table
    assert "the difference is significant at 5 %" in table


def test_compare_view_without_curves_and_save(trio) -> None:
    store, ids = trio
    other = completed_run(store, "svm", "classical", [True] * 30 + [False] * 10)
    view = CompareView([ids["forest"], other], store=store)
    assert view.figure is None
    assert "not significant" in view.mcnemar_html.value
    saved = view.save("forest vs svm")
    assert saved is not None and view.notice == f"saved as comparison {saved}"
    record = store.get_comparison(saved)
    assert record.experiment_ids == [ids["forest"], other]
    assert record.result["winner"]["experiment_id"] == view.winner_id
    assert view.save("  ") is None and "not saved" in view.notice


def test_compare_view_refuses_what_cannot_be_compared(trio) -> None:
    store, ids = trio
    with pytest.raises(ComparisonError, match="got 1"):
        CompareView([ids["cnn"]], store=store)
    pending = store.create_experiment("later", "cnn1d", {})
    with pytest.raises(ComparisonError, match=rf"{pending}: not completed \(pending\)"):
        CompareView([ids["cnn"], pending], store=store)


def test_compare_view_says_what_it_left_out_and_why(trio) -> None:
    """Defect 7: a stopped run in the selection no longer makes the compare refuse; the view compares the
    others and says, above the tables and once, which run it left out and why."""
    store, ids = trio
    stopped = store.create_experiment("stopped early", "cnn1d", {})
    store.transition(stopped, "start")
    store.transition(stopped, "stop")
    view = CompareView([ids["cnn"], stopped, ids["forest"]], store=store)
    assert view.experiment_ids == [ids["cnn"], ids["forest"]]
    said = f"left out: #{stopped}, not completed (stopped)"
    assert said in view.left_out_html.value and "bw-warning" in view.left_out_html.value
    shown = list(view.children)
    assert shown.index(view.left_out_html) < shown.index(view.winner_html) < shown.index(view.notes_html)
    assert said not in view.notes_html.value  # said once, not again in the notes
    assert said in view.comparison.notes  # the saved comparison keeps it
    full = CompareView([ids["cnn"], ids["forest"]], store=store)
    assert full.left_out_html.value == "" and "left out" not in full.notes_html.value


def test_a_metric_reads_the_same_in_compare_and_in_history(trio) -> None:
    """History showed "100.0 %" where compare showed "100.00 %": both now write through analysis.format."""
    store, ids = trio
    view = CompareView([ids["cnn"], ids["forest"]], store=store)
    for experiment_id in (ids["cnn"], ids["forest"]):
        cells = table_row(store.get_experiment(experiment_id))["cells"]
        summary = view.comparison.experiment(experiment_id)
        for key in ("accuracy", "macro_f1"):
            text = cells[f"metrics.{key}"]
            assert text == fmt.percent(getattr(summary, key)) and text != fmt.NO_VALUE
            assert (
                f"<td>{text}</td>" in view.metrics_html.value
                or f"<td><b>{text}</b></td>" in view.metrics_html.value
            )
    labels = dict((key, label) for key, label, _ in METRIC_COLUMNS)
    history_labels = {key: label for key, label, _ in COLUMNS}
    assert labels["accuracy"] == history_labels["metrics.accuracy"] == "test accuracy (record level)"
