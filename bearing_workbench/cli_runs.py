"""`bearing-workbench submit | status | control | logs`: experiments on the Dask cluster, from a shell.

`submit` returns at once, so the run must live on a cluster that outlives this command: a scheduler
given by ``--scheduler`` or ``$BEARING_WORKBENCH_SCHEDULER`` (`bearing-workbench serve` starts one,
or ``dask scheduler`` + ``dask worker``). ``--wait`` follows the run to its end instead, and then a
local cluster started for the command is enough. `status` and `logs` read only the store and the
experiment folder; `control` needs the scheduler the run was submitted to.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import threading
import time
from typing import Any

# How long `control ID retry` waits for the run's previous task to end (as the monitor's Retry does).
RETRY_WAIT_S = 30.0
# Exit codes of `submit --wait`, by how the run ended.
EXIT_BY_STATUS = {"completed": 0, "failed": 1, "stopped": 3}
NO_SCHEDULER = (
    "no Dask scheduler configured: set --scheduler or $BEARING_WORKBENCH_SCHEDULER "
    "(`bearing-workbench serve` starts one; so does `dask scheduler` + `dask worker`)"
)


def _scheduler(args: argparse.Namespace) -> str | None:
    from .config.settings import settings

    return (args.scheduler or settings().scheduler).strip() or None


def _validated(args: argparse.Namespace, store: Any) -> Any:
    """The boundary for `submit`: the config from --config FILE or --model/--preset/--dataset, with the
    --set overrides, validated once (its dataset looked up once); raises `ConfigError` or `ValueError`."""
    from pathlib import Path

    from .cli import _parse_overrides
    from .config import set_dotted
    from .config.yaml_io import read_yaml
    from .models import validation
    from .models.preset_fit import validate_preset
    from .store.config_files import presets_dir

    overrides = _parse_overrides(args.set or [])
    if args.name:
        overrides["name"] = args.name
    if args.config:
        data, _ = read_yaml(Path(args.config), name=f"--config {args.config}")
        if not isinstance(data, dict):
            raise ValueError(f"--config {args.config}: expected a mapping of config sections (data, model)")
        for key, value in overrides.items():
            set_dotted(data, key, value)
        return validation.validate_experiment(data, store)
    missing = [flag for flag, value in (("--model", args.model), ("--dataset", args.dataset)) if not value]
    if missing:
        raise ValueError(f"{' and '.join(missing)} required (or give a whole config with --config FILE)")
    return validate_preset(args.preset, args.model, args.dataset, overrides, store, presets_dir())


def _epoch_line(message: dict[str, Any]) -> str:
    parts = [f"epoch {message['epoch']}/{message['total_epochs']}"]
    for key, label in (("train_loss", "loss"), ("val_loss", "val loss"), ("val_acc", "val acc")):
        if message.get(key) is not None:
            parts.append(f"{label} {message[key]:.4f}")
    if message.get("eta_s") is not None:
        parts.append(f"ETA {message['eta_s']:.0f} s")
    return ", ".join(parts)


def _wait(experiment_id: int, client: Any, store: Any, quiet: bool) -> str:
    """Follow the run until it ends, printing epochs and events; returns its final status."""
    from .runner import follow
    from .store import is_terminal

    ended = threading.Event()

    def on_event(message: dict[str, Any]) -> None:
        if not quiet and message["kind"] == "epoch":
            print(f"experiment {experiment_id}: {_epoch_line(message)}", flush=True)
        elif not quiet and message["kind"] == "event" and message.get("event_kind") != "status":
            print(f"experiment {experiment_id}: {message['message']}", flush=True)
        if is_terminal(message["status"]):
            ended.set()

    with follow(experiment_id, on_event, client=client, store=store):
        while not ended.wait(1.0):
            if is_terminal(store.get_experiment(experiment_id).status):  # belt and braces
                break
    return store.get_experiment(experiment_id).status.value


def cmd_submit(args: argparse.Namespace) -> int:
    from .cli import print_config_error, print_notes
    from .config import ConfigError
    from .runner import connect, submit
    from .store import Store

    address = _scheduler(args)
    if address is None and not args.wait:
        print(
            f"error: {NO_SCHEDULER}; or add --wait to run on a local cluster until the run ends",
            file=sys.stderr,
        )
        return 2
    store = Store()
    try:
        checked = _validated(args, store)  # before any cluster is reached: a bad config costs nothing
    except ConfigError as exc:
        print_config_error(exc)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_notes(checked.notes)
    try:
        client = connect(address)
        experiment_id = submit(checked, client=client, store=store, priority=args.priority)
    except (ValueError, LookupError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    where = address or "a local cluster"
    if not args.wait:
        if args.json:
            print(json.dumps({"experiment_id": experiment_id, "status": "pending", "scheduler": address}))
        else:
            print(
                f"experiment {experiment_id} submitted to {where}; "
                f"`bearing-workbench status {experiment_id}` shows its progress"
            )
        return 0
    if not args.json:
        print(f"experiment {experiment_id} submitted to {where}; following it until it ends", flush=True)
    status = _wait(experiment_id, client, store, quiet=args.json)
    record = store.get_experiment(experiment_id)
    if args.json:
        print(json.dumps(_summary(record, store), indent=2))
    else:
        print(_status_text(record, store))
    return EXIT_BY_STATUS.get(status, 1)


def _summary(record: Any, store: Any) -> dict[str, Any]:
    """What `status --json` prints for one experiment."""
    from .store.artifacts import ExperimentFolder

    epochs = store.epochs(record.id)
    total = (record.config.get("training") or {}).get("epochs")
    # The best epoch is the one kept as the best model (training.monitor), as the monitor and results say.
    from .analysis.history import history_rows
    from .analysis.run_info import best_epoch, monitor_of

    rows = history_rows(epochs)
    chosen = best_epoch(rows, monitor_of(record.config))
    best = (chosen, next((r["val_acc"] for r in rows if r["epoch"] == chosen), None))
    metrics = record.metrics or {}
    return {
        "experiment_id": record.id,
        "name": record.name,
        "family": record.family,
        "status": record.status.value,
        "epoch": epochs[-1].epoch if epochs else None,
        "total_epochs": total if record.family not in ("classical", "ensemble") else None,
        "best_val_acc": best[1],
        "best_epoch": best[0],
        "accuracy": metrics.get("accuracy"),
        "macro_f1": metrics.get("macro_f1"),
        "error": record.error,
        "hint": record.hint,
        "created_at": record.created_at.isoformat(),
        "started_at": record.started_at.isoformat() if record.started_at else None,
        "finished_at": record.finished_at.isoformat() if record.finished_at else None,
        "duration_s": record.duration_s,
        "worker": record.worker,
        "attempt": record.attempt,
        "last_heartbeat": record.heartbeat_at.isoformat() if record.heartbeat_at else None,
        "attempts": _attempts(store, record.id),
        "folder": str(ExperimentFolder.of(record.id, store.workspace).path),
    }


# Events that say where the run went: a worker lost and replaced (retry), a resubmission, a loss.
ATTEMPT_EVENTS = ("retry", "resubmitted", "lost")


def _attempts(store: Any, experiment_id: int) -> list[dict[str, Any]]:
    """Each retry, resubmission and loss of the run, oldest first, with the worker it names."""
    return [
        {
            "at": e.created_at.isoformat(),
            "kind": e.kind,
            "attempt": (e.payload or {}).get("attempt"),
            "worker": (e.payload or {}).get("worker"),
            "message": e.message,
        }
        for e in store.events(experiment_id)
        if e.kind in ATTEMPT_EVENTS
    ]


def _status_text(record: Any, store: Any) -> str:
    s = _summary(record, store)
    lines = [f"experiment {s['experiment_id']} {s['name']!r} ({s['family']}): {s['status']}"]
    if s["epoch"] is not None:
        of = f"/{s['total_epochs']}" if s["total_epochs"] else ""
        acc = "" if s["best_val_acc"] is None else f", val acc {s['best_val_acc']:.4f}"
        best = f", best epoch {s['best_epoch']}{acc}" if s["best_epoch"] else ""
        lines.append(f"  epoch {s['epoch']}{of}{best}")
    if s["accuracy"] is not None:
        lines.append(f"  test accuracy {s['accuracy']:.4f}, macro-F1 {s['macro_f1']:.4f}")
    if s["duration_s"] is not None:
        lines.append(f"  ran {s['duration_s']:.1f} s")
    if s["worker"]:
        now = "on" if s["status"] in ("running", "paused") else "last ran on"
        lines.append(f"  {now} {s['worker']} (attempt {s['attempt']})")
    for attempt in s["attempts"]:
        lines.append(f"  {attempt['at'][:19].replace('T', ' ')} UTC  {attempt['message']}")
    if s["error"]:
        lines.append(f"  error: {s['error']}")
    if s["hint"]:
        lines.append(f"  hint: {s['hint']}")
    lines.append(f"  folder: {s['folder']}")
    return "\n".join(lines)


def cmd_status(args: argparse.Namespace) -> int:
    from .store import NotFoundError, Store

    store = Store()
    store.mark_lost()  # a run whose heartbeats stopped is shown lost, not running
    if args.ids:
        try:
            records = [store.get_experiment(i) for i in args.ids]
        except NotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if args.json:
            print(json.dumps([_summary(r, store) for r in records], indent=2))
        else:
            print("\n".join(_status_text(r, store) for r in records))
        return 0
    records = store.list_experiments(limit=args.limit)
    if args.json:
        print(json.dumps([_summary(r, store) for r in records], indent=2))
        return 0
    if not records:
        print("no experiments yet: `bearing-workbench submit --model classical --dataset demo --wait`")
        return 0
    print(f"{'id':>5}  {'status':<10} {'family':<12} {'accuracy':>8}  name")
    for r in records:
        acc = (r.metrics or {}).get("accuracy")
        shown = "" if acc is None else f"{acc:.4f}"
        print(f"{r.id:>5}  {r.status.value:<10} {r.family:<12} {shown:>8}  {r.name}")
    return 0


def cmd_control(args: argparse.Namespace) -> int:
    from .runner import cancel, connect, pause, resubmit, resume, stop
    from .store import InvalidTransition, NotFoundError, Store

    address = _scheduler(args)
    if address is None:
        print(f"error: control needs the scheduler the run was submitted to. {NO_SCHEDULER}", file=sys.stderr)
        return 2
    # A retry waits for the run's previous task to end: one that finds its run already ended (stopped,
    # or lost and its stale task given to a new worker) returns in a moment.
    retry = functools.partial(resubmit, wait_s=RETRY_WAIT_S)
    action = {"pause": pause, "resume": resume, "stop": stop, "cancel": cancel, "retry": retry}[args.action]
    store = Store()
    try:
        store.get_experiment(args.id)
        action(args.id, client=connect(address), store=store)
    except (NotFoundError, InvalidTransition) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot reach the scheduler at {address}: {exc}", file=sys.stderr)
        return 2
    record = store.get_experiment(args.id)
    if args.action in ("stop", "cancel") and record.status.value == "stopped":
        print(f"experiment {args.id}: stopped")  # ended at once (cancelled, or nobody ran it any more)
    else:
        print(f"experiment {args.id}: {args.action} requested")
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    from .runner.logs import tail_log
    from .store import NotFoundError, Store, is_terminal
    from .store.artifacts import ExperimentFolder

    store = Store()
    try:
        store.get_experiment(args.id)
    except NotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    path = ExperimentFolder.of(args.id, store.workspace).log
    lines, offset = tail_log(path, n_lines=args.lines)
    for line in lines:
        print(line)
    while args.follow:
        ended = is_terminal(store.get_experiment(args.id).status)
        lines, offset = tail_log(path, n_lines=10_000, offset=offset)
        for line in lines:
            print(line, flush=True)
        if ended:  # read once more after the end was seen, so the last lines are not lost
            break
        time.sleep(0.5)
    if not path.exists() and not args.follow:
        print(f"(no log yet: {path})", file=sys.stderr)
    return 0


def add_run_commands(sub: Any) -> None:
    """Register submit, status, control and logs on the CLI's subparsers."""
    from .cli import preset_help

    scheduler_help = "Dask scheduler address (default $BEARING_WORKBENCH_SCHEDULER)"

    p = sub.add_parser("submit", help="launch an experiment on the Dask cluster (returns at once)")
    p.add_argument("--model", help="model family (classical, cnn1d, resnet1d, transformer, ...)")
    p.add_argument("--preset", default="quick", help=preset_help())
    p.add_argument("--dataset", help="dataset name in the workspace, or a dataset file path")
    p.add_argument("--config", help="a whole experiment config (YAML) instead of --model/--preset/--dataset")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config value")
    p.add_argument("--name", help="experiment name")
    p.add_argument("--priority", default="normal", choices=["high", "normal", "low"], help="Dask priority")
    p.add_argument("--scheduler", help=scheduler_help)
    p.add_argument(
        "--wait",
        action="store_true",
        help="follow the run until it ends (exit 0 completed, "
        "1 failed, 3 stopped); without a scheduler, on a local cluster",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_submit)

    p = sub.add_parser("status", help="status of experiments (latest ones, or those given)")
    p.add_argument("ids", nargs="*", type=int, metavar="ID")
    p.add_argument("--limit", type=int, default=20, help="how many of the latest to list (default 20)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("control", help="pause, resume, stop, cancel or retry a run")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("action", choices=["pause", "resume", "stop", "cancel", "retry"])
    p.add_argument("--scheduler", help=scheduler_help)
    p.set_defaults(func=cmd_control)

    p = sub.add_parser("logs", help="the training log of an experiment")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("-n", "--lines", type=int, default=200, help="last lines to show (default 200)")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing until the run ends")
    p.set_defaults(func=cmd_logs)
