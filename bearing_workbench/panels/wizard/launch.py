"""Step 4 of the wizard: launch (or resume) on the cluster, announce it, open its monitor."""

from __future__ import annotations

import logging

import ipywidgets as widgets

from bearing_workbench.config import ConfigError
from bearing_workbench.models import validation
from bearing_workbench.panels.kit import notification_area
from bearing_workbench.panels.kit.fragments import esc
from bearing_workbench.panels.wizard.markup import error_html

log = logging.getLogger(__name__)

RESUMABLE = ("failed", "stopped")
LAUNCHED_NOTE = "training runs in the background; you can close this page"


class LaunchStep:
    """Step 4: submit the config, then show the run's monitor in the page."""

    def _build_step4(self) -> None:
        self._built.add(4)
        self.launch_summary = widgets.HTML()
        self.launch_button = widgets.Button(description="Launch", button_style="success", icon="play")
        self.launch_button.on_click(lambda _: self.launch())
        self.launch_status = widgets.HTML()
        self.monitor_box = widgets.VBox()
        self._pages[4] = widgets.VBox(
            [self.launch_summary, self.launch_button, self.launch_status, self.monitor_box]
        )

    def _reset_launch(self) -> None:
        """Coming back to the launch page after a change: ready for a new launch."""
        self._close_monitor()
        self.launch_status.value = ""
        self._launched = False

    def _close_monitor(self) -> None:
        """Close the monitor shown (it stops following its run) and take it off the page."""
        if self.monitor is not None and hasattr(self.monitor, "close"):
            self.monitor.close()
        self.monitor = None
        if 4 in self._built:
            self.monitor_box.children = ()

    def _refresh_launch(self) -> None:
        if self._launched:
            return  # the page shows the run
        self.launch_summary.value = (
            f"Launch <b>{esc(self.name)}</b> ({esc(self.family)} on {esc(self.dataset)}): "
            f"it is queued on the Dask cluster and {LAUNCHED_NOTE}."
        )
        self.launch_button.disabled = not self.valid

    def launch(self) -> int | None:
        """Submit the config to the cluster and open its monitor; returns the new experiment's id."""
        from bearing_workbench.runner.launch import submit

        if not self.valid:
            self.launch_status.value = error_html("the configuration has problems: go back to fix them")
            return None
        self.launch_button.disabled = True
        try:  # the boundary: validated once here, submitted as it is
            with self.busy.working("submitting the run to the cluster…"):
                checked = validation.validate_experiment(self.current_config(), self.store)
                experiment_id = submit(
                    checked, client=self.client, store=self.store, parent_id=self.parent_id
                )
        except ConfigError as exc:  # the dataset changed since the review
            self.launch_status.value = error_html("; ".join(str(e) for e in exc.errors))
            self.launch_button.disabled = False
            return None
        config = checked.config
        self.launched_config = config
        self._show_launched(experiment_id, "launched")
        self._announce(experiment_id, config.name, "started")
        return experiment_id

    def resume(self, experiment_id: int) -> int | None:
        """Launch a failed or stopped experiment again from its latest checkpoint (what "Resume" does)."""
        from bearing_workbench.runner.launch import resubmit

        record = self.store.get_experiment(experiment_id)
        if str(record.status) not in RESUMABLE:
            self.tell(
                f"experiment #{experiment_id} is {record.status}: "
                "only a failed or stopped run can be resumed",
                "error",
            )
            return None
        with self.busy.working(f"resubmitting experiment #{experiment_id}…"):
            resubmit(experiment_id, client=self.client, store=self.store)
        if 4 not in self._built:
            self._build_step4()
        self._quiet = True
        try:
            self.family = record.family
        finally:
            self._quiet = False
        self._show_launched(experiment_id, "resumed from its latest checkpoint")
        self.step = 4
        self._announce(experiment_id, record.name, "resumed")
        return experiment_id

    def _announce(self, experiment_id: int, name: str | None, verb: str) -> None:
        """A "started" toast in the page's notification area; the first launch also offers browser
        notifications."""
        area = notification_area(self.store)  # the page's own (the store now set), or a new one if closed
        if area is None:
            return
        try:
            area.ask_for_permission()
            area.started(experiment_id, name, verb)
        except Exception:  # the run is launched whatever happens to its toast
            log.exception("no notification for experiment %s", experiment_id)
            return
        if area is not self.notifications:
            self.notifications = area
            self._place()

    def _show_launched(self, experiment_id: int, verb: str) -> None:
        self._launched = True
        self.launch_button.disabled = True
        self.experiment_id = experiment_id
        self.launch_summary.value = ""
        self.launch_status.value = f"Experiment <b>#{experiment_id}</b> {esc(verb)}: {LAUNCHED_NOTE}."
        self._open_monitor(experiment_id)

    def _open_monitor(self, experiment_id: int) -> None:
        self._close_monitor()
        try:
            from bearing_workbench.panels.monitor import TrainingMonitor

            monitor = TrainingMonitor(experiment_id, store=self.store, client=self.client)
        except Exception as exc:  # the run is launched whatever happens to its view
            log.exception("could not open the monitor of experiment %s", experiment_id)
            self.show_error(
                f"could not open the monitor of experiment #{experiment_id}: {exc}",
                hint=f"open it with TrainingMonitor({experiment_id}) or the monitor app",
                title="The run is launched",
            )
            return
        self.monitor = monitor
        view = monitor if isinstance(monitor, widgets.Widget) else getattr(monitor, "widget", None)
        if isinstance(view, widgets.Widget):
            self.monitor_box.children = (view,)
        else:
            from IPython.display import display

            output = widgets.Output()
            with output:
                display(monitor)
            self.monitor_box.children = (output,)
