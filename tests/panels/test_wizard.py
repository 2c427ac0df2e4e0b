"""ConfigWizard driven as a user would: set widget values, click buttons, read state and messages."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import ipywidgets as widgets
import pytest
import yaml

from bearing_workbench.config import ExperimentConfig, TrainingConfig
from bearing_workbench.models import list_families, load_config, param_fields, validate_config
from bearing_workbench.panels.wizard import LAUNCHED_NOTE, ConfigWizard
from bearing_workbench.store import Store, experiment_dir
from bearing_workbench.training.dataset_facts import dataset_facts

from ..tiny_data import tiny_store
from .conftest import wait_status

CLASSES = ("healthy", "imbalance", "misalignment")


@pytest.fixture(scope="module")
def wizard_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A workspace of its own with a registered 3-class dataset of 3 records per class, 0.5 s each."""
    root = tmp_path_factory.mktemp("wizard-ws")
    workspace_store = tiny_store(root, per_class=3, duration_s=0.5, seed=5)
    yield workspace_store
    workspace_store.dispose()


@pytest.fixture
def wizard(wizard_store: Store) -> Iterator[ConfigWizard]:
    panel = ConfigWizard(store=wizard_store)
    yield panel
    panel.close()


def to_expert_cnn(panel: ConfigWizard) -> None:
    """cnn1d in expert mode, with settings that fit the tiny dataset (10240-sample records)."""
    panel.family_cards["cnn1d"][0].click()
    panel.next_button.click()
    panel.mode_buttons.value = "expert"
    form, model = panel.common_form, panel.model_form()
    form.inputs["data.window.length"].widget.value = "2048"
    form.inputs["training.batch_size"].widget.value = "4"
    form.inputs["training.epochs"].widget.value = "2"
    form.inputs["training.checkpoint.policy"].widget.value = "every_epoch"
    model.inputs["model.params.filters"].widget.value = "32"


