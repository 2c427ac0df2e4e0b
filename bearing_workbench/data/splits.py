"""Record-level train/val/test splits, windowing after the split, and a leakage check.

Splits are drawn over whole records, never over windows: windows cut from one record are strongly
correlated, so letting them reach both train and test would inflate every test score. Windowing
therefore happens after the split, on the records of one split at a time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from bearing_workbench.config.arguments import SampleCount, check

from .dataset_file import SPLIT_NAMES, Dataset, DatasetFileError

_FRACTION_TOLERANCE = 1e-6


class LeakageError(ValueError):
    """The same record appears in more than one split."""

    def __init__(self, shared: Mapping[str, Sequence[str]]):
        self.shared = {rid: tuple(splits) for rid, splits in shared.items()}
        shown = [f"{rid!r} ({', '.join(splits)})" for rid, splits in list(self.shared.items())[:10]]
        more = f" and {len(self.shared) - 10} more" if len(self.shared) > 10 else ""
        involved = sorted({s for splits in self.shared.values() for s in splits})
        super().__init__(
            f"{len(self.shared)} record(s) appear in more than one split "
            f"(splits involved: {', '.join(involved)}): {'; '.join(shown)}{more}"
        )


def validate_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    """Check split fractions: three values (train, val, test), each in [0, 1), summing to 1."""
    values = tuple(fractions)
    if len(values) != len(SPLIT_NAMES):
        raise ValueError(
            f"fractions: expected 3 values (train, val, test), got {len(values)}: {list(values)}"
        )
    try:
        floats = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise ValueError(f"fractions: expected numbers, got {list(values)}") from None
    for name, value in zip(SPLIT_NAMES, floats, strict=True):
        if not (math.isfinite(value) and 0.0 <= value < 1.0):
            raise ValueError(f"fractions: the {name} fraction must be in [0, 1), got {value}")
    total = sum(floats)
    if abs(total - 1.0) > _FRACTION_TOLERANCE:
        raise ValueError(f"fractions: must sum to 1, but {' + '.join(map(str, floats))} = {total:.6g}")
    return floats  # type: ignore[return-value]


def _allocate(count: int, fractions: np.ndarray) -> np.ndarray:
    """Split `count` records over the splits: largest remainder, then at least one per used split."""
    raw = count * fractions
    sizes = np.floor(raw).astype(np.int64)
    # Hand the leftover records to the largest fractional parts (stable: ties go to the earlier split).
    order = np.argsort(-(raw - sizes), kind="stable")
    sizes[order[: count - int(sizes.sum())]] += 1
    used = fractions > 0
    for k in np.flatnonzero(used & (sizes == 0)):
        donor = int(np.argmax(sizes))
        sizes[donor] -= 1
        sizes[k] += 1
    return sizes


def _check_enough(classes: Sequence[object], counts: Sequence[int], fracs: np.ndarray) -> None:
    """Refuse a split that cannot put every class in every non-empty split."""
    needed = int((fracs > 0).sum())
    too_few = [
        (c.item() if isinstance(c, np.generic) else c, int(n))
        for c, n in zip(classes, counts, strict=True)
        if n < needed
    ]
    if too_few:
        listed = ", ".join(f"{c!r} has {n}" for c, n in too_few)
        used = ", ".join(name for name, f in zip(SPLIT_NAMES, fracs, strict=True) if f > 0)
        raise ValueError(
            f"too few records to put every class in every split ({used}): {listed}; "
            f"each class needs at least {needed} records (add records or set a split fraction to 0)"
        )


def uses_stored_split(stored_fractions: Sequence[float], fractions: Sequence[float]) -> bool:
    """Whether a run asking for `fractions` uses the dataset file's stored split (same fractions)."""
    return len(stored_fractions) == len(SPLIT_NAMES) and bool(
        np.allclose(stored_fractions, fractions, rtol=0, atol=_FRACTION_TOLERANCE)
    )


def records_per_split(
    class_counts: Mapping[str, int] | Sequence[int],
    fractions: Sequence[float],
    *,
    stored_sizes: Mapping[str, int] | None = None,
    stored_fractions: Sequence[float] = (),
) -> dict[str, int]:
    """How many records each split of a run has: the one count the estimates, the wizard and the run use.

    The run takes the dataset file's stored split when it asks for the stored fractions (then its
    sizes are `stored_sizes`), else it draws `split_records`, whose per-class sizes depend only on the
    class counts and the fractions (not on the seed): they are computed here the same way.

    Args:
        class_counts: records per class (a mapping name -> count, or the counts in class order).
        fractions: (train, val, test), each in [0, 1), summing to 1.
    Raises:
        ValueError: a class has too few records for every non-empty split (the message says which).
    """
    fracs = np.asarray(validate_fractions(fractions))
    if stored_sizes and uses_stored_split(stored_fractions, fracs):
        return {name: int(stored_sizes.get(name, 0)) for name in SPLIT_NAMES}
    counts = list(class_counts.values()) if isinstance(class_counts, Mapping) else list(class_counts)
    names = list(class_counts) if isinstance(class_counts, Mapping) else list(range(len(counts)))
    if not counts or sum(counts) == 0:
        raise ValueError("labels: no records to split")
    present = [(name, int(n)) for name, n in zip(names, counts, strict=True) if n > 0]
    _check_enough([name for name, _ in present], [n for _, n in present], fracs)
    totals = np.zeros(len(SPLIT_NAMES), dtype=np.int64)
    for _, n in present:
        totals += _allocate(n, fracs)
    return {name: int(total) for name, total in zip(SPLIT_NAMES, totals, strict=True)}


