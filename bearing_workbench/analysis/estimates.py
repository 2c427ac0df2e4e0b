"""What a run will cost before it starts: typical accuracy, training time, checkpoint size, warnings;
`estimate_info` gathers them into the `EstimateInfo` the wizard's review shows.

Figures are measured, not copied: `analysis.benchmarks` reads ``benchmarks.json``, which
``python -m bench.run training`` writes from the same runs as BENCHMARKS.md's model-zoo table (one
run per family, standard preset, default dataset, CPU only). Each family's figures come from its own
measured rows: a classical model has no epochs, its time and accuracy range come from the rows of its
algorithms. Times for another config scale that measured throughput by the number of training windows,
their length and the epochs (records, for the classical family); network size is not modelled, so a
smaller network (the quick preset) finishes sooner than said.

Nothing here imports torch except `estimate_checkpoints`, which builds the model to count its weights.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bearing_workbench.analysis.benchmarks import BenchmarkRun, load_benchmarks
from bearing_workbench.analysis.format import rough_duration, size
from bearing_workbench.analysis.review_warnings import gpu_lines, review_warnings
from bearing_workbench.config import ExperimentConfig
from bearing_workbench.models.inputs import PHYSICS_META, InputSpec
from bearing_workbench.models.registry import get_family
from bearing_workbench.models.validation import DatasetFacts, model_params, training_examples

if TYPE_CHECKING:
    from bearing_workbench.data.dataset_file import DatasetInfo

_BENCH = load_benchmarks()
BENCHMARK_SOURCE = _BENCH.source
BENCH_RECORDS = _BENCH.dataset.records
BENCH_TRAIN_WINDOWS = _BENCH.dataset.train_windows
BENCH_WINDOW = _BENCH.dataset.window
BENCH_FACTS = DatasetFacts(
    n_records=_BENCH.dataset.records,
    n_classes=_BENCH.dataset.classes,
    n_train=_BENCH.dataset.train_records,
    signal_length=_BENCH.dataset.signal_length,
)

# Bytes a checkpoint holds besides the tensors: config JSON, RNG states (torch ~5 KB, numpy, Python
# ~3 KB each) and history rows; torch.save writes each tensor as a zip entry of its own, ~185 bytes of
# headers each, plus ~10 entries of its own. Measured on cnn1d, resnet1d, transformer, spectrogram and
# pinn checkpoints: estimates within 3 % of the files.
CHECKPOINT_OVERHEAD_BYTES = 24 * 1024
HISTORY_ROW_BYTES = 400
ZIP_ENTRY_BYTES = 185
ZIP_EXTRA_ENTRIES = 10


@dataclass(frozen=True)
class FamilyBenchmark:
    """One family's measured run(s) on the benchmark data.

    Args:
        accuracy: lowest and highest test accuracy measured (%), over the family's variants.
        minutes: lowest and highest training time measured, evaluation included.
        epochs_run: epochs the run trained before early stopping (None: not epoch-based).
        cores: CPU cores the run had.
        variants: what the range spans (e.g. the classical algorithms), shown with it.
        minutes_by_variant: each variant's time (the classical algorithms).
    """

    accuracy: tuple[float, float]
    minutes: tuple[float, float]
    epochs_run: int | None
    cores: int
    variants: str = ""
    minutes_by_variant: Mapping[str, float] | None = None

    def seconds_per_window_epoch(self) -> float | None:
        """Seconds per training window of `BENCH_WINDOW` samples per epoch (validation included)."""
        if self.epochs_run is None:
            return None
        return max(self.minutes) * 60.0 / (self.epochs_run * BENCH_TRAIN_WINDOWS)


def family_benchmark(runs: tuple[BenchmarkRun, ...]) -> FamilyBenchmark:
    """A family's figures from its measured standard runs (at least one)."""
    accuracies = [round(100 * run.accuracy, 1) for run in runs]
    minutes = [round(run.seconds / 60, 1) for run in runs]
    epochs = [run.epochs_run for run in runs if run.epochs_run]
    variants = [run.variant.replace("_", " ") for run in runs if run.variant]
    return FamilyBenchmark(
        accuracy=(min(accuracies), max(accuracies)),
        minutes=(min(minutes), max(minutes)),
        epochs_run=max(epochs) if epochs else None,
        cores=max(run.cores for run in runs),
        variants=", ".join(variants) if len(variants) > 1 else "",
        minutes_by_variant={r.variant: round(r.seconds / 60, 1) for r in runs if r.variant} or None,
    )


# family -> its figures, for every measured family but the ensemble (no training loop of its own)
FAMILY_BENCHMARKS: dict[str, FamilyBenchmark] = {
    family: family_benchmark(_BENCH.of_family(family))
    for family in dict.fromkeys(run.family for run in _BENCH.runs)
    if family != "ensemble" and _BENCH.of_family(family)
}


