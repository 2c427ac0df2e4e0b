"""Coalescing redraws: many requests per second become at most one call per interval.

A panel fed by a stream of messages applies each to its state at once and calls `Coalescer.request`;
the redraw function then runs on the coalescer's own thread, right away after a quiet spell (leading
edge) and otherwise once when the interval is over (trailing edge), so the last state is always
drawn. Requests made while a redraw runs are merged into the next one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from bearing_workbench.config.arguments import NonNegativeSeconds, check

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 0.25


class Coalescer:
    """Runs `fn` at most once per `interval_s` seconds for any number of `request` calls.

    Attributes:
        requests: how often a run was asked for; runs: how often `fn` ran.
    """

    def __init__(
        self, fn: Callable[[], object], interval_s: float = DEFAULT_INTERVAL_S, name: str = "redraw"
    ):
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}")
        self.fn = fn
        self.interval_s = check(NonNegativeSeconds, interval_s, "interval_s")
        self.requests = 0
        self.runs = 0
        self._cond = threading.Condition()
        self._run_lock = threading.Lock()  # one run at a time, whichever thread runs it
        self._pending = False
        self._closed = False
        self._last = -float("inf")
        self._thread = threading.Thread(target=self._loop, name=f"coalescer-{name}", daemon=True)
        self._thread.start()

    def request(self) -> None:
        """Ask for a run; returns at once (the run happens on the coalescer's thread)."""
        with self._cond:
            if self._closed:
                return
            self.requests += 1
            if not self._pending:
                self._pending = True
                self._cond.notify()

    def _take(self) -> bool:
        """Claim the pending run (caller holds the condition)."""
        if not self._pending:
            return False
        self._pending = False
        self._last = time.monotonic()
        return True

    def _call(self) -> None:
        self.runs += 1
        try:
            self.fn()
        except Exception:  # a failed redraw must not end redrawing
            log.exception("redraw failed")

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                wait = self._last + self.interval_s - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)  # a close() or flush() may come meanwhile: look again
                    continue
            with self._run_lock:
                with self._cond:
                    run = self._take()
                if run:
                    self._call()

    def flush(self) -> bool:
        """Run now, in this thread, if a run is pending (before reading what is drawn); True if it ran."""
        with self._run_lock:
            with self._cond:
                run = self._take()
            if run:
                self._call()
            return run

    def close(self) -> None:
        """Stop; a pending run is dropped (call `flush` first to keep it)."""
        with self._cond:
            self._closed = True
            self._pending = False
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    @property
    def closed(self) -> bool:
        return self._closed
