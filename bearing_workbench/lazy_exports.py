"""Package attributes loaded on first use (PEP 562), so that importing a package stays fast.

    __getattr__, __dir__ = lazy_exports(__name__, {"submit": "bearing_workbench.runner.launch"})

A name is imported from its module the first time it is read and then kept in the package's
namespace. The module holding a name must not share the name (``runner/submit.py`` defining
``submit``): importing such a submodule binds the package attribute to the module itself.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level ``__getattr__`` and ``__dir__`` of `package` for `exports` (name -> module)."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
