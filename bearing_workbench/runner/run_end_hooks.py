"""Run-end hooks: the notifiers (panel toasts, browser notifications) and the webhook called when a run ends.

A notifier is any callable taking one event dict. Panels `register_notifier` theirs in the notebook
process; the runner calls `notify` when a run completes, fails or is stopped: the worker that ran it
publishes the event on the Dask topic `RUN_ENDS_TOPIC` (a cancel is published by the client that
cancelled), and every client process that submitted or followed a run is subscribed to it
(`deliver_run_ends`, called by `submit`, `resubmit` and `follow`), so its notifiers hear of every run
that ends on the cluster, whichever process launched it. A `WebhookNotifier`
posts Slack/Teams-compatible JSON (``{"text": ...}`` plus the event's fields); its URL can come from
the ``BEARING_WORKBENCH_WEBHOOK_URL`` environment variable. A notifier that fails is logged and never
affects the run or the other notifiers.

Event keys: ``kind`` (always ``"run_end"``), ``experiment_id``, ``name``, ``status`` (completed /
failed / stopped), ``message``, and where known ``metrics``, ``error``, ``hint``, ``duration_s``.

Three modules tell the user about runs, one concept each:

- `runner.run_end_hooks` (this module): *run-end hooks*, the notifiers (any callable, and the
  webhook) called with an event dict when a run ends, wherever it ran;
- `runner.toasts`: *toast texts*, what a toast says about a run event (pure data, no widget);
- `panels.toast_area`: the *toast area*, the widget that shows the toasts (and browser notifications).
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bearing_workbench.config.arguments import PositiveSeconds, check
from bearing_workbench.config.settings import WEBHOOK_ENV as WEBHOOK_ENV  # its owner is config.settings
from bearing_workbench.config.settings import settings

if TYPE_CHECKING:  # the store (SQLAlchemy) is not needed to register or call a hook
    from bearing_workbench.store import ExperimentRecord

log = logging.getLogger(__name__)

END_STATUSES = ("completed", "failed", "stopped")
EVENT_KIND = "run_end"
RUN_ENDS_TOPIC = "bearing-workbench-run-ends"

Notifier = Callable[[dict[str, Any]], Any]

_notifiers: list[Notifier] = []
_registry_lock = threading.Lock()
_subscribed_clients: set[str] = set()


def register_notifier(fn: Notifier) -> Notifier:
    """Call `fn(event)` for every run that ends; returns `fn` (usable as a decorator). Registering the
    same callable twice has no effect."""
    if not callable(fn):
        raise TypeError(f"a notifier must be callable, got {type(fn).__name__}")
    with _registry_lock:
        if fn not in _notifiers:
            _notifiers.append(fn)
    return fn


def unregister_notifier(fn: Notifier) -> bool:
    """Remove a registered notifier; False when it was not registered."""
    with _registry_lock:
        if fn in _notifiers:
            _notifiers.remove(fn)
            return True
    return False


def registered_notifiers() -> list[Notifier]:
    """The registered notifiers, in registration order."""
    with _registry_lock:
        return list(_notifiers)


def run_end_event(
    experiment_id: int,
    status: str,
    *,
    name: str | None = None,
    message: str = "",
    metrics: Mapping[str, Any] | None = None,
    error: str | None = None,
    hint: str | None = None,
    duration_s: float | None = None,
) -> dict[str, Any]:
    """The event sent to notifiers when experiment `experiment_id` ends with `status`."""
    status = str(status)
    if status not in END_STATUSES:
        raise ValueError(f"status must be one of {', '.join(END_STATUSES)}, got {status!r}")
    if not message:
        message = _default_message(status, metrics, error, hint)
    event: dict[str, Any] = {
        "kind": EVENT_KIND,
        "experiment_id": experiment_id,
        "name": name,
        "status": status,
        "message": message,
    }
    optional = {"metrics": dict(metrics) if metrics else None, "error": error, "hint": hint}
    optional["duration_s"] = duration_s
    event.update({k: v for k, v in optional.items() if v is not None})
    return event


def _default_message(
    status: str, metrics: Mapping[str, Any] | None, error: str | None, hint: str | None
) -> str:
    if status == "completed":
        accuracy = (metrics or {}).get("accuracy")
        return "completed" + (f": test accuracy {accuracy:.3f}" if isinstance(accuracy, int | float) else "")
    if status == "failed":
        return f"failed: {error or 'unknown error'}" + (f" ({hint})" if hint else "")
    return "stopped on request"


def event_from_record(record: ExperimentRecord) -> dict[str, Any]:
    """The run-end event of a stored experiment that has ended (completed, failed or stopped)."""
    return run_end_event(
        record.id,
        str(record.status),
        name=record.name,
        metrics=record.metrics,
        error=record.error,
        hint=record.hint,
        duration_s=record.duration_s,
    )


def notify(event: Mapping[str, Any], notifiers: Iterable[Notifier] | None = None) -> int:
    """Call each notifier (the registered ones when `notifiers` is None) with `event`.

    Exceptions are logged, never raised. Returns how many notifiers ran without raising.
    """
    targets = registered_notifiers() if notifiers is None else list(notifiers)
    ok = 0
    for fn in targets:
        try:
            fn(dict(event))
        except Exception:
            log.exception("notifier %r failed for event %s", fn, event.get("kind"))
        else:
            ok += 1
    return ok


def publish_run_end(record: ExperimentRecord, client: Any = None) -> None:
    """Publish the end of `record`'s run to every subscribed client: from the Dask worker running this
    code, or through `client`; never raises (a notification must not fail a run)."""
    try:
        event = event_from_record(record)
        if client is not None:
            client.log_event(RUN_ENDS_TOPIC, event)
            return
        import distributed

        distributed.get_worker().log_event(RUN_ENDS_TOPIC, event)
    except Exception as exc:  # not on a worker, scheduler gone, or a status that is not an end
        log.debug("run end of experiment %s not published: %s", record.id, exc)


def deliver_run_ends(client: Any) -> None:
    """Have this process's registered notifiers called for every run that ends on `client`'s cluster
    (idempotent: one subscription per client)."""
    with _registry_lock:
        if client.id in _subscribed_clients:
            return
        _subscribed_clients.add(client.id)
    try:
        client.subscribe_topic(RUN_ENDS_TOPIC, lambda event: notify(event[1]))
    except Exception as exc:
        with _registry_lock:
            _subscribed_clients.discard(client.id)
        log.warning("cannot subscribe to run ends on %s: %s", client, exc)


def _redacted(url: str) -> str:
    # Webhook URLs carry their secret in the path (Slack, Teams): log only where they point.
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "") + "/..."


def webhook_text(event: Mapping[str, Any]) -> str:
    """The one-line message a chat webhook shows for `event`."""
    who = f"Experiment {event.get('experiment_id')}"
    if event.get("name"):
        who += f" '{event['name']}'"
    text = f"{who}: {event.get('message') or event.get('status', '')}"
    duration = event.get("duration_s")
    if isinstance(duration, int | float):
        text += f" after {duration:.0f} s"
    return text


class WebhookNotifier:
    """Posts each event as JSON to a chat webhook (Slack / Teams incoming webhooks accept ``text``).

    The body is ``{"text": <one line>, **event}``. The post runs in a daemon thread and the caller
    waits at most `timeout` seconds; errors (HTTP status, refused connection, timeout) are logged
    and never raised.
    """

    def __init__(self, url: str, timeout: float = 5.0):
        if not isinstance(url, str) or urlsplit(url.strip()).scheme not in ("http", "https"):
            raise ValueError(f"webhook url must be an http:// or https:// URL, got {url!r}")
        if not urlsplit(url.strip()).hostname:
            raise ValueError(f"webhook url must name a host, got {url!r}")
        self.url = url.strip()
        self.timeout = check(PositiveSeconds, timeout, "timeout")

    def __repr__(self) -> str:
        return f"WebhookNotifier({_redacted(self.url)!r}, timeout={self.timeout})"

    def payload(self, event: Mapping[str, Any]) -> bytes:
        """The JSON body posted for `event`."""
        body = {"text": webhook_text(event), **{k: v for k, v in event.items() if k != "text"}}
        return json.dumps(body, default=str).encode("utf-8")

    def _post(self, data: bytes, outcome: dict[str, Any]) -> None:
        request = urllib.request.Request(
            self.url, data=data, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - http(s) only
                outcome["status"] = response.status
        except urllib.error.HTTPError as exc:
            outcome["error"] = f"HTTP {exc.code} {exc.reason}"
            exc.close()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError):  # a read timeout comes bare, a connect timeout wrapped
                outcome["timeout"] = True
            else:
                outcome["error"] = f"{type(exc).__name__}: {reason}"

    def __call__(self, event: Mapping[str, Any]) -> bool:
        """Post `event`; True when the server answered 2xx within the timeout."""
        outcome: dict[str, Any] = {}
        try:
            data = self.payload(event)
        except (TypeError, ValueError) as exc:
            log.warning("webhook %s: event cannot be sent as JSON: %s", _redacted(self.url), exc)
            return False
        # A thread bounds the whole post by `timeout`; urlopen's own timeout is per socket operation.
        worker = threading.Thread(target=self._post, args=(data, outcome), name="webhook-post", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive() or outcome.get("timeout"):
            log.warning("webhook %s: no answer within %.1f s", _redacted(self.url), self.timeout)
            return False
        if "error" in outcome:
            log.warning("webhook %s failed: %s", _redacted(self.url), outcome["error"])
            return False
        return True


def notifier_from_env(env: Mapping[str, str] | None = None) -> WebhookNotifier | None:
    """A `WebhookNotifier` for ``BEARING_WORKBENCH_WEBHOOK_URL``; None when it is unset or empty."""
    url = settings(env).webhook_url  # SettingsError (a ValueError) naming the variable when bad
    return WebhookNotifier(url) if url else None
