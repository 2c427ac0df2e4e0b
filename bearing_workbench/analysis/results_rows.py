"""The rows of the results tables (`ResultsInfo`'s parts): a class's metrics, a ROC curve, a worst
prediction, a confusion-matrix cell's record, a downloadable file. Immutable, formatted through
`analysis.format`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bearing_workbench.analysis import format as fmt


@dataclass(frozen=True)
class ClassRow:
    """One class of the per-class table; `weak`: it has test records and its recall is below RECALL_READY."""

    name: str
    precision: float | None
    recall: float | None
    f1: float | None
    auc: float | None
    support: int
    weak: bool

    @property
    def texts(self) -> tuple[str, str, str, str]:
        """Precision, recall and F1 as percentages, AUC with three decimals."""
        return (
            fmt.percent(self.precision),
            fmt.percent(self.recall),
            fmt.percent(self.f1),
            fmt.number(self.auc, 3),
        )


def row_shares(confusion: Sequence[Sequence[int]]) -> tuple[tuple[float, ...], ...]:
    """A confusion matrix with each row divided by its true class's records (a row of zeros stays
    zeros): the diagonal is each class's recall."""
    return tuple(
        tuple(v / total if total else 0.0 for v in row)
        for row, total in ((row, sum(row)) for row in confusion)
    )


@dataclass(frozen=True)
class RocCurve:
    """One class's one-vs-rest ROC curve on the test split."""

    name: str
    fpr: tuple[float, ...]
    tpr: tuple[float, ...]
    auc: float | None


@dataclass(frozen=True)
class WorstPrediction:
    """A test record the model got wrong (most confident first), or right but unsure."""

    record_id: str
    true_label: str
    predicted_label: str
    correct: bool
    true_probability: float | None
    predicted_probability: float | None


@dataclass(frozen=True)
class CellRecord:
    """A test record of one confusion-matrix cell: its confidence in the predicted class and every
    class's probability, most probable first."""

    record_id: str
    true_label: str
    predicted_label: str
    predicted_probability: float
    probabilities: tuple[tuple[str, float], ...]

    def top_classes(self, n: int = 3) -> str:
        """The `n` most probable classes: ``"a 80 %, b 15 %, c 5 %"``."""
        return ", ".join(f"{name} {fmt.percent(p, 0)}" for name, p in self.probabilities[:n])


@dataclass(frozen=True)
class ResultFile:
    """A file the results page offers for download (`store.artifacts.DOWNLOAD_KEYS`): `size` in bytes,
    None when the run did not write it."""

    key: str
    label: str
    name: str
    mime: str
    size: int | None

    @property
    def present(self) -> bool:
        return self.size is not None

    @property
    def size_text(self) -> str:
        return fmt.size(self.size) if self.size is not None else "not written for this experiment"
