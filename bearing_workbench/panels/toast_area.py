"""The toast area: toasts about runs in the panels, and browser notifications when a run ends while the
page is hidden.

``notification_area()`` is the one `NotificationArea` of this kernel process: every panel shows the same
widget (the wizard on launch, the monitor at its top, the results and history pages), so a toast appears
once whichever panel is on screen. The first call registers one notifier with `runner.run_end_hooks`: each run
that ends on the cluster (`deliver_run_ends`, subscribed by `submit` and `follow`) becomes a toast, and a
completed run below the best classical model's test accuracy adds a warning. What a toast says is
`runner.toasts`; this module keeps the list (traitlets, synced to toast_area.js) and removes what
the browser closed or let expire. Failures stay until closed; the rest go after `DISMISS_AFTER_S`.

The browser side (toast_area.js): toasts stacked top-right, a close button each, a browser
notification (Notification API) for a run end that arrives while ``document.visibilityState`` is
"hidden", and an "Enable browser notifications" button the first time a run is launched (the
permission request wants a user gesture in some browsers). The answer is kept in localStorage.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from bearing_workbench.panels.kit.anchor import stylesheet
from bearing_workbench.runner.run_end_hooks import END_STATUSES, register_notifier
from bearing_workbench.runner.toasts import (
    RUN_END_KINDS,
    STICKY_KINDS,
    notice,
    run_end_notices,
    started_notice,
)

if TYPE_CHECKING:
    from bearing_workbench.store import Store

log = logging.getLogger(__name__)

_HERE = Path(__file__).parent
DISMISS_AFTER_S = 8.0
MAX_TOASTS = 30
# One run end heard twice (the cluster's notifier and a monitor that saw it live) makes one toast.
REPEAT_WINDOW_S = 120.0

_area_lock = threading.Lock()
_area: NotificationArea | None = None
_ids = itertools.count(1)


class NotificationArea(anywidget.AnyWidget):
    """Toasts about runs (started, completed, failed, stopped, below the baseline), newest last.

    Args:
        store: where the below-baseline check reads results (default: the workspace's, when first
            needed).

    `toasts` holds the toasts on screen, each ``{"id", "kind", "title", "text", "link", "link_text",
    "experiment_id", "sticky", "browser", "time"}``; `permission` is the browser's answer to the
    notification permission ("granted", "denied", "default", "unsupported"; "" before a page showed
    the area).
    """

    _esm = _HERE / "toast_area.js"
    _css = stylesheet(_HERE / "toast_area.css")  # after the theme's CSS variables
    toasts = traitlets.List(traitlets.Dict()).tag(sync=True)
    ask_permission = traitlets.Bool(False).tag(sync=True)
    permission = traitlets.Unicode("").tag(sync=True)
    dismiss_after_ms = traitlets.Int(int(DISMISS_AFTER_S * 1000)).tag(sync=True)
    # Names this area in the page: its views find each other by it (one of them draws).
    area_id = traitlets.Unicode("").tag(sync=True)

    def __init__(self, store: Store | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.store = store
        self.area_id = self.model_id
        self._lock = threading.RLock()
        self._ended: dict[tuple[int, str], float] = {}  # (experiment, status) -> when it was toasted
        self.add_class("bw-notification-area")
        self.on_msg(self._on_browser_message)

    # -- toasts ------------------------------------------------------------------------------------

    def toast(
        self,
        kind: str,
        title: str,
        text: str,
        link: str | None = None,
        *,
        experiment_id: int | None = None,
        link_text: str | None = None,
    ) -> dict[str, Any]:
        """Show a toast (kinds: `runner.notices.KINDS`); returns it as stored in `toasts`."""
        made = notice(kind, title, text, link, experiment_id=experiment_id, link_text=link_text)
        return self._add(made)

    def _add(self, made: Mapping[str, Any]) -> dict[str, Any]:
        kind = made["kind"]
        item = {
            **made,
            "id": next(_ids),
            "sticky": kind in STICKY_KINDS,
            "browser": kind in RUN_END_KINDS,
            "time": time.time(),
        }
        with self._lock:
            if kind == "started" and made.get("experiment_id") is not None:
                self.forget(made["experiment_id"])  # a new attempt may end as the last one did
            self.toasts = [*self._pruned(self.toasts), item]
        return item

    def _pruned(self, toasts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """What stays: sticky toasts and those not yet expired (a browser removes them too), at most
        `MAX_TOASTS - 1`, dropping the oldest."""
        cutoff = time.time() - self.dismiss_after_ms / 1000 - 2.0  # a browser's timer starts on arrival
        kept = [t for t in toasts if t.get("sticky") or t.get("time", 0) >= cutoff]
        return kept[-(MAX_TOASTS - 1) :]

    def dismiss(self, toast_id: int) -> bool:
        """Remove one toast (what its close button does); False when it is not shown."""
        with self._lock:
            kept = [t for t in self.toasts if t.get("id") != toast_id]
            if len(kept) == len(self.toasts):
                return False
            self.toasts = kept
        return True

    def clear(self) -> None:
        """Remove every toast."""
        with self._lock:
            self.toasts = []

    def started(self, experiment_id: int, name: str | None = None, verb: str = "started") -> dict[str, Any]:
        """The toast of a run just launched or resumed."""
        return self._add(started_notice(experiment_id, name, verb))

    def ask_for_permission(self) -> None:
        """Have the page offer browser notifications (asked once per browser; the wizard's launch)."""
        self.ask_permission = True

    # -- run ends ----------------------------------------------------------------------------------

    def forget(self, experiment_id: int) -> None:
        """Forget the ends toasted for an experiment (it runs again: its next end is news)."""
        with self._lock:
            for key in [k for k in self._ended if k[0] == experiment_id]:
                del self._ended[key]

    def _first_time(self, event: Mapping[str, Any]) -> bool:
        key = (event.get("experiment_id"), str(event.get("status")))
        now = time.monotonic()
        with self._lock:
            self._ended = {k: t for k, t in self._ended.items() if now - t < REPEAT_WINDOW_S}
            if key in self._ended:
                return False
            self._ended[key] = now  # type: ignore[index]
        return True

    def run_end(self, event: Mapping[str, Any], store: Store | None = None) -> list[dict[str, Any]]:
        """Toast a run-end event (`runner.notify`): its end, and a warning when it is below the best
        classical model; returns the toasts added ([] for an end already toasted or not an end)."""
        if event.get("status") not in END_STATUSES or not self._first_time(event):
            return []
        try:
            notices = run_end_notices(event, store if store is not None else self._results_store())
        except Exception:
            log.exception("no toast for run end %s", dict(event))
            return []
        return [self._add(made) for made in notices]

    def run_end_later(self, event: Mapping[str, Any], store: Store | None = None) -> threading.Thread:
        """`run_end` in a background thread (the baseline check reads results files); returns it."""
        worker = threading.Thread(
            target=self.run_end, args=(dict(event), store), name="bw-notification", daemon=True
        )
        worker.start()
        return worker

    def _results_store(self) -> Store | None:
        if self.store is None:
            from bearing_workbench.store import Store

            try:
                self.store = Store()
            except Exception as exc:  # no workspace here: toasts without the baseline check
                log.warning("no store for the baseline check: %s", exc)
        return self.store

    # -- browser -----------------------------------------------------------------------------------

    def _on_browser_message(self, _: Any, content: Any, buffers: Any = None) -> None:
        """A message from notifications.js: ``{"type": "dismiss" | "expired", "id": <toast id>}``."""
        if not isinstance(content, Mapping):
            return
        if content.get("type") in ("dismiss", "expired") and isinstance(content.get("id"), int):
            self.dismiss(content["id"])

    def close(self) -> None:
        """Close the widget; the next `notification_area()` makes a new one."""
        global _area
        with _area_lock:
            if _area is self:
                _area = None
        super().close()


def _deliver(event: dict[str, Any]) -> None:
    """The notifier registered with `runner.notify`: a toast in this process's area, if it has one."""
    with _area_lock:
        area = _area
    if area is not None:
        area.run_end_later(event)


def notification_area(store: Store | None = None) -> NotificationArea:
    """This kernel's notification area (made, and its notifier registered, on the first call).

    Args:
        store: where the below-baseline check reads results from now on (the latest one given wins).
    """
    global _area
    with _area_lock:
        if _area is None or _area.comm is None:  # none yet, or closed
            _area = NotificationArea(store=store)
        elif store is not None:
            _area.store = store
        area = _area
    register_notifier(_deliver)  # registering the same function again has no effect
    return area
