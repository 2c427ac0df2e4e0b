"""The page kit without a browser: set traits, call handlers, read what would be drawn."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bearing_workbench.config import theme
from bearing_workbench.panels.kit import (
    BusyIndicator,
    ConfirmDialog,
    ErrorBox,
    MessageLine,
    Page,
    app_url,
    empty_state,
    fragments,
)
from bearing_workbench.panels.kit.anchor import kit_stylesheet

PACKAGE = Path(__file__).resolve().parents[2] / "bearing_workbench"
HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})(?![0-9a-zA-Z_])")
# Where colours may be written: the theme tokens and the kit.
THEME_FILES = {"config/theme.py"}
KIT_FOLDER = "panels/kit/"
# Pages not yet moved onto the kit (other slices of issue 13). This list only shrinks: a page leaves it
# when it takes its colours from the theme; the coordinator empties it when the last one has moved.
NOT_YET_MIGRATED: set[str] = set()


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


# -- theme -------------------------------------------------------------------------------------------


def test_the_class_palette_has_eleven_or_more_colours_all_distinct_to_the_eye():
    colours = theme.CLASS_PALETTE
    assert len(colours) >= 11 and len({c.lower() for c in colours}) == len(colours)
    for i, a in enumerate(colours):
        for b in colours[i + 1 :]:
            distance = sum((x - y) ** 2 for x, y in zip(_rgb(a), _rgb(b), strict=True)) ** 0.5
            assert distance > 60, f"{a} and {b} are too close to tell apart ({distance:.0f})"
    assert theme.palette(11) == list(colours[:11]) and theme.palette(13)[12] == colours[0]
    with pytest.raises(ValueError, match="non-negative"):
        theme.palette(-1)


def _contrast_on_white(colour: str) -> float:
    def channel(c: int) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(colour))
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05)


def test_status_and_text_colours_are_readable_on_white():
    # WCAG AA for normal text: a status word or badge must be readable
    for name, colour in [*theme.STATUS_COLORS.items(), *((k, theme.COLORS[k]) for k in ("muted", "link"))]:
        assert _contrast_on_white(colour) >= 4.5, f"{name} {colour}: {_contrast_on_white(colour):.2f}:1"


def test_every_status_has_a_colour_and_tokens_become_css_variables():
    from bearing_workbench.store import RunStatus

    assert {s.value for s in RunStatus} | {"lost"} == set(
        theme.STATUS_COLORS
    )  # lost: a failed run shown apart
    assert theme.status_color(RunStatus.FAILED) == theme.STATUS_COLORS["failed"]
    assert theme.status_color("nonsense") == theme.COLORS["muted"]
    css = theme.css_variables()
    assert "--bw-status-completed:" in css and "--bw-color-muted:" in css and "--bw-space-m:" in css
    with pytest.raises(KeyError, match="no colour token 'nope'"):
        theme.color("nope")
    # Every variable the kit's stylesheet uses is defined by the theme.
    used = set(re.findall(r"var\((--bw-[a-z0-9-]+)\)", kit_stylesheet()))
    defined = set(re.findall(r"(--bw-[a-z0-9-]+):", css))
    assert used and used <= defined, sorted(used - defined)


def test_no_hex_colour_outside_the_theme_and_the_kit():
    found = {}
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix not in {".py", ".js", ".css"}:
            continue
        rel = path.relative_to(PACKAGE).as_posix()
        if rel in THEME_FILES or rel.startswith(KIT_FOLDER) or rel in NOT_YET_MIGRATED:
            continue
        hits = HEX_COLOUR.findall(path.read_text(encoding="utf-8"))
        if hits:
            found[rel] = hits[:5]
    assert not found, f"hex colours outside the theme (use config.theme / panels.kit): {found}"
    still_there = {rel for rel in NOT_YET_MIGRATED if HEX_COLOUR.search((PACKAGE / rel).read_text())}
    assert still_there == NOT_YET_MIGRATED, (
        f"migrated, remove from NOT_YET_MIGRATED: {NOT_YET_MIGRATED - still_there}"
    )


def test_the_stylesheets_and_front_ends_ship_with_the_package():
    import fnmatch
    import tomllib

    package_data = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]

    def shipped(path: Path) -> bool:
        # a pattern is relative to its package's folder: "*.css" there, or "templates/*.css" above it
        for folder in path.parents:
            if folder == PACKAGE.parent:
                return False
            package = ".".join(folder.relative_to(PACKAGE.parent).parts)
            relative = path.relative_to(folder).as_posix()
            if any(fnmatch.fnmatch(relative, p) for p in package_data.get(package, [])):
                return True
        return False

    for path in [*PACKAGE.rglob("*.css"), *PACKAGE.rglob("*.js")]:
        assert shipped(path), f"{path} is not in package-data"


# -- app links ---------------------------------------------------------------------------------------


def test_app_url_builds_relative_and_absolute_links_and_escapes_text():
    assert app_url("results", experiment=12) == "results.ipynb?experiment=12"
    assert app_url("history") == "history.ipynb"
    assert app_url("wizard", family="ensemble", members=[2, 6]) == "wizard.ipynb?family=ensemble&members=2,6"
    assert app_url("wizard", family="a b&c=d") == "wizard.ipynb?family=a+b%26c%3Dd"
    assert app_url("wizard", clone=None) == "wizard.ipynb"
    absolute = app_url("monitor", base="http://127.0.0.1:8866/voila/render", experiment=3, token="t/k")
    assert absolute == "http://127.0.0.1:8866/voila/render/monitor.ipynb?experiment=3&token=t%2Fk"
    link = fragments.app_link("wizard", "clone <it>", clone=4, family="x&y")
    assert 'href="wizard.ipynb?clone=4&amp;family=x%26y"' in link and "clone &lt;it&gt;" in link


@pytest.mark.parametrize(
    ("app", "params", "message"),
    [
        ("nope", {}, "app must be one of wizard, monitor, results, history, got 'nope'"),
        ("results.ipynb", {}, "app must be one of"),
        ("results", {"experimnt": 3}, "unknown parameter 'experimnt'"),
        ("results", {"experiment": True}, "experiment must be a number"),
        ("wizard", {"members": [1, "2"]}, "members must list integer ids"),
    ],
)
def test_app_url_refuses_an_unknown_app_or_parameter(app, params, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        app_url(app, **params)


# -- components --------------------------------------------------------------------------------------


def test_confirm_dialog_acts_once_on_confirm_and_never_on_cancel():
    acted, cancelled = [], []
    dialog = ConfirmDialog()
    assert dialog.layout.display == "none" and not dialog.asking
    assert not dialog.confirm()  # nothing asked: a stray click does nothing
    dialog.ask("Delete <3>?", lambda: acted.append(1), confirm_label="Yes, delete")
    assert dialog.asking and dialog.layout.display == ""
    assert (
        dialog.confirm_button.description == "Yes, delete"
        and "Delete &lt;3&gt;?" in dialog.question_html.value
    )
    dialog.confirm_button.click()
    dialog.confirm_button.click()  # a double click acts once
    assert acted == [1] and not dialog.asking and dialog.layout.display == "none"

    dialog.ask("Stop?", lambda: acted.append(2), on_cancel=lambda: cancelled.append(1), danger=False)
    assert dialog.confirm_button.button_style == "primary"
    dialog.cancel_button.click()
    assert acted == [1] and cancelled == [1] and not dialog.asking
    assert not dialog.confirm() and acted == [1]  # the cancelled question is gone

    dialog.ask("Again?", lambda: acted.append(3))
    dialog.dismiss()
    assert not dialog.asking and not dialog.confirm() and acted == [1]


def test_busy_indicator_shows_a_message_and_a_bar_only_when_the_share_is_known():
    busy = BusyIndicator()
    assert not busy.busy and busy.layout.display == "none"
    busy.start("loading the figures <now>")
    assert busy.busy and busy.layout.display == "" and busy.bar.layout.display == "none"
    assert "loading the figures &lt;now&gt;" in busy.message_html.value
    busy.update(progress=0.4)
    assert busy.bar.layout.display == "" and busy.bar.value == pytest.approx(0.4)
    busy.update(message="almost", progress=1.7)
    assert busy.bar.value == 1.0 and "almost" in busy.message_html.value
    busy.stop()
    assert not busy.busy and busy.layout.display == "none" and busy.message == ""
    with pytest.raises(RuntimeError), busy.working("working"):
        assert busy.busy and busy.message == "working"
        raise RuntimeError("boom")
    assert not busy.busy  # hidden again although the block raised


def test_error_box_message_line_and_empty_state():
    box = ErrorBox()
    assert box.layout.display == "none"
    box.show_error("CUDA <out> of memory", "lower the batch size")
    assert box.layout.display == "" and (box.error, box.hint) == (
        "CUDA <out> of memory",
        "lower the batch size",
    )
    assert "CUDA &lt;out&gt; of memory" in box.value and "<b>Hint:</b> lower the batch size" in box.value
    box.show_error("no hint")
    assert "Hint" not in box.value
    box.clear()
    assert box.layout.display == "none" and box.error is None and box.value == ""

    line = MessageLine()
    line.say("nothing deleted: locked", "error")
    assert "bw-error" in line.value and line.tone == "error"
    with pytest.raises(ValueError, match="tone must be one of"):
        line.say("x", "loud")
    assert line.text == "nothing deleted: locked"  # a bad call changes nothing
    line.say("")
    assert line.value == ""

    empty = empty_state()
    assert (
        "no experiments yet" in empty.value
        and 'href="wizard.ipynb"' in empty.value
        and "start one" in empty.value
    )


def test_fragments_escape_text_and_colour_statuses():
    card = fragments.metric_card(
        "val <acc>", "91 %", note="epoch 3", trend="up", improved=True, key="val_acc"
    )
    assert (
        'data-key="val_acc"' in card and "val &lt;acc&gt;" in card and "bw-good" in card and "&#9650;" in card
    )
    assert "bw-bad" in fragments.metric_card("loss", "1", trend="down", improved=False)
    badge = fragments.status_badge("failed")
    assert theme.STATUS_COLORS["failed"] in badge and ">failed<" in badge
    assert "<b>Failed:</b> x &amp; y" in fragments.error_box("x & y")


# -- page --------------------------------------------------------------------------------------------


class _Results(Page):
    app = "results"

    def __init__(self) -> None:
        super().__init__("Results of <#3>", notifications=False)
        self.refreshed = 0
        self.body_html = fragments.esc("body")
        import ipywidgets as widgets

        self.inner = widgets.HTML("before")
        self.set_body([widgets.VBox([self.inner])])

    def app_params(self) -> dict[str, object]:
        return {"experiment": 3}

    def refresh_view(self) -> None:
        self.refreshed += 1
        self.inner.value = "up to date"


def test_a_page_has_title_header_url_and_resends_its_state_when_a_front_end_attaches():
    page = _Results()
    try:
        untitled = Page(notifications=False)
        assert page.url == "results.ipynb?experiment=3" and untitled.url is None
        assert untitled.title_html.layout.display == "none" and page.title_html.layout.display == ""
        untitled.close()
        assert page.page_title == "Results of <#3>" and "Results of &lt;#3&gt;" in page.title_html.value
        # notifications=False: no area above the anchor
        assert list(page.children[:4]) == [page.anchor, page.title_html, page.busy, page.error_box]
        assert page.message in page.children and page.inner in page.descendants()
        page.show_error("it broke", "try again")
        assert page.error_box.layout.display == "" and "try again" in page.error_box.value
        page.clear_error()
        page.tell("saved")
        assert page.message.text == "saved"

        sent = []
        original = type(page.inner).send_state

        def spy(widget, key=None):
            sent.append((widget, widget.value if widget is page.inner else None))
            return original(widget, key)

        type(page.inner).send_state = spy  # every HTML widget of the page
        try:
            page.anchor._on_browser_message(page.anchor, {"type": "connected"}, [])
        finally:
            type(page.inner).send_state = original
        assert page.connects == 1 and page.refreshed == 1
        # The state sent is the refreshed one, and every HTML widget of the page went again.
        assert (page.inner, "up to date") in sent and any(w is page.title_html for w, _ in sent)
        page.anchor._on_browser_message(page.anchor, {"type": "other"}, [])
        assert page.connects == 1
    finally:
        page.close()
    assert page.inner.comm is None and page.anchor.comm is None
