"""Fitting a preset's derived values to the dataset it is used on, instead of refusing the config.

A preset is written for a typical dataset: 1 s windows, 3 cross-validation folds, batches of 32. On a
small dataset
those values cannot work (a class with 2 training records cannot be cut into 3 folds), yet the user
chose nothing wrong. Such values are lowered to what the data allows and each change is said in a note
(the CLI prints it, the wizard can show it). A value the user set explicitly is never changed: it is
refused with its message as before.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bearing_workbench.config import preset_config, schema_errors, set_dotted
from bearing_workbench.models import validation
from bearing_workbench.models.registry import UnknownFamilyError, get_family
from bearing_workbench.models.validation import DatasetFacts, ValidatedExperiment, training_examples

if TYPE_CHECKING:
    from bearing_workbench.store import Store

WINDOW = "data.window"
BATCH_SIZE = "training.batch_size"
CV_FOLDS = "model.params.cv_folds"
# The values a preset derives that depend on the dataset's size, in the order they are fitted (the
# window decides how many training examples there are, which bounds the batch size).
PRESET_DERIVED: tuple[str, ...] = (WINDOW, BATCH_SIZE, CV_FOLDS)


def preset_adaptable(overrides: Iterable[str] = ()) -> frozenset[str]:
    """The preset-derived fields the user did not set (an override of a section covers its fields)."""
    given = [key.strip() for key in overrides]
    return frozenset(
        derived
        for derived in PRESET_DERIVED
        if not any(derived == key or derived.startswith(f"{key}.") for key in given)
    )


def _get(data: Mapping[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _fitted_cv_folds(data: Mapping[str, Any], facts: DatasetFacts) -> tuple[int, int, str] | None:
    try:
        family = get_family(str(_get(data, "model.family")))
    except UnknownFamilyError:
        return None
    field = family.params.model_fields.get("cv_folds")
    if field is None or facts.n_classes < 1:
        return None
    value = _get(data, CV_FOLDS)
    value = field.default if value is None else value
    per_class = facts.n_train // facts.n_classes
    if not isinstance(value, int) or value <= per_class or per_class < 2:
        return None  # fits already, or nothing would (the check says why)
    sizes = f"{facts.n_train} records, {facts.n_classes} classes"
    why = f"this dataset has {per_class} training records per class ({sizes})"
    return value, per_class, why


def _fitted_batch_size(data: Mapping[str, Any], facts: DatasetFacts) -> tuple[int, int, str] | None:
    config, _ = schema_errors(data)
    if config is None:
        return None
    try:
        if not get_family(config.model.family).epoch_based:
            return None
    except UnknownFamilyError:
        return None
    examples = training_examples(config, facts)
    value = config.training.batch_size
    if examples < 1 or value <= examples:
        return None
    fits = 1 << (examples.bit_length() - 1)  # batch sizes are powers of 2
    return value, fits, f"the training split has {examples} examples"


def _fitted_window(data: Mapping[str, Any], facts: DatasetFacts) -> tuple[Any, Any, str] | None:
    length = _get(data, f"{WINDOW}.length")
    if not isinstance(length, int) or facts.signal_length is None or length <= facts.signal_length:
        return None
    why = f"windows of {length} samples are longer than the records ({facts.signal_length} samples)"
    return f"{length}-sample windows", None, why


_FITTERS = {WINDOW: _fitted_window, CV_FOLDS: _fitted_cv_folds, BATCH_SIZE: _fitted_batch_size}


def fit_to_data(
    data: Mapping[str, Any], facts: DatasetFacts, adapt: Collection[str] = PRESET_DERIVED
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """A copy of `data` with the fields in `adapt` lowered to what `facts` allow, and one note per change."""
    fitted = copy.deepcopy(dict(data))
    notes = []
    for dotted in PRESET_DERIVED:
        if dotted not in adapt:
            continue
        change = _FITTERS[dotted](fitted, facts)
        if change is None:
            continue
        old, new, why = change
        set_dotted(fitted, dotted, new)
        shown = "whole records" if new is None else new
        notes.append(f"{dotted}: the preset's {old} changed to {shown}: {why}")
    return fitted, tuple(notes)


def validate_preset(
    preset: str,
    family: str,
    dataset: str,
    overrides: Mapping[str, Any] | None = None,
    store: Store | None = None,
    directory: str | Path | None = None,
) -> ValidatedExperiment:
    """A preset's config for `family` on `dataset`, fitted to the dataset, through the one boundary.

    The preset's derived values the user did not override are fitted (see ``notes``); everything else
    is validated as `validate_experiment` does. Raises `ConfigError` (nothing is recorded).

    Args:
        overrides: dotted keys set by the user, e.g. ``{"training.epochs": 5}``; never fitted.
        directory: where user presets live (default: none, built-in presets only).
    """
    data = preset_config(preset, family, dataset, overrides, directory)
    return validation.validate_experiment(data, store, adapt=preset_adaptable(overrides or {}))
