"""Saved configs and user presets live in the workspace's configs/ and presets/ folders."""

from __future__ import annotations

import pytest

from bearing_workbench.config import ExperimentConfig
from bearing_workbench.store.config_files import configs_dir, presets_dir, save_config_file


def test_save_config_file_writes_yaml_that_reads_back(tmp_path) -> None:
    config = ExperimentConfig.model_validate(
        {"name": "run a", "data": {"dataset": "demo"}, "model": {"family": "cnn1d"}}
    )
    path = save_config_file(config, "../run a", tmp_path)
    assert path == tmp_path.resolve() / "configs" / "run_a.yaml"
    assert ExperimentConfig.from_yaml(path) == config
    with pytest.raises(FileExistsError, match="already exists"):
        save_config_file(config, "run a", tmp_path)
    changed = config.model_copy(update={"name": "run b"})
    assert (
        ExperimentConfig.from_yaml(save_config_file(changed, "run a", tmp_path, overwrite=True)).name
        == "run b"
    )
    assert configs_dir(tmp_path) == path.parent
    assert presets_dir(tmp_path, create=True).is_dir()
