"""The guard's cached state (``guard.state``, ``store.versions``): every write to what the guard reads
changes a version stamp (database triggers), so a cached decision never outlives the state it was made on.

A write from "another process" is made here on a second engine through Core statements, which no session
event of this process sees: only the triggers' stamps can tell the cache."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update

from mamoru.audit.query import entries_for
from mamoru.guard.decision import Action, Reason
from mamoru.guard.service import Question, decide_and_record, decide_and_record_async
from mamoru.ledger.consent import ConsentScope, give_consent
from mamoru.ledger.tables import Acquisition, Cessation, Consent
from mamoru.people.tables import ApiClient
from mamoru.people.tokens import authenticate, authenticate_cached, issue_token
from mamoru.store import versions
from mamoru.store.db import Database
from mamoru.workspace import Workspace
from tests.demo_copies import demo_copy


@pytest.fixture
def demo(workspace: Workspace) -> Workspace:
    demo_copy(workspace, 4)
    return workspace


@pytest.fixture
def other(demo: Workspace) -> Iterator[Database]:
    """A second engine on the same database: its Core writes are invisible to this process's events."""
    db = Database(demo.db.url)
    yield db
    db.dispose()


def customer(ws: Workspace) -> str:
    with ws.db.session() as session:
        subject = session.scalar(
            select(Acquisition.subject_id)
            .where(Acquisition.channel_id == "ch-services")
            .order_by(Acquisition.id)
        )
    return str(subject)


def ask(ws: Workspace, subject: str, *, purpose: str = "services", now: datetime | None = None):  # type: ignore[no-untyped-def]
    with ws.db.session() as session:
        (decision,) = decide_and_record(
            session,
            ws.policy,
            actor="staff:sa01",
            purpose=purpose,
            subjects=[subject],
            categories=["contact"],
            action=Action.READ,
            now=now or datetime.now(UTC),
        )
    return decision


def after_the_check_interval() -> None:
    time.sleep(versions.CHECK_SECONDS * 3)


def test_appi_35_a_stop_written_by_another_process_is_honoured_by_the_cached_guard(
    demo: Workspace, other: Database
) -> None:
    subject = customer(demo)
    assert ask(demo, subject).allow  # now cached
    before = versions.stamps(demo.db.engine, check_seconds=0)["subjects"]
    with other.engine.begin() as conn:
        conn.execute(
            insert(Cessation).values(
                subject_id=subject, kind="stop_use", purpose="services", source_ref="x:1"
            )
        )
    assert versions.stamps(demo.db.engine, check_seconds=0)["subjects"] != before
    after_the_check_interval()
    assert ask(demo, subject).reasons == (Reason.USE_STOPPED,)


def test_a_role_taken_away_by_another_process_ends_the_cached_actor(demo: Workspace, other: Database) -> None:
    subject = customer(demo)
    assert ask(demo, subject).allow
    with other.engine.begin() as conn:
        conn.exec_driver_sql(
            "DELETE FROM staff_roles WHERE role = 'sales' AND staff_id = (SELECT id FROM staff WHERE login = 'sa01')"
        )
    after_the_check_interval()
    assert ask(demo, subject).reasons == (Reason.ROLE_LACKS_PURPOSE,)


def test_a_consent_withdrawn_for_a_later_time_ends_at_that_time_though_cached(demo: Workspace) -> None:
    subject = customer(demo)
    now = datetime.now(UTC)
    with demo.db.session() as session:
        consent = give_consent(
            session,
            subject_id=subject,
            scope=ConsentScope.BEYOND_PURPOSE,
            purpose="announcements",
            channel="web",
            evidence_ref="form:9",
            actor="staff:po01",
            now=now - timedelta(seconds=1),
        )
        session.flush()
        session.execute(
            update(Consent).where(Consent.id == consent.id).values(withdrawn_at=now + timedelta(hours=1))
        )
    assert ask(demo, subject, purpose="announcements", now=now).allow  # cached, holds until the withdrawal
    later = now + timedelta(hours=1, seconds=1)
    assert not ask(demo, subject, purpose="announcements", now=later).allow


