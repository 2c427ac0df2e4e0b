"""`bearing-workbench serve`: the Voilà apps behind a token, on one Dask cluster shared by every app.

Three processes, each in its own session so that a Ctrl-C in the terminal reaches only this one,
which then shuts the others down in order:

- a **cluster process** (``python -m bearing_workbench.serve cluster``) holding a local Dask cluster
  started by `runner.cluster.connect` (worker processes, one GPU each on a GPU machine). Trainings
  run there, so a Voilà kernel that is culled or closed takes no run with it, and the monitor app in
  another kernel sees every run. Skipped when ``$BEARING_WORKBENCH_SCHEDULER`` names a scheduler.
- **Voilà** on 127.0.0.1 serving ``dashboards/``, token authentication on (Voilà has none by
  default), idle kernels culled, no preheated kernels (their widget updates sent before the page
  attaches are lost). Its config goes through a private config file, so the token is in no
  command line that ``ps`` shows. Its kernels get the scheduler address, workspace and database in
  their environment.
- this process, which prints the URLs and waits. On SIGINT/SIGTERM it stops Voilà (its kernels
  end), asks the runs still on the cluster to stop with a resumable checkpoint, marks those that do
  not end in time as failed (resubmit continues them) and closes the cluster.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

from bearing_workbench.config.settings import TOKEN_ENV
from bearing_workbench.config.settings import settings as environment

if TYPE_CHECKING:  # home.py is for the Voilà process, not for the app kernels that import serve.apps
    from bearing_workbench.serve.home import TokenSource

HOST = "127.0.0.1"
DEFAULT_PORT = 8866
APPS = ("wizard", "monitor", "results", "history")
# A page left open keeps its kernel (it is connected); a closed one frees it after this long.
DEFAULT_CULL_IDLE_TIMEOUT_S = 600
DEFAULT_CULL_INTERVAL_S = 60
DEFAULT_STOP_GRACE_S = 20.0
START_TIMEOUT_S = 120.0
SERVER_STOPPED_MESSAGE = "the workbench server stopped while it ran"
SERVER_STOPPED_HINT = "resubmit it: the run continues from its latest checkpoint"
# Federated JupyterLab extensions the apps do not use (Voilà loads every installed one otherwise).
UNUSED_EXTENSIONS = ("@voila-dashboards/jupyterlab-preview",)


TEMPLATE = "workbench"
# Holds voila/templates/workbench/: a Jupyter data directory put first on Voilà's JUPYTER_PATH.
DATA_DIR = Path(__file__).resolve().parent / "share"


def default_apps_dir() -> Path:
    """The ``dashboards/`` folder of the source tree this package runs from."""
    return Path(__file__).resolve().parent.parent.parent / "dashboards"


@dataclass(frozen=True)
class ServeSettings:
    """What `serve` needs; `token` empty means: generate one."""

    apps_dir: Path = field(default_factory=default_apps_dir)
    port: int = DEFAULT_PORT
    token: str = ""
    cull_idle_timeout_s: int = DEFAULT_CULL_IDLE_TIMEOUT_S
    cull_interval_s: int = DEFAULT_CULL_INTERVAL_S
    n_workers: int | None = None
    stop_grace_s: float = DEFAULT_STOP_GRACE_S

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port must be between 1 and 65535, got {self.port}")
        if self.cull_idle_timeout_s < 1 or self.cull_interval_s < 1:
            raise ValueError(
                "cull_idle_timeout_s and cull_interval_s must be at least 1 s, "
                f"got {self.cull_idle_timeout_s} and {self.cull_interval_s}"
            )
        if self.n_workers is not None and self.n_workers < 1:
            raise ValueError(f"n_workers must be at least 1, got {self.n_workers}")
        if self.token and (len(self.token) < 8 or not self.token.isprintable() or " " in self.token):
            raise ValueError("token must be at least 8 printable characters without spaces")


def resolve_token(given: str | None) -> tuple[str, bool]:
    """The token to use: `given`, else ``$BEARING_WORKBENCH_TOKEN``, else a new random one;
    returns (token, generated)."""
    token = (given or "").strip() or environment().token
    if token:
        return token, False
    return secrets.token_urlsafe(32), True


def token_source(settings: ServeSettings, generated: bool) -> TokenSource:
    """Where the token came from, for the login page (which never shows the token itself)."""
    if generated:
        return "generated"
    return "option" if settings.token else "environment"


def voila_config(settings: ServeSettings, token: str, source: TokenSource = "generated") -> dict[str, Any]:
    """The Voilà configuration (a voila.json document) for these settings."""
    return {
        "WorkbenchVoila": {"token_source": source},
        "Voila": {
            "ip": HOST,
            "port": settings.port,
            "port_retries": 0,  # the printed URL must be the served one
            "open_browser": False,
            "token": token,
            "root_dir": str(settings.apps_dir),
        },
        "VoilaConfiguration": {
            "template": TEMPLATE,
            "preheat_kernel": False,
            "show_tracebacks": False,
            "extension_denylist": list(UNUSED_EXTENSIONS),
        },
        "MappingKernelManager": {
            "cull_idle_timeout": settings.cull_idle_timeout_s,
            "cull_interval": settings.cull_interval_s,
            "cull_connected": False,
            "cull_busy": False,
        },
    }


def voila_command(apps_dir: Path, config_dir: Path) -> list[str]:
    """The command line starting Voilà (with the workbench's home and login pages, `voila_app`) with
    the config file in `config_dir` (and no other)."""
    return [
        sys.executable,
        "-m",
        "bearing_workbench.serve",
        "voila",
        str(apps_dir),
        f"--Voila.config_file_paths={config_dir}",
    ]


def app_urls(port: int, token: str, experiment_id: int | None = None) -> dict[str, str]:
    """URLs of the app list and of each app, with the token."""
    from bearing_workbench.config.app_links import app_url  # here: config's schemas stay out of app kernels

    base = f"http://{HOST}:{port}"
    urls = {"home": f"{base}/?token={quote(token)}"}
    render = f"{base}/voila/render/"
    for app in APPS:
        urls[app] = app_url(app, base=render, token=token)
    if experiment_id is not None:
        for app in ("monitor", "results"):
            urls[app] = app_url(app, base=render, experiment=experiment_id, token=token)
    return urls


def kernel_env(scheduler: str) -> dict[str, str]:
    """What the Voilà kernels must agree on with the cluster: scheduler, workspace, database."""
    from bearing_workbench.runner.cluster import SCHEDULER_ENV
    from bearing_workbench.store import workspace

    return {
        SCHEDULER_ENV: scheduler,
        # Absolute: a kernel runs in the apps folder, where ./workspace would be another one.
        workspace.WORKSPACE_ENV: str(workspace.workspace_root()),
        workspace.DB_URL_ENV: workspace.database_url(),
    }


# -- child processes ---------------------------------------------------------------------------


PR_SET_PDEATHSIG = 1


def _death_signal_setter() -> Callable[[], None] | None:
    """A function for the child between fork and exec: get SIGTERM when this process dies, even by
    SIGKILL (Linux prctl). Resolved here, in the parent: the child then only makes one C call (no
    import, no allocation under a lock another thread might hold at the fork)."""
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the children rely on the ordered shutdown only
        return None
    sigterm = int(signal.SIGTERM)
    return lambda: prctl(PR_SET_PDEATHSIG, sigterm)


def _spawn(command: list[str], **kwargs: Any) -> subprocess.Popen:
    # Own session: the terminal's Ctrl-C reaches only this process, which stops the children in order.
    return subprocess.Popen(command, start_new_session=True, preexec_fn=_death_signal_setter(), **kwargs)


def _end(proc: subprocess.Popen | None, timeout: float, sig: int | None = signal.SIGTERM) -> None:
    """Signal `proc` (None: only wait), wait `timeout` s, then kill its whole process group."""
    if proc is None or proc.poll() is not None:
        return
    try:
        if sig is not None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
        proc.wait(timeout)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        _kill(proc)


def _kill(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(10)


def start_cluster_process(
    n_workers: int | None, timeout: float = START_TIMEOUT_S
) -> tuple[subprocess.Popen, str]:
    """Start the cluster process; returns it and its scheduler address once the workers are up."""
    from bearing_workbench.runner.cluster import SCHEDULER_ENV

    command = [sys.executable, "-m", "bearing_workbench.serve", "cluster"]
    if n_workers is not None:
        command += ["--workers", str(n_workers)]
    env = {k: v for k, v in os.environ.items() if k != SCHEDULER_ENV}
    proc = _spawn(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    assert proc.stdout is not None
    line = _read_line(proc.stdout, timeout)
    try:
        address = json.loads(line)["scheduler"]
    except (ValueError, KeyError, TypeError):
        _end(proc, 10)
        raise RuntimeError(f"the Dask cluster did not start (exit status {proc.poll()})") from None
    return proc, str(address)


def _read_line(stream: TextIO, timeout: float) -> str:
    """The next line of `stream`, or "" when none comes within `timeout` s."""
    import selectors

    with selectors.DefaultSelector() as sel:
        sel.register(stream, selectors.EVENT_READ)
        if not sel.select(timeout):
            return ""
    return stream.readline().strip()


def cluster_main(argv: list[str]) -> int:
    """The cluster process: start a local cluster, print its address, hold it until stdin closes."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bearing_workbench.serve cluster")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)

    def leave(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGINT, leave)
    from bearing_workbench.runner.cluster import close_local_clusters, connect

    client = connect(n_workers=args.workers)
    try:
        client.wait_for_workers(args.workers or 1, timeout=START_TIMEOUT_S)
        print(json.dumps({"scheduler": client.scheduler.address}), flush=True)
        os.dup2(2, 1)  # nobody reads the pipe any more: later prints go to stderr
        sys.stdin.read()  # EOF: the serving process closed the pipe or died
    finally:
        close_local_clusters()
    return 0


