"""`SignalSet`: records loaded from a user's file, validated."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..catalogue import class_names as catalogue_class_names


@dataclass
class SignalSet:
    """Records loaded from a user's file, validated and ready to import or use."""

    signals: np.ndarray
    labels: np.ndarray | None  # class name per record; None for an unlabelled file
    fs: float
    metadata: dict[str, np.ndarray] = field(default_factory=dict)
    record_ids: np.ndarray | None = None
    source: Path | None = None

    def __post_init__(self) -> None:
        self.signals = np.asarray(self.signals, dtype=np.float32)
        if self.labels is not None:
            self.labels = np.asarray([str(x) for x in np.asarray(self.labels).ravel()], dtype=object)
        n_labels = len(self.signals) if self.labels is None else len(self.labels)
        if self.signals.ndim != 2 or n_labels != len(self.signals):
            raise ValueError(
                f"SignalSet: signals must be (records, samples) with one label per record (or none); "
                f"got signals {self.signals.shape} and {n_labels} labels"
            )
        if self.record_ids is None:
            self.record_ids = [f"rec-{i:05d}" for i in range(len(self.signals))]
        self.record_ids = np.asarray([str(r) for r in self.record_ids], dtype=object)
        self.metadata = {name: np.asarray(values) for name, values in self.metadata.items()}

    @property
    def n_records(self) -> int:
        return int(self.signals.shape[0])

    @property
    def n_samples(self) -> int:
        return int(self.signals.shape[1])

    @property
    def labelled(self) -> bool:
        return self.labels is not None

    def class_names(self, known_classes: Sequence[str] | None = None) -> tuple[str, ...]:
        """Classes present, in catalogue order, then new ones in order of first appearance.

        An unlabelled set has no classes present: ().
        """
        if self.labels is None:
            return ()
        known = tuple(catalogue_class_names() if known_classes is None else known_classes)
        present = dict.fromkeys(self.labels)
        return tuple(c for c in known if c in present) + tuple(c for c in present if c not in known)

    def label_indices(self, class_names: Sequence[str]) -> np.ndarray | None:
        """Labels as indices into `class_names`; None for an unlabelled set.

        Raises ValueError naming the labels that are not in `class_names`.
        """
        if self.labels is None:
            return None
        lookup = {name: i for i, name in enumerate(class_names)}
        unknown = [c for c in dict.fromkeys(self.labels) if c not in lookup]
        if unknown:
            raise ValueError(
                f"labels {', '.join(map(repr, unknown))} are not among the classes {', '.join(class_names)}"
            )
        return np.asarray([lookup[name] for name in self.labels], dtype=np.int64)
