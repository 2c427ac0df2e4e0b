"""`bearing-workbench predict ID SOURCE`: a stored model's classes for new records, in this process.

Prints a table (record, predicted class, its probability, true label when the source has labels,
then the accuracy), or JSON with ``--json``; ``--out F.csv`` writes the table in the columns of the
stored predictions CSV, atomically (a refused or failed prediction leaves no file). Bad input
(unknown experiment, unfinished run, records too short or not finite, more than one channel,
labels the model does not know) is one line on stderr and exit code 2; the store is only read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

_ROWS_SHOWN = 50  # the table shows this many records; --out or --json give them all


def _out_paths(out: str | None, windows: bool) -> tuple[Path | None, Path | None]:
    if out is None:
        return None, None
    path = Path(out)
    if path.suffix.lower() != ".csv":
        raise ValueError(f"--out {out}: use a .csv file name")
    if path.is_dir():
        raise ValueError(f"--out {out}: is a folder; give a .csv file name")
    return path, (path.with_name(f"{path.stem}.windows.csv") if windows else None)


def _cli_message(exc: BaseException) -> str:
    """The error's one line with its option written as a flag (``--fs``) where the error knows it
    (`PredictionInputError` and the loaders' errors render themselves per style)."""
    render = getattr(exc, "message", None)
    return render("cli") if callable(render) else str(exc)


def _table(result: Any) -> list[str]:
    labelled = result.true_labels is not None
    width = max([len("record"), *(len(r) for r in result.record_ids[:_ROWS_SHOWN])])
    cls_width = max([len("predicted"), *(len(c) for c in result.class_names)])
    header = f"{'record':<{width}}  {'predicted':<{cls_width}}  probability"
    lines = [header + ("  true label" if labelled else "")]
    confidence = result.confidence
    for i, record_id in enumerate(result.record_ids[:_ROWS_SHOWN]):
        line = f"{record_id:<{width}}  {result.predicted[i]:<{cls_width}}  {confidence[i]:>11.3f}"
        if labelled:
            mark = "" if result.true_labels[i] == result.predicted[i] else "  (wrong)"
            line += f"  {result.true_labels[i]}{mark}"
        lines.append(line)
    if result.n_records > _ROWS_SHOWN:
        lines.append(f"... {result.n_records - _ROWS_SHOWN} more records (--out F.csv or --json for all)")
    return lines


def _summary(result: Any) -> str:
    line = f"experiment {result.experiment_id} on {result.source}: {result.n_records} records"
    if result.accuracy is not None:
        right = sum(p == t for p, t in zip(result.predicted, result.true_labels, strict=True))
        line += f", accuracy {result.accuracy:.1%} ({right}/{result.n_records} right)"
    return line


def cmd_predict(args: argparse.Namespace) -> int:
    from .config.atomic_files import atomic_path
    from .store import Store
    from .training.prediction import predict
    from .training.sources import PredictionInputError
    from .training.stored_model import StoredModelError

    try:
        out, windows_out = _out_paths(args.out, args.windows)
        store = Store()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        result = predict(
            args.id,
            args.source,
            fs=args.fs,
            labels=args.labels,
            split=args.split,
            windows=args.windows,
            store=store,
            device=args.device,
        )
    except (PredictionInputError, StoredModelError, ValueError, LookupError) as exc:
        print(f"error: {_cli_message(exc)}", file=sys.stderr)
        return 2
    finally:
        store.dispose()
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if out is not None:
        with atomic_path(out) as tmp:
            result.frame().to_csv(tmp, index=False, float_format="%.9g")
        if windows_out is not None and result.windows is not None:
            with atomic_path(windows_out) as tmp:
                result.windows.to_csv(tmp, index=False, float_format="%.9g")
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    for line in _table(result):
        print(line)
    print(_summary(result))
    if out is not None:
        print(f"wrote {out}" + (f" and {windows_out}" if windows_out and result.windows is not None else ""))
    return 0


def add_predict_command(sub: Any) -> None:
    """Register `predict` on the CLI's subparsers."""
    p = sub.add_parser("predict", help="classify new records with a stored experiment's model")
    p.add_argument("id", type=int, metavar="ID", help="a completed experiment")
    p.add_argument(
        "source",
        metavar="SOURCE",
        help="a registered dataset name, a dataset file, the folder generate-data wrote, "
        "or a signal file (.csv .h5 .mat .npy .npz; labels optional)",
    )
    p.add_argument("--out", metavar="F.csv", help="also write the predictions to this .csv file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--fs", type=float, metavar="HZ", help="sampling rate in Hz when the file does not say")
    p.add_argument(
        "--labels", metavar="FILE", help="labels file (one class name per line) for a file without labels"
    )
    p.add_argument(
        "--split", metavar="NAME", help="a stored split of a dataset (train, val, test); default every record"
    )
    p.add_argument(
        "--windows", action="store_true", help="per-window probabilities too (in --json, and F.windows.csv)"
    )
    p.add_argument("--device", metavar="DEVICE", help="cpu, cuda, cuda:1 ... (default: CUDA when available)")
    p.set_defaults(func=cmd_predict)
