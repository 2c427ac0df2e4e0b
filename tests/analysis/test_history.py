"""history_rows / history_csv: store rows and message dicts alike, extra columns, bad rows named."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from bearing_workbench.analysis.history import HISTORY_COLUMNS, history_csv, history_rows
from bearing_workbench.store import EpochRecord


def record(epoch: int, **extra) -> EpochRecord:
    return EpochRecord(
        experiment_id=1, epoch=epoch, train_loss=1.0 / epoch, train_acc=0.5, val_loss=float("nan"),
        val_acc=0.25 * epoch, lr=1e-3, seconds=2.0, extra=extra, created_at=datetime.now(UTC),
    )  # fmt: skip


def test_rows_from_records_and_dicts_sorted_with_extra_columns():
    rows = history_rows([record(2, physics_loss=0.5), {"epoch": 1, "train_loss": 3.0, "extra": {"val_x": 1}}])
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[0]["train_acc"] is None and rows[0]["val_x"] == 1
    assert rows[1]["val_loss"] is None  # NaN is not a number a spreadsheet can show
    assert rows[1]["physics_loss"] == 0.5


def test_a_repeated_epoch_keeps_its_last_row():
    rows = history_rows([{"epoch": 1, "train_loss": 2.0}, {"epoch": 1, "train_loss": 1.0}])
    assert rows == [{**dict.fromkeys(HISTORY_COLUMNS), "epoch": 1, "train_loss": 1.0}]


def test_csv_has_a_header_and_one_line_per_epoch():
    text = history_csv([record(1), record(2, physics_loss=0.25)])
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert list(parsed[0]) == [*HISTORY_COLUMNS, "physics_loss"]
    assert [r["epoch"] for r in parsed] == ["1", "2"]
    assert parsed[0]["val_loss"] == "" and parsed[0]["physics_loss"] == ""
    assert float(parsed[1]["val_acc"]) == 0.5 and float(parsed[1]["physics_loss"]) == 0.25
    assert history_csv([]) == ",".join(HISTORY_COLUMNS) + "\n"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"train_loss": 1.0}], "history row 0: epoch must be an integer"),
        ([3], "history row 0 must be a mapping"),
    ],
)
def test_bad_rows_are_named(rows, message):
    with pytest.raises((ValueError, TypeError), match=message):
        history_rows(rows)
