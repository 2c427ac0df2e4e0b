"""The errors a user's data file or a loader's option gets, each naming what the user typed.

A message that is about an option (``fs``, ``labels``, ``labels_key``...) carries it in `option`
and writes ``{option}`` where the option is named: Python renders it as an argument (``fs=``),
the command line as its flag (``--fs``). ``{option=}`` is the option before a value (``fs=20000``,
``--fs 20000``); ``{option:NAME}`` and ``{option:NAME=}`` name another option the same way.
`str(error)` is the Python rendering.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import numpy as np

from bearing_workbench.config.arguments import ArgumentError

from ..dataset_file import DatasetFileError

OBJECTS = "contains Python objects; save plain numeric arrays"
_PLACEHOLDER = re.compile(r"\{option(?::(\w+))?(=?)\}")
Style = Literal["python", "cli"]

# option: (as a Python call writes it, as the command line writes it)
OPTIONS: dict[str, tuple[str, str]] = {
    "fs": ("fs=", "--fs"),
    "labels": ("labels=", "--labels"),
    "allow_new_classes": ("allow_new_classes=True", "--allow-new-classes"),
    "overwrite": ("overwrite=True", "--overwrite"),
    "split_fractions": ("split_fractions=", "--split"),
    "split_seed": ("split_seed=", "--seed"),
    "signals_key": ("signals_key=", "--signals-key"),
    "labels_key": ("labels_key=", "--labels-key"),
    "fs_key": ("fs_key=", "--fs-key"),
}


def spell(option: str, style: Style = "python") -> str:
    """How `option` is written in a call (``fs=``) or on the command line (``--fs``)."""
    python, cli = OPTIONS.get(option, (f"{option}=", "--" + option.replace("_", "-")))
    return cli if style == "cli" else python


def option_name(option: str, style: Style = "python") -> str:
    """`option` as the subject of a message: ``fs`` in Python, ``--fs`` on the command line."""
    return spell(option, "cli") if style == "cli" else option


def shown(value: Any, limit: int = 5) -> str:
    """A value as the user wrote it: plain Python numbers and lists, never ``np.int64(-1)``."""
    if isinstance(value, np.ndarray):
        items = value.ravel().tolist()
        text = ", ".join(shown(v) for v in items[:limit])
        more = f", ... ({len(items)} values)" if len(items) > limit else ""
        return f"[{text}{more}]" if value.ndim else text
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, list | tuple):
        more = ", ..." if len(value) > limit else ""
        return "[" + ", ".join(shown(v) for v in value[:limit]) + more + "]"
    return repr(value)


class DataFileError(DatasetFileError):
    """A user's data file cannot be loaded; the message is ``<file name>: <problem>``.

    Args:
        option: the loader option the problem concerns (a key of `OPTIONS`), or None.
    """

    def __init__(self, path: Any, problem: str, option: str | None = None):
        self.option = option
        self.template = problem
        super().__init__(path, _render(problem, option, "python"))

    def message(self, style: Style = "python") -> str:
        """The whole message with the option written for `style` (``python`` or ``cli``)."""
        return f"{self.path.name}: {_render(self.template, self.option, style)}"


class OptionError(ArgumentError):
    """A loader option has a bad value (before any file is read); the message starts with its name."""

    def __init__(self, option: str, problem: str):
        self.option = option
        self.problem = problem
        super().__init__(f"{option_name(option)}: {_render(problem, option, 'python')}")

    def message(self, style: Style = "python") -> str:
        return f"{option_name(self.option, style)}: {_render(self.problem, self.option, style)}"


def message_for(error: BaseException, style: Style) -> str:
    """Any error's one-line message, options written for `style` where the error knows them."""
    render = getattr(error, "message", None)
    return render(style) if callable(render) else str(error)


def _render(problem: str, option: str | None, style: Style) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1) or option
        if name is None:
            return match.group(0)
        if match.group(2):  # a value follows
            return f"{spell(name, 'cli')} " if style == "cli" else f"{name}="
        return spell(name, style)

    return _PLACEHOLDER.sub(one, problem)
