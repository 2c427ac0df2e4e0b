"""Step 3 of the wizard: name, summary, estimates, warnings, the YAML; save the config or a preset."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets

from bearing_workbench.analysis.estimates import (
    estimate_checkpoints,
    estimate_training_time,
    gpu_lines,
    input_spec_for,
    review_warnings,
)
from bearing_workbench.analysis.format import size as format_bytes
from bearing_workbench.config import ConfigError, ExperimentConfig, save_user_preset
from bearing_workbench.config.naming import auto_experiment_name, preset_identifier
from bearing_workbench.models import get_family, validate_config
from bearing_workbench.models.config_summary import config_summary
from bearing_workbench.panels.kit import fragments, theme
from bearing_workbench.panels.kit.fragments import esc
from bearing_workbench.panels.wizard.markup import LABEL_FITS, error_html

log = logging.getLogger(__name__)


class ReviewStep:
    """Step 3: what will run and what it will cost, before it is launched."""

    def _build_step3(self) -> None:
        self.name_input = widgets.Text(
            description="Name",
            tooltip="Shown in the experiment browser; generated, edit it freely",
            layout={"width": "520px"},
            style=LABEL_FITS,
            continuous_update=False,
        )
        self.name_message = widgets.HTML()
        self.summary_html = widgets.HTML()
        self.estimate_html = widgets.HTML()
        self.warnings_html = widgets.HTML()
        self.yaml_html = widgets.HTML()
        self.yaml_box = widgets.Accordion([self.yaml_html], titles=("Full configuration (YAML)",))
        self.save_config_button = widgets.Button(
            description="Save config", tooltip="Write the YAML into the workspace's configs folder"
        )
        self.preset_name_input = widgets.Text(
            description="Preset name",
            tooltip="Letters, digits and _; the preset appears in step 2 (any dataset)",
            layout={"width": "320px"},
            style=LABEL_FITS,
        )
        self.save_preset_button = widgets.Button(
            description="Save as preset", tooltip="Keep these settings as a user preset"
        )
        self.save_status = widgets.HTML()
        self.save_config_button.on_click(lambda _: self.save_config())
        self.save_preset_button.on_click(lambda _: self.save_as_preset())
        self._pages[3] = widgets.VBox(
            [
                self.name_input,
                self.name_message,
                self.summary_html,
                self.estimate_html,
                self.warnings_html,
                self.yaml_box,
                widgets.HBox([self.save_config_button, self.preset_name_input, self.save_preset_button]),
                self.save_status,
            ]
        )
        self._built.add(3)
        widgets.link((self, "name"), (self.name_input, "value"))  # the wizard's name fills the input

    def _taken_names(self, search: str) -> list[str]:
        return [record.name for record in self.store.list_experiments(search=search, limit=None)]

    def _name_if_unset(self) -> None:
        if self.name and self.name != self._auto_name:
            return  # the user's own name stays
        setting = self.preset if self.mode == "preset" else "custom"
        self._auto_name = auto_experiment_name(
            self.family or "", setting, self.dataset or "", self._taken_names(self.family or "")
        )
        self.name = self._auto_name

    def _on_name(self, change: Mapping[str, Any]) -> None:
        if 3 in self._built and self.preset_name_input.value in ("", self._auto_preset_name):
            # follows the name until the user types a preset name of their own
            self._auto_preset_name = preset_identifier(self.name)
            self.preset_name_input.value = self._auto_preset_name
        if not self._quiet and self.step >= 2:
            self.revalidate()

    def validated_config(self) -> ExperimentConfig:
        """The config that would be launched, every default filled; raises `ConfigError` when invalid."""
        return validate_config(self.current_config(), self._facts())

    def _refresh_review(self) -> None:
        if not self.valid:
            self.yaml = ""
            self.yaml_html.value = ""
            self.summary_html.value = error_html("the configuration has problems: go back to fix them")
            self.estimate_html.value = self.warnings_html.value = ""
            self.warnings = []
            return
        config = self.validated_config()
        self.yaml = config.to_yaml()
        self.yaml_html.value = yaml_block(self.yaml)
        facts = self._facts()
        info = self._dataset_info()
        rows = config_summary(config, facts, fs=info.fs if info is not None else None)
        self.summary_html.value = fragments.label_table(rows)
        resources = self._resources()
        on_gpu = bool(resources and resources.get("gpus"))
        estimate = estimate_training_time(config, facts, on_gpu=on_gpu)
        checkpoints, checkpoint_problem = self._checkpoints(config, info)
        lines = [f"<b>Estimated time:</b> {esc(estimate.text)} <i>({esc(estimate.basis)})</i>"]
        if checkpoints is not None:
            onnx = f", ONNX file {format_bytes(checkpoints.onnx_bytes)}" if checkpoints.onnx_bytes else ""
            lines.append(
                f"<b>Disk:</b> about {format_bytes(checkpoints.total_bytes)} ({checkpoints.parameters:,} "
                f"parameters; up to {checkpoints.files} checkpoints of "
                f"{format_bytes(checkpoints.checkpoint_bytes)}{onnx})"
            )
        elif checkpoint_problem:
            lines.append(f"<b>Disk:</b> {esc(checkpoint_problem)}")
        lines.extend(esc(line) for line in gpu_lines(resources))
        self.estimate_html.value = "<br>".join(lines)
        free = shutil.disk_usage(self.store.workspace).free
        warnings = review_warnings(
            config,
            facts,
            time_estimate=estimate,
            checkpoints=checkpoints,
            resources=resources,
            free_disk_bytes=free,
        )
        if checkpoint_problem and checkpoints is None and get_family(config.model.family).epoch_based:
            warnings.append(checkpoint_problem)
        self.warnings = warnings
        self.warnings_html.value = (
            fragments.section_title("Warnings")
            + "<ul>"
            + "".join(f"<li>{esc(w)}</li>" for w in warnings)
            + "</ul>"
            if warnings
            else ""
        )

    def _dataset_info(self) -> Any:
        dataset = self.dataset
        if not dataset:
            return None
        if dataset not in self._info_cache:
            from bearing_workbench.data.dataset_file import read_info
            from bearing_workbench.training.dataset_facts import resolve_dataset_path

            try:
                self._info_cache[dataset] = read_info(resolve_dataset_path(dataset, self.store))
            except (LookupError, ValueError, OSError):
                self._info_cache[dataset] = None
        return self._info_cache[dataset]

    def _checkpoints(self, config: ExperimentConfig, info: Any) -> tuple[Any, str]:
        """(estimate or None, why there is none); cached per config, the name left out."""
        if info is None:
            return None, "checkpoint size unknown: the dataset cannot be read"
        if not get_family(config.model.family).epoch_based:
            return None, "no checkpoint files (this family saves no network weights)"
        key = json.dumps(config.model_dump(mode="json", exclude={"name", "provenance"}), sort_keys=True)
        if key not in self._checkpoint_cache:
            try:
                self._checkpoint_cache[key] = (estimate_checkpoints(config, input_spec_for(config, info)), "")
            except Exception as exc:  # the builder's own message says what does not fit the data
                self._checkpoint_cache[key] = (None, f"the model cannot be built for this dataset: {exc}")
        return self._checkpoint_cache[key]

    def _resources(self) -> dict[str, Any] | None:
        from bearing_workbench.runner.resources import sample_resources

        try:
            return sample_resources()
        except Exception:  # psutil on an odd platform: the review goes on without load figures
            log.exception("resource sample failed")
            return None

    def save_config(self) -> str | None:
        """Write the YAML into `<workspace>/configs/`; returns the path (what "Save config" does)."""
        from bearing_workbench.store.config_files import save_config_file

        if not self.valid:
            self.save_status.value = error_html("fix the configuration first")
            return None
        config = self.validated_config()
        path = save_config_file(config, config.name or "config", self.store.workspace, overwrite=True)
        self.saved_config_path = str(path)
        self.save_status.value = f"Saved the config to <code>{esc(path)}</code>"
        return self.saved_config_path

    def save_as_preset(self, name: str | None = None) -> str | None:
        """Save the settings as a user preset (any dataset); returns its file (what "Save as preset" does)."""
        if name is not None:
            self.preset_name_input.value = name
        preset_name = self.preset_name_input.value.strip()
        if not self.valid:
            self.save_status.value = error_html("fix the configuration first")
            return None
        from bearing_workbench.store.config_files import presets_dir

        try:
            path = save_user_preset(
                preset_name,
                self.validated_config(),
                presets_dir(self.store.workspace, create=True),
                title=preset_name.replace("_", " "),
                description=f"Saved from the wizard ({self.family}, based on {self.name})",
            )
        except ConfigError as exc:
            self.save_status.value = error_html("; ".join(str(e) for e in exc.errors))
            return None
        except FileExistsError:
            self.save_status.value = error_html(f"preset {preset_name!r} exists already: choose another name")
            return None
        self.saved_preset_path = str(path)
        self._load_presets()
        self.save_status.value = f"Saved preset <b>{esc(preset_name)}</b> to <code>{esc(path)}</code>"
        return self.saved_preset_path


def yaml_block(text: str) -> str:
    """The YAML as a code block. Widget HTML inherits one widget row (28 px) per line unless the block
    sets its own spacing: a 60-line config was three screens tall."""
    style = (
        f"font-size:{theme.FONT_SIZES['small']};line-height:1.4;margin:0;padding:{theme.SPACING['m']};"
        f"background:{theme.color('code_bg')};border:1px solid {theme.color('border')}"
    )
    return f'<pre style="{style}">{esc(text)}</pre>'