def test_a_rolled_back_write_is_never_served_from_the_cache(demo: Workspace) -> None:
    subject = customer(demo)
    assert ask(demo, subject).allow
    with demo.db.sessions() as session:
        session.begin()
        session.add(Cessation(subject_id=subject, kind="stop_use", purpose="services", source_ref="x:2"))
        session.flush()
        (decision,) = decide_and_record(
            session,
            demo.policy,
            actor="staff:sa01",
            purpose="services",
            subjects=[subject],
            categories=["contact"],
            action=Action.READ,
            now=datetime.now(UTC),
        )
        assert decision.reasons == (Reason.USE_STOPPED,)  # its own write, read in its own transaction
        session.rollback()
    assert ask(demo, subject).allow
    after_the_check_interval()
    assert ask(demo, subject).allow


def test_a_token_revoked_by_another_process_stops_working(demo: Workspace, other: Database) -> None:
    now = datetime.now(UTC)
    with demo.db.session() as session:
        token = issue_token(
            session, "bench", scopes=["guard"], lifetime=timedelta(days=1), actor="staff:po01", now=now
        )[1]
    with demo.db.session() as session:
        assert authenticate(session, token, now) is not None  # now cached
    engine = demo.db.engine
    # the API's path: answered from the cache without a session while the stamps hold
    assert authenticate_cached(engine, token, now, versions.stamps(engine)) is not None
    with other.engine.begin() as conn:
        conn.execute(update(ApiClient).where(ApiClient.name == "bench").values(revoked_at=now))
    after_the_check_interval()
    assert authenticate_cached(engine, token, datetime.now(UTC), versions.stamps(engine)) is None
    with demo.db.session() as session:
        assert authenticate(session, token, datetime.now(UTC)) is None


def ask_async(ws: Workspace, subject: str):  # type: ignore[no-untyped-def]
    """The API's path: decided in the event loop from the cache, back once the audit entry is committed."""

    async def go():  # type: ignore[no-untyped-def]
        (decision,) = await decide_and_record_async(
            ws.db,
            ws.policy,
            actor="staff:sa01",
            purpose="services",
            question=Question([subject], ["contact"], Action.READ),
            now=datetime.now(UTC),
            writer=ws.audit_writer,
        )
        return decision

    return asyncio.run(go())


def test_appi_35_the_async_guard_answers_as_the_sync_one_and_honours_a_stop_from_another_process(
    demo: Workspace, other: Database
) -> None:
    subject = customer(demo)
    uncached = ask_async(demo, subject)  # nothing cached yet: read in a worker thread
    cached = ask_async(demo, subject)  # decided in the event loop, from the cache
    assert uncached == cached and (cached.allow, cached.rule) == (
        ask(demo, subject).allow,
        ask(demo, subject).rule,
    )
    with other.session() as session:  # durable when the call returned: another engine reads the entry
        decided = [e.body for e in entries_for(session, "subject", subject, limit=1000)]
    assert sum(b["action"] == "decision.read" for b in decided) >= 2
    with other.engine.begin() as conn:
        conn.execute(
            insert(Cessation).values(
                subject_id=subject, kind="stop_use", purpose="services", source_ref="x:2"
            )
        )
    after_the_check_interval()
    assert ask_async(demo, subject).reasons == (Reason.USE_STOPPED,)


def test_past_half_the_check_interval_one_caller_reads_the_stamps_again_while_the_others_go_on(
    demo: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = demo.db.engine
    clock = [1000.0]
    monkeypatch.setattr(versions, "time", type("Clock", (), {"monotonic": staticmethod(lambda: clock[0])}))
    reads: list[int] = []
    read = versions._Seen.read
    monkeypatch.setattr(versions._Seen, "read", lambda seen, e: reads.append(1) or read(seen, e))
    seen = versions._SEEN(engine)
    seen.checked_at = -1e18
    first = versions.stamps(engine)
    assert len(reads) == 1
    clock[0] += versions.CHECK_SECONDS * 0.4
    assert versions.stamps(engine) is first and len(reads) == 1  # fresh: nothing read
    clock[0] += versions.CHECK_SECONDS * 0.2
    with seen.lock:  # another caller is reading them: this one goes on with what it has
        assert versions.stamps(engine) is first and len(reads) == 1
    versions.stamps(engine)  # past half the interval and nobody reading: this caller reads
    assert len(reads) == 2
    clock[0] += versions.CHECK_SECONDS * 1.1
    versions.stamps(engine)  # past the interval: read before anything is served
    assert len(reads) == 3
