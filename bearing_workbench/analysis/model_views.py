"""What each model family learned, as plain data for the results page's model-specific sections.

`model_sections(store, experiment_id)` reads the experiment's stored artifacts (the best checkpoint,
``model_summary.json``, the epoch history) and returns one `ModelSection` per view, chosen by family
in `FAMILY_SECTIONS`:

- cnn1d, resnet1d, pinn: the first convolution's filters on the raw signal and their spectra;
- transformer: per-layer attention maps on one test record's first window (and the patch
  embedding's first filters);
- pinn: physics loss, frequency consistency and classification loss per epoch;
- ensemble: member contributions, members' test accuracy against the ensemble's, diversity;
- classical: the 20 most important features;
- spectrogram: the first 2-D filters on the time-frequency image.

Whatever is missing (no checkpoint, an older run, a file that cannot be read) becomes a section of
kind ``note`` saying what is missing: a results page never shows a traceback.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from bearing_workbench.analysis.experiment_data import experiment_dataset_path, read_record
from bearing_workbench.analysis.history import history_rows
from bearing_workbench.models.registry import UnknownFamilyError, get_family
from bearing_workbench.store import ExperimentRecord, Store
from bearing_workbench.store.artifacts import ExperimentFolder
from bearing_workbench.training.artifacts import read_json, read_predictions

log = logging.getLogger(__name__)

SectionKind = Literal["filters", "filters2d", "attention", "curves", "bars", "matrices", "note"]
TOP_FEATURES = 20
FILTER_FFT_POINTS = 512  # zero-padded FFT length of a filter's spectrum (at least 4 x its taps)


@dataclass(frozen=True)
class ModelSection:
    """One model-specific view.

    Args:
        kind: what `data` holds and how to draw it:
            ``filters``: ``weights`` (n, taps), ``spectra`` (n, bins) magnitudes at
            ``frequencies_hz``, ``peak_hz`` (n,), ``fs``, ``layer`` (state-dict key);
            ``filters2d``: ``weights`` (n, rows, columns), ``layer``;
            ``attention``: per layer ``layers`` (tokens, tokens) maps (token 0 = class token, rows
            are queries), ``received`` (patches,) mean attention each patch receives,
            ``cls_attention`` (patches,) the class token's row, ``patch_bounds`` (patches, 2)
            sample ranges, ``signal`` (the window), ``fs``, ``record_id``, ``predicted``;
            ``curves``: ``x`` (epochs), ``x_label``, ``y_label``, ``series`` name -> values (NaN
            where missing);
            ``bars``: ``labels``, ``values``, ``value_label``, optional ``highlight`` (indices);
            ``matrices``: ``labels``, ``matrices`` name -> (n, n) arrays (NaN where undefined),
            optional ``error_rate``;
            ``note``: nothing (the note says why).
        note: one or two sentences for the reader: what is shown, or what is missing.
    """

    title: str
    kind: SectionKind
    data: dict[str, Any] = field(default_factory=dict)
    note: str = ""


class MissingArtifact(LookupError):
    """A section's source is not there (or not readable); the message says which file and why."""


