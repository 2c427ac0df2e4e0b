"""The classes map's text form: what it reads, and the one-line messages for what it refuses."""

from __future__ import annotations

import pytest

from bearing_workbench.data.classes_map import parse_classes_map


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {}),
        (None, {}),
        ("   ", {}),
        ("a=b", {"a": "b"}),
        (" cavitation = cav ,loose=looseness ", {"cavitation": "cav", "loose": "looseness"}),
        ("oil whirl=whirl", {"oil whirl": "whirl"}),
        ("a=c, b=c", {"a": "c", "b": "c"}),  # two dataset classes may stand for one model class
    ],
)
def test_reads_pairs(text: str | None, expected: dict[str, str]) -> None:
    assert parse_classes_map(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("a", "'a' is not a pair DATASET_CLASS=MODEL_CLASS"),
        ("a=b, c", "'c' is not a pair"),
        ("=b", "'=b' is not a pair"),
        ("a=", "'a=' is not a pair"),
        ("a=b=c", "'a=b=c' is not a pair"),
        ("a=b,,c=d", "an empty pair"),
        ("a=b,", "an empty pair"),
        ("a=b, a=c", "dataset class 'a' is mapped twice"),
    ],
)
def test_refuses_with_a_message_naming_the_field(text: str, says: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_classes_map(text, field="--classes-map")
    message = str(caught.value)
    assert message.startswith("--classes-map: ") and says in message and "\n" not in message


def test_the_field_is_named_classes_map_by_default() -> None:
    with pytest.raises(ValueError, match=r"^classes map: "):
        parse_classes_map("a")
