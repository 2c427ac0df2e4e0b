"""Classes of another dataset matched to a stored model's by name, after the user's renames; refusals
name both lists. Pure functions: no model, no store."""

from __future__ import annotations

import numpy as np
import pytest

from bearing_workbench.training.cross_evaluation import match_classes, parse_classes_map
from bearing_workbench.training.sources import PredictionInputError, SignalSource

MODEL = ("healthy", "imbalance", "misalignment")


def _source(labels: tuple[str, ...] | None) -> SignalSource:
    n = 4 if labels is None else len(labels)
    return SignalSource(
        signals=np.zeros((n, 8), np.float32),
        fs=1000.0,
        record_ids=tuple(f"r{i}" for i in range(n)),
        labels=labels,
        name="plant-a",
    )


def test_a_map_is_parsed_from_text_or_taken_as_a_dict() -> None:
    assert parse_classes_map(None) == {} == parse_classes_map("")
    assert parse_classes_map(" ok = healthy , unbal=imbalance,") == {"ok": "healthy", "unbal": "imbalance"}
    assert parse_classes_map({"ok": "healthy"}) == {"ok": "healthy"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("ok", "expected DATASET_CLASS=MODEL_CLASS pairs separated by commas, got 'ok'"),
        ("a=b=c", "expected DATASET_CLASS=MODEL_CLASS pairs separated by commas, got 'a=b=c'"),
        ("ok=", "a class name is empty in ok=?"),
        ("ok=healthy,ok=imbalance", "'ok' is mapped twice"),
    ],
)
def test_a_malformed_map_is_refused_naming_the_flag(text: str, problem: str) -> None:
    with pytest.raises(PredictionInputError) as caught:
        parse_classes_map(text)
    assert caught.value.message("cli") == f"--classes-map: {problem}"
    assert str(caught.value) == f"classes_map=: {problem}"


def test_renamed_classes_match_and_the_missing_ones_are_named() -> None:
    source, absent = match_classes(
        _source(("ok", "unbal", "ok", "unbal")), MODEL, {"ok": "healthy", "unbal": "imbalance"}, 3
    )
    assert source.labels == ("healthy", "imbalance", "healthy", "imbalance")
    assert absent == ("misalignment",)
    assert source.record_ids == ("r0", "r1", "r2", "r3")  # nothing else changed


def test_classes_the_model_does_not_know_are_refused_with_both_lists() -> None:
    with pytest.raises(PredictionInputError) as caught:
        match_classes(_source(("ok", "cavitation", "imbalance")), MODEL, {}, 3)
    assert str(caught.value) == (
        "plant-a has classes that experiment 3 does not know: ok, cavitation; the dataset's classes: "
        "ok, cavitation, imbalance; the model's: healthy, imbalance, misalignment "
        "(rename them with --classes-map DATASET_CLASS=MODEL_CLASS,...)"
    )


def test_a_map_naming_classes_that_are_not_there_is_refused() -> None:
    with pytest.raises(
        PredictionInputError, match=r"classes_map=: okay not among the classes of plant-a \(ok\)"
    ):
        match_classes(_source(("ok",)), MODEL, {"okay": "healthy"}, 3)
    with pytest.raises(
        PredictionInputError, match=r"classes_map=: fine not among the classes of experiment 3 \("
    ):
        match_classes(_source(("ok",)), MODEL, {"ok": "fine"}, 3)


def test_a_source_without_labels_cannot_be_evaluated() -> None:
    with pytest.raises(PredictionInputError, match="plant-a has no labels; an evaluation compares"):
        match_classes(_source(None), MODEL, {}, 3)
