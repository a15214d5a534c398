"""Shared fixtures: workspaces on SQLite and PostgreSQL, the reference policy, an app client."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from mamoru.policy.load import LoadedPolicy, load_pack
from mamoru.settings import Settings
from mamoru.store.db import Database
from mamoru.vault.keys import MasterKey
from mamoru.workspace import Workspace, initialize

PG_ADMIN_URL = os.environ.get("MAMORU_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"
CASES = Path(__file__).parent / "policy_cases"


def _postgres_or_skip() -> None:
    import psycopg

    try:
        psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL unreachable at {PG_ADMIN_URL} under CI=true: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc}")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    _postgres_or_skip()
    import psycopg

    name = f"mamoru_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = PG_ADMIN_URL.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """The session's PostgreSQL database, emptied before each test."""
    import psycopg

    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    yield pg_server


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def reference() -> LoadedPolicy:
    return load_pack()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for a workspace in a temporary folder (environment pointed at it too, for the CLI)."""
    home = tmp_path / "ws"
    for var in ("MAMORU_DATABASE_URL", "MAMORU_KEY_FILE", "MAMORU_MASTER_KEY", "MAMORU_POLICY_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MAMORU_HOME", str(home))
    return Settings(home=home)


@pytest.fixture
def workspace(settings: Settings) -> Iterator[Workspace]:
    initialize(settings)
    ws = Workspace.open(settings)
    yield ws
    ws.close()


@pytest.fixture
def master_key() -> MasterKey:
    return MasterKey.generate()


@pytest.fixture
def any_workspace(settings: Settings, db_url: str) -> Iterator[Workspace]:
    """A workspace on SQLite and, as a second case, on PostgreSQL."""
    on = settings.model_copy(update={"database_url": None if db_url.startswith("sqlite") else db_url})
    initialize(on)
    ws = Workspace.open(on)
    yield ws
    ws.close()
