"""Fixtures for the store tests: one store per test, on SQLite and on PostgreSQL.

PostgreSQL comes from the session fixture `postgres_url` (tests/conftest.py): the server named by
BEARING_WORKBENCH_TEST_PG_URL, else a throwaway local one; its cases skip, with the reason, when
there is neither or when BEARING_WORKBENCH_TEST_NO_PG=1.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bearing_workbench.store import Store

# The PostgreSQL cases skip through the postgres_url fixture, which knows why.
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(autouse=True)
def _no_store_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own settings must not redirect the tests to their real database or workspace.
    monkeypatch.delenv("BEARING_WORKBENCH_DB_URL", raising=False)
    monkeypatch.delenv("BEARING_WORKBENCH_WORKSPACE", raising=False)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "ws"


@pytest.fixture(params=BACKENDS)
def new_database(request: pytest.FixtureRequest, workspace: Path) -> Iterator[Callable[[str], str]]:
    """Makes URLs of fresh, empty databases on this test's backend (a new file, or a new PostgreSQL
    schema), all removed after the test."""
    if request.param == "sqlite":

        def make_file(name: str) -> str:
            workspace.mkdir(parents=True, exist_ok=True)
            return f"sqlite:///{workspace / f'{name}.db'}"

        yield make_file
        return
    pg_url: str = request.getfixturevalue("postgres_url")
    admin = create_engine(pg_url)
    schemas: list[str] = []

    def make(name: str) -> str:
        schema = f"bw_test_{uuid.uuid4().hex[:12]}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        schemas.append(schema)
        return (
            make_url(pg_url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )

    try:
        yield make
    finally:
        with admin.begin() as conn:
            for schema in schemas:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db_url(new_database: Callable[[str], str]) -> str:
    """A database URL of a fresh, empty database (the workspace's `workbench.db` on SQLite)."""
    return new_database("workbench")


@pytest.fixture
def store(db_url: str, workspace: Path) -> Iterator[Store]:
    s = Store(url=db_url, workspace=workspace)
    yield s
    s.dispose()


@pytest.fixture
def sqlite_store(workspace: Path) -> Iterator[Store]:
    s = Store(url=f"sqlite:///{workspace / 'workbench.db'}", workspace=workspace)
    yield s
    s.dispose()
