"""What to know before launching a valid config: busy GPUs or CPU, disk, tiny data, long runs."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bearing_workbench.analysis.format import size
from bearing_workbench.config import ExperimentConfig
from bearing_workbench.models.registry import get_family
from bearing_workbench.models.validation import DatasetFacts, training_examples

if TYPE_CHECKING:
    from bearing_workbench.analysis.estimates import CheckpointEstimate, TimeEstimate

# Thresholds of the review warnings.
GPU_BUSY_PERCENT = 20.0
GPU_MEMORY_BUSY_FRACTION = 0.5
CPU_BUSY_PERCENT = 80.0
FEW_STEPS_PER_EPOCH = 4
FEW_RECORDS_PER_CLASS = 5
LONG_RUN_SECONDS = 3600.0
DISK_SHARE = 0.5  # warn when checkpoints would take more than this share of the free space


def gpu_lines(resources: Mapping[str, Any] | None) -> list[str]:
    """One line per GPU of a resource sample (`runner.resources.sample_resources`), or why there is none."""
    if not resources:
        return ["GPU: not checked"]
    gpus = resources.get("gpus") or []
    if not gpus:
        return [f"GPU: {resources.get('gpu_status') or 'no GPU'}; training runs on the CPU"]
    lines = []
    for gpu in gpus:
        load = []
        if gpu.get("utilization_percent") is not None:
            load.append(f"{gpu['utilization_percent']:.0f} % busy")
        if gpu.get("memory_used") is not None and gpu.get("memory_total"):
            load.append(f"{size(gpu['memory_used'])} of {size(gpu['memory_total'])} used")
        lines.append(f"GPU {gpu.get('index')} {gpu.get('name') or ''}: {', '.join(load) or 'load unknown'}")
    return lines


def review_warnings(
    config: ExperimentConfig,
    facts: DatasetFacts | None,
    *,
    time_estimate: TimeEstimate | None = None,
    checkpoints: CheckpointEstimate | None = None,
    resources: Mapping[str, Any] | None = None,
    free_disk_bytes: int | None = None,
) -> list[str]:
    """Things to know before launching a valid config: busy GPU or CPU, disk, tiny data, long runs."""
    warnings: list[str] = []
    family = get_family(config.model.family)
    training = config.training
    for gpu in (resources or {}).get("gpus") or []:
        busy = (gpu.get("utilization_percent") or 0.0) >= GPU_BUSY_PERCENT
        total = gpu.get("memory_total") or 0
        full = total > 0 and (gpu.get("memory_used") or 0) / total >= GPU_MEMORY_BUSY_FRACTION
        if busy or full:
            line = gpu_lines({"gpus": [gpu]})[0]
            warnings.append(f"{line}: another job is using it; this run may wait for it or run slower")
    cpu = (resources or {}).get("cpu_percent")
    if cpu is not None and cpu >= CPU_BUSY_PERCENT:
        warnings.append(f"the CPU is {cpu:.0f} % busy: other work shares the cores, training will be slower")
    if training.mixed_precision and resources is not None and not (resources.get("gpus") or []):
        warnings.append("training.mixed_precision is on but there is no GPU: it is ignored on the CPU")
    if checkpoints is not None:
        total = size(checkpoints.total_bytes)
        each = size(checkpoints.checkpoint_bytes)
        if free_disk_bytes is not None and checkpoints.total_bytes > DISK_SHARE * free_disk_bytes:
            warnings.append(
                f"checkpoints need about {total} ({checkpoints.files} x {each}) but only "
                f"{size(free_disk_bytes)} are free in the workspace"
            )
    if facts is not None:
        if family.epoch_based and facts.n_train >= 1:
            examples = training_examples(config, facts)
            steps = math.ceil(examples / training.batch_size)
            if steps < FEW_STEPS_PER_EPOCH:
                warnings.append(
                    f"the training set is small for the batch size: {examples} training windows make "
                    f"{steps} step(s) of {training.batch_size} per epoch; a smaller batch trains better"
                )
        per_class = facts.n_train / max(1, facts.n_classes)
        if per_class < FEW_RECORDS_PER_CLASS:
            warnings.append(
                f"only about {per_class:.0f} training record(s) per class ({facts.n_train} records, "
                f"{facts.n_classes} classes): test figures will be noisy"
            )
    if family.epoch_based and config.data.split.val == 0 and training.early_stopping.enabled:
        warnings.append("data.split.val is 0: early stopping and the best model have no validation data")
    if time_estimate is not None and (time_estimate.seconds or 0) > LONG_RUN_SECONDS:
        warnings.append(
            f"a long run ({time_estimate.text}); the quick or fast preset tells sooner whether it works"
        )
    return warnings
