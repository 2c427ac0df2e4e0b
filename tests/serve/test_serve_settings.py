"""The pieces of `serve` that need no server: token, Voilà configuration, URLs, settings checks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bearing_workbench.serve import (
    DATA_DIR,
    TEMPLATE,
    TOKEN_ENV,
    ServeSettings,
    app_urls,
    default_apps_dir,
    resolve_token,
    voila_command,
    voila_config,
)


def test_token_from_option_then_environment_else_random(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    first, generated = resolve_token(None)
    second, _ = resolve_token("")
    assert generated and len(first) >= 32 and first != second
    monkeypatch.setenv(TOKEN_ENV, "from-the-environment")
    assert resolve_token(None) == ("from-the-environment", False)
    assert resolve_token("from-the-option") == ("from-the-option", False)


def test_voila_config_turns_on_what_voila_leaves_off(tmp_path: Path) -> None:
    config = voila_config(
        ServeSettings(apps_dir=tmp_path, port=9000, cull_idle_timeout_s=120), "s3cret-token"
    )
    assert config["Voila"]["token"] == "s3cret-token"
    assert config["Voila"]["ip"] == "127.0.0.1" and config["Voila"]["port"] == 9000
    assert config["VoilaConfiguration"]["preheat_kernel"] is False
    assert config["VoilaConfiguration"]["template"] == TEMPLATE
    assert config["MappingKernelManager"]["cull_idle_timeout"] == 120
    assert (DATA_DIR / "voila" / "templates" / TEMPLATE / "index.html.j2").is_file()
    command = voila_command(tmp_path, tmp_path / "conf")
    assert not any("s3cret" in part for part in command)  # the token never shows in `ps`


def test_urls_carry_the_token_and_the_experiment() -> None:
    urls = app_urls(8866, "a b+c")
    assert urls["home"] == "http://127.0.0.1:8866/?token=a%20b%2Bc"
    assert urls["wizard"].startswith("http://127.0.0.1:8866/voila/render/wizard.ipynb?token=")
    assert "monitor.ipynb?experiment=7&token=" in app_urls(8866, "t", experiment_id=7)["monitor"]
    assert "results.ipynb?experiment=7&token=" in app_urls(8866, "t", experiment_id=7)["results"]
    assert urls["history"].startswith("http://127.0.0.1:8866/voila/render/history.ipynb?token=")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"port": 0}, "port"),
        ({"cull_interval_s": 0}, "cull"),
        ({"n_workers": 0}, "n_workers"),
        ({"token": "short"}, "token"),
    ],
)
def test_bad_settings_are_named(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        ServeSettings(**kwargs)


def test_default_apps_are_the_dashboards_folder() -> None:
    assert default_apps_dir() == Path(__file__).resolve().parents[2] / "dashboards"


def test_cli_refuses_a_folder_without_apps_and_a_busy_port(tmp_path: Path) -> None:
    env_ws = {"BEARING_WORKBENCH_WORKSPACE": str(tmp_path / "ws")}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "bearing_workbench", "serve", "--no-demo", *args],
            capture_output=True,
            text=True,
            env={**os.environ, **env_ws},
            timeout=120,
        )

    empty = run("--apps", str(tmp_path))
    assert empty.returncode == 2 and "holds no notebook" in empty.stderr
    (tmp_path / "app.ipynb").write_text(
        json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        busy = run("--apps", str(tmp_path), "--port", str(sock.getsockname()[1]))
    assert busy.returncode == 2 and "is in use" in busy.stderr
    bad = run("--port", "70000")
    assert bad.returncode == 2 and "port must be between" in bad.stderr
