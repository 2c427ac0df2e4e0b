"""Every family on the full default dataset with the standard preset, and trainer throughput.

Results accumulate in `bench/training_results.json` (kept in git, so a run continued in another
session or on another machine keeps the rows already measured), one row per run; `--families` runs
only those; BENCHMARKS.md is rewritten after each one. The trained experiments live in
`bench/.workspace` (not in git): a row whose experiment is not in that store cannot be an ensemble
member, so the ensemble is built from the members measured in this workspace.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from bearing_workbench.analysis.benchmarks import BENCHMARKS_FILE, benchmark_rows
from bearing_workbench.config import preset_config
from bearing_workbench.data.generator import GeneratorConfig, generate_dataset
from bearing_workbench.data.registration import register_dataset
from bearing_workbench.store import NotFoundError, Store
from bench.report import median, write_section

WORKSPACE = Path(__file__).resolve().parent / ".workspace"
RESULTS = Path(__file__).resolve().parent / "training_results.json"
DATASET = "default"
COMMAND = "python -m bench.run training"

# name -> (family, config overrides). pinn-lambda0 is the same network without the physics loss.
RUNS: dict[str, tuple[str, dict]] = {
    "classical (random forest)": ("classical", {}),
    "classical (SVM)": ("classical", {"model.params.algorithm": "svm"}),
    "classical (gradient boosting)": ("classical", {"model.params.algorithm": "gradient_boosting"}),
    "cnn1d": ("cnn1d", {}),
    "resnet1d": ("resnet1d", {}),
    "spectrogram": ("spectrogram", {}),
    "pinn": ("pinn", {}),
    "pinn (lambda = 0)": ("pinn", {"model.params.lambda_physics": 0.0}),
    "transformer": ("transformer", {}),
}
# What the package's estimates need to know about the runs (bearing_workbench/analysis/benchmarks.json).
VARIANTS = {
    "classical (random forest)": "random_forest",
    "classical (SVM)": "svm",
    "classical (gradient boosting)": "gradient_boosting",
}
COMPARISONS = ("pinn (lambda = 0)",)  # not the family's standard config: no figure of the family
# The default dataset (GeneratorConfig()): 11 classes x 130 records of 102400 samples, split 70/15/15
# (1001 training records), cut by the standard preset into 5 windows of 20480 samples.
BENCH_DATASET = {"records": 1430, "classes": 11, "train_records": 1001, "windows_per_record": 5,
                 "window": 20480, "signal_length": 102400}  # fmt: skip
SOURCE = "BENCHMARKS.md (model zoo: standard preset, default dataset, CPU only; python -m bench.run training)"
TARGETS = {"resnet1d": ">= 95 %", "transformer": ">= 95 %", "classical (random forest)": ">= 93 %"}


def _store() -> Store:
    store = Store(workspace=WORKSPACE)
    try:
        store.get_dataset(DATASET)
    except NotFoundError:
        path = WORKSPACE / "datasets" / f"{DATASET}.h5"
        if not path.exists():
            generate_dataset(path, GeneratorConfig())
        register_dataset(store, path, name=DATASET)
    return store


def _load() -> dict[str, dict]:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def _save(results: dict[str, dict]) -> None:
    RESULTS.write_text(json.dumps(results, indent=2))
    write_figures(results)


def write_figures(results: dict[str, dict]) -> None:
    """The figures the package's estimates read (`bearing_workbench.analysis.benchmarks`)."""
    doc = {"source": SOURCE, "dataset": BENCH_DATASET, "runs": benchmark_rows(results, VARIANTS, COMPARISONS)}
    BENCHMARKS_FILE.write_text(json.dumps(doc, indent=2) + "\n")


def _train(store: Store, name: str, family: str, overrides: dict) -> dict:
    from bearing_workbench.training.experiment import create_experiment, train_experiment

    config = preset_config("standard", family, DATASET, {"name": f"bench {name}", **overrides})
    experiment_id = create_experiment(store, config)
    start = time.perf_counter()
    outcome = train_experiment(store, experiment_id)
    m = outcome.metrics
    return {
        "family": family,
        "experiment_id": experiment_id,
        "accuracy": m["accuracy"],
        "macro_f1": m["macro_f1"],
        "val_accuracy": m.get("val_accuracy"),
        "epochs_run": m.get("epochs_run"),
        "best_epoch": m.get("best_epoch"),
        "seconds": time.perf_counter() - start,
        "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": _threads(),
    }


