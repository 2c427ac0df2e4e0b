"""ONNX export of a neural model, verified against PyTorch with onnxruntime."""

from __future__ import annotations

import copy
import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bearing_workbench.config.atomic_files import atomic_path
from bearing_workbench.models.inputs import InputSpec

if TYPE_CHECKING:
    import torch

OPSET = 17
TOLERANCE = 1e-4  # largest absolute logit difference accepted between onnxruntime and PyTorch
SIGNAL_INPUT = "signal"
META_INPUT = "meta"
OUTPUT = "logits"

# The TorchScript exporter warns on every call that it is deprecated; it is still the one that takes
# our modules as they are (dynamo=False per the model contract).
_EXPORTER_NOISE = re.compile(r".*(legacy TorchScript-based ONNX export|The feature will be removed)")


class OnnxExportError(RuntimeError):
    """A model could not be exported to ONNX or its export could not be checked."""


def export_onnx(
    model: torch.nn.Module,
    spec: InputSpec,
    path: str | os.PathLike[str],
    example_batch: Any,
    *,
    family: str | None = None,
) -> dict[str, Any]:
    """Export `model` to ONNX (opset 17, dynamic batch) and check it with onnxruntime on `example_batch`.

    Inputs are named "signal" (B, L) and, when `spec.meta_names` is not empty, "meta" (B, M); the
    output is "logits". Works on a CPU copy in eval mode, so the model itself is left as it was.

    Args:
        example_batch: a `Batch` (its `x` and `meta` are used) or a (B, L) signal tensor.
        family: the model family, named in errors (default: the model's class name).

    Returns:
        {"path", "max_abs_diff", "verified": max_abs_diff <= 1e-4, "tolerance", "opset"}.

    Raises:
        OnnxExportError: the export or the onnxruntime check failed; the message names the family.
    """

    name = family or type(model).__name__
    path = Path(path)
    x, meta = _example_inputs(example_batch, spec, name)
    with _cpu_eval_copy(model) as cpu_model:
        return _export_and_verify(cpu_model, x, meta, path, name)


@contextmanager
def _cpu_eval_copy(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """A CPU copy of `model` in eval mode; if it cannot be copied (it holds non-leaf tensors, e.g. the
    attention weights of its last forward), the model itself, moved back and reset afterwards."""
    try:
        copied = copy.deepcopy(model)
    except Exception:  # deepcopy of arbitrary module state raises all sorts of errors
        copied = None
    if copied is not None:
        yield copied.cpu().eval()
        return
    param = next(iter(model.parameters()), None)
    device = param.device if param is not None else None
    was_training = model.training
    try:
        yield model.cpu().eval()
    finally:
        model.train(was_training)
        if device is not None:
            model.to(device)


def _export_and_verify(
    cpu_model: torch.nn.Module, x: torch.Tensor, meta: torch.Tensor | None, path: Path, name: str
) -> dict[str, Any]:
    import torch

    inputs: tuple[torch.Tensor, ...] = (x,) if meta is None else (x, meta)
    input_names = [SIGNAL_INPUT] if meta is None else [SIGNAL_INPUT, META_INPUT]
    dynamic_axes = {n: {0: "batch"} for n in [*input_names, OUTPUT]}
    with atomic_path(path) as tmp:
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=_EXPORTER_NOISE.pattern)
                torch.onnx.export(
                    cpu_model,
                    inputs,
                    str(tmp),
                    dynamo=False,
                    opset_version=OPSET,
                    input_names=input_names,
                    output_names=[OUTPUT],
                    dynamic_axes=dynamic_axes,
                )
        except Exception as exc:
            raise OnnxExportError(f"ONNX export of the {name} model failed: {exc}") from exc
        with torch.no_grad():
            expected = cpu_model(*inputs).float().numpy()
        got = _run_onnxruntime(tmp, {n: t.numpy() for n, t in zip(input_names, inputs, strict=True)}, name)
        if got.shape != expected.shape:
            raise OnnxExportError(
                f"ONNX export of the {name} model gives logits of shape {got.shape}, PyTorch {expected.shape}"
            )
    diff = float(np.max(np.abs(got - expected))) if got.size else 0.0
    return {
        "path": str(path),
        "max_abs_diff": diff,
        "verified": bool(diff <= TOLERANCE),
        "tolerance": TOLERANCE,
        "opset": OPSET,
    }


def _example_inputs(batch: Any, spec: InputSpec, name: str) -> tuple[torch.Tensor, torch.Tensor | None]:
    import torch

    x = batch.x if hasattr(batch, "x") else batch
    if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[0] < 1:
        raise OnnxExportError(
            f"ONNX export of the {name} model needs an example batch of signals (B, L) with B >= 1, "
            f"got {getattr(x, 'shape', type(x).__name__)}"
        )
    x = x.detach().float().cpu().contiguous()
    if not spec.meta_names:
        return x, None
    meta = getattr(batch, "meta", None)
    m = len(spec.meta_names)
    if not isinstance(meta, torch.Tensor) or tuple(meta.shape) != (x.shape[0], m):
        raise OnnxExportError(
            f"ONNX export of the {name} model needs example metadata of shape ({x.shape[0]}, {m}) "
            f"for {', '.join(spec.meta_names)}, got {getattr(meta, 'shape', None)}"
        )
    return x, meta.detach().float().cpu().contiguous()


def _run_onnxruntime(path: Path, feeds: dict[str, np.ndarray], name: str) -> np.ndarray:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise OnnxExportError(
            f"cannot verify the ONNX export of the {name} model: onnxruntime is not installed "
            "(pip install onnxruntime)"
        ) from exc
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        # A model that ignores the metadata has no "meta" input in its graph: feed what it declares.
        declared = {i.name for i in session.get_inputs()}
        feeds = {k: v for k, v in feeds.items() if k in declared}
        return np.asarray(session.run([OUTPUT], feeds)[0], dtype=np.float32)
    except Exception as exc:
        raise OnnxExportError(f"onnxruntime cannot run the ONNX export of the {name} model: {exc}") from exc
