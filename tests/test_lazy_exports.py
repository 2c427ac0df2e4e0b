"""Lazy package exports: importing stays light, and every exported name is the object it names."""

from __future__ import annotations

import importlib
import subprocess
import sys
import types

import pytest

PACKAGES = [
    "bearing_workbench",
    "bearing_workbench.runner",
    "bearing_workbench.panels",
    "bearing_workbench.data",
]


def test_importing_the_packages_loads_no_heavy_library():
    code = (
        "import sys, bearing_workbench, bearing_workbench.runner, bearing_workbench.panels\n"
        "heavy = ('torch', 'dask', 'distributed', 'ipywidgets', 'plotly')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("package", PACKAGES)
def test_every_export_is_the_named_object_even_after_its_module_was_imported(package):
    """A module named like its export (runner/submit.py defining submit) would shadow it: never a module."""
    exports = importlib.import_module(package)._EXPORTS
    for module in set(exports.values()):
        importlib.import_module(module)  # as other code may have done first
    pkg = importlib.import_module(package)
    for name, module in exports.items():
        value = getattr(pkg, name)
        assert not isinstance(value, types.ModuleType), f"{package}.{name} is a module"
        assert value is getattr(importlib.import_module(module), name)
        assert name in dir(pkg)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        pkg.no_such_name  # noqa: B018
