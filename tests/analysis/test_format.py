"""analysis.format: one way to write every number, duration, size, p-value and metric name."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bearing_workbench.analysis import format as fmt


def test_numbers_percentages_points_and_missing_values():
    assert fmt.percent(0.92345) == "92.3 %" and fmt.percent(1) == "100.0 %" and fmt.percent(0.5, 0) == "50 %"
    assert fmt.number(0.312745) == "0.3127" and fmt.significant(1e-5) == "1e-05"
    assert fmt.points(0.0123) == "+1.2 pts" and fmt.points(-0.617) == "-61.7 pts"
    for missing in (None, float("nan"), float("inf"), True, "0.5"):
        assert fmt.percent(missing) == fmt.number(missing) == fmt.points(missing) == fmt.NO_VALUE


def test_durations_sizes_dates_and_p_values():
    assert [fmt.duration(s) for s in (None, -1, 3.21, 42, 185, 7620)] == [
        "—", "0.0 s", "3.2 s", "42 s", "3 min 05 s", "2 h 07 min"]  # fmt: skip
    assert [fmt.size(b) for b in (None, 512, 3 * 2**20, 23.5 * 2**30, 3 * 2**40)] == [
        "—", "512 B", "3.0 MiB", "23.5 GiB", "3.0 TiB"]  # fmt: skip
    moment = datetime(2026, 3, 1, 14, 3, tzinfo=UTC)
    assert fmt.utc_time(moment) == fmt.utc_time(moment.replace(tzinfo=None)) == "2026-03-01 14:03 UTC"
    assert fmt.local_time(moment.timestamp()) == fmt.local_time(moment)
    assert (fmt.p_value(0.0321), fmt.p_value(1.0), fmt.p_value(1e-9)) == ("p = 0.032", "p = 1", "p < 0.001")


def test_metric_names_say_their_level_and_f1_is_one_thing():
    # Defect 4: the loop's window-level val accuracy and the evaluation's record-level one were both
    # "val accuracy".
    assert fmt.metric_name("val_acc") == "val accuracy (window level)"
    assert fmt.metric_name("val_accuracy") == "val accuracy (record level)"
    assert fmt.metric_name("accuracy") == "test accuracy (record level)"
    assert fmt.metric_name("window_accuracy") == "test accuracy (window level)"
    assert fmt.metric_name("val_acc", with_level=False) == "val accuracy"
    assert fmt.metric_name("macro_f1") == "macro-F1" and fmt.metric_name("some_new_key") == "some new key"
    # F1 is a score like accuracy: a percentage everywhere
    assert fmt.metric_value("macro_f1", 0.97564) == fmt.metric_value("accuracy", 0.97564) == "97.6 %"
    assert fmt.metric_value("val_loss", 0.123456) == "0.1235"
    assert fmt.metric_value("train_seconds", 185) == "3 min 05 s"
    assert fmt.metric_value("epochs_run", 12) == "12"


@pytest.mark.parametrize("key", ["accuracy", "val_accuracy", "val_acc", "train_acc", "window_accuracy"])
def test_every_accuracy_has_a_level(key):
    assert fmt.metric_level(key) in (fmt.WINDOW, fmt.RECORD) and "level)" in fmt.metric_name(key)