def split_records(
    labels: np.ndarray, fractions: Sequence[float] = (0.70, 0.15, 0.15), seed: int = 0
) -> dict[str, np.ndarray]:
    """Stratified, seeded split of records into train/val/test (sorted, disjoint index arrays).

    Each class is shuffled and cut on its own, so every class appears in every split whose fraction
    is above zero (sklearn's stratified splitters round over all classes at once and can leave a small
    class out of a split). A class needs at least one record per non-empty split.

    Args:
        labels: one label per record (class indices or names).
        fractions: (train, val, test); a zero gives an empty split.
    """
    fracs = np.asarray(validate_fractions(fractions))
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels: expected a 1-D array (one label per record), got shape {labels.shape}")
    if labels.size == 0:
        raise ValueError("labels: no records to split")
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    _check_enough(list(classes), [int(n) for n in counts], fracs)
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in SPLIT_NAMES}
    for k in range(len(classes)):
        members = rng.permutation(np.flatnonzero(inverse == k))
        bounds = np.cumsum(_allocate(len(members), fracs))[:-1]
        for name, chunk in zip(SPLIT_NAMES, np.split(members, bounds), strict=True):
            parts[name].append(chunk)
    return {name: np.sort(np.concatenate(chunks)).astype(np.int64) for name, chunks in parts.items()}


@dataclass(frozen=True)
class RecordSplit:
    """The records of each split of one run and where the split came from.

    Args:
        indices: sorted record rows per split name.
        source: ``stored`` when the dataset file's split was used, ``recomputed`` otherwise.
        seed: seed of the split (the file's, or the run's training seed for a fresh one).
    """

    indices: dict[str, np.ndarray]
    source: Literal["stored", "recomputed"]
    seed: int

    @property
    def sizes(self) -> dict[str, int]:
        return {name: int(len(rows)) for name, rows in self.indices.items()}


def record_split(dataset: Dataset, fractions: Sequence[float], seed: int) -> RecordSplit:
    """The split a run on `dataset` uses: the stored one when it has `fractions`, else a fresh
    stratified one (seeded by the file's split seed when it has one, else by `seed`).

    Its sizes are those `records_per_split` gives for the same dataset and fractions.
    """
    stored = dataset.splits()
    stored_fractions, stored_seed = dataset.split_attrs()
    if stored is not None and uses_stored_split(stored_fractions, fractions):
        return RecordSplit(stored, "stored", int(stored_seed if stored_seed is not None else seed))
    chosen = stored_seed if stored_seed is not None else seed
    return RecordSplit(split_records(dataset.labels, fractions, seed=chosen), "recomputed", int(chosen))


def make_windows(signals: np.ndarray, window: int, hop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cut each record into windows; returns (windows (m, window), record index of each window).

    The windows are a read-only view of `signals` where the layout allows (numpy copies only when
    the windows cannot be expressed as strides over the records). A record's tail shorter than a
    window is dropped.

    Args:
        signals: (n_records, n_samples); a 1-D array is one record.
        hop: step between window starts; defaults to `window` (no overlap).
    """
    signals = np.asarray(signals)
    if signals.ndim == 1:
        signals = signals[np.newaxis, :]
    if signals.ndim != 2:
        raise ValueError(f"signals: expected (records, samples), got shape {signals.shape}")
    window = check(SampleCount, window, "window")
    hop = window if hop is None else check(SampleCount, hop, "hop")
    n, length = signals.shape
    if window > length:
        raise ValueError(f"window: {window} samples is longer than the records ({length} samples)")
    views = np.lib.stride_tricks.sliding_window_view(signals, window, axis=1)[:, ::hop]
    per_record = views.shape[1]
    windows = views.reshape(n * per_record, window)
    return windows, np.repeat(np.arange(n, dtype=np.int64), per_record)


def split_windows(
    dataset: Dataset, split: str, window: int, hop: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows of one split's records: (windows, class index per window, record id per window).

    Only that split's records are read from the file.
    """
    if split not in SPLIT_NAMES:
        raise ValueError(f"split: expected one of {', '.join(SPLIT_NAMES)}, got {split!r}")
    splits = dataset.splits()
    if splits is None:
        raise DatasetFileError(dataset.path, "has no record-level splits (write it with splits first)")
    records = np.sort(splits[split])
    windows, which = make_windows(dataset.signals(records), window, hop)
    return windows, dataset.labels[records][which], dataset.record_ids[records][which]


def check_no_leakage(record_ids_by_split: Mapping[str, Sequence[str]]) -> None:
    """Raise `LeakageError` if any record id appears in more than one split.

    Repeats within one split (several windows of a record) are fine.
    """
    seen: dict[str, list[str]] = {}
    for split, ids in record_ids_by_split.items():
        for rid in dict.fromkeys(str(r) for r in np.asarray(ids, dtype=object).ravel()):
            seen.setdefault(rid, []).append(split)
    shared = {rid: splits for rid, splits in seen.items() if len(splits) > 1}
    if shared:
        raise LeakageError(shared)