# -- shutdown of the runs ------------------------------------------------------------------------


def stop_runs(scheduler: str, grace_s: float, out: Callable[[str], None] = print) -> list[int]:
    """Ask the runs still on this scheduler to stop with a checkpoint; wait up to `grace_s` for them;
    mark failed (resumable) those that did not end. Returns the ids of the runs that were live."""
    from bearing_workbench.store import InvalidTransition, RunStatus, Store, is_terminal

    store = Store()
    live_status = [RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.PENDING]
    candidates = [e.id for e in store.list_experiments(status=live_status, limit=None)]
    if not candidates:
        store.dispose()
        return []
    # Imported only now: the runner brings torch along, seconds of a shutdown with nothing to stop.
    from bearing_workbench.runner.control import stop
    from bearing_workbench.runner.launch import task_states
    from bearing_workbench.runner.remote_scheduler import scheduler_client

    with scheduler_client(scheduler, timeout_s=10) as client:
        # Only the runs of this cluster: another one (a notebook's) may share the store.
        states = task_states(client, candidates)
        ours = [i for i in candidates if states[i] is not None]
        for experiment_id in ours:
            with contextlib.suppress(InvalidTransition):
                stop(experiment_id, client=client, store=store)
        if ours:
            out(f"stopping {len(ours)} run(s) with a checkpoint: " + ", ".join(map(str, ours)))
        deadline = time.monotonic() + grace_s
        left = list(ours)
        while left and time.monotonic() < deadline:
            time.sleep(0.2)
            left = [i for i in left if not is_terminal(store.get_experiment(i).status)]
    for experiment_id in left:
        with contextlib.suppress(InvalidTransition):
            store.transition(experiment_id, "fail", error=SERVER_STOPPED_MESSAGE, hint=SERVER_STOPPED_HINT)
            store.add_event(experiment_id, "failed", SERVER_STOPPED_MESSAGE)
    store.dispose()
    return ours


