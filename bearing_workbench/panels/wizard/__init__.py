"""The configuration wizard (`ConfigWizard`), one module per step and per part of a step."""

from __future__ import annotations

from bearing_workbench.panels.wizard.launch import LAUNCHED_NOTE
from bearing_workbench.panels.wizard.panel import ConfigWizard

__all__ = ["LAUNCHED_NOTE", "ConfigWizard"]
