"""McNemar's test of two classifiers on the test records they share.

It asks whether two classifiers err on the same test records: it counts the records that exactly one
of them gets right (the discordant pairs) and tests whether those split evenly. Records are matched by
``record_id``; records in only one test set, and records whose true label differs between the files,
are left out of the test and reported.

statsmodels is not a dependency: the test is computed with scipy.stats, as
``statsmodels.stats.contingency_tables.mcnemar`` does it (exact: two-sided binomial test of the
smaller discordant count at p = 1/2; else chi-square with continuity correction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bearing_workbench.analysis.format import p_value
from bearing_workbench.config.arguments import NonNegativeInt, checked

ALPHA = 0.05
# Below this many discordant records the chi-square approximation is poor: use the exact binomial test.
EXACT_BELOW = 25


@dataclass(frozen=True)
class McNemarResult:
    """McNemar's test of one pair on the test records they share.

    Args:
        only_a_right: shared records that `a` gets right and `b` wrong; only_b_right: the reverse.
        only_in_a, only_in_b: records in one test set only; label_conflicts: shared ids whose true label
            differs between the two files (different datasets under the same ids). None of these is tested.
        better: the id of the significantly better one, None when the difference is not significant.
    """

    a: int
    b: int
    n_shared: int
    both_right: int
    both_wrong: int
    only_a_right: int
    only_b_right: int
    only_in_a: int
    only_in_b: int
    label_conflicts: int
    statistic: float
    p_value: float
    method: str
    significant: bool
    better: int | None
    conclusion: str


def mcnemar_counts(
    a_right: Sequence[bool] | np.ndarray, b_right: Sequence[bool] | np.ndarray
) -> dict[str, int]:
    """The 2x2 table of two classifiers on the same records: both right, both wrong, only a, only b."""
    a = np.asarray(a_right, dtype=bool)
    b = np.asarray(b_right, dtype=bool)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(
            f"a_right and b_right must be 1-D and of the same length, got {a.shape} and {b.shape}"
        )
    return {
        "both_right": int(np.sum(a & b)),
        "both_wrong": int(np.sum(~a & ~b)),
        "only_a_right": int(np.sum(a & ~b)),
        "only_b_right": int(np.sum(~a & b)),
    }


@checked
def mcnemar_test(only_a_right: NonNegativeInt, only_b_right: NonNegativeInt) -> tuple[float, float, str]:
    """(statistic, p value, method) of McNemar's test from the two discordant counts.

    Exact two-sided binomial test when there are fewer than `EXACT_BELOW` discordant records (statistic:
    the smaller count), else chi-square with continuity correction, ``(|b - c| - 1)^2 / (b + c)``.
    """
    from scipy import stats

    n = only_a_right + only_b_right
    if n == 0:
        return 0.0, 1.0, "no discordant records"
    if n < EXACT_BELOW:
        smaller = min(int(only_a_right), int(only_b_right))
        p = stats.binomtest(smaller, n, 0.5, alternative="two-sided").pvalue
        return float(smaller), min(1.0, float(p)), "exact binomial test"
    statistic = (abs(int(only_a_right) - int(only_b_right)) - 1) ** 2 / n
    return float(statistic), float(stats.chi2.sf(statistic, 1)), "chi-square test with continuity correction"


def p_text(p: float) -> str:
    """``p = 0.035``, ``p < 0.001`` (`analysis.format.p_value`)."""
    return p_value(p)


def _records(n: int) -> str:
    return f"{n} record{'s' if n != 1 else ''}"


def mcnemar_conclusion(
    a_label: str, b_label: str, only_a_right: int, only_b_right: int, p: float, alpha: float = ALPHA
) -> str:
    """The test's result in words."""
    level = f"{100 * alpha:g} %"  # 5 %, 1 %: a significance level keeps its own digits
    counts = (
        f"{a_label} is right on {_records(only_a_right)} where {b_label} is wrong, "
        f"{b_label} on {only_b_right} where {a_label} is wrong"
    )
    if only_a_right + only_b_right == 0:
        return (
            f"{a_label} and {b_label} are right and wrong on exactly the same records: no difference to test."
        )
    if p < alpha:
        better = a_label if only_a_right > only_b_right else b_label
        return f"{counts}; {p_text(p)}: the difference is significant at {level} ({better} is better)."
    return (
        f"{counts}; {p_text(p)}: not significant at {level}: on these records the two cannot be told apart."
    )


def compare_predictions(
    a: Any,
    b: Any,
    a_label: str = "A",
    b_label: str = "B",
    alpha: float = ALPHA,
    ids: tuple[int, int] = (0, 1),
) -> McNemarResult:
    """McNemar's test of two `Predictions` on the records they share (matched by record id)."""
    a_right, a_true = _right_by_record(a)
    b_right, b_true = _right_by_record(b)
    shared = [r for r in a_right if r in b_right]
    conflicts = [r for r in shared if a_true[r] != b_true[r]]
    tested = [r for r in shared if a_true[r] == b_true[r]]
    counts = mcnemar_counts([a_right[r] for r in tested], [b_right[r] for r in tested])
    statistic, p, method = mcnemar_test(counts["only_a_right"], counts["only_b_right"])
    significant = bool(p < alpha and counts["only_a_right"] != counts["only_b_right"])
    better = None
    if significant:
        better = ids[0] if counts["only_a_right"] > counts["only_b_right"] else ids[1]
    conclusion = mcnemar_conclusion(
        a_label, b_label, counts["only_a_right"], counts["only_b_right"], p, alpha
    )
    extra = []
    if len(a_right) - len(shared) or len(b_right) - len(shared):
        extra.append(
            f"{len(tested)} shared test records were compared; {len(a_right) - len(shared)} are only in "
            f"{a_label}'s test set and {len(b_right) - len(shared)} only in {b_label}'s."
        )
    if conflicts:
        extra.append(
            f"Left out: {_records(len(conflicts))} whose true label differs between the two files under "
            "the same id (different datasets?)."
        )
    return McNemarResult(
        a=ids[0],
        b=ids[1],
        n_shared=len(tested),
        **counts,
        only_in_a=len(a_right) - len(shared),
        only_in_b=len(b_right) - len(shared),
        label_conflicts=len(conflicts),
        statistic=statistic,
        p_value=p,
        method=method,
        significant=significant,
        better=better,
        conclusion=" ".join([conclusion, *extra]),
    )


def _right_by_record(predictions: Any) -> tuple[dict[str, bool], dict[str, str]]:
    # By class name, not index: two runs may list their classes in different orders.
    names = predictions.class_names
    predicted = predictions.y_pred
    right: dict[str, bool] = {}
    truth: dict[str, str] = {}
    for record, true_index, predicted_index in zip(
        predictions.record_ids, predictions.y_true, predicted, strict=True
    ):
        truth[record] = names[int(true_index)]
        right[record] = names[int(predicted_index)] == truth[record]
    return right, truth
