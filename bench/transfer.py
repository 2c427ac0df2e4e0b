"""Models that transfer (issue 15): every family trained on our default data, evaluated on a held-out machine.

One command generates three small datasets with the physics generator (`data/generator.py`,
`data/variants.py`):

- default: the generator's one machine (what every model was trained on so far);
- randomised: every record its own machine (domain randomisation), for the transfer options;
- heldout: a deliberately different machine (other modes, transmission path, pink noise and spikes,
  amplitude scale, speed range, mains) that no training run ever sees.

Each family is trained twice with its quick preset (tiny epochs): "baseline" on the default data
with every transfer option off, and "transfer" on the randomised data with the options on
(normalisation, augmentation, order features for the classical family). Each fitted model is then
evaluated record by record (windows averaged per record, as `training.evaluate` does) on its own
test split, on the default data's test split, and on every record of the held-out machine.

    python -m bench.transfer [--families classical cnn1d ...] [--per-class 36] [--epochs 6]

Results accumulate in bench/results/transfer.json (one row per run, so families can be run one at a
time) and the table is rewritten in BENCHMARKS.md after each run.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bearing_workbench.config import ExperimentConfig, preset_config
from bearing_workbench.data.generator import GeneratorConfig, generate_dataset
from bearing_workbench.training.data import load_data
from bearing_workbench.training.evaluate import aggregate_records, predict_windows, record_labels
from bearing_workbench.training.loop import fit
from bench.report import write_section

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "transfer.json"
DATA_DIR = HERE / ".workspace" / "transfer"
COMMAND = "python -m bench.transfer"
FAMILIES = ("classical", "cnn1d", "resnet1d", "transformer", "spectrogram", "pinn")
DURATION_S = 2.0
WINDOW = 20480  # 1 s windows (the quick preset's), hop 0.5 s: 3 windows per 2 s record
HOP = 10240
SEEDS = {"default": 11, "randomised": 12, "heldout": 13}
# Domain randomisation needs more machines than one machine needs records.
RECORDS_FACTOR = {"default": 1, "randomised": 3, "heldout": 1}

# The transfer options (README, "Training"): normalisation inside the model, augmentation of the
# training windows, order features for the classical family.
TRANSFER_OPTIONS: dict[str, Any] = {
    "data.normalisation": "rms",
    "data.augmentation.time_stretch": 0.1,
    "data.augmentation.band_colouring_db": 6.0,
    "data.augmentation.amplitude_scale": [0.5, 2.0],
}
CLASSICAL_TREES = 200  # the standard preset's forest (quick has 50); cheap next to feature extraction
CLASSICAL_OPTIONS: dict[str, Any] = {
    "data.normalisation": "rms",
    "model.params.order_features": True,
}


def _dataset(variant: str, per_class: int) -> Path:
    count = per_class * RECORDS_FACTOR[variant]
    path = DATA_DIR / f"{variant}-{count}.h5"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        cfg = GeneratorConfig(variant=variant, per_class=count, duration_s=DURATION_S, seed=SEEDS[variant])
        generate_dataset(path, cfg, workers=1)
    return path


def _config(family: str, dataset: Path, transfer: bool, epochs: int) -> ExperimentConfig:
    overrides: dict[str, Any] = {
        "data.window": {"length": WINDOW, "hop": HOP},
        "training.epochs": epochs,
        "training.export_onnx": False,
    }
    if family == "classical":
        overrides["model.params.n_estimators"] = CLASSICAL_TREES
    if transfer:
        overrides |= CLASSICAL_OPTIONS if family == "classical" else TRANSFER_OPTIONS
    return ExperimentConfig.model_validate(preset_config("quick", family, str(dataset), overrides))


def _probs(model: Any, split: Any) -> np.ndarray:
    if hasattr(model, "predict_proba"):
        return model.predict_proba(split)
    return predict_windows(model, split, batch_size=128, device="cpu")


def _record_level(model: Any, splits: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """True and predicted class of every record of `splits` (windows averaged per record)."""
    truth, predicted = [], []
    for split in splits:
        if split.n_records == 0:
            continue
        probs = aggregate_records(_probs(model, split), split.record_index, split.n_records)
        truth.append(record_labels(split.labels, split.record_index, split.n_records))
        predicted.append(probs.argmax(axis=1))
    return np.concatenate(truth), np.concatenate(predicted)


def _scores(truth: np.ndarray, predicted: np.ndarray, class_names: tuple[str, ...]) -> dict[str, Any]:
    from sklearn.metrics import confusion_matrix

    recall = {
        name: float(np.mean(predicted[truth == k] == k))
        for k, name in enumerate(class_names)
        if (truth == k).any()
    }
    return {
        "records": int(truth.size),
        "accuracy": float(np.mean(truth == predicted)),
        "min_recall": min(recall.values()),
        "recall": recall,
        "confusion": confusion_matrix(truth, predicted, labels=range(len(class_names))).tolist(),
    }


def run_one(family: str, transfer: bool, per_class: int, epochs: int) -> dict[str, Any]:
    """Train one family (baseline or with the transfer options) and score it on three sources."""
    train_path = _dataset("randomised" if transfer else "default", per_class)
    config = _config(family, train_path, transfer, epochs)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-transfer-") as out:
        result = fit(config, out_dir=out, device="cpu")
    seconds = time.perf_counter() - started
    names = result.spec.class_names
    scores = {"own test split": _scores(*_record_level(result.model, [result.test]), names)}
    for source, splits in (
        ("default test split", ("test",)),
        ("heldout all records", ("train", "val", "test")),
    ):
        variant = "default" if source.startswith("default") else "heldout"
        other = config.model_copy(
            update={"data": config.data.model_copy(update={"dataset": str(_dataset(variant, per_class))})}
        )
        data = load_data(other, splits=splits)
        scores[source] = _scores(*_record_level(result.model, [data[s] for s in splits]), names)
    return {
        "family": family,
        "options": "transfer" if transfer else "baseline",
        "trained_on": train_path.name,
        "config": {
            k: v for k, v in config.model_dump(mode="json").items() if k in ("data", "model", "training")
        },
        "train_seconds": round(seconds, 1),
        "scores": scores,
    }


def _load() -> dict[str, dict]:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def _save(results: dict[str, dict]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    write_section("transfer", "Models that transfer (issue 15)", table(results), COMMAND)


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def table(results: dict[str, dict]) -> str:
    """The BENCHMARKS.md section: one row per family and option set."""
    lines = [
        "Each family's quick preset, trained on 2 s records cut into 1 s windows (hop 0.5 s), CPU only. "
        "**baseline**: trained on the default generator, every transfer option off. **transfer**: trained "
        "on the domain-randomised generator (`generate-data --domain-randomised`, 3x the records) with "
        "`data.normalisation: rms`, augmentation (`time_stretch: 0.1`, `band_colouring_db: 6`, "
        "`amplitude_scale: [0.5, 2]`) for the neural families and `model.params.order_features: true` "
        "for the classical one. Held-out: every record of `generate-data --variant heldout`, a machine "
        "no run trains on. Record accuracy / lowest per-class recall; per-class recalls in "
        "`bench/results/transfer.json`.",
        "",
        "| family | options | trained on | own test | default test | held-out machine | "
        "held-out min recall | weakest held-out class | train s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key in sorted(results, key=lambda k: (FAMILIES.index(results[k]["family"]), results[k]["options"])):
        row = results[key]
        s = row["scores"]
        held = s["heldout all records"]
        weakest = min(held["recall"], key=held["recall"].get)
        lines.append(
            f"| {row['family']} | {row['options']} | {row['trained_on']} "
            f"| {_pct(s['own test split']['accuracy'])} | {_pct(s['default test split']['accuracy'])} "
            f"| {_pct(held['accuracy'])} "
            f"| {_pct(held['min_recall'])} | {weakest} | {row['train_seconds']:.0f} |"
        )
    return "\n".join(lines)


def run(
    families: tuple[str, ...] = FAMILIES,
    per_class: int = 36,
    epochs: int = 6,
    options: tuple[str, ...] = ("baseline", "transfer"),
) -> None:
    results = _load()
    for family in families:
        for option in options:
            row = run_one(family, option == "transfer", per_class, epochs)
            results[f"{family} / {option}"] = row
            held = row["scores"]["heldout all records"]
            print(
                f"{family} {option}: held-out {_pct(held['accuracy'])}, min recall {_pct(held['min_recall'])}"
            )
            _save(results)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--families", nargs="*", default=list(FAMILIES), choices=FAMILIES)
    parser.add_argument(
        "--options", nargs="*", default=["baseline", "transfer"], choices=["baseline", "transfer"]
    )
    parser.add_argument(
        "--per-class", type=int, default=36, help="records per class of default and held-out data"
    )
    parser.add_argument("--epochs", type=int, default=6, help="epochs of the neural families")
    args = parser.parse_args()
    run(tuple(args.families), args.per_class, args.epochs, tuple(args.options))


if __name__ == "__main__":
    main()