def test_construction_touches_neither_torch_nor_the_store(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from bearing_workbench.panels import ConfigWizard\n"
        "w = ConfigWizard()\n"
        "assert w.step == 1 and len(w.family_cards) == 7\n"
        "print('torch' in sys.modules)\n"
    )
    env = {**os.environ, "BEARING_WORKBENCH_WORKSPACE": str(tmp_path / "ws")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
    assert not (tmp_path / "ws" / "workbench.db").exists()


def test_model_cards_highlight_and_enable_next(wizard: ConfigWizard) -> None:
    assert list(wizard.family_cards) == list_families()
    assert wizard.next_button.disabled and wizard.back_button.disabled
    for _, card in wizard.family_cards.values():
        text = card.children[1].value
        assert "Accuracy:" in text and "Training time:" in text
    cnn_text = wizard.family_cards["cnn1d"][1].children[1].value
    assert "97.1 %" in cnn_text  # the BENCHMARKS.md figure, not an invented one
    assert "98.1 %" in wizard.family_cards["transformer"][1].children[1].value

    wizard.family_cards["resnet1d"][0].click()
    assert wizard.family == "resnet1d" and not wizard.next_button.disabled
    assert wizard.family_cards["resnet1d"][0].button_style == "info"
    wizard.family_cards["pinn"][0].click()
    assert wizard.family == "pinn"
    assert wizard.family_cards["resnet1d"][0].button_style == ""
    assert wizard.family_cards["pinn"][1].layout.border.startswith("2px")
    wizard.go_next()
    assert wizard.step == 2


def test_preset_mode_shows_presets_and_blocks_next_on_a_dataset_they_do_not_fit(wizard: ConfigWizard) -> None:
    wizard.family_cards["cnn1d"][0].click()
    wizard.next_button.click()
    assert wizard.step == 2 and wizard.mode == "preset" and wizard.dataset == "tiny"
    assert list(wizard.preset_cards)[:4] == ["quick", "standard", "max", "fast"]
    quick = wizard.preset_cards["quick"][1].children[1].value
    assert "Epochs:</b> 3" in quick and "Time:" in quick and "Expected accuracy:" in quick
    assert "Here (cnn1d, tiny)" in quick
    # the presets cut 1 s windows (20480 samples); the tiny records are 0.5 s long
    assert set(wizard.errors) == {"data.window.length", "training.batch_size"}
    assert "record length (10240 samples)" in wizard.errors["data.window.length"]
    assert "data.window.length" in wizard.step2_message.value
    assert wizard.next_button.disabled
    wizard.go_next()
    assert wizard.step == 2
    wizard.preset_cards["standard"][0].click()
    assert wizard.preset == "standard" and wizard.preset_cards["standard"][0].button_style == "info"
    assert wizard.current_config()["training"]["epochs"] == 30


def test_a_workspace_without_datasets_says_how_to_get_one(fresh_store: Store) -> None:
    panel = ConfigWizard(store=fresh_store, family="classical")
    try:
        panel.go_next()
        assert panel.step == 2 and panel.dataset is None
        assert "no dataset is registered" in panel.field_message("data.dataset")
        assert "data.dataset" in panel.errors and panel.next_button.disabled
    finally:
        panel.close()


def test_expert_forms_are_generated_from_the_schemas(wizard: ConfigWizard) -> None:
    wizard.family_cards["cnn1d"][0].click()
    wizard.next_button.click()
    wizard.mode_buttons.value = "expert"
    for family in list_families():
        form = wizard.model_form(family)
        fields = param_fields(family)
        assert list(form.inputs) == [f"model.params.{f.name}" for f in fields]
        for spec in fields:
            field_input = form.inputs[f"model.params.{spec.name}"]
            assert spec.help in field_input.widget.tooltip
            # numbers are typed into text boxes: a number box rewrites what it cannot read
            expected = {"bool": widgets.Checkbox, "choice": widgets.Dropdown}.get(spec.type, widgets.Text)
            if spec.ref == "experiment":  # stored experiments are picked, not typed
                expected = widgets.SelectMultiple if spec.type == "list" else widgets.Dropdown
            assert isinstance(field_input.widget, expected), (family, spec.name)
    common = wizard.common_form
    for name in TrainingConfig.model_fields:
        assert any(path.startswith(f"training.{name}") for path in common.inputs), name
    assert "training.scheduler.warmup_epochs" in common.inputs
    # the quick preset's 1 s windows and batch of 32 do not fit the tiny dataset: one problem each
    assert common.widget.titles == ("Data (1 problem)", "Training (1 problem)")
    assert "0 to 0.5" in common.inputs["data.augmentation.time_shift"].widget.tooltip
    # the transfer options (issue 15) come from the schema like every other field
    assert isinstance(common.inputs["data.normalisation"].widget, widgets.Dropdown)
    assert "data.augmentation.time_stretch" in common.inputs
    assert "data.augmentation.band_colouring_db" in common.inputs
    # the quick preset filled the form
    assert wizard.model_form().inputs["model.params.filters"].widget.value == "32"
    assert common.inputs["training.epochs"].widget.value == "3"


def test_validation_is_live_and_names_the_field(wizard: ConfigWizard) -> None:
    to_expert_cnn(wizard)
    assert wizard.errors == {} and wizard.valid and not wizard.next_button.disabled
    model, common = wizard.model_form(), wizard.common_form

    model.inputs["model.params.filters"].widget.value = "7"
    assert wizard.errors == {"model.params.filters": "must be at least 32 (got 7)"}
    assert wizard.field_message("model.params.filters") == "must be at least 32 (got 7)"
    assert wizard.next_button.disabled
    assert model.widget.titles[0].endswith("(1 problem)")
    model.inputs["model.params.filters"].widget.value = "48"
    assert wizard.valid and wizard.field_message("model.params.filters") == ""

    assert model.inputs["model.params.n_conv_layers"].widget.value == "2"  # the quick preset's
    model.inputs["model.params.kernel_sizes"].widget.value = "7, 9"
    assert "model.params.kernel_sizes[1]" in wizard.errors
    assert "3, 5, 7, 11" in wizard.field_message("model.params.kernel_sizes")
    model.inputs["model.params.kernel_sizes"].widget.value = "7, 5, 3"
    assert "needs one size per convolution layer" in wizard.field_message("model.params.kernel_sizes")
    model.inputs["model.params.n_conv_layers"].widget.value = "3"
    assert wizard.valid

    common.inputs["training.gradient_clip"].widget.value = "abc"
    assert wizard.field_message("training.gradient_clip") == "must be a number"
    common.inputs["training.gradient_clip"].widget.value = ""
    assert wizard.current_config()["training"]["gradient_clip"] is None and wizard.valid

    common.inputs["training.batch_size"].widget.value = "64"
    assert "15 training examples" in wizard.field_message("training.batch_size")
    common.inputs["training.batch_size"].widget.value = "4"

    wizard.split_inputs["train"].value = 60.0
    assert "add up to 100" in wizard.field_message("data.split")
    assert wizard.next_button.disabled
    wizard.split_inputs["val"].value = 25.0
    assert wizard.valid
    assert wizard.current_config()["data"]["split"] == {"train": 60.0, "val": 25.0, "test": 15.0}

    common.toggles["data.window"].value = False
    assert wizard.current_config()["data"]["window"] is None
    assert common.inputs["data.window.length"].widget.disabled
    # whole 10240-sample records: 3 training examples, fewer than the batch of 4
    assert "training.batch_size" in wizard.errors
    common.toggles["data.window"].value = True
    assert wizard.valid


def test_expert_mode_keeps_what_was_typed_and_names_the_problem(wizard: ConfigWizard) -> None:
    """Nothing typed is rewritten: the text stays in its box, the field's message says what is wrong."""
    to_expert_cnn(wizard)
    filters = wizard.model_form().inputs["model.params.filters"]
    filters.widget.value = "3.5"
    assert filters.widget.value == "3.5" and filters.get() == 3.5
    assert wizard.field_message("model.params.filters") == "must be a whole number"
    assert not wizard.valid and wizard.next_button.disabled
    filters.widget.value = "48"
    assert wizard.valid

    rate = wizard.common_form.inputs["training.learning_rate"]
    for typed, message in (("abc", "must be a number"), ("1e999", "must be at most 1 (got 1e999)")):
        rate.widget.value = typed
        assert rate.widget.value == typed
        assert wizard.field_message("training.learning_rate") == message
        assert wizard.errors == {"training.learning_rate": message} and wizard.next_button.disabled
    rate.widget.value = "0.0003"
    assert wizard.valid and wizard.current_config()["training"]["learning_rate"] == 0.0003


def test_review_shows_name_summary_yaml_estimates_and_saves(
    wizard: ConfigWizard, wizard_store: Store
) -> None:
    to_expert_cnn(wizard)
    wizard.next_button.click()
    assert wizard.step == 3
    assert wizard.name.startswith("cnn1d-custom-tiny") and wizard.name_input.value == wizard.name
    config = wizard.validated_config()
    assert yaml.safe_load(wizard.yaml) == config.model_dump(mode="json")
    assert "1-D CNN" in wizard.summary_html.value and "15 from 3 records" in wizard.summary_html.value
    assert "Estimated time:" in wizard.estimate_html.value
    assert "parameters" in wizard.estimate_html.value and "GPU" in wizard.estimate_html.value
    assert any("training record(s) per class" in line for line in wizard.warnings)

    wizard.name_input.value = "my first run"
    assert wizard.name == "my first run"
    assert yaml.safe_load(wizard.yaml)["name"] == "my first run"
    wizard.name_input.value = "x" * 201
    assert "at most 200 characters" in wizard.field_message("name")
    assert wizard.next_button.disabled
    wizard.name_input.value = "my first run"

    saved = Path(wizard.save_config() or "")
    assert saved.parent == wizard_store.workspace / "configs" and saved.name == "my_first_run.yaml"
    facts = dataset_facts(config, wizard_store)
    reloaded = load_config(saved, facts)
    assert reloaded.model_dump(exclude={"name"}) == validate_config(config).model_dump(exclude={"name"})

    assert wizard.preset_name_input.value == "my_first_run"
    assert wizard.save_as_preset("1 bad name") is None
    assert "simple identifier" in wizard.save_status.value
    preset_file = Path(wizard.save_as_preset("tiny_cnn") or "")
    assert preset_file.parent == wizard_store.workspace / "presets"
    assert "tiny_cnn" in wizard.preset_cards
    assert wizard.save_as_preset("tiny_cnn") is None and "exists already" in wizard.save_status.value

    # the user preset gives back the same settings, in preset mode, for a new wizard
    again = ConfigWizard(store=wizard_store, family="cnn1d")
    again.go_next()
    again.preset_cards["tiny_cnn"][0].click()
    assert again.valid
    restored = again.validated_config()
    assert restored.training == config.training and restored.model == config.model
    assert restored.data.model_dump() == config.data.model_dump()
    again.close()


def test_clone_fills_the_form_from_a_stored_config(wizard_store: Store) -> None:
    stored = validate_config(
        {
            "name": "stored run",
            "data": {
                "dataset": "tiny",
                "split": {"train": 60, "val": 20, "test": 20},
                "window": {"length": 4096},
            },
            "model": {"family": "resnet1d", "params": {"depth": 18, "width_multiplier": 0.25}},
            "training": {"epochs": 4, "batch_size": 2, "optimizer": "sgd", "learning_rate": 0.01},
        }
    )
    experiment_id = wizard_store.create_experiment("stored run", "resnet1d", stored.model_dump(mode="json"))
    panel = ConfigWizard.from_experiment(experiment_id, store=wizard_store)
    try:
        assert (panel.step, panel.mode, panel.family, panel.parent_id) == (
            2,
            "expert",
            "resnet1d",
            experiment_id,
        )
        assert panel.name.startswith("stored_run-clone")
        assert panel.model_form().inputs["model.params.width_multiplier"].widget.value == "0.25"
        assert panel.common_form.inputs["training.optimizer"].widget.value == "sgd"
        assert panel.split_values() == {"train": 60.0, "val": 20.0, "test": 20.0}
        assert panel.valid, panel.errors
        cloned = panel.validated_config()
        exclude = {"name", "provenance"}
        assert cloned.model_dump(exclude=exclude) == stored.model_dump(exclude=exclude)
        assert "cloned from experiment" in panel.message.text
    finally:
        panel.close()


def test_history_section_offers_clone_and_resume_by_status(wizard: ConfigWizard, wizard_store: Store) -> None:
    config = validate_config({"data": {"dataset": "tiny"}, "model": {"family": "classical"}})
    done_id = wizard_store.create_experiment("finished", "classical", config.model_dump(mode="json"))
    for action in ("start", "complete"):
        wizard_store.transition(done_id, action)
    wizard.history_box.selected_index = 0  # opening the section reads the store
    assert done_id in [value for _, value in wizard.history_dropdown.options]
    wizard.history_dropdown.value = done_id
    assert not wizard.clone_button.disabled and wizard.resume_button.disabled
    assert wizard.resume(done_id) is None and "only a failed or stopped run" in wizard.message.text
    wizard.clone_button.click()
    assert wizard.step == 2 and wizard.family == "classical" and wizard.parent_id == done_id


def test_launch_submits_the_config_and_opens_the_monitor(client, wizard_store: Store) -> None:
    panel = ConfigWizard(store=wizard_store, client=client)
    try:
        to_expert_cnn(panel)
        panel.next_button.click()
        panel.next_button.click()
        assert panel.step == 4 and not panel.launch_button.disabled
        assert LAUNCHED_NOTE in panel.launch_summary.value
        reviewed = panel.validated_config()
        panel.launch_button.click()
        assert panel.experiment_id is not None
        assert panel.launch_button.disabled and LAUNCHED_NOTE in panel.launch_status.value
        record = wizard_store.get_experiment(panel.experiment_id)
        assert record.name == panel.name and record.family == "cnn1d"
        assert record.config == panel.launched_config.model_dump(mode="json")
        assert ExperimentConfig.model_validate(record.config).training == reviewed.training
        from bearing_workbench.panels.monitor import TrainingMonitor

        assert isinstance(panel.monitor, TrainingMonitor) and panel.monitor_box.children == (panel.monitor,)
        assert wait_status(wizard_store, panel.experiment_id) == "completed", record.error

        # the review's checkpoint size is close to the real file
        estimate, _ = panel._checkpoints(reviewed, panel._dataset_info())
        best = experiment_dir(panel.experiment_id, wizard_store.workspace) / "best.pt"
        assert estimate is not None
        assert estimate.checkpoint_bytes == pytest.approx(best.stat().st_size, rel=0.1)

        # a clone launched from it records its parent
        first = panel.experiment_id
        clone = ConfigWizard.from_experiment(first, store=wizard_store, client=client)
        clone.go_next()
        clone.go_next()
        clone.launch()
        assert clone.experiment_id not in (None, first)
        assert wizard_store.get_experiment(clone.experiment_id).parent_id == first
        assert wait_status(wizard_store, clone.experiment_id) == "completed"
        clone.close()
    finally:
        panel.close()


def test_resume_relaunches_a_failed_run(client, wizard_store: Store) -> None:
    to_run = ConfigWizard(store=wizard_store, client=client)
    try:
        to_expert_cnn(to_run)
        config = to_run.validated_config()
    finally:
        to_run.close()
    experiment_id = wizard_store.create_experiment("lost run", "cnn1d", config.model_dump(mode="json"))
    wizard_store.transition(experiment_id, "start")
    wizard_store.transition(experiment_id, "fail", error="lost its worker", hint="resubmit it")
    panel = ConfigWizard(store=wizard_store, client=client)
    try:
        panel.history_box.selected_index = 0
        panel.history_dropdown.value = experiment_id
        assert not panel.resume_button.disabled
        panel.resume_button.click()
        assert panel.step == 4 and panel.experiment_id == experiment_id
        assert "resumed" in panel.launch_status.value and panel.launch_button.disabled
        assert wait_status(wizard_store, experiment_id) == "completed"
    finally:
        panel.close()
