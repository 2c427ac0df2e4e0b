"""Tiny shared fixtures for the training tests: a generated dataset and test-only model families."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest
import torch
from pydantic import Field
from torch import nn

from bearing_workbench.config import ExperimentConfig
from bearing_workbench.data import GeneratorConfig, generate_dataset
from bearing_workbench.models import registry
from bearing_workbench.models.builders.layers import PerSignalStandardize
from bearing_workbench.models.inputs import InputSpec
from bearing_workbench.models.registry import FamilyParams, FamilySpec, register_family
from bearing_workbench.training.batch import Batch, TrainData

CLASSES = ("healthy", "imbalance", "misalignment")
WINDOW = 256


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 classes x 3 records of 0.25 s (5120 samples), with the generator's 70/15/15 split."""
    path = tmp_path_factory.mktemp("data") / "tiny.h5"
    cfg = GeneratorConfig(per_class=3, duration_s=0.25, classes=CLASSES, seed=3)
    return generate_dataset(path, cfg, workers=1)


@pytest.fixture(scope="session")
def tiny_dataset_4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Like `tiny_dataset` with a fourth class (for a changed class count)."""
    path = tmp_path_factory.mktemp("data4") / "tiny4.h5"
    cfg = GeneratorConfig(per_class=3, duration_s=0.25, classes=(*CLASSES, "wear"), seed=4)
    return generate_dataset(path, cfg, workers=1)


class TinyParams(FamilyParams):
    """Parameters of the test-only family."""

    channels: int = Field(8, ge=1, le=64, description="Convolution channels.")
    dropout: float = Field(0.2, ge=0.0, lt=1.0, description="Dropout before the output layer.")
    fault: Literal["none", "nan", "cuda_oom", "cpu_oom", "other"] = Field(
        "none", description="Failure injected from the second forward pass on (tests only)."
    )
    aux: bool = Field(False, description="Add an auxiliary loss and a prepare step (tests only).")
    init_from_experiment: int | None = Field(None, ge=1, description="Start from a stored experiment.")


class TinyNet(nn.Module):
    """Standardise, one strided convolution with batch norm, pooling, dropout, linear head (+ meta)."""

    def __init__(self, params: TinyParams, spec: InputSpec):
        super().__init__()
        self.params = params
        self.norm = PerSignalStandardize()
        self.conv = nn.Conv1d(1, params.channels, kernel_size=9, stride=4)
        self.bn = nn.BatchNorm1d(params.channels)
        self.pool = nn.AdaptiveAvgPool1d(4)
        self.drop = nn.Dropout(params.dropout)
        self.head = nn.Linear(params.channels * 4 + len(spec.meta_names), spec.n_classes)
        self.calls = 0
        self.prepared: list[TrainData] = []

    def forward(self, x: torch.Tensor, meta: torch.Tensor | None = None) -> torch.Tensor:
        self.calls += 1
        if self.calls > 1:
            self._inject()
        h = torch.relu(self.bn(self.conv(self.norm(x).unsqueeze(1))))
        h = self.drop(self.pool(h).flatten(1))
        if meta is not None:
            h = torch.cat([h, torch.log1p(meta.abs())], dim=1)
        logits = self.head(h)
        if self.params.fault == "nan" and self.calls > 1:
            logits = logits * float("nan")
        return logits

    def _inject(self) -> None:
        fault = self.params.fault
        if fault == "cuda_oom":
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        if fault == "cpu_oom":
            raise RuntimeError(
                "[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory"
            )
        if fault == "other":
            raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")


class TinyAuxNet(TinyNet):
    """TinyNet with the optional hooks: `prepare` and `auxiliary_loss`."""

    def __init__(self, params: TinyParams, spec: InputSpec):
        super().__init__(params, spec)
        self.register_buffer("train_rms", torch.zeros(()))

    def prepare(self, train: TrainData) -> None:
        self.prepared.append(train)
        self.train_rms.fill_(float(np.sqrt(np.mean(np.square(train.signals)))))

    def auxiliary_loss(self, batch: Batch, logits: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        penalty = 0.01 * logits.pow(2).mean()
        return penalty, {"aux_penalty": float(penalty.detach()), "rms_seen": float(self.train_rms)}


def _build(params: TinyParams, spec: InputSpec) -> nn.Module:
    return (TinyAuxNet if params.aux else TinyNet)(params, spec)


class FakeEstimator:
    """A non-epoch 'model' following the estimator protocol: class priors of the training split."""

    def __init__(self, params: Any, spec: InputSpec):
        self.spec = spec
        self.priors_: np.ndarray | None = None

    def fit_estimator(self, ctx: Any, data: Any) -> None:
        ctx.progress(0.5, "counting classes")
        counts = np.bincount(data.train.labels, minlength=self.spec.n_classes)
        self.priors_ = counts / counts.sum()
        ctx.progress(1.0, "done")

    def predict_proba(self, split: Any) -> np.ndarray:
        return np.tile(self.priors_, (len(split), 1))


class EstimatorParams(FamilyParams):
    """No parameters."""


@pytest.fixture
def tiny_family(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Register the test-only families `tiny_net` (epoch-based) and `tiny_estimator` (non-epoch) for
    one test; the registry is restored afterwards."""
    monkeypatch.setattr(registry, "_FAMILIES", dict(registry._FAMILIES))
    register_family(
        FamilySpec(
            name="tiny_net",
            title="Tiny net",
            description="Test-only network.",
            params=TinyParams,
            input_kind="signal",
            builder=_build,
        )
    )
    register_family(
        FamilySpec(
            name="tiny_estimator",
            title="Tiny estimator",
            description="Test-only estimator.",
            params=EstimatorParams,
            input_kind="features",
            builder=FakeEstimator,
            epoch_based=False,
        )
    )
    yield "tiny_net"


def make_config(
    dataset: Path,
    *,
    family: str = "tiny_net",
    params: dict[str, Any] | None = None,
    window: int | None = WINDOW,
    split: tuple[float, float, float] = (70.0, 15.0, 15.0),
    augmentation: dict[str, Any] | None = None,
    **training: Any,
) -> ExperimentConfig:
    """A small experiment config: 60 training windows of 256 samples, 4 steps per epoch, one warm-up
    epoch (none when there is a single epoch)."""
    train = {
        "batch_size": 16,
        "epochs": 3,
        "learning_rate": 3e-3,
        "seed": 0,
        "scheduler": {"name": "cosine", "warmup_epochs": 1, "min_lr": 1e-4},
        "checkpoint": {"policy": "every_epoch", "keep_last": 2},
    }
    train.update(training)
    if train["epochs"] == 1 and "scheduler" not in training:
        train["scheduler"] = {"name": "cosine", "warmup_epochs": 0, "min_lr": 1e-4}
    data: dict[str, Any] = {
        "dataset": str(dataset),
        "split": dict(zip(("train", "val", "test"), split, strict=True)),
        "augmentation": augmentation or {},
    }
    if window is not None:
        data["window"] = {"length": window}
    return ExperimentConfig.model_validate(
        {"data": data, "model": {"family": family, "params": params or {}}, "training": train}
    )