# -- the server ----------------------------------------------------------------------------------


class _Shutdown(KeyboardInterrupt):
    """Raised in the main thread by the first SIGINT/SIGTERM (a KeyboardInterrupt: every wait of the
    shutdown gives up on it and kills instead)."""


@contextlib.contextmanager
def _shutdown_signals() -> Iterator[None]:
    def force(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    def shutdown(signum: int, frame: Any) -> None:
        # A second signal during the shutdown skips the waits (the children are killed instead).
        signal.signal(signal.SIGINT, force)
        signal.signal(signal.SIGTERM, force)
        raise _Shutdown(signal.Signals(signum).name)

    previous = {s: signal.signal(s, shutdown) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _wait_listening(proc: subprocess.Popen, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((HOST, port)) == 0:
                return True
        time.sleep(0.1)
    return False


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def _shut_down(
    voila: subprocess.Popen | None,
    cluster: subprocess.Popen | None,
    scheduler: str,
    settings: ServeSettings,
    out: Callable[[str], None],
) -> None:
    """Voilà first (its kernels end), then the runs of the cluster, then the cluster."""
    _end(voila, 30)
    if cluster is None or cluster.poll() is not None:
        return
    try:
        stop_runs(scheduler, settings.stop_grace_s, out)
    except KeyboardInterrupt:
        out("not waiting for the runs")
    except Exception as exc:  # the cluster must be closed all the same
        out(f"could not stop the runs cleanly: {exc}")
    assert cluster.stdin is not None
    with contextlib.suppress(OSError):
        cluster.stdin.close()  # the cluster process closes the cluster and exits
    _end(cluster, 30, sig=None)


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)


def mark_lost_runs(out: Callable[[str], None] = print) -> list[int]:
    """Mark lost the runs whose workers stopped answering while nothing was watching (`Store.mark_lost`),
    saying which; returns their ids."""
    from bearing_workbench.store import Store

    with Store() as store:
        lost = store.mark_lost()
    if lost:
        ids = ", ".join(map(str, lost))
        out(f"Marked lost (their workers stopped answering): experiment {ids}; retry resumes each one")
    return lost


def serve(settings: ServeSettings, out: Callable[[str], None] = print) -> int:
    """Serve the apps until SIGINT/SIGTERM (or Voilà ends); returns the exit status."""
    from bearing_workbench.runner.cluster import SCHEDULER_ENV

    apps_dir = settings.apps_dir.resolve()
    if not apps_dir.is_dir() or not any(apps_dir.glob("*.ipynb")):
        _error(f"{apps_dir} holds no notebook: give the folder of the Voilà apps (--apps)")
        return 2
    if not _port_free(settings.port):
        _error(f"port {settings.port} on {HOST} is in use: choose another one with --port")
        return 2
    token, generated = resolve_token(settings.token)
    mark_lost_runs(out)
    cluster = voila = None
    scheduler = environment().scheduler
    with _shutdown_signals(), tempfile.TemporaryDirectory(prefix="bearing-workbench-voila-") as tmp:
        try:
            if scheduler:
                out(f"Dask scheduler: {scheduler} (from {SCHEDULER_ENV})")
            else:
                cluster, scheduler = start_cluster_process(settings.n_workers)
                out(f"Dask cluster:   {scheduler} (local, shared by every app; for the CLI in another")
                out(f"                terminal: export {SCHEDULER_ENV}={scheduler})")
            config_dir = Path(tmp)
            document = voila_config(settings, token, token_source(settings, generated))
            _write_private(config_dir / "voila.json", json.dumps(document, indent=2))
            env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
            env.update(kernel_env(scheduler))
            env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(DATA_DIR), env.get("JUPYTER_PATH")]))
            voila = _spawn(voila_command(apps_dir, config_dir), env=env, cwd=apps_dir)
            if not _wait_listening(voila, settings.port, START_TIMEOUT_S):
                _error(f"Voilà did not start (exit status {voila.poll()}); see its messages above")
                return 1
            urls = app_urls(settings.port, token)
            of_run = {
                app: url.replace("=0&", "=<id>&")
                for app, url in app_urls(settings.port, token, experiment_id=0).items()
            }
            out("")
            out(f"Bearing Workbench is serving at {urls['home']}")
            out(f"  configure and launch: {urls['wizard']}")
            out(f"  watch a run:          {of_run['monitor']}")
            out(f"  study its results:    {of_run['results']}")
            out(f"  every experiment:     {urls['history']}")
            if not generated:
                out(f"  (token from {'--token' if settings.token else TOKEN_ENV})")
            out("Press Ctrl-C to stop.")
            return voila.wait()
        except _Shutdown as why:
            out(f"{why}: shutting down")
            return 0
        finally:
            _shut_down(voila, cluster, scheduler, settings, out)