def _ensemble(store: Store, results: dict[str, dict]) -> dict:
    """Soft voting (weights optimised on validation) over the best run of each of the three best families.

    Ranked by VALIDATION accuracy (the test split is for the final figure only); one member per
    family, because members that see the same input the same way make the same mistakes and a vote
    among them cannot fix those. Only runs stored in this workspace qualify (see the module docstring).
    """
    stored = {n: r for n, r in results.items() if r["family"] != "ensemble" and _in_store(store, r)}
    if "pinn" in stored:
        stored.pop("pinn (lambda = 0)", None)  # the same family: the comparison run, not a member
    best_per_family: dict[str, tuple[float, str]] = {}
    for name, r in stored.items():
        score = (r["val_accuracy"] or 0.0, name)
        best_per_family[r["family"]] = max(best_per_family.get(r["family"], score), score)
    members = [n for _, n in sorted(best_per_family.values(), reverse=True)[:3]]
    if len(members) < 2:
        raise RuntimeError(f"an ensemble needs 2 stored members, this workspace has {members}")
    row = _train(
        store,
        "ensemble",
        "ensemble",
        {
            "model.params.members": [results[n]["experiment_id"] for n in members],
            "model.params.method": "soft_voting",
            "model.params.weights": "optimised",
        },
    )
    row["members"] = members
    return row


def _in_store(store: Store, row: dict) -> bool:
    if row.get("experiment_id") is None:
        return False
    try:
        return store.get_experiment(row["experiment_id"]).status.value == "completed"
    except NotFoundError:
        return False


def _threads() -> str:
    import os

    import torch

    cores = len(os.sched_getaffinity(0))
    plural = "s" if cores > 1 else ""
    return f"{cores} core{plural}, {torch.get_num_threads()} thread(s)"


