"""Shared fixtures: workspaces on SQLite and PostgreSQL, the reference policy, an app client."""

from __future__ import annotations

import itertools
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from mamoru.policy.load import LoadedPolicy, load_pack
from mamoru.settings import Settings
from mamoru.setup import initialize
from mamoru.store.db import Database
from mamoru.vault.keys import MasterKey
from mamoru.workspace import Workspace
from tests import pg_scratch
from tests.test_serve_e2e import MAMORU, _env, _free_port, start_serving

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
    pg_scratch.admin(f'CREATE DATABASE "{name}"')
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        pg_scratch.JANITOR.finish()  # every test's database, dropped while the tests went on
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_template(pg_server: str) -> str:
    """The session's database migrated to head once; each test gets a copy (much faster than migrating)."""
    db = Database(pg_server)
    db.migrate()
    db.dispose()
    return pg_server


_copies = itertools.count()


@pytest.fixture
def pg_url(pg_template: str, request: pytest.FixtureRequest) -> str:
    """A fresh PostgreSQL database for one test: a copy of the migrated template, dropped afterwards."""
    return _pg_copy(pg_template, request)


@pytest.fixture
def pg_url2(pg_template: str, request: pytest.FixtureRequest) -> str:
    """A second fresh PostgreSQL database for tests that need two (backup from one, restore into the other)."""
    return _pg_copy(pg_template, request)


def _pg_copy(template_url: str, request: pytest.FixtureRequest, *, base: str | None = None) -> str:
    """A new database copied from ``template_url``'s, dropped (in the background) after the test."""
    base = base or template_url
    name = f"{base.rsplit('/', 1)[1]}_{next(_copies)}"
    pg_scratch.admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_url.rsplit("/", 1)[1]}"')
    request.addfinalizer(lambda: pg_scratch.JANITOR.drop(name))
    return base.rsplit("/", 1)[0] + "/" + name


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


#: ``MAMORU_TEST_DB=postgresql`` runs the whole suite with every workspace on PostgreSQL (`make test`
#: runs the suite once on SQLite and once so).
ON_POSTGRES = os.environ.get("MAMORU_TEST_DB", "sqlite") == "postgresql"
#: A test about the SQLite file itself (its mode, a copy of it), which has no meaning on PostgreSQL.
sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="about the SQLite database file itself")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL run takes only the tests whose workspace it moves to PostgreSQL.

    Every test runs in the SQLite run. A test that never takes the ``settings`` fixture (directly or
    through ``workspace``) would do exactly the same again, and one that takes ``db_url`` already ran
    on both databases there; the PostgreSQL run leaves both out rather than repeat them.
    """
    if not ON_POSTGRES:
        return
    keep: list[pytest.Item] = []
    repeats: list[pytest.Item] = []
    for item in items:
        names = getattr(item, "fixturenames", ())
        (keep if "settings" in names and "db_url" not in names else repeats).append(item)
    if repeats:
        config.hook.pytest_deselected(items=repeats)
        items[:] = keep


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Settings:
    """Settings for a workspace in a temporary folder (environment pointed at it too, for the CLI)."""
    home = tmp_path / "ws"
    for var in ("MAMORU_DATABASE_URL", "MAMORU_KEY_FILE", "MAMORU_MASTER_KEY", "MAMORU_POLICY_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MAMORU_HOME", str(home))
    if ON_POSTGRES:
        if "workspace" in request.fixturenames:
            # the test's workspace will be a copy of the initialized one: its database is made so at once
            initialized, _ = request.getfixturevalue("pg_initialized")
            url = _pg_copy(initialized, request, base=request.getfixturevalue("pg_template"))
            _FROM_INITIALIZED.add(url)
        else:
            url = str(request.getfixturevalue("pg_url"))
        monkeypatch.setenv("MAMORU_DATABASE_URL", url)
        return Settings(home=home, database_url=url)
    return Settings(home=home)


#: Test databases made as copies of the initialized one (``settings`` for a test that takes ``workspace``).
_FROM_INITIALIZED: set[str] = set()


@pytest.fixture(scope="session")
def sqlite_initialized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace initialized once per test process; each test's ``workspace`` is a copy of its files
    (initializing is the slowest part of most tests' set-up)."""
    home = tmp_path_factory.mktemp("initialized") / "ws"
    initialize(Settings(home=home, database_url=None))
    return home


@pytest.fixture(scope="session")
def pg_initialized(pg_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The same on PostgreSQL: an initialized database (a template for each test's) and its home."""
    template = pg_template.rsplit("/", 1)[1]
    name = f"{template}_initialized"
    pg_scratch.admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = pg_template.rsplit("/", 1)[0] + "/" + name
    home = tmp_path_factory.mktemp("initialized-pg") / "ws"
    initialize(Settings(home=home, database_url=url))
    yield url, home
    pg_scratch.JANITOR.drop(name)


@pytest.fixture
def workspace(settings: Settings, request: pytest.FixtureRequest) -> Iterator[Workspace]:
    """An initialized workspace: a copy of one initialized once per process (files, and on PostgreSQL
    the database too), exactly as ``initialize`` leaves it."""
    if ON_POSTGRES:
        url, home = request.getfixturevalue("pg_initialized")
        if settings.database_url not in _FROM_INITIALIZED:  # asked for late (getfixturevalue): copy it now
            pg_scratch.replace(str(settings.database_url).rsplit("/", 1)[1], url.rsplit("/", 1)[1])
    else:
        home = request.getfixturevalue("sqlite_initialized")
    shutil.copytree(home, settings.home)
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


# --- a real SMTP server on loopback and a real mamoru server (request and browser tests) -------

SEED = 3


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def wait_for(self, to: str, count: int = 1, timeout: float = 15) -> Message:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.messages if m["To"] == to]
            if len(found) >= count:
                return found[count - 1]
            time.sleep(0.05)
        raise AssertionError(f"no mail number {count} to the requester arrived")


def _body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


#: The home of a workspace that `mamoru init` and `mamoru demo --seed SEED` made in this process, and the
#: demo staff password the command printed: later servers of the process serve a copy of it.
_SERVED: list[tuple[Path, str]] = []


@pytest.fixture
def server(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, smtp: tuple[Inbox, int]
) -> Iterator[tuple[str, str]]:
    """A real `mamoru serve` over the demo organization of ``SEED``, mailing through ``smtp``. The first
    server of a test process has its workspace made by the real commands (`mamoru init`, `mamoru demo`);
    each later one gets a fresh copy of those files (the demo takes far longer than the copy)."""
    env = _env(tmp_path / "ws")
    env["MAMORU_SMTP_HOST"] = "127.0.0.1"
    env["MAMORU_SMTP_PORT"] = str(smtp[1])
    port = _free_port()
    env["MAMORU_BASE_URL"] = f"http://127.0.0.1:{port}"
    if _SERVED:
        kept, password = _SERVED[0]
        shutil.copytree(kept, tmp_path / "ws")
    else:
        assert subprocess.run([*MAMORU, "init"], env=env, capture_output=True, timeout=120).returncode == 0
        demo = subprocess.run(
            [*MAMORU, "demo", "--seed", str(SEED)], env=env, capture_output=True, text=True, timeout=180
        )
        assert demo.returncode == 0, demo.stderr
        found = re.search(r"sign in to /console/ with: (\S+)", demo.stdout)
        assert found is not None
        password = found.group(1)
        kept = tmp_path_factory.mktemp("served") / "ws"
        shutil.copytree(tmp_path / "ws", kept)
        _SERVED.append((kept, password))
    process = start_serving(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        yield base, password
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
        assert "Traceback" not in output, output[-3000:]
