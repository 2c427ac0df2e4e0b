"""`serve` marks lost, on start, the runs whose workers stopped answering while nothing was watching."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from bearing_workbench.serve import mark_lost_runs
from bearing_workbench.store import Store
from bearing_workbench.store.tables import ExperimentRow, utcnow


def test_serve_marks_silent_runs_lost_on_start_and_says_which(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("BEARING_WORKBENCH_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.delenv("BEARING_WORKBENCH_DB_URL", raising=False)
    with Store() as store:
        silent, alive = (store.create_experiment(name, "cnn1d", {}) for name in ("silent", "alive"))
        for experiment in (silent, alive):
            store.transition(experiment, "start")
        with store.transaction() as session:
            session.execute(
                update(ExperimentRow)
                .where(ExperimentRow.id == silent)
                .values(heartbeat_at=utcnow() - timedelta(hours=1))
            )
        said: list[str] = []
        assert mark_lost_runs(said.append) == [silent]
        assert said == [
            f"Marked lost (their workers stopped answering): experiment {silent}; retry resumes each one"
        ]
        assert str(store.get_experiment(silent).status) == "failed"
        assert str(store.get_experiment(alive).status) == "running"
        said.clear()
        assert mark_lost_runs(said.append) == [] and said == []  # nothing more to say