class _Run:
    """One experiment's stored parts, each read on first use and kept."""

    def __init__(self, store: Store, record: ExperimentRecord, record_id: str | None):
        self.store = store
        self.record = record
        self.record_id = record_id
        self.folder = ExperimentFolder.of(record.id, store.workspace)

    def _where(self, path: str | Path) -> str:
        return self.folder.where(path)

    @functools.cached_property
    def checkpoint(self) -> tuple[Path, dict[str, Any]]:
        from bearing_workbench.training.checkpoint import latest_checkpoint, load_checkpoint
        from bearing_workbench.training.errors import CheckpointError

        path = self.folder.best_checkpoint
        if not path.is_file():
            try:
                path = latest_checkpoint(self.folder)  # a run still going has epoch files first
            except CheckpointError as exc:
                raise MissingArtifact(exc.message) from None
            if path is None:
                raise MissingArtifact(
                    f"no checkpoint: {self._where(self.folder.best_checkpoint)} does not exist "
                    "(the run kept no model weights)"
                )
        try:
            return path, load_checkpoint(path)
        except CheckpointError as exc:
            raise MissingArtifact(exc.message) from None

    @property
    def state_dict(self) -> dict[str, Any]:
        state = self.checkpoint[1].get("model")
        if not isinstance(state, dict):
            raise MissingArtifact(f"{self._where(self.checkpoint[0].name)} holds no model weights")
        return state

    def checkpoint_label(self) -> str:
        path, state = self.checkpoint
        epoch = (state.get("progress") or {}).get("epoch")
        return f"{path.name} (epoch {epoch})" if epoch else path.name

    @functools.cached_property
    def summary(self) -> dict[str, Any]:
        path = self.folder.model_summary
        if not path.is_file():
            raise MissingArtifact(f"no model summary: {self._where(path.name)} does not exist")
        try:
            summary = read_json(path)
        except (OSError, ValueError) as exc:
            raise MissingArtifact(f"{self._where(path.name)} cannot be read ({exc})") from None
        if not isinstance(summary, dict):
            raise MissingArtifact(f"{self._where(path.name)} does not hold a JSON object")
        return summary

    @functools.cached_property
    def history(self) -> list[dict[str, Any]]:
        """Epoch rows from the store (there during a run), else from history.json."""
        rows = history_rows(self.store.epochs(self.record.id))
        if rows:
            return rows
        path = self.folder.history
        if path.is_file():
            try:
                return history_rows(read_json(path))
            except (OSError, ValueError, TypeError) as exc:
                raise MissingArtifact(f"{self._where(path.name)} cannot be read ({exc})") from None
        return []


def _summary_value(run: _Run, key: str, what: str) -> Any:
    value = run.summary.get(key)
    if value is None:
        raise MissingArtifact(
            f"{run._where(run.folder.model_summary)} has no {key!r} ({what}); the run may predate this view"
        )
    return value


# -- filters ------------------------------------------------------------------------------------------


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


def _signal_fs(run: _Run) -> float:
    spec = run.checkpoint[1].get("spec") or {}
    fs = spec.get("fs")
    if fs is None:
        raise MissingArtifact(f"{run._where(run.checkpoint[0].name)} has no input spec (sampling rate)")
    return float(fs)


def _raw_filters(run: _Run, title: str, *, required: bool = True) -> list[ModelSection]:
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


def _image_filters(run: _Run, title: str) -> list[ModelSection]:
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


def _rebuild_model(run: _Run) -> tuple[Any, Any]:
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
        raise MissingArtifact(f"{run._where(path.name)} has no usable input spec ({exc})") from None
    model = build_model(config.model.family, model_params(config), spec)
    try:
        model.load_state_dict(run.state_dict)
    except RuntimeError as exc:
        raise MissingArtifact(
            f"{run._where(path.name)} does not fit the model its config builds ({exc})"
        ) from None
    model.eval()
    return model, spec


def _test_records(run: _Run) -> list[tuple[str, str, str]]:
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


def _attention(run: _Run, title: str) -> list[ModelSection]:
    model, spec = _rebuild_model(run)
    if not hasattr(model, "attention_weights"):
        raise MissingArtifact(f"the {run.record.family} model keeps no attention weights")
    test_records = _test_records(run)
    if run.record_id is None and not test_records:
        raise MissingArtifact(f"no test record to run: {run._where(run.folder.predictions_test)} is empty")
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
    run: _Run, title: str, y_label: str, keys: dict[str, str], note: str
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


def _physics_curves(run: _Run, title: str) -> list[ModelSection]:
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


# -- ensemble -----------------------------------------------------------------------------------------


def _member_label(member: dict[str, Any]) -> str:
    name = member.get("name") or member.get("family") or "member"
    return f"#{member.get('experiment_id', '?')} {name}"