def _write(results: dict[str, dict]) -> None:
    lines = [
        "| model | test accuracy | macro-F1 | training time | epochs (best) | target | CPU used | measured |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        epochs = "" if r["family"] in ("classical", "ensemble") else f"{r['epochs_run']} ({r['best_epoch']})"
        lines.append(
            f"| {name} | {100 * r['accuracy']:.1f} % | {r['macro_f1']:.3f} | {r['seconds'] / 60:.1f} min "
            f"| {epochs} | {TARGETS.get(name, '')} | {r.get('cpu', '')} | {r['measured'][:10]} |"
        )
    notes = [
        "",
        "Full default dataset (11 classes x 130 records of 5 s), record-level split 70/15/15 stored in the "
        "file, 1 s windows (standard preset), metrics on the test records only (window probabilities "
        "averaged per record). One run each, seed 0, CPU only.",
    ]
    if "ensemble" in results:
        best = max(r["accuracy"] for n, r in results.items() if n in results["ensemble"].get("members", []))
        notes.append(
            f"Ensemble members (chosen by validation accuracy): {', '.join(results['ensemble']['members'])}; "
            f"best member {100 * best:.1f} % -> ensemble {100 * results['ensemble']['accuracy']:.1f} %."
        )
    if "pinn" in results and "pinn (lambda = 0)" in results:
        a, b = results["pinn"], results["pinn (lambda = 0)"]
        notes.append(
            f"PINN vs the same network with lambda_physics = 0: {100 * a['accuracy']:.1f} % vs "
            f"{100 * b['accuracy']:.1f} % test accuracy, macro-F1 {a['macro_f1']:.3f} vs {b['macro_f1']:.3f} "
            f"(measured {a['measured'][:10]} on {a.get('cpu', '?')} and {b['measured'][:10]} on "
            f"{b.get('cpu', '?')})."
        )
    write_section(
        "training", "Model zoo on the default dataset (standard preset)", "\n".join(lines + notes), COMMAND
    )


def run(repeats: int = 1, families: list[str] | None = None) -> None:
    store = _store()
    results = _load()
    for name, (family, overrides) in RUNS.items():
        if families and name not in families and family not in families:
            continue
        print(f"training {name} ...", flush=True)
        results[name] = _train(store, name, family, overrides)
        _save(results)
        _write(results)
        print(json.dumps(results[name]), flush=True)
    if not families or "ensemble" in families:
        results["ensemble"] = _ensemble(store, results)
        _save(results)
        _write(results)
    if not families:
        throughput(store, repeats=max(repeats, 3))


def throughput(store: Store, repeats: int = 3, steps: int = 60) -> None:
    """Windows per second of `fit` with the runner-style callbacks vs a bare PyTorch loop, same batches."""
    import tempfile

    import torch

    from bearing_workbench.models import validate_config
    from bearing_workbench.models.builders import build_model
    from bearing_workbench.models.validation import model_params
    from bearing_workbench.training.callbacks import Callback
    from bearing_workbench.training.data import iterate_batches, load_data
    from bearing_workbench.training.experiment import StoreRecorder, create_experiment
    from bearing_workbench.training.loop import fit

    # The clock stops the run after `steps` batches of the first epoch: no validation is timed.
    overrides = {"training.epochs": 2, "training.scheduler.warmup_epochs": 0, "training.export_onnx": False}
    config = validate_config(preset_config("standard", "cnn1d", DATASET, overrides))
    data = load_data(config, store)
    batch_size = config.training.batch_size

    class StepClock(Callback):
        """Times the training steps only (validation excluded), and stops after `steps` batches."""

        def on_batch_end(self, ctx, batch_index, logs):
            if batch_index == 4:
                self.start = time.perf_counter()
            if batch_index == 4 + steps:
                self.seconds = time.perf_counter() - self.start
                ctx.request_stop("benchmark done")

    class EveryBatch(Callback):
        """A progress publisher's worth of work per batch."""

        def on_batch_end(self, ctx, batch_index, logs):
            self.last = dict(logs)

    def with_callbacks() -> float:
        clock = StepClock()
        experiment_id = create_experiment(store, config)
        with tempfile.TemporaryDirectory() as tmp:
            fit(
                config,
                callbacks=[StoreRecorder(store, experiment_id), EveryBatch(), clock],
                out_dir=tmp,
                store=store,
                device="cpu",
            )
        store.delete_experiment(experiment_id)
        return steps * batch_size / clock.seconds

    def bare() -> float:
        torch.manual_seed(config.training.seed)
        model = build_model("cnn1d", model_params(config), data.spec)
        optimizer = torch.optim.AdamW(model.parameters(), lr=config.training.learning_rate)
        model.train()
        order = np.random.default_rng(0).permutation(len(data.train))
        for i, batch in enumerate(iterate_batches(data.train, batch_size, order=order)):
            if i == 4:
                start = time.perf_counter()
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(batch.x, batch.meta), batch.y)
            loss.backward()
            optimizer.step()
            loss.item()  # the loop reads the loss every step too
            if i == 4 + steps:
                return steps * batch_size / (time.perf_counter() - start)
        raise RuntimeError("not enough batches for the throughput benchmark")

    loop_rates, bare_rates = [], []
    for _ in range(repeats):  # interleaved, so drift in the machine's speed hits both alike
        loop_rates.append(with_callbacks())
        bare_rates.append(bare())
    ratio = median(loop_rates) / median(bare_rates)
    body = "\n".join(
        [
            f"| trainer | windows/s (median of {repeats}) |",
            "|---|---|",
            f"| bare PyTorch loop (same model, batches, optimizer) | {median(bare_rates):.1f} |",
            f"| `fit` with StoreRecorder + a per-batch callback | {median(loop_rates):.1f} |",
            "",
            f"Ratio: {100 * ratio:.1f} % of the bare loop (goal >= 95 %). cnn1d standard params, batch "
            f"{batch_size} of 1 s windows, {steps} steps after 5 warm-up steps, CPU.",
        ]
    )
    write_section(
        "throughput",
        "Trainer throughput: callbacks on vs a bare loop",
        body,
        "python -m bench.run throughput",
    )
    print(body)


def run_throughput(repeats: int = 3) -> None:
    throughput(_store(), repeats=repeats)
