"""ONNX export: opset 17, dynamic batch, checked against PyTorch with onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bearing_workbench.models.inputs import InputSpec
from bearing_workbench.training.batch import Batch
from bearing_workbench.training.onnx_export import TOLERANCE, OnnxExportError, export_onnx

ort = pytest.importorskip("onnxruntime")

LENGTH = 64
CLASSES = ("healthy", "wear", "oil_whirl")


class _ConvNet(torch.nn.Module):
    """Standardise, convolve, pool; optionally concatenate the metadata before the head."""

    def __init__(self, n_meta: int = 0) -> None:
        super().__init__()
        self.conv = torch.nn.Conv1d(1, 4, 5, padding=2)
        self.norm = torch.nn.BatchNorm1d(4)
        self.head = torch.nn.Linear(4 + n_meta, len(CLASSES))
        self.n_meta = n_meta

    def forward(self, x: torch.Tensor, meta: torch.Tensor | None = None) -> torch.Tensor:
        x = (x - x.mean(dim=-1, keepdim=True)) / (x.std(dim=-1, keepdim=True) + 1e-6)
        h = torch.relu(self.norm(self.conv(x[:, None]))).mean(dim=-1)
        if self.n_meta:
            h = torch.cat([h, meta], dim=1)
        return self.head(h)


def _spec(meta_names: tuple[str, ...] = ()) -> InputSpec:
    return InputSpec("signal", len(CLASSES), CLASSES, 10240.0, LENGTH, meta_names)


def _batch(b: int, n_meta: int, seed: int = 0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    return Batch(
        x=torch.randn(b, LENGTH, generator=g) * 3 + 1,
        y=torch.zeros(b, dtype=torch.long),
        meta=torch.randn(b, n_meta, generator=g),
        index=torch.arange(b),
    )


def _trained(model: torch.nn.Module) -> torch.nn.Module:
    # Non-trivial batch-norm statistics, so eval mode differs from training mode.
    model.train()
    with torch.no_grad():
        for seed in range(3):
            b = _batch(16, model.n_meta, seed)
            model(b.x, b.meta if model.n_meta else None)
    return model


@pytest.mark.parametrize("meta_names", [(), ("speed_hz", "load_frac")])
def test_export_matches_pytorch_and_accepts_any_batch_size(tmp_path, meta_names):
    n_meta = len(meta_names)
    model = _trained(_ConvNet(n_meta))
    path = tmp_path / "model.onnx"
    result = export_onnx(model, _spec(meta_names), path, _batch(4, n_meta), family="cnn1d")
    assert result["verified"] is True and result["max_abs_diff"] <= TOLERANCE
    assert result["path"] == str(path) and result["opset"] == 17
    assert model.training  # the caller's model is left as it was
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]  # no temporary file left

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    expected_inputs = ["signal", "meta"] if n_meta else ["signal"]
    assert [i.name for i in session.get_inputs()] == expected_inputs
    other = _batch(11, n_meta, seed=7)  # a batch size the export never saw
    feeds = {"signal": other.x.numpy()}
    if n_meta:
        feeds["meta"] = other.meta.numpy()
    got = session.run(["logits"], feeds)[0]
    model.eval()
    with torch.no_grad():
        want = model(other.x, other.meta if n_meta else None).numpy()
    assert got.shape == (11, len(CLASSES))
    np.testing.assert_allclose(got, want, atol=TOLERANCE)


def test_a_model_whose_onnx_output_differs_is_not_verified(tmp_path):
    class Noisy(_ConvNet):
        def forward(self, x, meta=None):
            return super().forward(x, meta) + torch.rand_like(x[:, :3])

    result = export_onnx(Noisy(), _spec(), tmp_path / "m.onnx", _batch(4, 0), family="noisy")
    assert result["verified"] is False and result["max_abs_diff"] > TOLERANCE


def test_an_unexportable_model_raises_an_error_naming_the_family(tmp_path):
    class Eig(torch.nn.Module):
        def forward(self, x, meta=None):
            outer = x[:, :3, None] * x[:, None, :3]
            return torch.linalg.eigvals(outer).real

    with pytest.raises(OnnxExportError, match="ONNX export of the transformer model failed"):
        export_onnx(Eig(), _spec(), tmp_path / "m.onnx", _batch(2, 0), family="transformer")
    assert not list(tmp_path.iterdir())


def test_metadata_missing_from_the_example_batch_is_named(tmp_path):
    with pytest.raises(OnnxExportError, match=r"pinn model needs example metadata of shape \(4, 2\)"):
        export_onnx(
            _ConvNet(2), _spec(("speed_hz", "load_frac")), tmp_path / "m.onnx", _batch(4, 0), family="pinn"
        )


def test_a_model_holding_non_leaf_tensors_is_exported_in_place_and_restored(tmp_path):
    class KeepsActivations(_ConvNet):
        def forward(self, x, meta=None):
            out = super().forward(x, meta)
            self.last = out * 2  # a non-leaf tensor: deepcopy refuses it
            return out

    model = KeepsActivations().train()
    b = _batch(4, 0)
    model(b.x.requires_grad_())
    result = export_onnx(model, _spec(), tmp_path / "m.onnx", _batch(4, 0))
    assert result["verified"] is True
    assert model.training