def _members(run: _Run) -> list[dict[str, Any]]:
    members = _summary_value(run, "members", "the ensemble's members")
    if not isinstance(members, list) or not members:
        raise MissingArtifact(f"{run._where(run.folder.model_summary)}: 'members' is not a non-empty list")
    return members


_CONTRIBUTION_NOTES = {
    "weight": "Soft-voting weight of each member's probabilities (they sum to 1).",
    "coefficient_norm_share": (
        "Share of the stacking meta-learner's coefficient norm on each member's probabilities (sums to 1)."
    ),
}


def _ensemble_contributions(run: _Run, title: str) -> list[ModelSection]:
    members = _members(run)
    kind = str(run.summary.get("contribution_kind") or "contribution")
    method = run.summary.get("method")
    return [
        ModelSection(
            title=title,
            kind="bars",
            data={
                "labels": [_member_label(m) for m in members],
                "values": np.array([float(m.get("contribution") or 0.0) for m in members]),
                "value_label": kind.replace("_", " "),
            },
            note=(f"Method {method}. " if method else "")
            + _CONTRIBUTION_NOTES.get(kind, f"Contribution ({kind})."),
        )
    ]


def _ensemble_accuracy(run: _Run, title: str) -> list[ModelSection]:
    members = _members(run)
    ensemble = _summary_value(run, "test_accuracy", "the ensemble's test accuracy")
    values = [float(m.get("test_accuracy") or 0.0) for m in members] + [float(ensemble)]
    best = max(values[:-1])
    return [
        ModelSection(
            title=title,
            kind="bars",
            data={
                "labels": [_member_label(m) for m in members] + ["ensemble"],
                "values": np.array(values),
                "value_label": "test accuracy (records)",
                "highlight": [len(members)],
            },
            note=f"The ensemble {'beats' if ensemble > best else 'does not beat'} its best member "
            f"({float(ensemble):.4f} vs {best:.4f}).",
        )
    ]


def _matrix(run: _Run, value: Any, n: int, name: str) -> np.ndarray:
    matrix = np.array([[np.nan if v is None else float(v) for v in row] for row in value], dtype=np.float64)
    if matrix.shape != (n, n):
        raise MissingArtifact(
            f"{run._where(run.folder.model_summary)}: diversity {name} is not a {n} x {n} matrix"
        )
    return matrix


def _ensemble_diversity(run: _Run, title: str) -> list[ModelSection]:
    members = _members(run)
    diversity = _summary_value(run, "diversity", "member diversity")
    n = len(members)
    matrices = {
        label: _matrix(run, diversity[key], n, key)
        for key, label in (("agreement", "agreement"), ("error_correlation", "error correlation"))
        if diversity.get(key) is not None
    }
    if not matrices:
        raise MissingArtifact(
            f"{run._where(run.folder.model_summary)}: diversity has neither agreement nor error_correlation"
        )
    error_rate = diversity.get("error_rate")
    return [
        ModelSection(
            title=f"{title} on the {diversity.get('split', 'test')} split",
            kind="matrices",
            data={
                "labels": [_member_label(m) for m in members],
                "matrices": matrices,
                "error_rate": None if error_rate is None else np.array(error_rate, dtype=np.float64),
            },
            note=(
                "Agreement: share of records two members predict alike. Error correlation: correlation of "
                "their error indicators (blank where a member makes no error or only errors); low values "
                "mean the members fail on different records, which is what an ensemble gains from."
            ),
        )
    ]


# -- classical ----------------------------------------------------------------------------------------


