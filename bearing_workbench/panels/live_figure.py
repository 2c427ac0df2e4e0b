"""A plotly FigureWidget whose full state is always the figure as it is now.

plotly sends the changes made after a figure is displayed to the views on screen as deltas
(``_py2js_restyle``...) and leaves its synced full copy (``_widget_data``, ``_widget_layout``) as it
was at display time. A front end that attaches later (a JupyterLab page reloaded, a Voilà page
attaching to a preheated kernel) gets that full copy and would draw a stale figure: the curves of a
finished run would stay empty. `LiveFigureWidget` refreshes the copy whenever the full state is
asked for, without sending it to the views already on screen (they have the deltas).

It also opens its comm only once the figure is complete. plotly opens it at the start of its
constructor, with an empty figure, and sends data and layout as updates right after. anywidget's
front end holds each update of a model until that model's module is loaded (plotly's is ~5 MB),
while a parent box that shows the figure is not held: its view could draw the figure from the
empty opening state, and plotly's view never redraws on a later full-state update. Charts built
together (the failure detail's signal, spectra and probabilities) came out blank at random.
"""

from __future__ import annotations

import threading
from copy import deepcopy
from typing import Any

import plotly.graph_objects as go


class LiveFigureWidget(go.FigureWidget):
    """A `go.FigureWidget` that hands a front end attaching now the current figure.

    Args:
        state_lock: held by whoever changes the figure from another thread, so that a state read
            never sees a half-applied update.
    """

    def __init__(self, *args: Any, state_lock: threading.RLock | None = None, **kwargs: Any):
        self._state_lock = state_lock if state_lock is not None else threading.RLock()
        self._constructing = True
        super().__init__(*args, **kwargs)
        self._constructing = False
        self.open()  # the front end's model starts with the whole figure

    def open(self) -> None:
        """Open the comm, not before the constructor has the figure (see the module's docstring)."""
        if getattr(self, "_constructing", False):
            return
        super().open()

    def get_state(self, key: Any = None, drop_defaults: bool = False) -> dict[str, Any]:
        # key None: the full state, for a view being created (comm open, request_state, page reload);
        # the widget's own construction asks before the figure exists.
        if key is None and hasattr(self, "_data"):
            with self._state_lock:
                # Written past traitlets on purpose: a notification would resend the whole figure to the
                # views already on screen, which have every change as a delta.
                self._trait_values["_widget_data"] = deepcopy(self._data)
                self._trait_values["_widget_layout"] = deepcopy(self._layout_obj._props)
                return super().get_state(key, drop_defaults)
        return super().get_state(key, drop_defaults)
