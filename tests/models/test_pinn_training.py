"""The physics loss through the real training loop: it changes what is learned and is logged per epoch."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bearing_workbench.config import ExperimentConfig
from bearing_workbench.data import GeneratorConfig, generate_dataset
from bearing_workbench.training.loop import fit

CLASSES = ("healthy", "misalignment", "oil_whirl")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pinn-data") / "pinn.h5"
    return generate_dataset(
        path, GeneratorConfig(per_class=5, duration_s=1.0, classes=CLASSES, seed=5), workers=1
    )


def _config(dataset: Path, lambda_physics: float) -> ExperimentConfig:
    return ExperimentConfig.model_validate(
        {
            "data": {"dataset": str(dataset), "split": {"train": 60.0, "val": 20.0, "test": 20.0}},
            "model": {
                "family": "pinn",
                "params": {"n_conv_layers": 2, "filters": 8, "fc_size": 16, "lambda_physics": lambda_physics},
            },
            "training": {"batch_size": 4, "epochs": 2, "learning_rate": 3e-3, "seed": 0},
        }
    )


def test_the_loop_optimises_and_logs_the_physics_loss(dataset: Path, tmp_path: Path) -> None:
    plain = fit(_config(dataset, 0.0), out_dir=tmp_path / "plain", device="cpu")
    physics = fit(_config(dataset, 1.0), out_dir=tmp_path / "physics", device="cpu")
    for result in (plain, physics):
        for epoch in result.history:
            for key in (
                "physics_loss",
                "frequency_consistency",
                "val_physics_loss",
                "val_frequency_consistency",
            ):
                assert key in epoch.extra, key
            assert 0.0 <= epoch.extra["frequency_consistency"] <= 1.0
        # The healthy reference was fitted by the loop's prepare call and kept with the model.
        assert bool(result.model.reference_ready)
    # Same seed and data: only the physics term differs, so the learned weights differ.
    a, b = plain.model.state_dict(), physics.model.state_dict()
    assert torch.equal(a["reference_intercept"], b["reference_intercept"])
    assert any(not torch.allclose(a[k].float(), b[k].float()) for k in a if k.startswith("head."))
