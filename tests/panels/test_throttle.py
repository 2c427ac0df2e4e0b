"""Coalescer: many requests, few runs, the last state always drawn."""

from __future__ import annotations

import threading

import pytest

from bearing_workbench.panels.throttle import Coalescer


def test_a_burst_of_requests_runs_a_few_times_and_ends_with_a_trailing_run():
    seen: list[int] = []
    value = [0]
    first_run, release, done = threading.Event(), threading.Event(), threading.Event()

    def draw():
        seen.append(value[0])
        first_run.set()
        assert release.wait(30)  # the first run lasts until every request is made: no timing involved
        if value[0] == 999:
            done.set()

    coalescer = Coalescer(draw, interval_s=0.05)
    try:
        for i in range(1000):
            value[0] = i
            coalescer.request()
        release.set()
        assert done.wait(30), "the trailing run never came"
        # the leading run (unless the thread started only after the burst) and one trailing run
        assert seen[-1] == 999 and len(seen) == coalescer.runs <= 2 and coalescer.requests == 1000
        assert first_run.is_set()
    finally:
        coalescer.close()


def test_flush_runs_now_only_when_something_is_pending_and_close_drops_the_rest():
    calls = []
    ran = threading.Event()

    def draw():
        calls.append(1)
        ran.set()

    coalescer = Coalescer(draw, interval_s=60)
    coalescer.request()
    assert ran.wait(30)  # the leading run happens on the coalescer's thread
    assert calls == [1]
    coalescer.request()  # within the interval: waits for its trailing edge
    assert coalescer.flush() and calls == [1, 1]
    assert not coalescer.flush()
    coalescer.request()
    coalescer.close()
    assert coalescer.closed and not coalescer.flush() and calls == [1, 1]
    coalescer.request()  # ignored once closed
    assert calls == [1, 1]


def test_a_failing_run_does_not_stop_later_runs():
    calls = []

    def draw():
        calls.append(1)
        raise RuntimeError("boom")

    coalescer = Coalescer(draw, interval_s=0)
    try:
        coalescer.request()
        coalescer.flush()
        coalescer.request()
        coalescer.flush()
        assert len(calls) >= 2
    finally:
        coalescer.close()


@pytest.mark.parametrize("interval", [-1, "fast", True])
def test_bad_interval_is_named(interval):
    with pytest.raises(ValueError, match="interval_s"):
        Coalescer(lambda: None, interval_s=interval)