@dataclass(frozen=True)
class FamilyOverview:
    """What a model card says about a family: accuracy and time to expect, and where that comes from."""

    name: str
    title: str
    description: str
    accuracy: str
    time: str
    source: str


def _range(low: float, high: float, unit: str, digits: int = 1) -> str:
    if math.isclose(low, high):
        return f"{low:.{digits}f} {unit}"
    return f"{low:.{digits}f}-{high:.{digits}f} {unit}"


def family_overview(name: str, standard_accuracy: str | None = None) -> FamilyOverview:
    """Card text for family `name`: measured accuracy and training time, or why there is none.

    Args:
        standard_accuracy: the standard preset's expected accuracy, shown for a family not measured yet.
    """
    spec = get_family(name)
    bench = FAMILY_BENCHMARKS.get(name)
    if bench is not None:
        variants = f" over {bench.variants}" if bench.variants else ""
        accuracy = f"{_range(*bench.accuracy, '%')} measured{variants}"
        epochs = f", {bench.epochs_run} epochs" if bench.epochs_run else ""
        cores = f"{bench.cores} CPU core{'s' if bench.cores > 1 else ''}"
        time = f"about {_range(*bench.minutes, 'min')} ({cores}{epochs})"
        source = BENCHMARK_SOURCE
    elif name == "ensemble":
        accuracy = "usually at least its best member's"
        time = "seconds: it combines the stored predictions of finished runs"
        source = "no training loop: soft voting or a small meta-learner on stored predictions"
    else:
        expected = f" (the standard preset expects {standard_accuracy})" if standard_accuracy else ""
        accuracy = f"not measured yet{expected}"
        time = "not measured yet"
        source = f"{name} has no row in {BENCHMARK_SOURCE} yet"
    return FamilyOverview(name, spec.title, spec.description, accuracy, time, source)


@dataclass(frozen=True)
class TimeEstimate:
    """Expected training time: `seconds` (None when it cannot be estimated), a sentence, its basis."""

    seconds: float | None
    text: str
    basis: str


def estimate_training_time(
    config: ExperimentConfig, facts: DatasetFacts | None, *, on_gpu: bool = False
) -> TimeEstimate:
    """Training time of `config` on its dataset, scaled from the measured benchmark of its family.

    Args:
        facts: the dataset's facts (records, training records, record length); None when unknown.
        on_gpu: the run will train on a GPU (the figures are CPU figures: said so in the text).
    """
    family = config.model.family
    bench = FAMILY_BENCHMARKS.get(family)
    gpu_note = " (a CPU figure: on a GPU it is usually much shorter)" if on_gpu else ""
    if family == "ensemble":
        return TimeEstimate(None, "seconds (it combines stored predictions)", "no training loop")
    if bench is None:
        return TimeEstimate(None, "not measured yet", f"{family} has no row in {BENCHMARK_SOURCE}")
    if facts is None:
        return TimeEstimate(None, "unknown until the dataset can be read", BENCHMARK_SOURCE)
    if family == "classical":
        algorithm = str(config.model.params.get("algorithm", "random_forest"))
        minutes = (bench.minutes_by_variant or {}).get(algorithm, max(bench.minutes))
        seconds = minutes * 60.0 * facts.n_records / BENCH_RECORDS
        basis = f"{minutes:g} min measured for {BENCH_RECORDS} records ({algorithm}), scaled by record count"
        return TimeEstimate(seconds, f"about {rough_duration(seconds)}{gpu_note}", basis)
    per_window = bench.seconds_per_window_epoch()
    assert per_window is not None  # every epoch-based family in the table has epochs_run
    length = config.data.window.length if config.data.window is not None else facts.signal_length
    scale = (length or BENCH_WINDOW) / BENCH_WINDOW
    windows = training_examples(config, facts)
    epochs = config.training.epochs
    seconds = per_window * scale * windows * epochs
    early = " (early stopping may end it sooner)" if config.training.early_stopping.enabled else ""
    text = f"up to about {rough_duration(seconds)} for {epochs} epochs{early}{gpu_note}"
    basis = (
        f"{per_window * 1000:.1f} ms per {BENCH_WINDOW}-sample window per epoch measured "
        f"({BENCHMARK_SOURCE}) x {windows} training windows of {length} samples x {epochs} epochs; "
        "network size not modelled"
    )
    return TimeEstimate(seconds, text, basis)


def input_spec_for(config: ExperimentConfig, info: DatasetInfo) -> InputSpec:
    """The model input a run of `config` on the dataset `info` describes (as the data pipeline builds it).

    Metadata columns are the physics columns the file has (the pipeline also drops columns with gaps,
    which does not change a network's size by more than a few weights).
    """
    length = config.data.window.length if config.data.window is not None else info.n_samples
    return InputSpec(
        kind=get_family(config.model.family).input_kind,
        n_classes=len(info.class_names),
        class_names=tuple(info.class_names),
        fs=float(info.fs),
        length=int(length),
        meta_names=tuple(name for name in PHYSICS_META if name in info.metadata_columns),
    )


