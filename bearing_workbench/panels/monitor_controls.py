"""The training monitor's controls (pause/resume, stop, logs, results, retry) and what it tells the user.

`MonitorControls` is a mixin of `TrainingMonitor` (kept apart so that each module stays readable): it
builds the buttons and the boxes they open and handles their clicks. It uses the monitor's
``_state``, ``_record``, ``_store``, ``_client``, ``_lock``, ``_dirty``, ``_redraw``, ``_log_tail``,
``notifications``, ``_follow`` and ``_new_state``. Retry resubmits in the background: the button says
"Retrying…" and is disabled at once, and a second click meanwhile does nothing (defect 11).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import ipywidgets as widgets

from bearing_workbench.analysis.run_state import STATUS
from bearing_workbench.analysis.run_texts import results_summary
from bearing_workbench.panels import monitor_html as texts
from bearing_workbench.panels.kit import ConfirmDialog, DownloadLink, fragments, section, show
from bearing_workbench.runner.cluster import existing_client
from bearing_workbench.runner.run_end_hooks import run_end_event
from bearing_workbench.store import InvalidTransition, RunStatus, is_terminal
from bearing_workbench.store.artifacts import KIND_BY_KEY

log = logging.getLogger(__name__)

ASKED = {
    "pause": "pause asked: the run checkpoints after its current batch, then waits",
    "resume": "resume asked",
    "stop": "stop asked: the run ends after its current batch and keeps a checkpoint",
    "retry": "retrying… (resubmitting from the latest checkpoint)",
}
RETRY_TOOLTIP = "run it again from its latest checkpoint"
RETRY_WAIT_S = 60.0  # a Retry right after Stop waits this long for the stopped run's task to return
STOP_QUESTION = "Stop this run? It ends after the current batch and keeps a checkpoint; Retry continues it."


class MonitorControls:
    """The buttons of a `TrainingMonitor` and what they do (a mixin; see the module docstring)."""

    notice: str

    def _build_controls(self: Any) -> None:
        self._awaiting: str | None = None  # a pause/resume/stop asked for and not yet answered
        self._retrying = False  # a resubmission in flight (Retry disabled until it is answered)
        self._failed_action = False  # the notice says an action could not be done
        self.pause_button = widgets.Button(
            description="Pause", tooltip="checkpoint after the current batch and wait"
        )
        self.stop_button = widgets.Button(
            description="Stop", button_style="danger", tooltip="end the run (keeps a checkpoint)"
        )
        self.logs_button = widgets.Button(description="Logs", tooltip="show the run's log file, following it")
        self.retry_button = widgets.Button(description="Retry", button_style="warning", tooltip=RETRY_TOOLTIP)
        self.results_button = widgets.Button(description="View results", button_style="success")
        self.confirm = ConfirmDialog()
        self.pause_button.on_click(self._on_pause)
        self.stop_button.on_click(self._on_stop)
        self.logs_button.on_click(self._on_logs)
        self.retry_button.on_click(self._on_retry)
        self.results_button.on_click(self._on_results)
        self.results_html = widgets.HTML()
        metrics = KIND_BY_KEY["metrics"]
        self.metrics_link = DownloadLink(
            metrics.filename, f"experiment-{self._record.id}-{metrics.filename}", metrics.mime
        )
        self.results_box = section("Results", self.results_html, self.metrics_link, display="none")
        self.log_html = widgets.HTML()
        path = widgets.HTML(f"<code>{fragments.esc(self._log_tail.path)}</code>")
        self.log_box = section(self._log_tail.path.name, path, self.log_html, display="none")

    def _show_notice(self) -> None:
        connection = self._state.connection_note()  # "scheduler unreachable since 14:02; ... lost at 14:03"
        if self.notice:
            self.tell(self.notice, "error" if self._failed_action else "warning")
        elif connection:
            self.tell(connection, "warning")
        elif self.mode == "polling" and not self._state.finished:
            self.tell(texts.POLLING_NOTE, "muted")
        else:
            self.tell("")

    def _toast_end(self: Any) -> None:
        """The run ended while watched: a toast (the area drops it if the cluster's notifier was first)."""
        state, record = self._state, self._record
        if self.notifications is None:
            return
        stored = str(record.status) == state.status  # the store has the end's error, hint and metrics
        event = run_end_event(
            record.id,
            state.status,
            name=record.name,
            metrics=record.metrics if stored else None,
            error=(record.error if stored else None) or state.error,
            hint=(record.hint if stored else None) or state.hint,
            duration_s=record.duration_s if stored else None,
        )
        self.notifications.run_end_later(event, self._store)

    def _show_buttons(self) -> None:
        status, awaiting = self._state.status, self._awaiting
        live = status in (RunStatus.RUNNING, RunStatus.PAUSED)
        show(self.pause_button, live)
        show(self.stop_button, live or status == RunStatus.PENDING)
        show(self.retry_button, status in (RunStatus.FAILED, RunStatus.STOPPED) or self._retrying)
        show(self.results_button, is_terminal(status))
        if self.results_box.layout.display != "none":
            self.results_button.description = "Hide results"
        else:
            self.results_button.description = "View results" if status == RunStatus.COMPLETED else "Results"
        self.results_button.button_style = "success" if status == RunStatus.COMPLETED else ""
        self.pause_button.description = {"pause": "Pausing…", "resume": "Resuming…"}.get(
            awaiting or "", "Resume" if status == RunStatus.PAUSED else "Pause"
        )
        self.pause_button.disabled = awaiting in ("pause", "resume")
        self.stop_button.description = "Stopping…" if awaiting == "stop" else "Stop"
        self.stop_button.disabled = awaiting == "stop"
        self.retry_button.description = "Retrying…" if self._retrying else "Retry"
        self.retry_button.disabled = self._retrying
        # a lost run's hint says where the retry resumes ("after epoch 27")
        self.retry_button.tooltip = (
            self._state.hint if self._state.lost and self._state.hint else RETRY_TOOLTIP
        )
        if not (live or status == RunStatus.PENDING):
            self.confirm.dismiss()

    def _read_log(self) -> None:
        try:
            new = self._log_tail.read()
        except OSError as exc:
            self.log_html.value = fragments.message(f"cannot read the log: {exc}", "error")
            return
        if not new and self.log_html.value and not self._state.finished:
            return
        self.log_html.value = texts.log_html(
            self._log_tail.text, self._log_tail.path.name, self._state.finished
        )

    def _show_results(self) -> None:
        summary = results_summary(self._record, self._store.workspace)
        self.results_html.value = texts.results_html(
            summary.lines, summary.metrics_path, summary.has_metrics_file, self._record.id
        )
        data = summary.metrics_path.read_bytes() if summary.has_metrics_file else None
        self.metrics_link.set_data(data)

    # -- buttons -----------------------------------------------------------------------------------

    def _say(self, text: str, awaiting: str | None = None, failed: bool = False) -> None:
        """Show `text` under the buttons; `awaiting`: the action whose answer the buttons wait for."""
        with self._lock:
            self.notice = text
            self._awaiting = awaiting
            self._failed_action = failed
            self._dirty.add(STATUS)
        self._redraw.request()

    def _control(self, action: str) -> None:
        """Ask the run to pause, resume or stop through its Dask control variable."""
        client = existing_client(self._client)
        if client is None:
            self._say(
                f"cannot {action} from here: no Dask scheduler is reachable from this kernel "
                "(the run was started from another one; set BEARING_WORKBENCH_SCHEDULER to reach it)",
                failed=True,
            )
            return
        from bearing_workbench.runner import control  # imports torch (checkpoint names): on first click only

        # Marked before asking: the run's answer (a status event) may come back before the call returns.
        self._say(ASKED[action], awaiting=action)
        try:
            getattr(control, action)(self._record.id, client=client, store=self._store)
        except InvalidTransition as exc:
            self._say(str(exc), failed=True)
        except Exception as exc:
            log.exception("%s of experiment %s failed", action, self._record.id)
            self._say(f"could not {action} the run: {type(exc).__name__}: {exc}", failed=True)

    def _on_pause(self, _: Any = None) -> None:
        self._control("resume" if self._state.status == RunStatus.PAUSED else "pause")

    def _on_stop(self, _: Any = None) -> None:
        self.confirm.ask(STOP_QUESTION, lambda: self._control("stop"), confirm_label="Yes, stop")

    def _on_logs(self, _: Any = None) -> None:
        opening = self.log_box.layout.display == "none"
        show(self.log_box, opening)
        self.logs_button.description = "Hide logs" if opening else "Logs"
        if opening:
            with self._lock:
                self._read_log()

    def _on_results(self, _: Any = None) -> None:
        opening = self.results_box.layout.display == "none"
        show(self.results_box, opening)
        with self._lock:
            if opening:
                self._show_results()
            self._show_buttons()

    def _on_retry(self, _: Any = None) -> threading.Thread | None:
        """Resubmit from the latest checkpoint, in the background: the button says "Retrying…" at once
        and stays disabled until the answer; a second click meanwhile does nothing (returns None)."""
        with self._lock:
            if self._retrying or self._closed:
                return None
            self._retrying = True
            self._show_buttons()
        self._say(ASKED["retry"])
        worker = threading.Thread(target=self._retry, name=f"monitor-retry-{self._record.id}", daemon=True)
        worker.start()
        return worker

    def _retry(self) -> None:
        from bearing_workbench.runner.launch import resubmit  # imports torch (seconds, the first time)

        try:
            resubmit(self._record.id, client=self._client, store=self._store, wait_s=RETRY_WAIT_S)
        except Exception as exc:
            log.exception("retry of experiment %s failed", self._record.id)
            self._retrying = False
            self._say(f"could not retry: {type(exc).__name__}: {exc}", failed=True)
            return
        if self.notifications is not None:
            self.notifications.forget(self._record.id)  # its next end is news
        self._restart()
        self._retrying = False
        self._say("resubmitted: the run continues from its latest checkpoint")

    def _restart(self) -> None:
        """Follow again from scratch (a new attempt: fresh state, replay, live)."""
        old, self._follower = self._follower, None
        if old is not None:
            old.close()  # outside the lock: its thread may be waiting for it
        with self._lock:
            self._state = self._new_state()
            if self.curves is not None:
                self.curves.reset()
            self._awaiting = None
        self._follow()
