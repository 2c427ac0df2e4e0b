"""Generated names: unique experiment names, safe file stems, valid preset identifiers."""

from __future__ import annotations

from bearing_workbench.config import ExperimentConfig, save_user_preset
from bearing_workbench.config.naming import auto_experiment_name, file_stem, preset_identifier


def test_experiment_names_are_unique_among_the_taken_ones() -> None:
    assert auto_experiment_name("cnn1d", "quick", "demo") == "cnn1d-quick-demo"
    taken = ["cnn1d-quick-demo", "cnn1d-quick-demo-2"]
    assert auto_experiment_name("cnn1d", "quick", "demo", taken) == "cnn1d-quick-demo-3"
    assert auto_experiment_name("pinn", "standard", "/data/plant a.h5") == "pinn-standard-plant_a"
    assert auto_experiment_name("my run", "clone", "") == "my_run-clone"
    assert len(auto_experiment_name("x" * 300, "quick", "demo", ["x" * 196])) <= 200


def test_file_stems_never_leave_their_folder_or_hide() -> None:
    assert file_stem("my first run") == "my_first_run"
    assert file_stem("../../etc/passwd") == "etc_passwd"
    assert file_stem(".hidden") == "hidden"
    assert file_stem("///") == "config"
    assert len(file_stem("a" * 500)) == 64


def test_preset_identifiers_are_accepted_by_save_user_preset(tmp_path) -> None:
    config = ExperimentConfig.model_validate({"data": {"dataset": "demo"}, "model": {"family": "cnn1d"}})
    for name in ("my first run", "2024 run", "--", "é-accent"):
        ident = preset_identifier(name)
        assert save_user_preset(ident, config, tmp_path).stem == ident