@dataclass(frozen=True)
class CheckpointEstimate:
    """Disk used by a run's checkpoints and ONNX file, from the model's weight count.

    Args:
        parameters: trainable weights; state_bytes: the model's state dict (weights and buffers).
        checkpoint_bytes: one checkpoint file (model, optimizer state, RNG states, history).
        files: checkpoint files kept at once at most (the last `keep_last` and ``best.pt``).
        total_bytes: all checkpoint files plus the ONNX export when asked for.
    """

    parameters: int
    state_bytes: int
    checkpoint_bytes: int
    files: int
    onnx_bytes: int
    total_bytes: int


def _optimizer_slots(config: ExperimentConfig) -> tuple[int, int]:
    """(weight-sized tensors, scalar tensors) the optimizer keeps per weight tensor.

    Adam and AdamW keep two moments and a step count; SGD keeps a momentum buffer when momentum is on.
    """
    training = config.training
    if training.optimizer == "sgd":
        return (1 if training.momentum > 0 else 0), 0
    return 2, 1


def estimate_checkpoints(config: ExperimentConfig, spec: InputSpec) -> CheckpointEstimate | None:
    """Checkpoint and ONNX sizes of a run of `config`; None for families that save no checkpoint.

    Builds the model (imports torch) to count its weights. Raises what the builder raises when the
    config does not fit the data (e.g. a PINN on a dataset without shaft-speed metadata).
    """
    family = get_family(config.model.family)
    if not family.epoch_based:
        return None  # classical pipelines are not written to disk; ensembles reuse stored predictions
    from bearing_workbench.models.builders import build_model

    model = build_model(family.name, model_params(config), spec)
    weights = [p for p in model.parameters() if p.requires_grad]
    parameters = sum(int(p.numel()) for p in weights)
    state = model.state_dict()
    state_bytes = sum(int(t.numel()) * t.element_size() for t in state.values())
    slots, scalars = _optimizer_slots(config)
    optimizer_bytes = slots * sum(int(p.numel()) * p.element_size() for p in weights) + 4 * scalars * len(
        weights
    )
    entries = len(state) + (slots + scalars) * len(weights) + ZIP_EXTRA_ENTRIES
    history = config.training.epochs * HISTORY_ROW_BYTES
    checkpoint = (
        state_bytes + optimizer_bytes + CHECKPOINT_OVERHEAD_BYTES + history + ZIP_ENTRY_BYTES * entries
    )
    files = config.training.checkpoint.keep_last + 1
    onnx = state_bytes if config.training.export_onnx else 0
    return CheckpointEstimate(parameters, state_bytes, checkpoint, files, onnx, checkpoint * files + onnx)


@dataclass(frozen=True)
class EstimateInfo:
    """What a config will cost, as the wizard's review shows it: the family's measured figures, the
    training time, the checkpoints' disk, the GPUs and the warnings."""

    family: FamilyOverview
    time: TimeEstimate
    checkpoints: CheckpointEstimate | None
    gpus: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def disk_text(self) -> str:
        """``"about 3.2 MiB (3 checkpoint files of 1.1 MiB)"``, or why nothing is written."""
        c = self.checkpoints
        if c is None:
            return "no checkpoint files (this family is not trained in epochs)"
        return f"about {size(c.total_bytes)} ({c.files} checkpoint files of {size(c.checkpoint_bytes)})"


def estimate_info(
    config: ExperimentConfig,
    facts: DatasetFacts | None,
    *,
    spec: InputSpec | None = None,
    resources: Mapping[str, Any] | None = None,
    free_disk_bytes: int | None = None,
    on_gpu: bool = False,
) -> EstimateInfo:
    """The `EstimateInfo` of a valid config on its dataset.

    Args:
        facts: the dataset's facts; None when unknown. spec: the model input (`input_spec_for`); without
            it the checkpoint size is not estimated (it builds the model, importing torch).
        resources: a resource sample (`runner.resources`); free_disk_bytes: free space in the workspace.
    """
    time = estimate_training_time(config, facts, on_gpu=on_gpu)
    checkpoints = estimate_checkpoints(config, spec) if spec is not None else None
    warnings = review_warnings(
        config,
        facts,
        time_estimate=time,
        checkpoints=checkpoints,
        resources=resources,
        free_disk_bytes=free_disk_bytes,
    )
    return EstimateInfo(
        family=family_overview(config.model.family),
        time=time,
        checkpoints=checkpoints,
        gpus=tuple(gpu_lines(resources)),
        warnings=tuple(warnings),
    )
