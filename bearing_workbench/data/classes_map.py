"""The classes map of a cross-dataset evaluation: which class of the model each of a dataset's class
names stands for, written ``"cavitation=cav, loose=looseness"`` (dataset class = model class).

One parser for every place a person types it (the CLI's ``--classes-map``, the results page's field,
Python), so that the same text means the same map and a mistake gets the same message everywhere.
"""

from __future__ import annotations

EXAMPLE = "a=b, c=d"


def parse_classes_map(text: str | None, field: str = "classes map") -> dict[str, str]:
    """``"a=b, c=d"`` -> ``{"a": "b", "c": "d"}``: dataset class name = model class name, pairs
    separated by commas; spaces around names are dropped. Empty text (or None) is the empty map.

    Args:
        field: what the message calls the text (``"--classes-map"`` for the CLI).

    Raises:
        ValueError: one line naming `field`, the bad pair and what is expected (a pair without ``=``,
            an empty name, a dataset class given twice).
    """
    if text is None or not text.strip():
        return {}
    mapping: dict[str, str] = {}
    for pair in text.split(","):
        if not pair.strip():
            raise ValueError(
                f"{field}: an empty pair in {text.strip()!r}; expected pairs like {EXAMPLE!r} "
                "separated by single commas"
            )
        source, sep, target = (part.strip() for part in pair.partition("="))
        if not sep or not source or not target or "=" in target:
            raise ValueError(
                f"{field}: {pair.strip()!r} is not a pair DATASET_CLASS=MODEL_CLASS; "
                f"expected e.g. {EXAMPLE!r}"
            )
        if source in mapping:
            raise ValueError(f"{field}: dataset class {source!r} is mapped twice ({text.strip()!r})")
        mapping[source] = target
    return mapping

