"""The guard over the database: fresh state at every decision, audited, and the same across processes."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mamoru.audit.chain import head
from mamoru.audit.query import entries_for
from mamoru.audit.verification import verify
from mamoru.guard.decision import Action, Reason
from mamoru.guard.service import decide_and_record
from mamoru.ledger.consent import ConsentScope, give_consent, withdraw_consent
from mamoru.ledger.tables import Acquisition, Cessation
from mamoru.people.tables import Staff, StaffRole
from mamoru.settings import Settings
from mamoru.setup import initialize
from mamoru.workspace import Workspace
from tests.demo_copies import demo_copy


def customer(ws: Workspace) -> str:
    with ws.db.session() as session:
        return str(
            session.scalar(
                select(Acquisition.subject_id)
                .where(Acquisition.channel_id == "ch-services")
                .order_by(Acquisition.id)
            )
        )


def ask(ws: Workspace, subject: str, actor: str = "staff:sa01", purpose: str = "services", **kw):  # type: ignore[no-untyped-def]
    with ws.db.session() as session:
        (decision,) = decide_and_record(
            session,
            ws.policy,
            actor=actor,
            purpose=purpose,
            subjects=[subject],
            categories=kw.pop("categories", ["contact"]),
            action=kw.pop("action", Action.READ),
            now=kw.pop("now", datetime.now(UTC)),
            **kw,
        )
    return decision


@pytest.fixture
def demo(workspace: Workspace) -> Workspace:
    demo_copy(workspace, 4)
    return workspace


def test_decisions_see_state_changes_at_once_and_are_audited(demo: Workspace) -> None:
    subject = customer(demo)
    assert ask(demo, subject).allow
    assert ask(demo, subject, purpose="announcements").reasons == (Reason.NOT_ACQUIRED_FOR_PURPOSE,)
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
    assert ask(demo, subject, purpose="announcements").reasons == (Reason.CONSENT_BEYOND_PURPOSE,)
    with demo.db.session() as session:
        withdraw_consent(session, consent.id, channel="web", actor="staff:po01", now=datetime.now(UTC))
    assert not ask(demo, subject, purpose="announcements").allow
    with demo.db.session() as session:
        session.add(
            Cessation(subject_id=subject, kind="stop_use", purpose="services", source_ref="request:1")
        )
    assert ask(demo, subject).reasons == (Reason.USE_STOPPED,)
    with demo.db.session() as session:
        entries = entries_for(session, "subject", subject)
    decisions = [e for e in entries if e.body["action"] == "decision.read"]
    assert [e.body["decision"] for e in decisions] == ["allow", "deny", "allow", "deny", "deny"]
    assert decisions[-1].body["reasons"] == ["use_stopped", "rule:subject.stopped_use"]


def test_role_removal_and_training_lapse_take_effect_at_the_next_decision(demo: Workspace) -> None:
    subject = customer(demo)
    assert ask(demo, subject).allow
    with demo.db.session() as session:
        staff = session.scalar(select(Staff).where(Staff.login == "sa01"))
        assert staff is not None
        staff.training_completed_at = datetime.now(UTC) - timedelta(days=366)
    assert ask(demo, subject).reasons == (Reason.TRAINING_LAPSED,)
    with demo.db.session() as session:
        staff = session.scalar(select(Staff).where(Staff.login == "sa01"))
        assert staff is not None
        staff.training_completed_at = datetime.now(UTC)
        session.execute(
            StaffRole.__table__.delete().where(StaffRole.staff_id == staff.id, StaffRole.role == "sales")
        )
    assert ask(demo, subject).reasons == (Reason.ROLE_LACKS_PURPOSE,)


def test_unknown_actor_is_denied(demo: Workspace) -> None:
    assert ask(demo, customer(demo), actor="staff:nobody").reasons == (Reason.ACTOR_INACTIVE,)


def test_batch_decisions_are_audited_as_groups(demo: Workspace) -> None:
    subject = customer(demo)
    with demo.db.session() as session:
        decisions = decide_and_record(
            session,
            demo.policy,
            actor="staff:sa01",
            purpose="services",
            subjects=[subject, "no-such-subject", subject],
            categories=["contact"],
            action=Action.READ,
            now=datetime.now(UTC),
        )
        size, _ = head(session)
    assert [d.allow for d in decisions] == [True, False, True]
    assert verify(demo.db, None).entries == size


@pytest.mark.postgres
def test_a_change_made_by_one_process_is_seen_by_the_guard_in_another(pg_url: str, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "ws", database_url=pg_url)
    initialize(settings)
    ws = Workspace.open(settings)
    try:
        demo_copy(ws, 2)
        subject = customer(ws)
    finally:
        ws.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORU_")}
    env.update({"MAMORU_HOME": str(tmp_path / "ws"), "MAMORU_DATABASE_URL": pg_url})
    command = [sys.executable, "-m", "mamoru.cli.main", "guard", "check", "--actor", "staff:sa01",
               "--purpose", "services", "--subject", subject, "--category", "contact"]  # fmt: skip
    assert subprocess.run(command, env=env, capture_output=True, timeout=120).returncode == 0
    ws = Workspace.open(settings)
    try:
        with ws.db.session() as session:
            session.add(Cessation(subject_id=subject, kind="stop_use", purpose=None, source_ref="request:2"))
    finally:
        ws.close()
    denied = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert denied.returncode == 1 and "use_stopped" in denied.stdout
