"""`bearing-workbench evaluate ID --dataset NAME`: a stored model evaluated on another dataset, or swept
over noise, gain and speed (``--robustness``), in this process, the evaluation kept in the store.

Prints the record-level accuracy, macro-F1 and per-class table (or each condition of the sweep), or
JSON with ``--json``. Bad input (unknown or unfinished experiment, unknown dataset, classes the model
does not know, a malformed ``--classes-map``) is one line on stderr, exit code 2, and nothing is
stored; a failure once the evaluation has started is stored with it and exits 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any


def _progress_line() -> Any:
    """A progress line on a terminal's stderr (like `train`'s bar): percent and the current stage; None
    when stderr is not a terminal (a log or a pipe gets the result and errors only)."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar = tqdm(total=100, unit="%", bar_format="{l_bar}{bar}| {desc}", leave=False, file=sys.stderr)

    def update(fraction: float, message: str) -> None:
        bar.n = round(100 * min(max(fraction, 0.0), 1.0))
        bar.set_description_str(message, refresh=True)

    update.close = bar.close  # type: ignore[attr-defined]
    return update


def _lines(info: Any) -> list[str]:
    from .analysis import format as fmt

    lines = [
        f"evaluation {info.evaluation_id} of experiment {info.experiment_id}, {info.label}: "
        f"{info.n_records} records, accuracy {info.accuracy_text} (record level), "
        f"macro-F1 {fmt.percent(info.macro_f1)}"
    ]
    if info.classes_map:
        lines.append(f"classes renamed: {info.classes_map_text}")
    if info.conditions:
        width = max(len(c.name) for c in info.conditions)
        lines.append(f"{'condition':<{width}}  accuracy  macro-F1")
        lines += [f"{c.name:<{width}}  {c.texts[0]:>8}  {c.texts[1]:>8}" for c in info.conditions]
    elif info.per_class:
        width = max(len("class"), *(len(row.name) for row in info.per_class))
        lines.append(f"{'class':<{width}}  precision    recall        F1  records")
        for row in info.per_class:
            precision, recall, f1, _ = row.texts
            lines.append(f"{row.name:<{width}}  {precision:>9}  {recall:>8}  {f1:>8}  {row.support:>7}")
    if info.absent_classes:
        lines.append(f"classes of the model without records here: {', '.join(info.absent_classes)}")
    return lines


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .analysis.evaluations import evaluate
    from .store import Store
    from .training.cross_evaluation import EvaluationFailed
    from .training.sources import PredictionInputError
    from .training.stored_model import StoredModelError

    if not args.robustness and not args.dataset:
        print("error: --dataset: name the dataset to evaluate on (or use --robustness)", file=sys.stderr)
        return 2
    if args.robustness and args.classes_map:
        print("error: --classes-map: a robustness sweep uses the model's own classes", file=sys.stderr)
        return 2
    progress = None if args.json else _progress_line()
    try:
        info = evaluate(
            args.id,
            args.dataset,
            classes_map=args.classes_map,
            split=args.split,
            robustness=args.robustness,
            seed=args.seed,
            store=Store(),
            device=args.device,
            progress=progress,
        )
    except PredictionInputError as exc:
        print(f"error: {exc.message('cli')}", file=sys.stderr)
        return 2
    except EvaluationFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"hint: {exc.hint}", file=sys.stderr)
        return 1
    except (StoredModelError, ValueError, LookupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if progress is not None:
            progress.close()
    for warning in info.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(dataclasses.asdict(info), indent=2, default=str))
        return 0
    for line in _lines(info):
        print(line)
    return 0


def add_evaluate_command(sub: Any) -> None:
    """Register `evaluate` on the CLI's subparsers."""
    p = sub.add_parser(
        "evaluate", help="evaluate a stored model on another dataset, or its robustness (kept in the store)"
    )
    p.add_argument("id", type=int, metavar="ID", help="a completed experiment")
    p.add_argument(
        "--dataset",
        help="a registered dataset name, a dataset file, the folder generate-data wrote, or a labelled "
        "signal file (with --robustness: default the run's own dataset)",
    )
    p.add_argument(
        "--classes-map",
        metavar="A=B,...",
        help="rename the dataset's classes to the model's: its class A is the model's B",
    )
    p.add_argument(
        "--split",
        help="a stored split of the dataset (train, val, test); default every record "
        "(with --robustness on the run's own dataset: its test split)",
    )
    p.add_argument(
        "--robustness",
        action="store_true",
        help="accuracy under noise (SNR 20/10/5 dB), gain (x0.5, x2) and speed (-/+10 %%) instead",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the robustness sweep's noise (default 0)")
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: CUDA when available)")
    p.add_argument("--json", action="store_true", help="machine-readable output, no progress line")
    p.set_defaults(func=cmd_evaluate)
