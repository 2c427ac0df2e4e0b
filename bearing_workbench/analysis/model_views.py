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

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bearing_workbench.analysis.model_run import MissingArtifact, ModelSection, StoredRun
from bearing_workbench.analysis.network_views import (
    FILTER_FFT_POINTS,
    attention_maps,
    attention_view,
    filter_spectra,
    first_conv_weight,
    image_filters,
    physics_curves,
    raw_filters,
)
from bearing_workbench.analysis.summary_views import (
    TOP_FEATURES,
    ensemble_accuracy,
    ensemble_contributions,
    ensemble_diversity,
    feature_importance,
)
from bearing_workbench.models.registry import UnknownFamilyError, get_family
from bearing_workbench.store import Store

__all__ = [
    "FAMILY_SECTIONS",
    "FILTER_FFT_POINTS",
    "TOP_FEATURES",
    "MissingArtifact",
    "ModelSection",
    "View",
    "attention_maps",
    "attention_section",
    "filter_spectra",
    "first_conv_weight",
    "model_sections",
]

log = logging.getLogger(__name__)


# -- the per-family table -----------------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    """One entry of a family's page: its title (also the title of the note shown when it cannot be
    built) and the function building its sections from the stored run."""

    title: str
    build: Callable[[StoredRun, str], list[ModelSection]]


def _raw_branch_filters(run: StoredRun, title: str) -> list[ModelSection]:
    return raw_filters(run, title, required=False)  # only a dual-stream network has a raw branch


FIRST_LAYER = View("First-layer filters", raw_filters)
ATTENTION = View("Attention maps", attention_view)

FAMILY_SECTIONS: dict[str, tuple[View, ...]] = {
    "cnn1d": (FIRST_LAYER,),
    "resnet1d": (FIRST_LAYER,),
    "pinn": (View("Physics loss", physics_curves), FIRST_LAYER),
    "transformer": (ATTENTION, View("Patch-embedding filters (first convolution)", raw_filters)),
    "spectrogram": (
        View("First-layer 2-D filters", image_filters),
        View("Raw-branch filters", _raw_branch_filters),
    ),
    "ensemble": (
        View("Member contributions", ensemble_contributions),
        View("Test accuracy: members and ensemble", ensemble_accuracy),
        View("Diversity", ensemble_diversity),
    ),
    "classical": (View("Feature importance", feature_importance),),
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


def _build(view: View, run: StoredRun) -> list[ModelSection]:
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
    run = StoredRun(store, record, record_id)
    return [section for view in views for section in _build(view, run)]


def attention_section(store: Store, experiment_id: int, record_id: str | None = None) -> ModelSection:
    """The attention maps of a transformer experiment on test record `record_id` (default: the first
    test record); a note when they cannot be computed."""
    run = StoredRun(store, store.get_experiment(experiment_id), record_id)
    return _build(ATTENTION, run)[0]