def _feature_importance(run: _Run, title: str) -> list[ModelSection]:
    importance = _summary_value(run, "feature_importance", "feature importances")
    if not isinstance(importance, dict) or not importance:
        raise MissingArtifact(f"{run._where(run.folder.model_summary)}: feature_importance is empty")
    ranked = sorted(((str(k), float(v)) for k, v in importance.items()), key=lambda kv: -kv[1])
    top = ranked[:TOP_FEATURES]
    method = run.summary.get("importance_method") or "unknown method"
    algorithm = run.summary.get("algorithm")
    cv = run.summary.get("cv_accuracy_mean")
    cv_text = ""
    if cv is not None:
        std = float(run.summary.get("cv_accuracy_std") or 0.0)
        folds = run.summary.get("cv_folds", "?")
        cv_text = f" Cross-validation accuracy {float(cv):.4f} +- {std:.4f} over {folds} folds."
    return [
        ModelSection(
            title=f"{title} (top {len(top)} of {len(ranked)})",
            kind="bars",
            data={
                "labels": [k for k, _ in top],
                "values": np.array([v for _, v in top]),
                "value_label": f"importance ({method})",
            },
            note=f"{algorithm or 'Classical model'}, importance by {method}, largest first.{cv_text}",
        )
    ]


# -- the per-family table -----------------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    """One entry of a family's page: its title (also the title of the note shown when it cannot be
    built) and the function building its sections from the stored run."""

    title: str
    build: Callable[[_Run, str], list[ModelSection]]


def _raw_branch_filters(run: _Run, title: str) -> list[ModelSection]:
    return _raw_filters(run, title, required=False)  # only a dual-stream network has a raw branch


FIRST_LAYER = View("First-layer filters", _raw_filters)
ATTENTION = View("Attention maps", _attention)

FAMILY_SECTIONS: dict[str, tuple[View, ...]] = {
    "cnn1d": (FIRST_LAYER,),
    "resnet1d": (FIRST_LAYER,),
    "pinn": (View("Physics loss", _physics_curves), FIRST_LAYER),
    "transformer": (ATTENTION, View("Patch-embedding filters (first convolution)", _raw_filters)),
    "spectrogram": (
        View("First-layer 2-D filters", _image_filters),
        View("Raw-branch filters", _raw_branch_filters),
    ),
    "ensemble": (
        View("Member contributions", _ensemble_contributions),
        View("Test accuracy: members and ensemble", _ensemble_accuracy),
        View("Diversity", _ensemble_diversity),
    ),
    "classical": (View("Feature importance", _feature_importance),),
}
"""Family -> the views it gets, in page order. A family not listed gets first-layer filters when it
is a neural network on raw signals (by its registry entry), else a note."""


def _views_for(family: str) -> tuple[View, ...] | str:
    if family in FAMILY_SECTIONS:
        return FAMILY_SECTIONS[family]
    try:
        spec = get_family(family)
    except UnknownFamilyError:
        return f"family {family!r} is not registered in this workbench: no model-specific view"
    if spec.epoch_based and spec.input_kind == "signal":
        return (FIRST_LAYER,)
    return f"no model-specific view for the {spec.title} family yet"


def _build(view: View, run: _Run) -> list[ModelSection]:
    try:
        return view.build(run, view.title)
    except MissingArtifact as exc:
        return [ModelSection(title=view.title, kind="note", note=str(exc))]
    except Exception as exc:  # a results page shows what failed, never a traceback
        log.warning("model view %s of experiment %s failed", view.title, run.record.id, exc_info=True)
        return [
            ModelSection(
                title=view.title,
                kind="note",
                note=f"this view could not be built: {type(exc).__name__}: {exc}",
            )
        ]


def model_sections(store: Store, experiment_id: int, *, record_id: str | None = None) -> list[ModelSection]:
    """The model-specific views of experiment `experiment_id`, in page order.

    Args:
        record_id: the test record the transformer's attention is shown on (default: the first of
            ``predictions_test.csv``).
    """
    record = store.get_experiment(experiment_id)
    views = _views_for(record.family)
    if isinstance(views, str):
        return [ModelSection(title="Model views", kind="note", note=views)]
    run = _Run(store, record, record_id)
    return [section for view in views for section in _build(view, run)]


def attention_section(store: Store, experiment_id: int, record_id: str | None = None) -> ModelSection:
    """The attention maps of a transformer experiment on test record `record_id` (default: the first
    test record); a note when they cannot be computed."""
    run = _Run(store, store.get_experiment(experiment_id), record_id)
    return _build(ATTENTION, run)[0]
