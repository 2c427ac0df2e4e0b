"""Only `store/artifacts.py` spells an experiment folder's file names or the `experiments` folder.

An AST scan of the package: a string constant (docstrings aside) that holds an artifact's file name,
a checkpoint name, or that joins the ``experiments`` folder into a path, anywhere but in
`store/artifacts.py`, is a second owner of the folder's layout and fails the test.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import bearing_workbench
from bearing_workbench.store.artifacts import EXPERIMENTS_FOLDER, KINDS

PACKAGE = Path(bearing_workbench.__file__).parent
OWNER = PACKAGE / "store" / "artifacts.py"
# A file name counts wherever it stands in a string: "metrics.json", "experiment-3-metrics.json",
# "see training.log". Epoch checkpoints are spelled in pieces in f-strings, so any ".pt" file
# extension counts too.
_NAMES = re.compile(
    r"(?<![\w.])(?:" + "|".join(re.escape(kind.filename) for kind in KINDS) + r")(?![\w])"
    r"|\.pt(?![\w])"
)
# Calls that build paths: an "experiments" argument to one of them is a hand-built experiment folder.
_PATH_CALLS = {"Path", "PurePath", "joinpath", "join", "confined_path", "experiment_dir"}


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _is_folder_name(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == EXPERIMENTS_FOLDER


def offences(source: str, filename: str = "<source>") -> Iterator[tuple[int, str]]:
    """(line, what) of every spelling of the experiment folder's layout in `source`."""
    tree = ast.parse(source, filename)
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            found = _NAMES.search(node.value)
            if found:
                yield node.lineno, f"artifact name {found.group(0)!r} in {node.value!r}"
            if re.search(rf"(^|[/\\]){EXPERIMENTS_FOLDER}[/\\]", node.value):
                yield node.lineno, f"experiment folder path in {node.value!r}"
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            if _is_folder_name(node.left) or _is_folder_name(node.right):
                yield node.lineno, f"path joined with {EXPERIMENTS_FOLDER!r}"
        elif isinstance(node, ast.Call) and _call_name(node) in _PATH_CALLS:
            if any(_is_folder_name(arg) for arg in node.args):
                yield node.lineno, f"{_call_name(node)}(...) with {EXPERIMENTS_FOLDER!r}"


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p != OWNER)


def test_the_scan_covers_the_package() -> None:
    names = {p.relative_to(PACKAGE).as_posix() for p in _modules()}
    assert {"training/artifacts.py", "training/checkpoint.py", "runner/logs.py", "cli_runs.py"} <= names


@pytest.mark.parametrize("module", _modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_module_but_store_artifacts_spells_the_experiment_folder(module: Path) -> None:
    found = list(offences(module.read_text(encoding="utf-8"), str(module)))
    assert not found, "\n".join(
        f"{module.relative_to(PACKAGE)}:{line}: {what}; take the path from store.artifacts.ExperimentFolder"
        for line, what in found
    )


@pytest.mark.parametrize(
    "source",
    [
        'PATH = "metrics.json"',
        'def f(d):\n    return d / "model.onnx"',
        'name = f"experiment-{i}-predictions_test.csv"',
        'msg = "see training.log for details"',
        'def f(n):\n    return f"epoch-{n:04d}.pt"',
        'BEST = "best.pt"',
        'def f(ws):\n    return ws / "experiments" / "3"',
        'def f(ws):\n    return confined_path(ws, "experiments", "3")',
        'def f(ws):\n    return Path(ws, "experiments")',
        'def f(ws):\n    return f"{ws}/experiments/3"',
        'X = ("config.yaml", "history.json", "model_summary.json", "report.pdf")',
    ],
)
def test_the_scan_catches_each_spelling(source: str) -> None:
    assert list(offences(source)), source


@pytest.mark.parametrize(
    "source",
    [
        'def f():\n    """Reads metrics.json from the experiment folder."""',
        '__tablename__ = "experiments"',
        'manifest = {"experiments": [1, 2]}',
        'name = "metrics.jsonl"',
        'x = "torch.onnx"',
        'x = "script.ptx"',
    ],
)
def test_the_scan_lets_other_text_pass(source: str) -> None:
    assert not list(offences(source)), source
