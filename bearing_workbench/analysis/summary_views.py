"""Model-specific views read from a run's ``model_summary.json``: an ensemble's member contributions,
accuracies and diversity, and a classical model's most important features."""

from __future__ import annotations

from typing import Any

import numpy as np

from bearing_workbench.analysis.format import metric_name, percent
from bearing_workbench.analysis.model_run import MissingArtifact, ModelSection, StoredRun, summary_value

TOP_FEATURES = 20


def _member_label(member: dict[str, Any]) -> str:
    name = member.get("name") or member.get("family") or "member"
    return f"#{member.get('experiment_id', '?')} {name}"


def _members(run: StoredRun) -> list[dict[str, Any]]:
    members = summary_value(run, "members", "the ensemble's members")
    if not isinstance(members, list) or not members:
        raise MissingArtifact(f"{run.where(run.folder.model_summary)}: 'members' is not a non-empty list")
    return members


_CONTRIBUTION_NOTES = {
    "weight": "Soft-voting weight of each member's probabilities (they sum to 1).",
    "coefficient_norm_share": (
        "Share of the stacking meta-learner's coefficient norm on each member's probabilities (sums to 1)."
    ),
}


def ensemble_contributions(run: StoredRun, title: str) -> list[ModelSection]:
    members = _members(run)
    kind = str(run.summary.get("contribution_kind") or "contribution")
    method = run.summary.get("method")
    return [
        ModelSection(
            title=title,
            kind="bars",
            data={
                "labels": [_member_label(m) for m in members],
                "values": np.array([float(m.get("contribution") or 0.0) for m in members]),
                "value_label": kind.replace("_", " "),
            },
            note=(f"Method {method}. " if method else "")
            + _CONTRIBUTION_NOTES.get(kind, f"Contribution ({kind})."),
        )
    ]


def ensemble_accuracy(run: StoredRun, title: str) -> list[ModelSection]:
    members = _members(run)
    ensemble = summary_value(run, "test_accuracy", "the ensemble's test accuracy")
    values = [float(m.get("test_accuracy") or 0.0) for m in members] + [float(ensemble)]
    best = max(values[:-1])
    return [
        ModelSection(
            title=title,
            kind="bars",
            data={
                "labels": [_member_label(m) for m in members] + ["ensemble"],
                "values": np.array(values),
                "value_label": metric_name("accuracy"),
                "highlight": [len(members)],
            },
            note=f"The ensemble {'beats' if ensemble > best else 'does not beat'} its best member "
            f"({percent(ensemble)} vs {percent(best)}).",
        )
    ]


def _matrix(run: StoredRun, value: Any, n: int, name: str) -> np.ndarray:
    matrix = np.array([[np.nan if v is None else float(v) for v in row] for row in value], dtype=np.float64)
    if matrix.shape != (n, n):
        raise MissingArtifact(
            f"{run.where(run.folder.model_summary)}: diversity {name} is not a {n} x {n} matrix"
        )
    return matrix


def ensemble_diversity(run: StoredRun, title: str) -> list[ModelSection]:
    members = _members(run)
    diversity = summary_value(run, "diversity", "member diversity")
    n = len(members)
    matrices = {
        label: _matrix(run, diversity[key], n, key)
        for key, label in (("agreement", "agreement"), ("error_correlation", "error correlation"))
        if diversity.get(key) is not None
    }
    if not matrices:
        raise MissingArtifact(
            f"{run.where(run.folder.model_summary)}: diversity has neither agreement nor error_correlation"
        )
    error_rate = diversity.get("error_rate")
    return [
        ModelSection(
            title=f"{title} on the {diversity.get('split', 'test')} split",
            kind="matrices",
            data={
                "labels": [_member_label(m) for m in members],
                "matrices": matrices,
                "error_rate": None if error_rate is None else np.array(error_rate, dtype=np.float64),
            },
            note=(
                "Agreement: share of records two members predict alike. Error correlation: correlation of "
                "their error indicators (blank where a member makes no error or only errors); low values "
                "mean the members fail on different records, which is what an ensemble gains from."
            ),
        )
    ]


# -- classical ----------------------------------------------------------------------------------------


def feature_importance(run: StoredRun, title: str) -> list[ModelSection]:
    importance = summary_value(run, "feature_importance", "feature importances")
    if not isinstance(importance, dict) or not importance:
        raise MissingArtifact(f"{run.where(run.folder.model_summary)}: feature_importance is empty")
    ranked = sorted(((str(k), float(v)) for k, v in importance.items()), key=lambda kv: -kv[1])
    top = ranked[:TOP_FEATURES]
    method = run.summary.get("importance_method") or "unknown method"
    algorithm = run.summary.get("algorithm")
    cv = run.summary.get("cv_accuracy_mean")
    cv_text = ""
    if cv is not None:
        std = float(run.summary.get("cv_accuracy_std") or 0.0)
        folds = run.summary.get("cv_folds", "?")
        cv_text = f" Cross-validation accuracy {percent(cv)} ± {percent(std)} over {folds} folds."
    return [
        ModelSection(
            title=f"{title} (top {len(top)} of {len(ranked)})",
            kind="bars",
            data={
                "labels": [k for k, _ in top],
                "values": np.array([v for _, v in top]),
                "value_label": f"importance ({method})",
            },
            note=f"{algorithm or 'Classical model'}, importance by {method}, largest first.{cv_text}",
        )
    ]
