"""`bearing-workbench info | features | import-data`: datasets named as the user knows them.

Each takes a dataset as a registered name, a dataset file, or the folder `generate-data --out`
wrote; `import-data` checks everything (options, the file, the name to register) before it writes,
and its errors name the flags the user typed (`--labels-key`, not `labels_key=`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def name_taken(name: str) -> str | None:
    """Why `--name` cannot be registered (a dataset of that name exists), or None; checked before writing."""
    from .data.registration import name_in_use
    from .store import Store

    with Store() as store:
        problem = name_in_use(store, name)
    return None if problem is None else f"--name {name}: {problem}; choose another --name"


def register_written(path: Path, name: str) -> int | None:
    """Register the file just written; if the name was taken meanwhile, say so, remove the file: None."""
    from .data.registration import register_dataset
    from .store import DuplicateNameError, Store

    with Store() as store:
        try:
            return register_dataset(store, path, name=name)
        except DuplicateNameError:
            path.unlink(missing_ok=True)
            print(f"error: {name_taken(name)} ({path} was not kept)", file=sys.stderr)
            return None


def find_dataset(dataset: str) -> Path:
    """The file of a registered name, a dataset file or the folder generate-data wrote.

    A path that exists, or that names a folder or a dataset file, is taken as a path (no store is
    opened for it, none is created); anything else is looked up by name in the workspace store.
    Raises `DatasetNotFound` saying what was expected.
    """
    from .data.lookup import DATASET_SUFFIXES, resolve_dataset_path

    path = Path(dataset).expanduser()
    if path.exists() or "/" in dataset or path.suffix.lower() in DATASET_SUFFIXES:
        return resolve_dataset_path(dataset)
    from .store import Store

    with Store() as store:
        return resolve_dataset_path(dataset, store)


def _describe_column(values) -> str:
    import numpy as np

    if values.dtype == object or values.dtype.kind in "USO":
        uniq, counts = np.unique(values.astype(str), return_counts=True)
        return ", ".join(f"{u} {c}" for u, c in zip(uniq, counts, strict=True))
    return f"{np.min(values):.4g} .. {np.max(values):.4g} (median {np.median(values):.4g})"


def cmd_info(args: argparse.Namespace) -> int:
    from .data.dataset_file import Dataset, DatasetFileError, read_info
    from .data.lookup import DatasetNotFound

    try:
        path = find_dataset(args.dataset)
        info = read_info(path)
        with Dataset(path) as ds:
            metadata = ds.metadata()
    except DatasetNotFound as exc:
        print(f"error: {exc.problem}", file=sys.stderr)
        return 2
    except DatasetFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        out = {
            "path": str(info.path),
            "size_bytes": info.size_bytes,
            "fs": info.fs,
            "n_records": info.n_records,
            "n_samples": info.n_samples,
            "duration_s": info.duration_s,
            "class_counts": info.class_counts,
            "split_sizes": info.split_sizes,
            "source": info.source,
            "generator_version": info.generator_version,
            "seed": info.seed,
            "metadata_columns": list(info.metadata_columns),
        }
        print(json.dumps(out, indent=2))
        return 0
    print(
        f"{info.path}  ({info.size_bytes / 1e6:.1f} MB, {info.source}"
        + (f", generator {info.generator_version}, seed {info.seed}" if info.source == "generated" else "")
        + ")"
    )
    print(f"  {info.n_records} records x {info.n_samples} samples at {info.fs:g} Hz ({info.duration_s:g} s)")
    print(f"  {len(info.class_names)} classes:")
    for name, count in info.class_counts.items():
        print(f"    {name:<26} {count}")
    if info.split_sizes:
        print("  split (by record): " + ", ".join(f"{k} {v}" for k, v in info.split_sizes.items()))
    if metadata:
        print("  metadata:")
        for name, values in metadata.items():
            print(f"    {name:<18} {_describe_column(values)}")
    return 0


def cmd_features(args: argparse.Namespace) -> int:
    import numpy as np

    from .cli import _progress_bar
    from .config.atomic_files import atomic_path
    from .data.dataset_file import Dataset, DatasetFileError
    from .data.lookup import DatasetNotFound
    from .features import FEATURE_NAMES, compute_features

    out = Path(args.out)
    if out.suffix not in (".csv", ".npz"):
        print(f"error: --out {out}: use a .csv or .npz file name", file=sys.stderr)
        return 2
    try:
        ds = Dataset(find_dataset(args.dataset))
    except DatasetNotFound as exc:
        print(f"error: {exc.problem}", file=sys.stderr)
        return 2
    except DatasetFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with ds:
        meta = ds.metadata()
        speed = meta.get("speed_hz")
        feats = np.empty((ds.n_records, len(FEATURE_NAMES)), dtype=np.float32)
        block = 64
        with _progress_bar(ds.n_records, "features") as bar:
            for start in range(0, ds.n_records, block):
                stop = min(start + block, ds.n_records)
                shaft = None if speed is None else speed[start:stop]
                try:
                    signals = ds.signals(slice(start, stop))
                    feats[start:stop] = compute_features(signals, ds.fs, shaft_hz=shaft)
                except ValueError as exc:  # records the features cannot use (too short, say)
                    print(f"error: {ds.path.name}: {exc}", file=sys.stderr)
                    return 2
                bar.update(stop - start)
        labels = np.array([ds.class_names[i] for i in ds.labels])
        record_ids = ds.record_ids.astype(str)
    with atomic_path(out) as tmp:
        if out.suffix == ".npz":
            with open(tmp, "wb") as fh:
                np.savez(
                    fh,
                    features=feats,
                    feature_names=np.array(FEATURE_NAMES),
                    labels=labels,
                    record_ids=record_ids,
                )
        else:
            import pandas as pd

            frame = pd.DataFrame(feats, columns=list(FEATURE_NAMES))
            frame.insert(0, "label", labels)
            frame.insert(0, "record_id", record_ids)
            frame.to_csv(tmp, index=False, float_format="%.6g")
    print(f"wrote {out} ({feats.shape[0]} records x {feats.shape[1]} features)")
    return 0


def cmd_import_data(args: argparse.Namespace) -> int:
    from .data.loaders import DataFileError, OptionError, check_split, import_file, message_for
    from .store import workspace

    dest = Path(args.out) if args.out else workspace.datasets_dir()
    if dest.is_dir() or dest.suffix.lower() not in (".h5", ".hdf5"):  # a folder, as generate-data --out
        dest = dest / f"{args.name}.h5"
    options = {"fs": args.fs, "labels": args.labels}
    options |= {"signals_key": args.signals_key, "labels_key": args.labels_key, "fs_key": args.fs_key}
    try:
        fractions = check_split(_split_fractions(args.split), args.seed)
    except OptionError as exc:
        print(f"error: {message_for(exc, 'cli')}", file=sys.stderr)
        return 2
    if args.register and (taken := name_taken(args.name)):  # before anything is written
        print(f"error: {taken}", file=sys.stderr)
        return 2
    try:
        path = import_file(
            args.file,
            dest,
            split_fractions=fractions,
            split_seed=args.seed,
            overwrite=args.overwrite,
            allow_new_classes=args.allow_new_classes,
            **{k: v for k, v in options.items() if v is not None},
        )
    except (DataFileError, OptionError) as exc:
        print(f"error: {message_for(exc, 'cli')}", file=sys.stderr)
        return 2
    print(f"imported {args.file} -> {path}")
    if args.register:
        dataset_id = register_written(path, args.name)
        if dataset_id is None:
            return 2
        print(f"registered as dataset {args.name!r} (id {dataset_id})")
    return 0


def _split_fractions(text: str) -> list[float]:
    """`--split 0.7,0.15,0.15` as numbers (their sum and range are checked by `check_split`)."""
    from .data.loaders import OptionError

    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise OptionError(
            "split_fractions", f"{text!r}: expected three numbers train,val,test, e.g. 0.7,0.15,0.15"
        ) from None


def add_data_commands(sub: argparse._SubParsersAction) -> None:
    """The info, features and import-data subcommands."""
    dataset_help = "a registered dataset name, a dataset file, or the folder generate-data --out wrote"
    p = sub.add_parser("info", help="summarise a dataset")
    p.add_argument("dataset", help=dataset_help)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("features", help="compute the 36 hand-crafted features of a dataset")
    p.add_argument("dataset", help=dataset_help)
    p.add_argument("--out", required=True, help="output .csv or .npz file")
    p.set_defaults(func=cmd_features)

    p = sub.add_parser(
        "import-data",
        help="import user signals (.h5 .mat .csv .npy .npz) as a dataset",
        description="Layouts, examples and limits: docs/bring-your-own-data.md",
    )
    p.add_argument("file")
    p.add_argument("--name", required=True, help="dataset name")
    p.add_argument("--out", help="output folder or .h5 file (default: the workspace's datasets folder)")
    p.add_argument("--fs", type=float, help="sampling rate in Hz when the file does not say")
    p.add_argument("--labels", help="labels file (one per line) for a file without labels (.npy)")
    p.add_argument("--signals-key", help="name of the signals array/variable/dataset (default signals)")
    p.add_argument(
        "--labels-key", help="name of the labels array, or the CSV label column (default labels, label)"
    )
    p.add_argument("--fs-key", help="name of the sampling-rate value (default fs)")
    p.add_argument(
        "--split",
        default="0.7,0.15,0.15",
        help="train,val,test fractions of the records (default 0.7,0.15,0.15)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the record-level split (default 0)")
    p.add_argument("--allow-new-classes", action="store_true", help="accept labels outside the catalogue")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.add_argument("--register", action="store_true", help="register the dataset in the workspace store")
    p.set_defaults(func=cmd_import_data)
