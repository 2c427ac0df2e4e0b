"""Coalescer: many requests, few runs, the last state always drawn."""

from __future__ import annotations

import threading

import pytest

from bearing_workbench.panels.throttle import Coalescer


def test_a_burst_of_requests_runs_a_few_times_and_ends_with_a_trailing_run():
    seen: list[int] = []
    value = [0]
    done = threading.Event()

    def draw():
        seen.append(value[0])
        if value[0] == 999:
            done.set()

    coalescer = Coalescer(draw, interval_s=0.2)
    try:
        for i in range(1000):
            value[0] = i
            coalescer.request()
        assert done.wait(10), "the trailing run never came"
        assert seen[-1] == 999 and 1 <= coalescer.runs <= 10 and coalescer.requests == 1000
    finally:
        coalescer.close()


def test_flush_runs_now_only_when_something_is_pending_and_close_drops_the_rest():
    calls = []
    coalescer = Coalescer(lambda: calls.append(1), interval_s=60)
    coalescer.request()
    threading.Event().wait(0.2)  # the leading run happens on the coalescer's thread
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
