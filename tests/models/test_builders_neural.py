"""Every neural family with a builder, checked the same way (as timm loops over its registry).

Builds with default and with chosen non-default parameters for a small input (11 classes, fs 20480,
4096 samples), then checks: logits shape, invariance to the input's scale (per-signal
standardisation), gradients for every trainable parameter, determinism in eval mode, other input
lengths, ONNX export matching onnxruntime, and that a few steps fit a tiny two-class batch.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from torch import nn

from bearing_workbench.data.catalogue import DEFAULT_CLASSES
from bearing_workbench.models import get_family, list_families
from bearing_workbench.models.builders import build_model, load_builders
from bearing_workbench.models.inputs import PHYSICS_META, InputSpec

load_builders()
FS = 20480.0
LENGTH = 4096
SPEC = InputSpec("signal", len(DEFAULT_CLASSES), DEFAULT_CLASSES, FS, LENGTH, PHYSICS_META)
NEURAL = [
    name for name in list_families() if get_family(name).epoch_based and get_family(name).builder is not None
]
# Families whose forward ignores meta: exported with the signal as the only input.
SIGNAL_ONLY = {"cnn1d", "resnet1d", "transformer", "spectrogram"}

# (family, params): defaults of every neural family, plus the variants worth building separately.
CASES = [(name, {}) for name in NEURAL] + [
    ("cnn1d", {"n_conv_layers": 5, "kernel_sizes": [11, 7, 5, 3, 3], "pooling": "avg", "fc_sizes": []}),
    ("resnet1d", {"depth": 34, "width_multiplier": 0.25}),
    ("resnet1d", {"depth": 50, "width_multiplier": 0.25}),
    ("transformer", {"positional_encoding": "learned", "n_layers": 2, "d_model": 64, "patch_size": 128}),
    ("transformer", {"n_layers": 2, "n_heads": 5, "d_model": 65, "patch_size": 128}),  # odd width
    ("transformer", {"embedding": "linear", "n_layers": 2, "d_model": 64, "patch_size": 100}),
    ("spectrogram", {"transform": "cwt", "n_scales": 32, "base_channels": 8}),
    ("spectrogram", {"stft_window": 512, "dual_stream": True, "base_channels": 8}),
    ("spectrogram", {"transform": "cwt", "n_scales": 16, "dual_stream": True, "base_channels": 8}),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in params.items()) or 'default'}" for name, params in CASES]


def _build(name: str, params: dict, spec: InputSpec = SPEC, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return build_model(name, get_family(name).params(**params), spec)


def _inputs(batch: int, length: int = LENGTH, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, length, generator=generator)
    x[:, : length // 2] *= 3.0  # uneven, so standardisation has something to do
    meta = torch.tensor([[60.0, 0.5, 60.0, 0.2, 800.0]]).repeat(batch, 1)
    return x, meta


def test_the_four_signal_families_have_builders() -> None:
    assert SIGNAL_ONLY <= set(NEURAL)


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_forward_scale_invariance_and_determinism(name: str, params: dict) -> None:
    model = _build(name, params).eval()
    x, meta = _inputs(3)
    with torch.no_grad():
        logits = model(x, meta)
        again = model(x, meta)
        scaled = model(10.0 * x + 5.0, meta)
    assert logits.shape == (3, SPEC.n_classes) and logits.dtype == torch.float32
    assert torch.isfinite(logits).all()
    assert torch.equal(logits, again)
    torch.testing.assert_close(scaled, logits, atol=1e-4, rtol=1e-4)
    assert not torch.allclose(logits[0], logits[1])  # outputs depend on the input


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_backward_reaches_every_trainable_parameter(name: str, params: dict) -> None:
    model = _build(name, params).train()
    x, meta = _inputs(4)
    loss = nn.functional.cross_entropy(model(x, meta), torch.tensor([0, 1, 2, 3]))
    loss.backward()
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    assert named
    missing = [n for n, p in named if p.grad is None]
    assert not missing, f"no gradient for {missing}"
    bad = [n for n, p in named if not torch.isfinite(p.grad).all()]
    assert not bad, f"non-finite gradient for {bad}"
    assert sum(float(p.grad.abs().sum()) for _, p in named) > 0


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_onnx_export_matches_onnxruntime(name: str, params: dict) -> None:
    ort = pytest.importorskip("onnxruntime")
    model = _build(name, params).eval()
    x, meta = _inputs(2)
    signal_only = name in SIGNAL_ONLY
    args = (x,) if signal_only else (x, meta)
    names = ["signal"] if signal_only else ["signal", "meta"]
    buffer = io.BytesIO()
    torch.onnx.export(
        model,
        args,
        buffer,
        dynamo=False,
        opset_version=17,
        input_names=names,
        output_names=["logits"],
        dynamic_axes={**{n: {0: "batch"} for n in names}, "logits": {0: "batch"}},
    )
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    x5, meta5 = _inputs(5, seed=7)  # another batch size: the batch axis is dynamic
    feeds = {"signal": x5.numpy(), "meta": meta5.numpy()}
    wanted = {i.name for i in session.get_inputs()}
    (onnx_logits,) = session.run(None, {k: v for k, v in feeds.items() if k in wanted})
    with torch.no_grad():
        expected = model(x5, meta5).numpy()
    np.testing.assert_allclose(onnx_logits, expected, atol=1e-4, rtol=0)


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_other_window_lengths(name: str, params: dict) -> None:
    model = _build(name, params).eval()
    minimum = int(getattr(model, "min_length", 256))
    lengths = [max(minimum, 256), LENGTH + 37, 2 * LENGTH]  # shorter, not a round number, longer
    with torch.no_grad():
        for length in lengths:
            x, meta = _inputs(2, length)
            logits = model(x, meta)
            assert logits.shape == (2, SPEC.n_classes), length
            assert torch.isfinite(logits).all(), length


def _two_tone_batch(length: int = 2048) -> tuple[torch.Tensor, torch.Tensor]:
    """8 noisy windows: class 0 carries a 600 Hz tone, class 1 a 3 kHz tone."""
    generator = torch.Generator().manual_seed(3)
    t = torch.arange(length) / FS
    labels = torch.tensor([0, 1] * 4)
    phases = 2 * torch.pi * torch.rand(8, 1, generator=generator)
    freqs = torch.where(labels == 0, 600.0, 3000.0)[:, None]
    x = torch.sin(2 * torch.pi * freqs * t + phases) + 0.5 * torch.randn(8, length, generator=generator)
    return x, labels


@pytest.mark.parametrize("name", NEURAL)
def test_a_few_steps_fit_a_tiny_batch(name: str) -> None:
    small = {
        "cnn1d": {"filters": 32},
        "resnet1d": {"width_multiplier": 0.25},
        "transformer": {"n_layers": 2, "d_model": 64},
        "spectrogram": {"base_channels": 8},
    }.get(name, {})
    spec = InputSpec("signal", 2, DEFAULT_CLASSES[:2], FS, 2048, PHYSICS_META)
    if name == "pinn":  # needs a healthy class and the catalogue's names
        spec = InputSpec("signal", 2, ("healthy", "misalignment"), FS, 2048, PHYSICS_META)
    model = _build(name, small, spec)
    x, y = _two_tone_batch()
    _, meta = _inputs(8)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

    def eval_loss() -> float:
        model.eval()
        with torch.no_grad():
            return float(nn.functional.cross_entropy(model(x, meta), y))

    before = eval_loss()
    for _ in range(20):
        model.train()
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x, meta), y).backward()
        optimizer.step()
    after = eval_loss()
    assert after < 0.5 * before, (before, after)


# ---------------------------------------------------------------- family specifics


def test_short_inputs_are_refused_with_the_field_to_change() -> None:
    short = InputSpec("signal", 2, ("a", "b"), FS, 100)
    with pytest.raises(ValueError, match=r"at least 256 samples.*data\.window\.length"):
        build_model("spectrogram", get_family("spectrogram").params(), short)
    with pytest.raises(ValueError, match=r"at least 128 samples.*patch_size"):
        build_model("transformer", get_family("transformer").params(patch_size=128), short)
    model = _build("cnn1d", {})
    with pytest.raises(ValueError, match=r"\(batch, samples\)"):
        model(torch.randn(2, 1, LENGTH))
    with pytest.raises(ValueError, match="at least 64 samples"):
        model(torch.randn(2, 32))


def test_cnn1d_first_layer_is_reachable_for_filter_plots() -> None:
    model = _build("cnn1d", {"filters": 48})
    stem_conv = model.stem[0]
    assert isinstance(stem_conv, nn.Conv1d) and stem_conv.in_channels == 1
    filters = model.first_layer_filters()
    assert filters.shape == (48, 64)
    torch.testing.assert_close(filters, stem_conv.weight[:, 0, :].detach())


def test_resnet1d_keys_are_stable_and_the_head_can_be_skipped() -> None:
    params = {"depth": 18, "width_multiplier": 0.25}
    source = _build("resnet1d", params, seed=0)
    other_spec = InputSpec("signal", 4, DEFAULT_CLASSES[:4], FS, 2 * LENGTH)
    target = _build("resnet1d", params, other_spec, seed=1)
    assert isinstance(target.head, nn.Linear) and target.head.out_features == 4
    assert source.state_dict().keys() == target.state_dict().keys()
    body = {k: v for k, v in source.state_dict().items() if not k.startswith("head.")}
    result = target.load_state_dict(body, strict=False)
    assert set(result.missing_keys) == {"head.weight", "head.bias"} and not result.unexpected_keys
    torch.testing.assert_close(target.stem[0].weight, source.stem[0].weight)
    depth50 = _build("resnet1d", {"depth": 50, "width_multiplier": 0.25})
    assert depth50.head.in_features == 4 * depth50.layer4[0].conv1.out_channels  # bottleneck expansion 4


@pytest.mark.parametrize("encoding", ["sinusoidal", "learned"])
def test_transformer_attention_weights(encoding: str) -> None:
    params = {"n_layers": 3, "n_heads": 4, "d_model": 64, "patch_size": 128, "positional_encoding": encoding}
    model = _build("transformer", params).eval()
    x, _ = _inputs(2)
    with torch.no_grad():
        fused = model(x)
    with pytest.raises(RuntimeError, match="keep_attention = True"):
        model.attention_weights()
    model.keep_attention = True
    with torch.no_grad():
        explicit = model(x)
    weights = model.attention_weights()
    tokens = LENGTH // 128 + 1
    assert len(weights) == 3
    for layer in weights:
        assert layer.shape == (2, 4, tokens, tokens)
        assert (layer >= 0).all()
        torch.testing.assert_close(layer.sum(dim=-1), torch.ones(2, 4, tokens))
    torch.testing.assert_close(explicit, fused, atol=1e-5, rtol=1e-5)  # the same attention, two paths
    assert not torch.allclose(weights[0][0, 0], weights[0][0, 1])  # heads differ
    model.keep_attention = False
    with torch.no_grad():
        model(x)
    with pytest.raises(RuntimeError):
        model.attention_weights()


def test_transformer_learned_positions_cover_other_lengths() -> None:
    params = {"n_layers": 2, "d_model": 64, "patch_size": 128, "positional_encoding": "learned"}
    model = _build("transformer", params).eval()
    assert model.pos_embed.shape == (1, LENGTH // 128 + 1, 64)
    model.keep_attention = True
    with torch.no_grad():
        for length, tokens in [(1024, 8), (3 * LENGTH, 3 * LENGTH // 128)]:
            model(torch.randn(1, length))
            assert model.attention_weights()[0].shape[-1] == tokens + 1


@pytest.mark.parametrize("patch_size", [16, 32, 128, 256, 512])
def test_transformer_conv_embedding_makes_one_token_per_patch(patch_size: int) -> None:
    """The strided convolutions keep token t on samples [t P, (t + 1) P), as the linear embedding does."""
    model = _build("transformer", {"n_layers": 2, "d_model": 64, "patch_size": patch_size}).eval()
    assert [type(m).__name__ for m in model.patch_embed][-1] == "Conv1d"  # tokens: no activation last
    with torch.no_grad():
        for length in (LENGTH, LENGTH + patch_size - 1, 3 * patch_size):
            tokens = model.patch_embed(torch.randn(2, 1, length))
            assert tokens.shape == (2, 64, length // patch_size)
        # a change inside patch 2 moves token 2 most; far tokens move only through the GroupNorm
        x = torch.randn(1, 1, 8 * patch_size)
        y = x.clone()
        y[..., 2 * patch_size + patch_size // 2] += 10.0
        change = (model.patch_embed(y) - model.patch_embed(x)).abs().sum(dim=1)[0]
    assert int(change.argmax()) == 2
    assert float(change[5:].max()) < 0.2 * float(change[2])


def test_spectrogram_front_end_is_fixed_and_not_saved() -> None:
    model = _build("spectrogram", {"transform": "cwt", "n_scales": 32, "base_channels": 8})
    assert not list(model.frontend.parameters())
    assert not any(key.startswith("frontend.") for key in model.state_dict())
    image = model.image(torch.randn(2, LENGTH))
    assert image.shape == (2, 1, 32, LENGTH // 128)
    assert model.frontend.frequencies.shape == (32,)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("name", sorted(SIGNAL_ONLY))
def test_runs_on_cuda(name: str) -> None:
    params = {"spectrogram": {"transform": "cwt"}}.get(name, {})
    model = _build(name, params).eval()
    x, _ = _inputs(2)
    with torch.no_grad():
        expected = model(x)
        got = model.cuda()(x.cuda()).cpu()
    torch.testing.assert_close(got, expected, atol=1e-3, rtol=1e-3)
