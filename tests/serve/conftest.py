"""A real `bearing-workbench serve` (its own Dask cluster and Voilà) on a free port, over a tiny workspace."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import nbformat
import psutil
import pytest

from bearing_workbench.chromium import FLAGS, chromium_path
from bearing_workbench.store import Store

from ..tiny_data import tiny_store

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = chromium_path()
UI_TIMEOUT_MS = 120_000  # the first view of a step may wait for imports in the kernel
RUN_TIMEOUT_MS = 300_000
NEEDS_CHROMIUM = pytest.mark.skipif(
    not Path(CHROMIUM).is_file(),
    reason="Debian's chromium is not installed (apt-get install chromium; ./scripts/test.sh does so as root)",
)
DATASET = "tiny"
CLASSES = ("healthy", "imbalance", "misalignment")
START_TIMEOUT_S = 180.0
ENV_KEYS = (
    "BEARING_WORKBENCH_WORKSPACE",
    "BEARING_WORKBENCH_DB_URL",
    "BEARING_WORKBENCH_SCHEDULER",
    "BEARING_WORKBENCH_TOKEN",
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tiny_workspace(root: Path) -> Path:
    """A workspace with dataset `tiny`: 3 classes x 6 records of 1 s (the quick preset's window)."""
    store = tiny_store(root, per_class=6, duration_s=1.0, seed=11)
    store.dispose()
    return root


def write_notebook(path: Path, *sources: str) -> Path:
    """A notebook of code cells, without outputs."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


_opener = urllib.request.build_opener(_NoRedirect)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    text: str


def http_get(url: str, timeout: float = 120.0) -> Response:
    """GET without following redirects."""
    try:
        with _opener.open(url, timeout=timeout) as resp:
            return Response(resp.status, dict(resp.headers), resp.read().decode(errors="replace"))
    except urllib.error.HTTPError as err:
        return Response(err.code, dict(err.headers), err.read().decode(errors="replace"))


@dataclass
class Server:
    """A running `bearing-workbench serve`."""

    proc: subprocess.Popen
    port: int
    token: str
    workspace: Path
    apps: Path
    output: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str, *, token: bool = True, **query: object) -> str:
        params = {k: str(v) for k, v in query.items()}
        if token:
            params["token"] = self.token
        return f"{self.base}{path}" + (f"?{urlencode(params)}" if params else "")

    def app_url(self, app: str, *, token: bool = True, **query: object) -> str:
        return self.url(f"/voila/render/{app}.ipynb", token=token, **query)

    def log(self) -> str:
        return "".join(self.output)

    def wait_output(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        pytest.fail(f"`serve` printed no {text!r} (exit status {self.proc.poll()}):\n{self.log()}")

    def store(self) -> Store:
        return Store(workspace=self.workspace)

    def stop(self, timeout: float = 90.0) -> int:
        """SIGTERM, as a service manager would; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


def _die_with_parent() -> None:
    # A test run that is killed must not leave a server behind (Linux: PR_SET_PDEATHSIG).
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def start_server(workspace: Path, apps: Path, *extra: str, token: str = "test-token-0123456789") -> Server:
    """Start `bearing-workbench serve` over `workspace` (its own session: killed as a group if stuck)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    env.update({"BEARING_WORKBENCH_WORKSPACE": str(workspace), "BEARING_WORKBENCH_TOKEN": token})
    command = [sys.executable, "-m", "bearing_workbench", "serve", "--no-demo", "--port", str(port)]
    command += ["--workers", "1", "--apps", str(apps), *extra]
    proc = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    server = Server(proc, port, token, workspace, apps)

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            server.output.append(line)

    threading.Thread(target=pump, daemon=True).start()
    server.wait_output("Bearing Workbench is serving at", START_TIMEOUT_S)
    return server


def end_server(server: Server) -> None:
    """Stop it with SIGTERM (it must exit cleanly); kill what is left of its session if it did not end."""
    try:
        if server.proc.poll() is None:
            status = server.stop()
            assert status == 0, f"`serve` ended with status {status} on SIGTERM:\n{server.log()}"
    finally:
        if server.proc.poll() is None:
            os.killpg(server.proc.pid, signal.SIGKILL)


def session_processes(server: Server) -> list[psutil.Process]:
    """The processes `serve` started (its children, their children...)."""
    try:
        return psutil.Process(server.proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def kernel_id_of(page: str) -> str:
    """The kernel id a rendered Voilà page carries in its page config."""
    start = page.index('"kernelId": "') + len('"kernelId": "')
    return page[start : page.index('"', start)]


def wait_for(condition: Callable[[], object], what: str, timeout: float = 60.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="session")
def workspace_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_workspace(tmp_path_factory.mktemp("serve-ws"))


def launch_chromium(playwright: Any, user_data_dir: str) -> Any:
    """Debian's Chromium, headless, with a fresh profile and no traffic of its own."""
    return playwright.chromium.launch_persistent_context(
        user_data_dir,
        executable_path=CHROMIUM,
        args=FLAGS,
        viewport={"width": 1280, "height": 1000},
    )


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("BEARING_WORKBENCH_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {path}")
    return path
