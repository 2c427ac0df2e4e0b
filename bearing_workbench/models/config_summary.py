"""A validated config in a few plain lines (what the wizard's review step and reports show)."""

from __future__ import annotations

from bearing_workbench.config import ExperimentConfig
from bearing_workbench.models.registry import get_family
from bearing_workbench.models.validation import DatasetFacts, training_examples


def _seconds(samples: int, fs: float | None) -> str:
    return f" ({samples / fs:g} s)" if fs else ""


def config_summary(
    config: ExperimentConfig, facts: DatasetFacts | None = None, fs: float | None = None
) -> list[tuple[str, str]]:
    """(label, text) rows: model, dataset, split, windows, training and schedule of `config`.

    Args:
        facts: the dataset's facts, for record and window counts; fs: its sampling rate in Hz.
    """
    family = get_family(config.model.family)
    data, training = config.data, config.training
    rows = [("Model", f"{family.title} ({family.name}): {family.description}")]
    dataset = data.dataset
    if facts is not None:
        dataset += f": {facts.n_records} records, {facts.n_classes} classes"
        if facts.signal_length:
            dataset += f", {facts.signal_length} samples each{_seconds(facts.signal_length, fs)}"
    rows.append(("Dataset", dataset))
    split = data.split
    rows.append(("Split (records)", f"train {split.train:g} % / val {split.val:g} % / test {split.test:g} %"))
    if data.window is None:
        rows.append(("Windows", "whole records"))
    else:
        hop = f", hop {data.window.step}" if data.window.hop is not None else ", no overlap"
        rows.append(("Windows", f"{data.window.length} samples{_seconds(data.window.length, fs)}{hop}"))
    if facts is not None:
        rows.append(("Training examples", f"{training_examples(config, facts)} from {facts.n_train} records"))
    if data.augmentation.enabled:
        rows.append(("Augmentation", "on (training windows only)"))
    if family.epoch_based:
        schedule = training.scheduler.name
        if schedule == "cosine":
            schedule += f", {training.scheduler.warmup_epochs} warm-up epoch(s)"
        stopping = (
            f"early stopping after {training.early_stopping.patience} epochs without gain"
            if training.early_stopping.enabled
            else "no early stopping"
        )
        rows.append(
            (
                "Training",
                f"{training.epochs} epochs, batch {training.batch_size}, {training.optimizer} "
                f"lr {training.learning_rate:g}; schedule {schedule}; {stopping}",
            )
        )
        rows.append(
            (
                "Checkpoints",
                f"{training.checkpoint.policy.replace('_', ' ')}, keep {training.checkpoint.keep_last}; "
                f"ONNX export {'on' if training.export_onnx else 'off'}",
            )
        )
    else:
        rows.append(("Training", "no epochs: batch size, epochs and schedule do not apply"))
    rows.append(("Seed", str(training.seed)))
    return rows
