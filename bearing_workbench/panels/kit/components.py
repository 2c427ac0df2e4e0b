"""The kit's widgets: confirm dialog, busy indicator, error box, message line, empty state, metric cards.

Each is a plain ipywidgets container whose state is traitlets, so a test sets them and calls the
handlers without a browser. They look the same in JupyterLab and Voilà: their HTML is styled by
``kit.css``, which every `Page` loads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets
import traitlets

from bearing_workbench.panels.kit import fragments

_HIDDEN = "none"


def show(widget: widgets.Widget, visible: bool) -> None:
    """Show or hide `widget` (its layout's display)."""
    widget.layout.display = "" if visible else _HIDDEN


class ConfirmDialog(widgets.HBox):
    """A question with a confirm and a cancel button, hidden until `ask`.

    ``dialog.ask("Delete 3 experiments?", on_confirm=delete, confirm_label="Yes, delete")`` shows it;
    the confirm button (or `confirm()`) hides it and calls `on_confirm` once; cancel (or `cancel()`)
    hides it and calls `on_cancel`. A click on a dialog not asking anything does nothing, so a double
    click cannot act twice. `asking` is True while the question is shown.
    """

    asking = traitlets.Bool(False)
    question = traitlets.Unicode("")

    def __init__(self, **kwargs: Any):
        self.question_html = widgets.HTML()
        self.confirm_button = widgets.Button(description="Yes", button_style="danger")
        self.cancel_button = widgets.Button(description="Cancel")
        super().__init__([self.question_html, self.confirm_button, self.cancel_button], **kwargs)
        self.add_class("bw-confirm")
        self.layout.display = _HIDDEN
        self.layout.align_items = "center"
        self._on_confirm: Callable[[], Any] | None = None
        self._on_cancel: Callable[[], Any] | None = None
        self._lock = threading.Lock()
        self.confirm_button.on_click(lambda _: self.confirm())
        self.cancel_button.on_click(lambda _: self.cancel())

    def ask(
        self,
        question: str,
        on_confirm: Callable[[], Any],
        *,
        confirm_label: str = "Yes",
        on_cancel: Callable[[], Any] | None = None,
        danger: bool = True,
        question_html: str | None = None,
    ) -> None:
        """Show `question` (plain text, or `question_html` already escaped) and wait for an answer."""
        with self._lock:
            self._on_confirm, self._on_cancel = on_confirm, on_cancel
            self.question = question
            self.question_html.value = question_html if question_html is not None else fragments.esc(question)
            self.confirm_button.description = confirm_label
            self.confirm_button.button_style = "danger" if danger else "primary"
            self.asking = True
            show(self, True)

    def _answer(self) -> tuple[Callable[[], Any] | None, Callable[[], Any] | None] | None:
        with self._lock:
            if not self.asking:
                return None
            answers = (self._on_confirm, self._on_cancel)
            self._on_confirm = self._on_cancel = None
            self.asking = False
            show(self, False)
            return answers

    def confirm(self) -> bool:
        """Hide the dialog and act; False when nothing was asked (a second click)."""
        answers = self._answer()
        if answers is None:
            return False
        if answers[0] is not None:
            answers[0]()
        return True

    def cancel(self) -> bool:
        """Hide the dialog without acting; False when nothing was asked."""
        answers = self._answer()
        if answers is None:
            return False
        if answers[1] is not None:
            answers[1]()
        return True

    def dismiss(self) -> None:
        """Hide the dialog without calling either answer (what it asked about no longer applies)."""
        self._answer()


class BusyIndicator(widgets.HBox):
    """A spinner and a message while something takes time, with a progress bar when the share is known.

    `start("loading the figures…")` shows it, `update(progress=0.4)` moves the bar, `stop()` hides it;
    ``with busy.working("…"):`` does both around a block. Traits: `busy`, `message`, `progress`
    (None: not known, no bar).
    """

    busy = traitlets.Bool(False)
    message = traitlets.Unicode("")
    progress = traitlets.Float(None, allow_none=True)

    def __init__(self, **kwargs: Any):
        self.spinner = widgets.HTML('<span class="bw-spinner" aria-hidden="true"></span>')
        self.message_html = widgets.HTML()
        self.bar = widgets.FloatProgress(value=0.0, min=0.0, max=1.0, layout=widgets.Layout(width="240px"))
        super().__init__([self.spinner, self.message_html, self.bar], **kwargs)
        self.add_class("bw-busy")
        self.layout.align_items = "center"
        self._draw()

    def start(self, message: str, progress: float | None = None) -> None:
        """Show the indicator with `message` (and a bar at `progress`, 0-1, when given)."""
        with self.hold_trait_notifications():
            self.busy = True
            self.message = message
            self.progress = progress
        self._draw()

    def update(self, message: str | None = None, progress: float | None = None) -> None:
        """Change the message and/or the progress while busy."""
        if message is not None:
            self.message = message
        if progress is not None:
            self.progress = progress
        self._draw()

    def stop(self) -> None:
        """Hide the indicator."""
        with self.hold_trait_notifications():
            self.busy = False
            self.message = ""
            self.progress = None
        self._draw()

    @contextmanager
    def working(self, message: str, progress: float | None = None) -> Iterator[BusyIndicator]:
        """Busy with `message` for the length of a ``with`` block, even when it raises."""
        self.start(message, progress)
        try:
            yield self
        finally:
            self.stop()

    def _draw(self) -> None:
        show(self, self.busy)
        self.message_html.value = f'<span class="bw-busy-message">{fragments.esc(self.message)}</span>'
        show(self.bar, self.busy and self.progress is not None)
        if self.progress is not None:
            self.bar.value = min(1.0, max(0.0, float(self.progress)))


class ErrorBox(widgets.HTML):
    """What went wrong and what to do about it (the hint); hidden while there is no error."""

    error = traitlets.Unicode(None, allow_none=True)
    hint = traitlets.Unicode(None, allow_none=True)

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.add_class("bw-error")
        show(self, False)

    def show_error(self, error: str, hint: str | None = None, title: str = "Failed") -> None:
        """Show `error` under `title`, with `hint` when there is one."""
        with self.hold_trait_notifications():
            self.error, self.hint = error, hint
        self.value = fragments.error_box(error, hint, title)
        show(self, True)

    def clear(self) -> None:
        """Hide the box."""
        with self.hold_trait_notifications():
            self.error = self.hint = None
        self.value = ""
        show(self, False)


class MessageLine(widgets.HTML):
    """The last thing a page told the user (`say`): grey for news, red for what could not be done."""

    text = traitlets.Unicode("")
    tone = traitlets.Unicode("info")

    def say(self, text: str, tone: fragments.Tone = "info") -> None:
        """Show `text` ("" clears it)."""
        html = fragments.message(text, tone)  # ValueError for an unknown tone, before anything changes
        with self.hold_trait_notifications():
            self.text, self.tone = text, tone
        self.value = html


class MetricCards(widgets.HTML):
    """A row of metric cards; `show_cards` replaces them (`fragments.metric_card` strings)."""

    def show_cards(self, cards: list[str]) -> None:
        self.value = fragments.metric_cards(cards)


def empty_state(
    text: str = "no experiments yet",
    *,
    action: str | None = "start one",
    app: str = "wizard",
    **params: object,
) -> widgets.HTML:
    """The widget a page shows when there is nothing yet: `text` and a link to start (the wizard)."""
    widget = widgets.HTML(fragments.empty_state(text, action=action, app=app, **params))
    widget.add_class("bw-empty")
    return widget


def section(title: str, *children: widgets.Widget, **layout: Any) -> widgets.VBox:
    """A titled block of a page."""
    box = widgets.VBox(
        [widgets.HTML(fragments.section_title(title)), *children], layout=widgets.Layout(**layout)
    )
    return box
