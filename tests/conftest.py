"""Session-wide fixtures: a real PostgreSQL server for the tests that need one."""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

PG_URL_ENV = "BEARING_WORKBENCH_TEST_PG_URL"
NO_PG_ENV = "BEARING_WORKBENCH_TEST_NO_PG"
# Debian runs the server as this user; PostgreSQL refuses to run as root.
PG_SYSTEM_USER = "postgres"


def no_pg_requested() -> bool:
    """True when BEARING_WORKBENCH_TEST_NO_PG asks to skip the PostgreSQL tests."""
    return os.environ.get(NO_PG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _version_key(bin_dir: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", Path(bin_dir).parent.name))


def _find_pg_bin_dir() -> Path | None:
    """The folder holding initdb and pg_ctl: Debian's newest /usr/lib/postgresql/<version>/bin, or PATH."""
    candidates = sorted(
        (d for d in glob.glob("/usr/lib/postgresql/*/bin") if Path(d, "initdb").is_file()),
        key=_version_key,
        reverse=True,
    )
    if candidates:
        return Path(candidates[0])
    initdb = shutil.which("initdb")
    if initdb and Path(initdb).with_name("pg_ctl").is_file():
        return Path(initdb).parent
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Cluster:
    """A throwaway PostgreSQL cluster in a temporary folder, run as `user` when running as root."""

    def __init__(self, bin_dir: Path, root: Path, user: str | None) -> None:
        self.bin_dir = bin_dir
        self.root = root
        self.data = root / "data"
        self.log = root / "server.log"
        self.user = user
        self.port = 0

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin_dir / tool), *args]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        # cwd: the caller's folder may be unreadable for the postgres user.
        done = subprocess.run(command, cwd=self.root, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(
                f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}{log}"
            )

    def init(self) -> None:
        # --no-sync and fsync=off: a test cluster need not survive a power cut, and this saves seconds.
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )

    def start(self) -> None:
        # The port is free when chosen but another process may take it first: try a few.
        for attempt in range(3):
            self.port = _free_port()
            settings = (
                f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            try:
                # -w: wait (pg_ctl's default 60 s at most) until the server accepts connections.
                self._run("pg_ctl", "start", "-w", "-D", str(self.data), "-l", str(self.log), "-o", settings)
                return
            except RuntimeError:
                if attempt == 2:
                    raise

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"


def _with_psycopg(url: str) -> str:
    # A plain postgresql:// URL would make SQLAlchemy look for psycopg2, which the test extra lacks.
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a PostgreSQL database the tests may use: BEARING_WORKBENCH_TEST_PG_URL, else a throwaway
    server started for this session, else the test is skipped with the reason."""
    if no_pg_requested():
        pytest.skip(f"{NO_PG_ENV} is set")
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[test]')")
    configured = os.environ.get(PG_URL_ENV, "").strip()
    if configured:
        yield _with_psycopg(configured)
        return
    bin_dir = _find_pg_bin_dir()
    if bin_dir is None:
        pytest.skip(
            f"PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian package "
            f"'postgresql' (./scripts/test.sh does so when run as root) or set {PG_URL_ENV}"
        )
    user = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam(PG_SYSTEM_USER)
        except KeyError:
            pytest.skip(f"running as root and there is no '{PG_SYSTEM_USER}' user to run PostgreSQL as")
        user = PG_SYSTEM_USER
    # In the system temp folder, not pytest's: the postgres user must be able to reach it.
    root = Path(tempfile.mkdtemp(prefix="bw-test-pg-"))
    cluster = _Cluster(bin_dir, root, user)
    try:
        if user is not None:
            os.chown(root, owner.pw_uid, owner.pw_gid)
        cluster.init()
        cluster.start()
        yield cluster.url
    finally:
        try:
            cluster.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)
