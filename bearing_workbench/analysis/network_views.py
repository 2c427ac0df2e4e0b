"""Model-specific views of neural networks, from their best checkpoint and epoch history: first-layer
filters (1-D and 2-D) with their spectra, a transformer's attention maps on a test record, and a PINN's
physics-loss curves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bearing_workbench.analysis.experiment_data import experiment_dataset_path, read_record
from bearing_workbench.analysis.model_run import MissingArtifact, ModelSection, StoredRun
from bearing_workbench.training.artifacts import read_predictions

FILTER_FFT_POINTS = 512  # zero-padded FFT length of a filter's spectrum (at least 4 x its taps)


def first_conv_weight(state_dict: dict[str, Any], ndim: int, in_channels: int | None = None) -> str | None:
    """Key of the first convolution weight with `ndim` dimensions (3: Conv1d, 4: Conv2d) in a state
    dict (registration order, so the layer nearest the input), optionally with `in_channels` inputs."""
    for key, tensor in state_dict.items():
        shape = getattr(tensor, "shape", ())
        if not key.endswith("weight") or len(shape) != ndim:
            continue
        if in_channels is None or shape[1] == in_channels:
            return key
    return None


def filter_spectra(
    weights: np.ndarray, fs: float, n_fft: int = FILTER_FFT_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """(frequencies in Hz, magnitude |FFT| per filter) of (n, taps) filters at sampling rate `fs`."""
    taps = weights.shape[-1]
    n_fft = max(n_fft, 1 << int(np.ceil(np.log2(4 * taps))))
    return np.fft.rfftfreq(n_fft, d=1.0 / fs), np.abs(np.fft.rfft(weights, n=n_fft, axis=-1))


def _signal_fs(run: StoredRun) -> float:
    spec = run.checkpoint[1].get("spec") or {}
    fs = spec.get("fs")
    if fs is None:
        raise MissingArtifact(f"{run.where(run.checkpoint[0].name)} has no input spec (sampling rate)")
    return float(fs)


def raw_filters(run: StoredRun, title: str, *, required: bool = True) -> list[ModelSection]:
    state = run.state_dict
    key = first_conv_weight(state, 3, in_channels=1)
    if key is None:
        if not required:
            return []
        raise MissingArtifact(f"{run.checkpoint_label()} has no 1-D convolution on the raw signal")
    weights = state[key].detach().float().cpu().numpy().mean(axis=1).astype(np.float64)
    fs = _signal_fs(run)
    frequencies, spectra = filter_spectra(weights, fs)
    n, taps = weights.shape
    note = (
        f"{n} filters of {taps} taps ({1000.0 * taps / fs:.2f} ms at {fs:g} Hz), layer {key} of "
        f"{run.checkpoint_label()}, averaged over input channels; spectra are |FFT| zero-padded to "
        f"{2 * (spectra.shape[1] - 1)} points. They act on the standardised signal."
    )
    return [
        ModelSection(
            title=title,
            kind="filters",
            data={
                "weights": weights,
                "frequencies_hz": frequencies,
                "spectra": spectra,
                "peak_hz": frequencies[np.argmax(spectra, axis=1)],
                "fs": fs,
                "layer": key,
            },
            note=note,
        )
    ]


def image_filters(run: StoredRun, title: str) -> list[ModelSection]:
    state = run.state_dict
    key = first_conv_weight(state, 4)
    if key is None:
        raise MissingArtifact(f"{run.checkpoint_label()} has no 2-D convolution")
    weights = state[key].detach().float().cpu().numpy().mean(axis=1).astype(np.float64)
    n, rows, columns = weights.shape
    return [
        ModelSection(
            title=title,
            kind="filters2d",
            data={"weights": weights, "layer": key},
            note=(
                f"{n} kernels of {rows} x {columns} on the log-power time-frequency image (rows: frequency, "
                f"columns: time), layer {key} of {run.checkpoint_label()}, averaged over input channels."
            ),
        )
    ]


# -- transformer attention ----------------------------------------------------------------------------


def _rebuild_model(run: StoredRun) -> tuple[Any, Any]:
    """The trained torch model (eval mode) and its InputSpec, from the checkpoint's config and weights."""
    from bearing_workbench.config import ExperimentConfig
    from bearing_workbench.models.builders import build_model
    from bearing_workbench.models.inputs import InputSpec
    from bearing_workbench.models.validation import model_params

    path, state = run.checkpoint
    stored = state.get("config")
    try:
        config = (
            ExperimentConfig.model_validate_json(stored)
            if isinstance(stored, str)
            else ExperimentConfig.model_validate(run.record.config)
        )
    except ValueError as exc:
        raise MissingArtifact(
            f"the config of experiment {run.record.id} no longer validates ({exc})"
        ) from None
    spec_dict = state.get("spec") or {}
    try:
        spec = InputSpec(
            kind=spec_dict["kind"],
            n_classes=int(spec_dict["n_classes"]),
            class_names=tuple(spec_dict["class_names"]),
            fs=float(spec_dict["fs"]),
            length=int(spec_dict["length"]),
            meta_names=tuple(spec_dict.get("meta_names", ())),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MissingArtifact(f"{run.where(path.name)} has no usable input spec ({exc})") from None
    model = build_model(config.model.family, model_params(config), spec)
    try:
        model.load_state_dict(run.state_dict)
    except RuntimeError as exc:
        raise MissingArtifact(
            f"{run.where(path.name)} does not fit the model its config builds ({exc})"
        ) from None
    model.eval()
    return model, spec


def _test_records(run: StoredRun) -> list[tuple[str, str, str]]:
    """(record id, true label, predicted label) of every test record, as in predictions_test.csv."""
    path = run.folder.predictions_test
    try:
        predictions = read_predictions(path)
    except ValueError as exc:
        if run.record_id is not None:
            return []  # a record named by the caller needs no list to be shown
        raise MissingArtifact(f"no test record to run: {exc}") from None
    names = predictions.class_names
    rows = zip(predictions.record_ids, predictions.y_true, predictions.y_pred, strict=True)
    return [(record_id, names[int(t)], names[int(p)]) for record_id, t, p in rows]


def attention_maps(model: Any, window: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Per layer, the mean-over-heads attention (tokens, tokens) of `model` (a `SignalTransformer`)
    on one window (token 0 is the class token, rows are queries, each sums to 1), and the model's
    class probabilities for that window."""
    import torch

    was_keeping = model.keep_attention
    model.keep_attention = True
    try:
        with torch.no_grad():
            logits = model(torch.as_tensor(np.ascontiguousarray(window, dtype=np.float32))[None, :])
            maps = [w[0].mean(dim=0).double().cpu().numpy() for w in model.attention_weights()]
    finally:
        model.keep_attention = was_keeping
    probs = torch.softmax(logits[0].float(), dim=0).cpu().numpy().astype(np.float64)
    return maps, probs


def attention_view(run: StoredRun, title: str) -> list[ModelSection]:
    model, spec = _rebuild_model(run)
    if not hasattr(model, "attention_weights"):
        raise MissingArtifact(f"the {run.record.family} model keeps no attention weights")
    test_records = _test_records(run)
    if run.record_id is None and not test_records:
        raise MissingArtifact(f"no test record to run: {run.where(run.folder.predictions_test)} is empty")
    record_id = run.record_id if run.record_id is not None else test_records[0][0]
    stored = read_record(experiment_dataset_path(run.store, run.record), record_id)
    if stored.signal.shape[0] < spec.length:
        raise MissingArtifact(
            f"record {record_id} has {stored.signal.shape[0]} samples, fewer than the model's window "
            f"({spec.length})"
        )
    window = stored.signal[: spec.length]
    maps, probs = attention_maps(model, window)
    patch = int(model.patch_size)
    n_patches = maps[0].shape[0] - 1
    bounds = np.stack([np.arange(n_patches) * patch, (np.arange(n_patches) + 1) * patch], axis=1)
    n_heads = int(model.layers[0].attn.n_heads)
    return [
        ModelSection(
            title=title,
            kind="attention",
            data={
                "layers": maps,
                "received": [m[:, 1:].mean(axis=0) for m in maps],
                "cls_attention": [m[0, 1:].copy() for m in maps],
                "patch_bounds": bounds,
                "patch_size": patch,
                "n_heads": n_heads,
                "record_id": record_id,
                "test_records": test_records,
                "true_label": stored.label,
                "predicted": spec.class_names[int(np.argmax(probs))],
                "probabilities": probs,
                "class_names": spec.class_names,
                "signal": window,
                "fs": stored.fs,
            },
            note=(
                f"Test record {record_id} ({stored.label}), first window (samples 0-{spec.length}), "
                f"predicted {spec.class_names[int(np.argmax(probs))]}. Mean over {n_heads} heads; token 0 is "
                f"the class token, token t >= 1 the patch of samples [(t-1) x {patch}, t x {patch}); rows "
                "are queries and sum to 1. 'Received' is the mean attention a patch gets from all tokens."
            ),
        )
    ]


# -- PINN curves --------------------------------------------------------------------------------------


def _curve(rows: Sequence[dict[str, Any]], key: str) -> np.ndarray:
    return np.array([np.nan if row.get(key) is None else float(row[key]) for row in rows], dtype=np.float64)


def _curves_section(
    run: StoredRun, title: str, y_label: str, keys: dict[str, str], note: str
) -> ModelSection | None:
    rows = run.history
    series = {name: _curve(rows, key) for name, key in keys.items() if any(key in r for r in rows)}
    series = {name: values for name, values in series.items() if np.isfinite(values).any()}
    if not series:
        return None
    return ModelSection(
        title=title,
        kind="curves",
        data={
            "x": np.array([r["epoch"] for r in rows]),
            "x_label": "epoch",
            "y_label": y_label,
            "series": series,
        },
        note=note,
    )


def physics_curves(run: StoredRun, title: str) -> list[ModelSection]:
    if not run.history:
        raise MissingArtifact(
            f"no epochs recorded for experiment {run.record.id} ({run.folder.history.name}, store)"
        )
    params = (run.record.config.get("model") or {}).get("params") or {}
    weight = params.get("lambda_physics")
    weight_text = f"lambda_physics = {weight:g}" if isinstance(weight, int | float) else "lambda_physics"
    physics = _curves_section(
        run,
        title,
        "KL(physics || model)",
        {"train": "physics_loss", "validation": "val_physics_loss"},
        f"KL divergence of the model's class probabilities from the fault-band physics' ones, added to "
        f"the loss with weight {weight_text} (0: logged only).",
    )
    if physics is None:
        raise MissingArtifact(
            f"the history of experiment {run.record.id} has no physics_loss values (a run from before the "
            "physics loss was logged?)"
        )
    sections = [physics]
    consistency = _curves_section(
        run,
        "Frequency consistency",
        "share of windows",
        {"train": "frequency_consistency", "validation": "val_frequency_consistency"},
        "Share of windows whose predicted class the fault-band physics supports (1 = all).",
    )
    if consistency is not None:
        sections.append(consistency)
    classification = _curves_section(
        run,
        "Classification loss",
        "cross-entropy",
        {"train": "train_loss", "validation": "val_loss"},
        "Mean cross-entropy per window (without the physics term).",
    )
    if classification is not None:
        sections.append(classification)
    return sections
