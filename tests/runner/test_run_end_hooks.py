"""Notifier hooks and the webhook, against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bearing_workbench.runner.control import cancel, stop
from bearing_workbench.runner.launch import submit
from bearing_workbench.runner.run_end_hooks import (
    WEBHOOK_ENV,
    WebhookNotifier,
    event_from_record,
    notifier_from_env,
    notify,
    register_notifier,
    registered_notifiers,
    run_end_event,
    unregister_notifier,
)
from bearing_workbench.store import Store

from .conftest import tiny_config, wait_for, wait_status

NOTIFY_LOGGER = "bearing_workbench.runner.run_end_hooks"


class Server:
    """An HTTP server in a thread that records POST bodies and answers with `status`; with `hold`, it
    answers only once `release` is set (at the latest when the server is closed)."""

    def __init__(self, status: int = 200, hold: bool = False):
        self.bodies: list[dict] = []
        self.headers: list[dict] = []
        self.release = threading.Event()
        self.answered = threading.Event()  # set once an answer has been sent
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                server.bodies.append(json.loads(self.rfile.read(length)))
                server.headers.append(dict(self.headers))
                if hold:
                    server.release.wait()
                server.answered.set()
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:  # keep pytest's output clean
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks/secret-token"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def clean_registry() -> Iterator[None]:
    before = registered_notifiers()
    for fn in before:
        unregister_notifier(fn)
    yield
    for fn in registered_notifiers():
        unregister_notifier(fn)
    for fn in before:
        register_notifier(fn)


EVENT = run_end_event(
    12, "completed", name="cnn1d quick", metrics={"accuracy": 0.931, "macro_f1": 0.92}, duration_s=84.2
)


def test_run_end_event_fields_and_default_messages() -> None:
    assert EVENT == {
        "kind": "run_end",
        "experiment_id": 12,
        "name": "cnn1d quick",
        "status": "completed",
        "message": "completed: test accuracy 0.931",
        "metrics": {"accuracy": 0.931, "macro_f1": 0.92},
        "duration_s": 84.2,
    }
    failed = run_end_event(3, "failed", error="loss became NaN", hint="lower the learning rate")
    assert failed["message"] == "failed: loss became NaN (lower the learning rate)"
    assert run_end_event(4, "stopped")["message"] == "stopped on request"
    with pytest.raises(ValueError, match="status must be one of completed, failed, stopped"):
        run_end_event(5, "running")


def test_event_from_a_stored_experiment(tmp_path) -> None:
    with Store(workspace=tmp_path) as store:
        experiment_id = store.create_experiment("run a", "cnn1d", {"x": 1})
        store.transition(experiment_id, "start")
        store.transition(experiment_id, "fail", error="CUDA out of memory", hint="reduce batch size")
        event = event_from_record(store.get_experiment(experiment_id))
    assert event["experiment_id"] == experiment_id and event["name"] == "run a"
    assert event["status"] == "failed"
    assert event["error"] == "CUDA out of memory" and event["hint"] == "reduce batch size"
    assert event["duration_s"] >= 0.0


def test_registered_notifiers_are_called_and_failures_swallowed(
    clean_registry: None, caplog: pytest.LogCaptureFixture
) -> None:
    got: list[dict] = []

    def broken(event: dict) -> None:
        raise RuntimeError("toast widget closed")

    record = got.append
    assert register_notifier(record) is record
    register_notifier(broken)
    register_notifier(got.append)  # the same notifier again (an equal bound method): still called once
    seen_after: list[dict] = []
    register_notifier(seen_after.append)
    with caplog.at_level(logging.ERROR, logger=NOTIFY_LOGGER):
        assert notify(EVENT) == 2
    assert got == [EVENT] and seen_after == [EVENT]  # the broken one did not stop the one after it
    assert any("toast widget closed" in (r.exc_text or "") for r in caplog.records)
    assert unregister_notifier(broken) is True
    assert unregister_notifier(broken) is False
    got.clear()
    notify(EVENT, notifiers=[got.append])  # explicit notifiers: the registry is not used
    assert got == [EVENT]
    assert len(seen_after) == 1


def test_a_notifier_cannot_change_the_event_others_see(clean_registry: None) -> None:
    seen: list[dict] = []
    register_notifier(lambda event: event.update(status="tampered"))
    register_notifier(seen.append)
    event = dict(EVENT)
    notify(event)
    assert seen[0]["status"] == "completed" and event["status"] == "completed"


def test_webhook_posts_slack_compatible_json() -> None:
    with Server() as server:
        notifier = WebhookNotifier(server.url)
        assert notifier(EVENT) is True
    (body,) = server.bodies
    assert body["text"] == "Experiment 12 'cnn1d quick': completed: test accuracy 0.931 after 84 s"
    assert body["experiment_id"] == 12 and body["status"] == "completed"
    assert body["metrics"] == {"accuracy": 0.931, "macro_f1": 0.92}
    assert server.headers[0]["Content-Type"] == "application/json"


def test_webhook_payload_of_values_json_does_not_know() -> None:
    with Server() as server:
        event = {**EVENT, "finished_at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC)}
        assert WebhookNotifier(server.url)(event) is True
    assert server.bodies[0]["finished_at"] == "2026-01-02 03:04:00+00:00"


def test_a_hanging_server_costs_at_most_the_timeout(caplog: pytest.LogCaptureFixture) -> None:
    with Server(hold=True) as server:
        notifier = WebhookNotifier(server.url, timeout=0.5)
        with caplog.at_level(logging.WARNING, logger=NOTIFY_LOGGER):
            assert notifier(EVENT) is False
        # The server has not answered (it never does before the test releases it): the notifier
        # gave up on its own timeout, whatever the machine's load made that take.
        assert not server.answered.is_set()
    assert len(server.bodies) == 1
    assert any("no answer within 0.5 s" in r.getMessage() for r in caplog.records)


def test_a_server_error_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    with (
        Server(status=500) as server,
        caplog.at_level(logging.WARNING, logger=NOTIFY_LOGGER),
    ):
        assert WebhookNotifier(server.url)(EVENT) is False
    messages = [r.getMessage() for r in caplog.records]
    assert any("HTTP 500" in m for m in messages)
    assert not any("secret-token" in m for m in messages)  # the URL's secret stays out of the log


def test_an_unreachable_port_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        with caplog.at_level(logging.WARNING, logger=NOTIFY_LOGGER):
            assert WebhookNotifier(f"http://127.0.0.1:{port}/hook", timeout=2)(EVENT) is False
    assert any("failed" in r.getMessage() for r in caplog.records)


def test_a_webhook_through_notify_never_raises(clean_registry: None) -> None:
    with Server(status=503) as server:
        assert notify(EVENT, notifiers=[WebhookNotifier(server.url)]) == 1  # it ran; it did not raise
    assert len(server.bodies) == 1


def test_notifier_from_env() -> None:
    assert notifier_from_env({}) is None
    assert notifier_from_env({WEBHOOK_ENV: "  "}) is None
    notifier = notifier_from_env({WEBHOOK_ENV: "https://hooks.example.com/services/T0/B0/x"})
    assert isinstance(notifier, WebhookNotifier)
    assert notifier.url == "https://hooks.example.com/services/T0/B0/x"
    assert "services" not in repr(notifier)
    with pytest.raises(ValueError, match=WEBHOOK_ENV):
        notifier_from_env({WEBHOOK_ENV: "ftp://example.com/hook"})


def test_bad_webhook_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="http"):
        WebhookNotifier("hooks.example.com/x")
    with pytest.raises(ValueError, match="host"):
        WebhookNotifier("https:///path-only")
    with pytest.raises(ValueError, match="timeout"):
        WebhookNotifier("https://example.com", timeout=0)
    with pytest.raises(TypeError, match="callable"):
        register_notifier("not a function")  # type: ignore[arg-type]


def test_notifiers_in_this_process_hear_of_runs_ending_on_the_cluster(client, store):
    """Registered here, called here: the worker publishes the run end, the client delivers it."""
    heard: list[dict] = []

    def broken(event):
        raise RuntimeError("a broken notifier")

    register_notifier(broken)
    register_notifier(heard.append)
    try:
        done = submit(tiny_config(epochs=2), client=client, store=store)
        wait_for(lambda: any(e["experiment_id"] == done for e in heard), "the run-end notification")
        (event,) = [e for e in heard if e["experiment_id"] == done]
        assert event["kind"] == "run_end" and event["status"] == "completed"
        assert event["metrics"]["accuracy"] == store.get_experiment(done).metrics["accuracy"]
        assert event["message"].startswith("completed: test accuracy")

        # a cancel never reaches a worker: the cancelling client publishes it
        busy = [submit(tiny_config(epochs=200), client=client, store=store) for _ in range(2)]
        queued = submit(tiny_config(epochs=2), client=client, store=store, priority="low")
        cancel(queued, client=client, store=store)
        wait_for(lambda: any(e["experiment_id"] == queued for e in heard), "the cancel notification")
        assert [e["status"] for e in heard if e["experiment_id"] == queued] == ["stopped"]
    finally:
        unregister_notifier(broken)
        unregister_notifier(heard.append)
    for run in busy:
        stop(run, client=client, store=store)
    for run in busy:
        assert wait_status(store, run) == "stopped"
