"""The workbench's look as named tokens: colours, spacing, font sizes, status colours, palettes.

Every colour the pages, the PDF report and the static figures show is named here, and nowhere else
(``tests/panels/test_kit.py`` fails on a hex literal outside this module and ``panels/kit``). The
tokens live in the configuration layer, not in ``panels/kit``, because the PDF report
(``analysis/report.py``) and matplotlib figures need them too, and the layer contract forbids
``analysis`` to import ``panels``; this module imports nothing but the standard library, so every
layer can read it. ``panels.kit`` re-exports it for the pages.

Colour choice: a neutral grey scale for text and lines, one blue for links and actions, and the
status colours below, which keep at least 4.5:1 contrast against white so a status text or badge is
readable. `CLASS_PALETTE` is Tableau 10 plus a navy and a deep green: 12 distinguishable colours, enough for
the 11 fault classes without repeating one (ROC curves, per-class bars).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from bearing_workbench.config.arguments import NonNegativeInt, checked


def _frozen(values: dict[str, str]) -> Mapping[str, str]:
    return MappingProxyType(values)


# -- colours -----------------------------------------------------------------------------------------

COLORS: Final[Mapping[str, str]] = _frozen(
    {
        "text": "#111827",  # body text
        "muted": "#6b7280",  # secondary text, labels, "no data yet"
        "faint": "#9aa5b1",  # disabled links, follow-mode hints
        "border": "#d1d5db",  # card and box borders
        "rule": "#e5e7eb",  # table row lines
        "surface": "#ffffff",  # page and card background
        "surface_alt": "#f3f4f6",  # table headers
        "code_bg": "#f9fafb",  # log and code blocks
        "link": "#1565c0",  # links and the sorted column
        "on_accent": "#ffffff",  # text on a coloured badge or button
        "success": "#2e7d32",
        "success_bg": "#e8f5e9",
        "danger": "#c62828",
        "danger_bg": "#fdecea",
        "warning": "#8a5a00",  # warning text (amber, dark enough to read)
        "warning_bg": "#fff8e1",
        "highlight_bg": "#fff3cd",  # a changed setting
        "selected_bg": "#e8f1fb",  # a selected table row
        "accent": "#1f4e79",  # report headings
    }
)

# One colour per run status (store.RunStatus values): badge, status text, toast stripe. Plus "lost": a
# failed run whose worker or scheduler stopped answering (retry resumes it), which pages show apart.
STATUS_COLORS: Final[Mapping[str, str]] = _frozen(
    {
        "pending": "#7b61b3",
        "running": "#1f6fb4",
        "paused": "#9c6700",
        "stopped": "#6b7280",
        "failed": "#c62828",
        "completed": "#2e7d32",
        "lost": "#be185d",
    }
)

# Qualitative palette for categories: fault classes, compared experiments. Tableau 10 + two more.
CLASS_PALETTE: Final[tuple[str, ...]] = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#00441b",
)

# The training curves: one hue per quantity; train solid, validation dotted.
CURVE_COLORS: Final[Mapping[str, str]] = _frozen({"loss": "#d95f02", "accuracy": "#1b9e77"})

# -- spacing and type ---------------------------------------------------------------------------------

SPACING: Final[Mapping[str, str]] = _frozen({"xs": "2px", "s": "4px", "m": "8px", "l": "12px", "xl": "20px"})
FONT_SIZES: Final[Mapping[str, str]] = _frozen(
    {"small": "12px", "label": "0.85em", "body": "13px", "value": "1.3em", "title": "1.35em"}
)
FONT_FAMILY: Final[str] = (
    '-apple-system, BlinkMacSystemFont, "Segoe UI", "DejaVu Sans", "Helvetica Neue", Arial, sans-serif'
)
RADIUS: Final[Mapping[str, str]] = _frozen({"s": "4px", "m": "6px", "pill": "10px"})


def color(name: str) -> str:
    """The colour token `name` (KeyError naming the known ones otherwise)."""
    try:
        return COLORS[name]
    except KeyError:
        raise KeyError(f"no colour token {name!r}; known: {', '.join(COLORS)}") from None


def status_color(status: object) -> str:
    """The colour of a run status (a `RunStatus` or its value); muted grey for an unknown one."""
    return STATUS_COLORS.get(str(getattr(status, "value", status)), COLORS["muted"])


@checked
def palette(n: NonNegativeInt) -> list[str]:
    """`n` category colours: distinct up to ``len(CLASS_PALETTE)``, then repeating."""
    return [CLASS_PALETTE[i % len(CLASS_PALETTE)] for i in range(n)]


def css_variables(selector: str = ":root") -> str:
    """The tokens as CSS custom properties (``--bw-color-muted``...) for the package's stylesheets."""
    lines = [f"--bw-color-{k.replace('_', '-')}: {v};" for k, v in COLORS.items()]
    lines += [f"--bw-status-{k}: {v};" for k, v in STATUS_COLORS.items()]
    lines += [f"--bw-space-{k}: {v};" for k, v in SPACING.items()]
    lines += [f"--bw-font-{k}: {v};" for k, v in FONT_SIZES.items()]
    lines += [f"--bw-radius-{k}: {v};" for k, v in RADIUS.items()]
    lines.append(f"--bw-font-family: {FONT_FAMILY};")
    return f"{selector} {{\n  " + "\n  ".join(lines) + "\n}\n"
