"""Names made for the user: experiment names, file stems and preset identifiers derived from them."""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_NAME_LENGTH = 200  # ExperimentConfig.name
MAX_STEM_LENGTH = 64
PRESET_NAME_LENGTH = 64  # presets.py accepts identifiers of at most 64 characters

_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_NON_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]+")


def auto_experiment_name(family: str, setting: str, dataset: str, taken: Iterable[str] = ()) -> str:
    """``<family>-<setting>-<dataset>``, with ``-2``, ``-3``... appended until no name in `taken` matches.

    Args:
        setting: the preset name, or e.g. ``"custom"`` for an expert-mode config.
        dataset: a dataset name or path (only its file stem is used).
    """
    dataset_part = re.split(r"[\\/]", dataset.strip())[-1].removesuffix(".h5")
    base = "-".join(_words(part) for part in (family, setting, dataset_part) if part.strip())
    base = base[: MAX_NAME_LENGTH - 4] or "experiment"
    used = set(taken)
    if base not in used:
        return base
    number = 2
    while f"{base}-{number}" in used:
        number += 1
    return f"{base}-{number}"


def file_stem(name: str) -> str:
    """A file name stem for `name`: letters, digits, ``.``, ``_`` and ``-`` only, never empty or hidden."""
    stem = _UNSAFE_FILE_CHARS.sub("_", name.strip()).strip("._-")[:MAX_STEM_LENGTH].strip("._-")
    return stem or "config"


def preset_identifier(name: str) -> str:
    """A valid user-preset name for `name` (a simple identifier: letters, digits and ``_``)."""
    ident = _NON_IDENTIFIER.sub("_", name.strip()).strip("_")
    if not ident:
        return "my_preset"
    if ident[0].isdigit():
        ident = f"p_{ident}"
    return ident[:PRESET_NAME_LENGTH]


def _words(text: str) -> str:
    return re.sub(r"\s+", "_", text.strip())
