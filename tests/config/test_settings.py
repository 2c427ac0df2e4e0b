"""`config.settings`: every BEARING_WORKBENCH_* variable read into one `Settings`, at call time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bearing_workbench.config import Settings, SettingsError, settings
from bearing_workbench.config.settings import ENV_PREFIX, env_name
from bearing_workbench.runner.cluster import connect
from bearing_workbench.store import workspace

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    return monkeypatch


def test_defaults_when_nothing_is_set(clean_env: pytest.MonkeyPatch) -> None:
    assert settings() == Settings(workspace=None, db_url=None, scheduler="", token="", webhook_url=None)


def test_values_are_parsed_from_the_environment_at_call_time(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("BEARING_WORKBENCH_WORKSPACE", f"  {tmp_path}  ")
    clean_env.setenv("BEARING_WORKBENCH_SCHEDULER", "tcp://10.0.0.5:8786")
    clean_env.setenv("BEARING_WORKBENCH_WEBHOOK_URL", "https://hooks.example.com/x")
    clean_env.setenv("BEARING_WORKBENCH_TOKEN", "a-long-enough-token")
    clean_env.setenv("BEARING_WORKBENCH_DB_URL", "postgresql+psycopg://u:p@db/workbench")
    found = settings()
    assert found.workspace == tmp_path and isinstance(found.workspace, Path)
    assert found.scheduler == "tcp://10.0.0.5:8786"
    assert found.webhook_url == "https://hooks.example.com/x"
    assert found.token == "a-long-enough-token"
    assert found.db_url == "postgresql+psycopg://u:p@db/workbench"
    clean_env.setenv("BEARING_WORKBENCH_SCHEDULER", "tcp://10.0.0.6:8786")
    assert settings().scheduler == "tcp://10.0.0.6:8786"  # read again, not cached


def test_an_empty_variable_counts_as_unset(clean_env: pytest.MonkeyPatch) -> None:
    for field in ("workspace", "db_url", "scheduler", "token", "webhook_url"):
        clean_env.setenv(env_name(field), "   ")
    assert settings() == Settings()


def test_the_modules_ask_the_settings(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("BEARING_WORKBENCH_WORKSPACE", str(tmp_path / "ws"))
    assert workspace.workspace_root() == tmp_path / "ws"
    assert workspace.database_url() == f"sqlite:///{tmp_path / 'ws' / 'workbench.db'}"
    clean_env.setenv("BEARING_WORKBENCH_DB_URL", "sqlite:///elsewhere.db")
    assert workspace.database_url() == "sqlite:///elsewhere.db"


def test_a_given_mapping_is_read_alone(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("BEARING_WORKBENCH_SCHEDULER", "tcp://from-the-process:8786")
    assert settings({}).scheduler == ""
    assert settings({"BEARING_WORKBENCH_SCHEDULER": "tcp://given:1"}).scheduler == "tcp://given:1"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("BEARING_WORKBENCH_WEBHOOK_URL", "ftp://example.com/hook", "http:// or https://"),
        ("BEARING_WORKBENCH_WEBHOOK_URL", "https:///path-only", "host"),
        ("BEARING_WORKBENCH_TOKEN", "short", "at least 8"),
        ("BEARING_WORKBENCH_SCHEDULER", "tcp://host 8786", "no spaces"),
        ("BEARING_WORKBENCH_DB_URL", "workbench.db", "SQLAlchemy URL"),
        ("BEARING_WORKBENCH_LOST_AFTER_S", "0", "positive number of seconds"),
        ("BEARING_WORKBENCH_HEARTBEAT_S", "-5", "positive number of seconds"),
        ("BEARING_WORKBENCH_HEARTBEAT_S", "soon", "valid number"),
    ],
)
def test_a_bad_value_is_named_with_its_variable(variable: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError, match=expected) as refused:
        settings({variable: value})
    assert str(refused.value).startswith(variable)


def test_the_heartbeat_and_its_grace_come_from_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    assert (settings().lost_after_s, settings().heartbeat_s) == (60.0, 5.0)
    clean_env.setenv("BEARING_WORKBENCH_LOST_AFTER_S", "4")
    clean_env.setenv("BEARING_WORKBENCH_HEARTBEAT_S", "0.5")
    assert (settings().lost_after_s, settings().heartbeat_s) == (4.0, 0.5)


def test_a_heartbeat_slower_than_half_the_grace_is_refused_naming_both() -> None:
    with pytest.raises(SettingsError) as refused:
        settings({"BEARING_WORKBENCH_LOST_AFTER_S": "6", "BEARING_WORKBENCH_HEARTBEAT_S": "5"})
    assert str(refused.value) == (
        "BEARING_WORKBENCH_HEARTBEAT_S (5 s) must be at most half of BEARING_WORKBENCH_LOST_AFTER_S (6 s): "
        "a run would be called lost between two heartbeats"
    )


def test_secrets_are_not_repeated_in_the_message() -> None:
    with pytest.raises(SettingsError) as refused:
        settings({"BEARING_WORKBENCH_TOKEN": "sec ret"})
    assert "sec ret" not in str(refused.value)
    with pytest.raises(SettingsError) as refused:
        settings({"BEARING_WORKBENCH_DB_URL": "user:password@db"})
    assert "password" not in str(refused.value)


def test_a_bad_scheduler_reaches_the_user_of_connect(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("BEARING_WORKBENCH_SCHEDULER", "tcp://a b")
    with pytest.raises(SettingsError, match="BEARING_WORKBENCH_SCHEDULER"):
        connect()


def test_the_cli_names_a_bad_variable_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    env.update({"BEARING_WORKBENCH_WORKSPACE": str(tmp_path), "BEARING_WORKBENCH_DB_URL": "workbench.db"})
    run = subprocess.run(
        [sys.executable, "-m", "bearing_workbench", "status"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("error: BEARING_WORKBENCH_DB_URL: must be a SQLAlchemy URL")
    assert "Traceback" not in run.stderr
