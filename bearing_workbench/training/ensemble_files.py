"""The ensemble family's model files: what it learned, so that a stored ensemble predicts new records.

``ensemble.json`` names the members (experiment ids, in the order the combination was fitted), the
classes, the method and, for soft voting, the weights. Stacking adds ``meta_learner.skops``, the
logistic-regression meta-learner, read back only when it holds nothing but `TRUSTED_TYPES`. A stored
ensemble predicts records through its members' stored models, then combines their record
probabilities as it did on the test split.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bearing_workbench.models.builders.ensemble import EnsembleEstimator
from bearing_workbench.models.registry import set_loader
from bearing_workbench.models.validation import model_params
from bearing_workbench.training.artifacts import write_json
from bearing_workbench.training.skops_files import load_skops, save_skops
from bearing_workbench.training.stored_model import (
    RecordOutputs,
    Records,
    StoredFiles,
    StoredModel,
    StoredModelError,
    load_stored_model,
    read_json_file,
)

COMBINER_FORMAT = "bearing-workbench-ensemble"
COMBINER_VERSION = 1
TRUSTED_TYPES: tuple[str, ...] = ("sklearn.linear_model._logistic.LogisticRegression",)


def save_ensemble(result: Any, folder: Any, config: Any) -> dict[str, Any]:
    """Write ``ensemble.json`` (and ``meta_learner.skops`` for stacking); returns metrics entries."""
    estimator: EnsembleEstimator = result.model
    members = estimator._check_fitted()
    meta_file = None
    if estimator.meta_learner_ is not None:
        save_skops(estimator.meta_learner_, folder.ensemble_meta_learner)
        meta_file = folder.ensemble_meta_learner.name
    weights = None if estimator.weights_ is None else [float(w) for w in estimator.weights_]
    write_json(
        folder.ensemble_combiner,
        {
            "format": COMBINER_FORMAT,
            "format_version": COMBINER_VERSION,
            "method": estimator.params.method,
            "members": [m.experiment_id for m in members],
            "class_names": list(estimator.class_names_),
            "weights": weights,
            "meta_learner": meta_file,
        },
    )
    return {"model_file": {"path": str(folder.ensemble_combiner), "format": "json", "verified": True}}


class EnsembleStoredModel(StoredModel):
    """The members' stored models on the records, combined by the stored weights or meta-learner."""

    def __init__(self, files: StoredFiles, estimator: EnsembleEstimator, members: list[StoredModel]):
        needed = tuple(dict.fromkeys(name for m in members for name in m.required_meta))
        super().__init__(files, required_meta=needed)
        self.estimator = estimator
        self.members = members
        self.min_samples = max(m.min_samples for m in members)

    def predict_records(self, records: Records, *, progress: Any = None) -> RecordOutputs:
        self.check_records(records)
        report = progress or (lambda fraction, message: None)
        probs, notes = [], []
        share = 1.0 / len(self.members)
        for i, member in enumerate(self.members):

            def scaled(fraction: float, message: str, i: int = i, member: StoredModel = member) -> None:
                report((i + fraction) * share, f"member {member.experiment_id}: {message}")

            out = member.predict_records(records, progress=scaled)
            probs.append(out.probs)
            notes.extend(f"member {member.experiment_id}: {note}" for note in out.warnings)
        combined = self.estimator.combine(np.stack(probs))
        report(1.0, "done")
        return RecordOutputs(combined, None, None, None, tuple(notes))


def load_ensemble(files: StoredFiles) -> EnsembleStoredModel:
    """A stored ensemble: its combination from ``ensemble.json`` and its members' stored models."""
    path = files.folder.ensemble_combiner
    label = files.where(path)
    combiner = read_json_file(path, label)
    if not isinstance(combiner, dict) or combiner.get("format") != COMBINER_FORMAT:
        raise StoredModelError(f"{label} is not a {COMBINER_FORMAT} file (no 'format' key)")
    if int(combiner.get("format_version", -1)) > COMBINER_VERSION:
        raise StoredModelError(f"{label} has a newer format than this workbench reads; upgrade it")
    class_names = tuple(combiner.get("class_names") or ())
    if class_names != files.spec.class_names:
        raise StoredModelError(
            f"{label} names classes {list(class_names)}, the experiment {list(files.spec.class_names)}"
        )
    members = []
    for member_id in combiner.get("members") or []:
        try:
            member = load_stored_model(files.store, int(member_id), device=files.device)
        except StoredModelError as exc:
            raise StoredModelError(f"experiment {files.experiment_id} (ensemble): member {exc}") from None
        if member.spec.class_names != class_names:
            raise StoredModelError(
                f"experiment {files.experiment_id} (ensemble): member {member_id} now predicts classes "
                f"{list(member.spec.class_names)}, expected {list(class_names)}"
            )
        members.append(member)
    if len(members) < 2:
        raise StoredModelError(f"{label} names {len(members)} member(s); an ensemble has at least 2")
    weights = combiner.get("weights")
    meta_learner = None
    if combiner.get("meta_learner"):
        meta_path = files.folder.ensemble_meta_learner
        meta_learner = load_skops(meta_path, TRUSTED_TYPES, files.where(meta_path))
    elif weights is None or len(weights) != len(members):
        raise StoredModelError(f"{label} has neither one weight per member nor a meta-learner")
    estimator = EnsembleEstimator(model_params(files.config), files.spec).restore(
        class_names, weights, meta_learner
    )
    return EnsembleStoredModel(files, estimator, members)


set_loader("ensemble", load_ensemble, save_ensemble)
