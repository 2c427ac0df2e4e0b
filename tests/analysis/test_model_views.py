"""model_sections on real tiny runs: values read back from the checkpoints, summaries and histories."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bearing_workbench.analysis.model_views import (
    FAMILY_SECTIONS,
    attention_section,
    filter_spectra,
    first_conv_weight,
    model_sections,
)
from bearing_workbench.models import list_families
from bearing_workbench.models.builders import build_model
from bearing_workbench.models.inputs import InputSpec
from bearing_workbench.models.registry import get_family
from bearing_workbench.store import Store
from bearing_workbench.store.workspace import experiment_dir
from bearing_workbench.training.artifacts import read_json, read_predictions, write_json
from bearing_workbench.training.checkpoint import load_checkpoint


def _by_title(sections):
    return {s.title: s for s in sections}


def _best_weights(store: Store, experiment_id: int) -> dict[str, torch.Tensor]:
    return load_checkpoint(experiment_dir(experiment_id, store.workspace) / "best.pt")["model"]


def test_cnn1d_filters_are_the_checkpoints_first_layer(analysis_store, trained_ids):
    sections = model_sections(analysis_store, trained_ids["cnn1d"])
    assert [s.kind for s in sections] == ["filters"]
    data = sections[0].data
    assert data["layer"] == "features.stem.0.weight"
    expected = _best_weights(analysis_store, trained_ids["cnn1d"])["features.stem.0.weight"].mean(dim=1)
    np.testing.assert_allclose(data["weights"], expected.double().numpy(), rtol=1e-6)
    assert data["weights"].shape == (32, 64)
    assert data["fs"] == 20480.0
    np.testing.assert_allclose(data["spectra"], np.abs(np.fft.rfft(data["weights"], n=512, axis=1)))
    np.testing.assert_allclose(data["peak_hz"], data["frequencies_hz"][data["spectra"].argmax(axis=1)])
    assert data["frequencies_hz"][-1] == pytest.approx(10240.0)
    assert "best.pt (epoch 1)" in sections[0].note


def test_filter_spectrum_of_a_cosine_peaks_at_its_frequency():
    fs, taps = 8000.0, 64
    t = np.arange(taps) / fs
    filters = np.stack([np.cos(2 * np.pi * 1000.0 * t), np.cos(2 * np.pi * 2500.0 * t)])
    frequencies, spectra = filter_spectra(filters, fs)
    assert spectra.shape == (2, 257) and frequencies[1] == pytest.approx(fs / 512)
    peaks = frequencies[spectra.argmax(axis=1)]
    np.testing.assert_allclose(peaks, [1000.0, 2500.0], atol=fs / 512)


def test_first_conv_weight_takes_the_layer_on_the_raw_signal():
    state = {
        "norm.weight": torch.ones(4),
        "cls_token": torch.zeros(1, 1, 4),
        "a.weight": torch.zeros(4, 2, 3),
        "b.weight": torch.zeros(4, 1, 5),
        "c.weight": torch.zeros(4, 1, 3, 3),
    }
    assert first_conv_weight(state, 3) == "a.weight"
    assert first_conv_weight(state, 3, in_channels=1) == "b.weight"
    assert first_conv_weight(state, 4) == "c.weight"
    assert first_conv_weight({"x.weight": torch.zeros(3)}, 3) is None


def test_transformer_attention_maps_on_the_first_test_record(analysis_store, trained_ids):
    experiment_id = trained_ids["transformer"]
    sections = _by_title(model_sections(analysis_store, experiment_id))
    attention = sections["Attention maps"]
    assert attention.kind == "attention"
    data = attention.data
    predictions = read_predictions(
        experiment_dir(experiment_id, analysis_store.workspace) / "predictions_test.csv"
    )
    assert data["record_id"] == predictions.record_ids[0]
    n_patches = 14336 // 256
    assert len(data["layers"]) == 2 and data["n_heads"] == 2
    for layer, received, cls in zip(data["layers"], data["received"], data["cls_attention"], strict=True):
        assert layer.shape == (n_patches + 1, n_patches + 1)
        assert (layer >= 0).all()
        np.testing.assert_allclose(layer.sum(axis=1), 1.0, atol=1e-5)
        np.testing.assert_allclose(received, layer[:, 1:].mean(axis=0))
        np.testing.assert_allclose(cls, layer[0, 1:])
    np.testing.assert_array_equal(data["patch_bounds"][0], [0, 256])
    np.testing.assert_array_equal(data["patch_bounds"][-1], [14080, 14336])
    # Whole records: the stored record probabilities are the window's, so the model was rebuilt with
    # its trained weights and fed what it was fed in evaluation.
    np.testing.assert_allclose(data["probabilities"], predictions.probs[0], atol=1e-5)
    assert data["predicted"] == predictions.class_names[int(predictions.probs[0].argmax())]
    # The patch embedding's first convolution is shown too.
    filters = sections["Patch-embedding filters (first convolution)"]
    assert filters.kind == "filters" and filters.data["layer"] == "patch_embed.0.weight"


def test_transformer_attention_on_a_chosen_record(analysis_store, trained_ids):
    experiment_id = trained_ids["transformer"]
    predictions = read_predictions(
        experiment_dir(experiment_id, analysis_store.workspace) / "predictions_test.csv"
    )
    chosen = predictions.record_ids[-1]
    attention = model_sections(analysis_store, experiment_id, record_id=chosen)[0]
    assert attention.data["record_id"] == chosen
    np.testing.assert_allclose(attention.data["probabilities"], predictions.probs[-1], atol=1e-5)
    names = predictions.class_names
    assert attention.data["test_records"] == [
        (r, names[t], names[p])
        for r, t, p in zip(predictions.record_ids, predictions.y_true, predictions.y_pred, strict=True)
    ]
    alone = attention_section(analysis_store, experiment_id, chosen)
    np.testing.assert_allclose(alone.data["layers"][1], attention.data["layers"][1])


def test_attention_on_an_unknown_record_or_family_is_a_note(analysis_store, trained_ids):
    section = attention_section(analysis_store, trained_ids["transformer"], "rec-nope")
    assert section.kind == "note" and "rec-nope" in section.note
    section = attention_section(analysis_store, trained_ids["cnn1d"])
    assert section.kind == "note" and "keeps no attention weights" in section.note


def test_pinn_curves_come_from_the_epoch_history(analysis_store, trained_ids):
    experiment_id = trained_ids["pinn"]
    sections = model_sections(analysis_store, experiment_id)
    assert [s.title for s in sections] == [
        "Physics loss",
        "Frequency consistency",
        "Classification loss",
        "First-layer filters",
    ]
    epochs = analysis_store.epochs(experiment_id)
    physics, consistency, classification = sections[0].data, sections[1].data, sections[2].data
    np.testing.assert_array_equal(physics["x"], [e.epoch for e in epochs])
    np.testing.assert_allclose(physics["series"]["train"], [e.extra["physics_loss"] for e in epochs])
    np.testing.assert_allclose(physics["series"]["validation"], [e.extra["val_physics_loss"] for e in epochs])
    assert 0.0 <= consistency["series"]["train"][0] <= 1.0
    np.testing.assert_allclose(classification["series"]["train"], [e.train_loss for e in epochs])
    assert "lambda_physics = 0.5" in sections[0].note


def test_classical_importance_is_the_top_20_sorted(analysis_store, trained_ids):
    experiment_id = trained_ids["classical"]
    (section,) = model_sections(analysis_store, experiment_id)
    summary = read_json(experiment_dir(experiment_id, analysis_store.workspace) / "model_summary.json")
    importance = summary["feature_importance"]
    assert section.kind == "bars" and len(section.data["labels"]) == 20
    assert section.title == f"Feature importance (top 20 of {len(importance)})"
    values = section.data["values"]
    assert list(values) == sorted(values, reverse=True)
    assert values[0] == max(importance.values())
    assert [importance[name] for name in section.data["labels"]] == list(values)
    assert summary["importance_method"] in section.data["value_label"]


def test_ensemble_contributions_accuracy_and_diversity(analysis_store, trained_ids):
    experiment_id = trained_ids["ensemble"]
    sections = model_sections(analysis_store, experiment_id)
    assert [s.kind for s in sections] == ["bars", "bars", "matrices"]
    summary = read_json(experiment_dir(experiment_id, analysis_store.workspace) / "model_summary.json")
    members = summary["members"]
    contributions, accuracy, diversity = sections
    np.testing.assert_allclose(contributions.data["values"], [m["contribution"] for m in members])
    assert contributions.data["labels"][0].startswith(f"#{trained_ids['cnn1d']} ")
    assert contributions.data["value_label"] == summary["contribution_kind"].replace("_", " ")
    np.testing.assert_allclose(
        accuracy.data["values"], [m["test_accuracy"] for m in members] + [summary["test_accuracy"]]
    )
    assert accuracy.data["labels"][-1] == "ensemble" and accuracy.data["highlight"] == [len(members)]
    agreement = diversity.data["matrices"]["agreement"]
    assert agreement.shape == (2, 2)
    np.testing.assert_allclose(np.diag(agreement), 1.0)
    np.testing.assert_allclose(diversity.data["error_rate"], summary["diversity"]["error_rate"])


def test_spectrogram_2d_filters_and_raw_branch(analysis_store, trained_ids):
    experiment_id = trained_ids["spectrogram"]
    sections = _by_title(model_sections(analysis_store, experiment_id))
    image = sections["First-layer 2-D filters"]
    assert image.kind == "filters2d"
    weights = _best_weights(analysis_store, experiment_id)[image.data["layer"]]
    assert weights.ndim == 4
    np.testing.assert_allclose(image.data["weights"], weights.mean(dim=1).double().numpy(), rtol=1e-6)
    raw = sections["Raw-branch filters"]
    assert raw.kind == "filters" and raw.data["layer"].startswith("raw_branch.")


def _hand_made(store: Store, family: str, config: dict | None = None) -> int:
    experiment_id = store.create_experiment(
        f"hand-made {family}", family, config or {"model": {"family": family}}
    )
    experiment_dir(experiment_id, store.workspace, create=True)
    return experiment_id


@pytest.mark.parametrize("family", ["cnn1d", "resnet1d", "transformer", "spectrogram"])
def test_missing_checkpoint_is_a_note(empty_store, family):
    experiment_id = _hand_made(empty_store, family)
    sections = model_sections(empty_store, experiment_id)
    assert len(sections) == len(FAMILY_SECTIONS[family])
    assert all(s.kind == "note" for s in sections)
    assert all("best.pt does not exist" in s.note for s in sections)


def test_unreadable_checkpoint_is_a_note(empty_store):
    experiment_id = _hand_made(empty_store, "cnn1d")
    (experiment_dir(experiment_id, empty_store.workspace) / "best.pt").write_bytes(b"not a checkpoint")
    (section,) = model_sections(empty_store, experiment_id)
    assert section.kind == "note" and "not a readable checkpoint" in section.note


@pytest.mark.parametrize("family", ["classical", "ensemble"])
def test_missing_model_summary_is_a_note(empty_store, family):
    experiment_id = _hand_made(empty_store, family)
    sections = model_sections(empty_store, experiment_id)
    assert sections and all(
        s.kind == "note" and "model_summary.json does not exist" in s.note for s in sections
    )


def test_pinn_history_without_physics_values_is_a_note(empty_store):
    experiment_id = _hand_made(empty_store, "pinn")
    folder = experiment_dir(experiment_id, empty_store.workspace)
    write_json(folder / "history.json", [{"epoch": 1, "train_loss": 1.0, "val_loss": 1.2, "extra": {}}])
    physics, filters = model_sections(empty_store, experiment_id)
    assert physics.kind == "note" and "no physics_loss values" in physics.note
    assert filters.kind == "note"


def test_an_unregistered_family_gets_a_note(empty_store):
    experiment_id = _hand_made(empty_store, "quantum")
    (section,) = model_sections(empty_store, experiment_id)
    assert section.kind == "note" and "'quantum' is not registered" in section.note


@pytest.mark.parametrize("family", list_families())
def test_every_registered_family_gets_views_or_notes_never_an_error(empty_store, family):
    experiment_id = _hand_made(empty_store, family)
    sections = model_sections(empty_store, experiment_id)
    assert sections and all(s.kind == "note" and s.note for s in sections)
    assert family in FAMILY_SECTIONS  # a new family should say which views it gets


@pytest.mark.parametrize("family", ["cnn1d", "resnet1d", "transformer", "pinn"])
def test_the_filter_view_finds_a_first_layer_on_the_raw_signal(family):
    spec = InputSpec(
        kind="signal",
        n_classes=3,
        class_names=("healthy", "imbalance", "wear"),
        fs=20480.0,
        length=4096,
        meta_names=("speed_hz", "sommerfeld", "reynolds"),
    )
    model = build_model(family, get_family(family).default_params(), spec)
    key = first_conv_weight(model.state_dict(), 3, in_channels=1)
    assert key is not None
    # It is the convolution the input meets first.
    first = next(m for m in model.modules() if isinstance(m, torch.nn.Conv1d))
    assert first.weight.data_ptr() == model.state_dict()[key].data_ptr()
