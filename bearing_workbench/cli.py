"""`bearing-workbench` command line: data generation, dataset summary, features, serving."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DEMO_DATASET_NAME = "demo"


def _progress_bar(total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="rec", disable=not sys.stderr.isatty() and "CI" in os.environ)


def cmd_generate_data(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from .cli_data import name_taken, register_written
    from .data.generator import GeneratorConfig, generate_dataset

    overrides = {"per_class": args.per_class, "seed": args.seed, "duration_s": args.duration, "fs": args.fs}
    if args.domain_randomised:
        if args.variant not in (None, "randomised"):
            print(f"error: --domain-randomised contradicts --variant {args.variant}", file=sys.stderr)
            return 2
        args.variant = "randomised"
    overrides["variant"] = args.variant
    try:
        cfg = GeneratorConfig(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "config"
            print(f"error: {field}: {err['msg'].removeprefix('Value error, ')}", file=sys.stderr)
        return 2
    out = Path(args.out)
    path = out / f"{args.name}.h5" if out.suffix not in (".h5", ".hdf5") else out
    if path.exists() and not args.overwrite:
        print(f"error: {path} already exists (use --overwrite to replace it)", file=sys.stderr)
        return 2
    if args.register and (taken := name_taken(args.name)):
        print(f"error: {taken}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    with _progress_bar(cfg.n_records, "generating") as bar:
        generate_dataset(path, cfg, workers=args.workers, overwrite=args.overwrite, progress=bar.update)
    took = time.perf_counter() - start
    print(
        f"wrote {path} ({cfg.n_records} records x {cfg.n_samples} samples, {len(cfg.classes)} classes) "
        f"in {took:.1f} s"
    )
    if args.register:
        dataset_id = register_written(path, args.name)
        if dataset_id is None:
            return 2
        print(f"registered as dataset {args.name!r} (id {dataset_id}) in the workspace store")
    return 0


def _parse_overrides(items: Sequence[str]) -> dict[str, object]:
    """`key=value` pairs; values are read as YAML scalars/lists (5 -> int, 1e-3 -> float, [3, 5] -> list)."""
    import yaml

    out: dict[str, object] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set {item!r}: expected key=value, e.g. training.epochs=5")
        try:
            out[key.strip()] = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise ValueError(f"--set {item!r}: cannot read the value ({exc.problem})") from None
        except RecursionError:
            raise ValueError(f"--set {key.strip()}: the value is nested too deeply") from None
    return out


def print_config_error(exc: Any) -> None:
    """A refused config on stderr: one line for one problem, else a header and a line per problem."""
    where = getattr(exc, "source", None)
    if len(exc.errors) == 1:
        err = exc.errors[0]
        field = " ".join(part for part in (where, err.field) if part) or "config"
        print(f"error: {field}: {err.message}", file=sys.stderr)
        return
    print(f"error: the experiment config{f' in {where}' if where else ''} is not valid:", file=sys.stderr)
    for err in exc.errors:
        print(f"  {err.field or 'config'}: {err.message}", file=sys.stderr)


def print_notes(notes: Sequence[str]) -> None:
    """What a preset fitted to the dataset, one line each (stderr: `--json` output stays parseable)."""
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


def preset_help() -> str:
    """The presets `--preset` accepts, for the help text."""
    from .config import BUILTIN_PRESETS

    names = ", ".join(BUILTIN_PRESETS)
    return f"{names}, or the name of a user preset saved in the workspace (default quick)"


def cmd_train(args: argparse.Namespace) -> int:
    from .config import ConfigError
    from .models.preset_fit import validate_preset
    from .store import Store
    from .store.config_files import presets_dir
    from .training.callbacks import ProgressBar
    from .training.errors import TrainingError
    from .training.experiment import create_experiment, train_experiment

    try:
        overrides = _parse_overrides(args.set or [])
        if args.name:
            overrides["name"] = args.name
        store = Store()
        # The boundary: validated once here, the dataset looked up once; nothing stored when refused.
        checked = validate_preset(args.preset, args.model, args.dataset, overrides, store, presets_dir())
        experiment_id = create_experiment(store, checked)
    except ConfigError as exc:
        print_config_error(exc)
        return 2
    except (ValueError, LookupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_notes(checked.notes)
    if not args.json:
        print(f"experiment {experiment_id}: training {args.model} ({args.preset} preset) on {args.dataset}")
    callbacks = [] if args.json else [ProgressBar()]
    try:
        outcome = train_experiment(store, experiment_id, callbacks=callbacks, device=args.device)
    except TrainingError as exc:
        print(f"error: experiment {experiment_id} failed: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return 1
    summary = {
        "experiment_id": experiment_id,
        "status": outcome.status,
        "folder": str(outcome.out_dir),
        **{
            k: outcome.metrics.get(k)
            for k in ("accuracy", "macro_f1", "val_accuracy", "best_epoch", "epochs_run", "train_seconds")
        },
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"experiment {experiment_id} {outcome.status}: test accuracy {summary['accuracy']:.4f}, "
            f"macro-F1 {summary['macro_f1']:.4f} ({summary['train_seconds']:.1f} s); "
            f"artifacts in {outcome.out_dir}"
        )
    return 0


def ensure_demo_dataset(per_class: int | None = None) -> tuple[Path, bool]:
    """Make sure the workspace has the demo dataset (generated and registered); returns (path, created)."""
    from .data.generator import GeneratorConfig, generate_dataset
    from .data.registration import register_dataset
    from .store import NotFoundError, Store, workspace

    store = Store()
    path = workspace.datasets_dir() / f"{DEMO_DATASET_NAME}.h5"
    created = False
    if not path.exists():
        cfg = GeneratorConfig() if per_class is None else GeneratorConfig(per_class=per_class)
        with _progress_bar(cfg.n_records, "generating demo dataset") as bar:
            generate_dataset(path, cfg, progress=bar.update)
        created = True
    try:
        store.get_dataset(DEMO_DATASET_NAME)
    except NotFoundError:
        register_dataset(store, path, name=DEMO_DATASET_NAME)
    return path, created


def cmd_serve(args: argparse.Namespace) -> int:
    from .serve import ServeSettings, default_apps_dir, serve
    from .store import Store, workspace

    try:
        settings = ServeSettings(
            apps_dir=Path(args.apps) if args.apps else default_apps_dir(),
            port=args.port,
            token=args.token or "",
            cull_idle_timeout_s=args.cull_idle_timeout,
            cull_interval_s=args.cull_interval,
            n_workers=args.workers,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    root = workspace.workspace_root()
    print(f"workspace: {root}")
    print(f"store:     {workspace.database_url()}")
    if not args.no_demo:
        path, created = ensure_demo_dataset(args.demo_per_class)
        print(("generated" if created else "found") + f" demo dataset: {path}")
    datasets = Store().list_datasets()
    print(f"{len(datasets)} dataset(s) registered: " + ", ".join(d.name for d in datasets))
    if args.prepare_only:
        return 0
    return serve(settings, out=lambda line: print(line, flush=True))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bearing-workbench",
        description="Vibration-based fault diagnosis of journal bearings: data, experiments, apps.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("generate-data", help="generate a physics-based dataset (HDF5)")
    p.add_argument("--out", required=True, help="output folder (or a .h5 file path)")
    p.add_argument("--name", default="dataset", help="file name inside --out (default: dataset)")
    p.add_argument("--per-class", type=int, help="records per class (default 130)")
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument("--duration", type=float, help="record length in seconds (default 5)")
    p.add_argument("--fs", type=float, help="sampling rate in Hz (default 20480)")
    p.add_argument("--workers", type=int, help="worker processes (default: cores)")
    p.add_argument(
        "--variant",
        choices=("default", "randomised", "heldout"),
        help="machine(s) imitated: default; randomised (every record its own machine, for training); "
        "heldout (a different machine, for transfer tests only)",
    )
    p.add_argument("--domain-randomised", action="store_true", help="same as --variant randomised")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file")
    p.add_argument("--register", action="store_true", help="register the dataset in the workspace store")
    p.set_defaults(func=cmd_generate_data)

    from .cli_data import add_data_commands

    add_data_commands(sub)  # info, features, import-data: datasets by name, file or folder

    p = sub.add_parser("train", help="train one experiment in this process and store it")
    p.add_argument("--model", required=True, help="model family (cnn1d, resnet1d, transformer, ...)")
    p.add_argument("--preset", default="quick", help=preset_help())
    p.add_argument("--dataset", required=True, help="dataset name in the workspace, or a dataset file path")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a config value, e.g. training.epochs=5 or model.params.dropout=0.2",
    )
    p.add_argument("--name", help="experiment name (default: family and time)")
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: CUDA when available)")
    p.add_argument("--json", action="store_true", help="print the result as JSON, no progress bar")
    p.set_defaults(func=cmd_train)

    from .cli_runs import add_run_commands

    add_run_commands(sub)  # submit, status, control, logs: runs on the Dask cluster

    from .cli_predict import add_predict_command

    add_predict_command(sub)  # predict: a stored model on new records

    from .cli_evaluate import add_evaluate_command

    add_evaluate_command(sub)  # evaluate: a stored model on another dataset, or its robustness

    p = sub.add_parser(
        "serve", help="serve the Voila apps on 127.0.0.1 with a token, on one local Dask cluster"
    )
    p.add_argument("--port", type=int, default=8866, help="port on 127.0.0.1 (default 8866)")
    p.add_argument("--token", help="access token (default $BEARING_WORKBENCH_TOKEN, else a random one)")
    p.add_argument("--workers", type=int, help="Dask worker processes (default one per core or GPU)")
    p.add_argument(
        "--cull-idle-timeout", type=int, default=600, help="free a closed page's kernel after N s (600)"
    )
    p.add_argument("--cull-interval", type=int, default=60, help="look for idle kernels every N s (60)")
    p.add_argument("--apps", help="folder of the Voila apps (default: the dashboards/ folder)")
    p.add_argument("--demo-per-class", type=int, help="records per class of the demo dataset (default 130)")
    p.add_argument("--no-demo", action="store_true", help="do not generate the demo dataset")
    p.add_argument("--prepare-only", action="store_true", help="prepare the workspace, do not serve")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from .config.settings import SettingsError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SettingsError as exc:  # a BEARING_WORKBENCH_* variable the workbench cannot use
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
