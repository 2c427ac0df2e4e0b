"""Notebooks and dashboards use only the public API: a name a package exports (its ``__all__``, the
lazy exports included), never a module inside a layer, which may move or split without notice."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "bearing_workbench"
# The packages whose exports are the public API: the top level and each layer package with an __all__.
PUBLIC_PACKAGES = (
    "bearing_workbench",
    "bearing_workbench.config",
    "bearing_workbench.store",
    "bearing_workbench.data",
    "bearing_workbench.features",
    "bearing_workbench.models",
    "bearing_workbench.runner",
    "bearing_workbench.panels",
)
# The Voilà apps start from serve's entry points, one per app notebook (`serve.apps`).
APP_ENTRY_MODULE = "bearing_workbench.serve.apps"


def notebooks() -> list[Path]:
    return sorted([*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("dashboards/*.ipynb")])


def public_names(module: str) -> set[str]:
    return set(importlib.import_module(module).__all__)


def allowed() -> dict[str, set[str]]:
    surface = {name: public_names(name) for name in PUBLIC_PACKAGES}
    apps = importlib.import_module(APP_ENTRY_MODULE)
    surface[APP_ENTRY_MODULE] = {name for name in dir(apps) if name.endswith("_app")}
    return surface


def imports_of(source: str) -> list[tuple[str, list[str]]]:
    """(module, names) of every import of the package in a code cell; names empty for `import x`."""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    found = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == PACKAGE:
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names if alias.name.split(".")[0] == PACKAGE]
    return found


def beyond_the_public_api(path: Path, surface: dict[str, set[str]]) -> list[str]:
    problems = []
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type != "code":
            continue
        for module, names in imports_of(cell.source):
            where = f"{path.parent.name}/{path.name} cell {index}"
            if module == APP_ENTRY_MODULE and path.parent.name != "dashboards":
                problems.append(f"{where}: {module} is for the Voilà apps in dashboards/")
            elif module not in surface:
                problems.append(f"{where}: imports internal module {module}")
            else:
                problems += [
                    f"{where}: {module} does not export {n}" for n in names if n not in surface[module]
                ]
    return problems


def test_there_are_notebooks_to_check() -> None:
    names = {p.name for p in notebooks()}
    assert {"getting_started.ipynb", "wizard.ipynb"} <= names


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebooks_import_only_the_public_api(path: Path) -> None:
    assert beyond_the_public_api(path, allowed()) == []


def test_an_internal_import_is_found(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "%matplotlib inline\nif True:\n    from bearing_workbench.training.experiment import x"
        ),
        nbformat.v4.new_code_cell(
            "import bearing_workbench.store.store\nfrom bearing_workbench import NoSuchName"
        ),
        nbformat.v4.new_code_cell("from bearing_workbench.serve.apps import wizard_app"),
        nbformat.v4.new_code_cell(
            "from bearing_workbench import Store\nfrom bearing_workbench.runner import submit"
        ),
    ]
    path = tmp_path / "notebooks" / "probe.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    problems = beyond_the_public_api(path, allowed())
    assert problems == [
        "notebooks/probe.ipynb cell 0: imports internal module bearing_workbench.training.experiment",
        "notebooks/probe.ipynb cell 1: imports internal module bearing_workbench.store.store",
        "notebooks/probe.ipynb cell 1: bearing_workbench does not export NoSuchName",
        "notebooks/probe.ipynb cell 2: bearing_workbench.serve.apps is for the Voilà apps in dashboards/",
    ]
