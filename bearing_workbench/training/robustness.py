"""Robustness sweep of a stored model: its record-level accuracy on a split of its own dataset (default
the test split) under every condition of `training.perturbations.CONDITIONS` (clean, white noise at
SNR 20/10/5 dB, gain x0.5 and x2, speed -10 % and +10 %), stored as an evaluation of kind 'robustness'.

The records are those the run itself used for that split (`data.splits.record_split` with the run's
fractions and seed), so the clean condition reproduces the run's stored test accuracy. Noise is
seeded: the same seed gives the same sweep.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from bearing_workbench.config.arguments import Integer, RowId, checked
from bearing_workbench.training.cross_evaluation import (
    Progress,
    match_classes,
    record_metrics,
    registered_id,
    run_evaluation,
    scaled,
)
from bearing_workbench.training.perturbations import CONDITIONS, condition_rngs
from bearing_workbench.training.prediction import records_for
from bearing_workbench.training.sources import PredictionInputError, SignalSource, load_source

if TYPE_CHECKING:
    from bearing_workbench.store import Store
    from bearing_workbench.training.stored_model import StoredModel

DEFAULT_SPLIT = "test"
DEFAULT_SEED = 0


def own_split_source(store: Store, model: StoredModel, split: str) -> tuple[str, SignalSource]:
    """(the dataset's name, the records of `split`) exactly as the run split its dataset."""
    from bearing_workbench.data.dataset_file import SPLIT_NAMES, Dataset
    from bearing_workbench.data.lookup import resolve_dataset_path
    from bearing_workbench.data.splits import record_split

    if split not in SPLIT_NAMES:
        raise PredictionInputError(
            f"unknown split {split!r}; expected one of {', '.join(SPLIT_NAMES)}", option="split"
        )
    config = model.config
    name = config.data.dataset
    fractions = (
        config.data.split.train / 100.0,
        config.data.split.val / 100.0,
        config.data.split.test / 100.0,
    )
    with Dataset(resolve_dataset_path(name, store)) as ds:
        rows = np.sort(np.asarray(record_split(ds, fractions, config.training.seed).indices[split], np.int64))
        if rows.size == 0:
            raise PredictionInputError(
                f"{name} has no records in the {split} split of this run", option="split"
            )
        class_names = np.asarray(ds.class_names, dtype=object)
        source = SignalSource(
            signals=ds.signals(rows),
            fs=ds.fs,
            record_ids=tuple(str(r) for r in ds.record_ids[rows]),
            labels=tuple(str(c) for c in class_names[ds.labels[rows]]),
            meta={column: np.asarray(values)[rows] for column, values in ds.metadata().items()},
            name=f"{name} ({split} split)",
        )
    return str(name), source


@checked
def robustness_sweep(
    store: Any,
    experiment_id: RowId,
    *,
    dataset: str | None = None,
    split: str | None = DEFAULT_SPLIT,
    seed: Integer = DEFAULT_SEED,
    progress: Progress | None = None,
    device: str | None = None,
) -> int:
    """Accuracy of experiment `experiment_id`'s model under each perturbation; returns the stored id.

    Args:
        dataset: default the run's own dataset, split as the run split it; another dataset is read
            with its stored `split` (None: every record), classes matched by name.
        seed: seeds the noise of every condition.
    """
    from bearing_workbench.training.stored_model import load_stored_model

    if progress is not None:
        progress(0.0, f"loading the model of experiment {experiment_id}")
    model = load_stored_model(store, experiment_id, device=device)
    if dataset is None:
        if split is None:
            raise PredictionInputError("the run's own dataset is swept on one of its splits", option="split")
        name, source = own_split_source(store, model, split)
    else:
        name, source = dataset, load_source(dataset, store=store, split=split)
    source, _ = match_classes(source, tuple(model.spec.class_names), {}, experiment_id)
    records, warnings = records_for(model, source)
    evaluation_id = store.create_evaluation(
        experiment_id,
        "robustness",
        name,
        dataset_id=registered_id(store, name),
        split=split,
        options={"seed": seed, "conditions": [c.name for c in CONDITIONS]},
    )

    def compute() -> dict[str, Any]:
        conditions: list[dict[str, Any]] = []
        clean: dict[str, Any] = {}
        step = 0.9 / len(CONDITIONS)
        for k, (condition, rng) in enumerate(zip(CONDITIONS, condition_rngs(seed), strict=True)):
            signals, meta = condition.perturb(records.signals, records.meta, rng)
            perturbed = dataclasses.replace(
                records, signals=np.ascontiguousarray(signals, np.float32), meta=meta
            )
            if progress is not None:
                progress(0.05 + k * step, f"{condition.name}: predicting {len(records.record_ids)} records")
            outputs = model.predict_records(
                perturbed, progress=scaled(progress, 0.05 + k * step, 0.05 + (k + 1) * step)
            )
            metrics = record_metrics(model, perturbed, outputs.probs)
            if condition.group == "clean":
                clean = metrics
            conditions.append(
                {
                    "group": condition.group,
                    "name": condition.name,
                    "accuracy": metrics["accuracy"],
                    "macro_f1": metrics["macro_f1"],
                    "params": dict(condition.params),
                    "per_class_recall": {c: v["recall"] for c, v in metrics["per_class"].items()},
                }
            )
        return {
            "metrics": clean,
            "n_records": len(records.record_ids),
            "conditions": conditions,
            "seed": seed,
            "warnings": list(warnings),
            "source": source.name,
        }

    return run_evaluation(store, evaluation_id, compute, progress)
