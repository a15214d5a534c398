"""Long work in a request step never holds the audit chain's lock.

Reading a large organization datastore into the answer package takes seconds to minutes. If the step's
transaction has already appended to the audit chain by then, it holds the head row's lock (PostgreSQL
row lock, SQLite write lock) for the whole read, and every other writer waits: the API calls that audit,
each holding a pooled connection while it waits, exhausted the pool under 20 concurrent requests. The
probe below appends an audit entry from another connection, with a short lock timeout, while the
package reads the datastore; it must not wait."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.law.requests import RequestKind
from mamoru.requests import package as package_module
from mamoru.workspace import Workspace
from tests.requests_helpers import approve_and_run, load_office, package, person, verified
from tests.test_connectors import CASES, fill


def _impatient_engine(url: str) -> Any:
    """A second connection to the workspace database that gives up on a held lock within 0.3 s."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _short_wait(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA busy_timeout=300")
        else:
            cursor.execute("SET lock_timeout = '300ms'")
        cursor.close()
        if engine.dialect.name != "sqlite":
            dbapi_conn.commit()

    return engine


def test_reading_a_datastore_into_the_package_leaves_the_audit_chain_free(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = load_office(workspace)
    email = person(plan, "customer").values["email"]
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    fill(url, subject=email)
    monkeypatch.setenv("SHOP_DATABASE_URL", url)
    folder = workspace.settings.home / "datasets"
    folder.mkdir(exist_ok=True)
    (folder / "shop.yaml").write_text((CASES / "shop.yaml").read_text(encoding="utf-8"), encoding="utf-8")

    other = _impatient_engine(workspace.settings.resolved_database_url)
    probes: list[int] = []
    original = package_module._datastores

    def reading_while_another_writer_appends(*args: Any, **kwargs: Any) -> Any:
        with other.begin() as conn:  # fails with "database is locked" / lock timeout if the lock is held
            probes.extend(append(conn, [AuditEvent(actor="system:probe", action="probe.append")]))
        return original(*args, **kwargs)

    monkeypatch.setattr(package_module, "_datastores", reading_while_another_writer_appends)
    try:
        disclosed = verified(workspace, RequestKind.DISCLOSURE, email)
        assert approve_and_run(workspace, disclosed, fee_received=True) == "completed"
    finally:
        other.dispose()
    assert len(probes) == 1
    members = package(workspace, disclosed)
    assert members["datastores/shop/orders.jsonl"].count(b"\n") == 2
    with workspace.db.engine.connect() as conn:
        assert (
            conn.execute(text("SELECT count(*) FROM audit_entries WHERE seq = :s"), {"s": probes[0]}).scalar()
            == 1
        )
