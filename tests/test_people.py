"""People and the PMS cycle: staff register, training, rules, entry/exit, complaints, legal register,
risks, controls, audits and the management review — each by its requirement ID."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mamoru.audit.tables import AuditEntry
from mamoru.errors import Invalid
from mamoru.guard.decision import Reason
from mamoru.incidents import signals
from mamoru.incidents.tables import Incident
from mamoru.ledger.tables import LedgerEntry
from mamoru.people import inquiries, rules, staff, training, zones
from mamoru.people.tables import Badge, ConsoleSession, Inquiry, Staff, ZoneGrant
from mamoru.pms import audits, controls, legal, review, risk
from mamoru.pms.check import nonconformities
from mamoru.policy.model import StaffRules
from mamoru.workspace import Workspace
from tests.demo_copies import demo_copy
from tests.test_guard_service import ask, customer

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
SHA = "a" * 64


@pytest.fixture
def demo(workspace: Workspace) -> Workspace:
    demo_copy(workspace, 4)
    return workspace


def _customer(ws: Workspace) -> str:
    return customer(ws)


def _read(ws: Workspace, subject: str):  # type: ignore[no-untyped-def]
    return ask(ws, subject)


# --- staff (APPI-24, JIS-4) -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["director", "employee", "dispatched", "part_time", "contractor"])
def test_appi_24_register_covers_every_kind_of_worker(workspace: Workspace, kind: str) -> None:
    with workspace.db.session() as session:
        staff.register(session, f"w_{kind}", kind=kind, department="sales", joined_on=TODAY, actor="cli")
    with workspace.db.session() as session:
        assert staff.get(session, f"w_{kind}").kind == kind


def test_appi_24_bad_staff_input_names_each_field_and_changes_nothing(workspace: Workspace) -> None:
    with workspace.db.session() as session, pytest.raises(Invalid) as caught:
        staff.register(
            session, "Taro Yamada", kind="intern", department="Sales!", joined_on=TODAY, actor="cli"
        )
    assert {p.field for p in caught.value.problems} == {"login", "kind", "department"}
    assert "Taro Yamada" not in str(caught.value)
    with workspace.db.session() as session:
        assert session.scalar(select(Staff).where(Staff.kind == "intern")) is None


def test_appi_24_no_pledge_means_no_personal_data_and_the_pledge_lifts_it(demo: Workspace) -> None:
    subject = _customer(demo)
    with demo.db.session() as session:
        member = staff.get(session, "sa01")
        member.pledge_signed_at = None
    assert _read(demo, subject).reasons == (Reason.PLEDGE_MISSING,)
    with demo.db.session() as session:
        staff.sign_pledge(session, "sa01", at=datetime.now(UTC), actor="staff:admin")
    assert _read(demo, subject).allow


def test_appi_24_leaving_today_revokes_every_grant_at_once(demo: Workspace) -> None:
    with demo.db.session() as session:
        member = staff.get(session, "sa01")
        zones.add_zone(session, "office", name_ja="事務室", name_en="Office", my_number=False, actor="cli")
        zones.allow(session, "office", "sa01", actor="cli")
        zones.issue_badge(session, demo.vault, "sa01", "B-1001", actor="cli")
        session.add(ConsoleSession(token_sha256="x" * 64, staff_id=member.id, csrf_token="c", expires_at=NOW))
    with demo.db.session() as session:
        assert staff.set_exit(session, "sa01", TODAY, actor="staff:admin", now=datetime.now(UTC))
    with demo.db.session() as session:
        member = staff.get(session, "sa01")
        assert member.role_names == [] and member.password_hash is None and member.revoked_at is not None
        assert session.scalar(select(ConsoleSession).where(ConsoleSession.staff_id == member.id)) is None
        assert session.scalar(select(ZoneGrant).where(ZoneGrant.staff_id == member.id)) is None
        assert all(b.revoked_at for b in session.scalars(select(Badge).where(Badge.staff_id == member.id)))
    assert _read(demo, _customer(demo)).reasons == (Reason.ACTOR_INACTIVE,)


def test_appi_24_an_exit_date_set_ahead_revokes_every_grant_by_the_next_sweep(demo: Workspace) -> None:
    later = TODAY + timedelta(days=10)
    with demo.db.session() as session:
        assert not staff.set_exit(session, "sa01", later, actor="staff:admin", now=NOW)
        assert staff.sweep_exits(session, now=NOW) == []
        assert staff.get(session, "sa01").role_names
    with demo.db.session() as session:
        assert staff.sweep_exits(session, now=NOW + timedelta(days=10)) == ["sa01"]
    with demo.db.session() as session:
        assert staff.get(session, "sa01").role_names == []
        assert staff.sweep_exits(session, now=NOW + timedelta(days=11)) == []  # idempotent
        with pytest.raises(Invalid):
            staff.grant(session, "sa01", "sales", actor="cli")


def test_jis_4_protection_manager_and_audit_manager_are_never_the_same_person(workspace: Workspace) -> None:
    with workspace.db.session() as session:
        with pytest.raises(Invalid, match="different people"):
            staff.grant(session, "admin", "audit_manager", actor="cli")
        with pytest.raises(Invalid, match="different people"):
            staff.register(
                session,
                "both01",
                kind="director",
                department="board",
                joined_on=TODAY,
                roles=["protection_manager", "audit_manager"],
                actor="cli",
            )
        staff.register(session, "am01", kind="employee", department="audit", joined_on=TODAY, actor="cli")
        staff.grant(session, "am01", "audit_manager", actor="cli")
        assert staff.get(session, "am01").role_names == ["audit_manager"]


def test_jis_4_an_auditor_does_not_audit_their_own_department(workspace: Workspace) -> None:
    with workspace.db.session() as session:
        staff.register(
            session,
            "au01",
            kind="employee",
            department="sales",
            joined_on=TODAY,
            roles=["auditor"],
            actor="cli",
        )
        with pytest.raises(Invalid, match="own department"):
            audits.plan(
                session,
                year=2026,
                department="sales",
                scope="PMS",
                auditor="au01",
                planned_on=TODAY,
                actor="cli",
            )
        staff.register(session, "nobody1", kind="employee", department="hr", joined_on=TODAY, actor="cli")
        with pytest.raises(Invalid, match="auditor or audit manager"):
            audits.plan(
                session,
                year=2026,
                department="sales",
                scope="PMS",
                auditor="nobody1",
                planned_on=TODAY,
                actor="cli",
            )
        row = audits.plan(
            session, year=2026, department="hr", scope="PMS", auditor="au01", planned_on=TODAY, actor="cli"
        )
        assert row.ref.startswith("IA-2026-")


# --- training (JIS-7) -------------------------------------------------------------------------------


def test_jis_7_lapsed_training_is_denied_by_the_guard_and_a_passed_session_allows_again(
    demo: Workspace,
) -> None:
    subject = _customer(demo)
    pass_score = demo.policy.policy.staff.training_pass_score
    with demo.db.session() as session:
        staff.get(session, "sa01").training_completed_at = datetime.now(UTC) - timedelta(days=366)
    assert _read(demo, subject).reasons == (Reason.TRAINING_LAPSED,)
    with demo.db.session() as session:
        assert "sa01" in training.overdue(session, today=datetime.now(UTC).date(), valid_days=365)
        plan = training.create_plan(
            session,
            year=2026,
            title="Annual privacy training",
            topics=["appi", "mynumber"],
            audience=[],
            actor="cli",
        )
        held = training.hold_session(
            session,
            plan.id,
            held_on=datetime.now(UTC).date(),
            title="e-learning",
            method="e_learning",
            actor="cli",
        )
        failed = training.record_attendance(
            session, held.id, "sa01", score=pass_score - 1, pass_score=pass_score, actor="cli"
        )
        assert not failed.passed
    assert _read(demo, subject).reasons == (Reason.TRAINING_LAPSED,)  # a fail renews nothing
    with demo.db.session() as session:
        again = training.hold_session(
            session,
            plan.id,
            held_on=datetime.now(UTC).date(),
            title="retake",
            method="e_learning",
            actor="cli",
        )
        assert training.record_attendance(
            session, again.id, "sa01", score=90, pass_score=pass_score, actor="cli"
        ).passed
    assert _read(demo, subject).allow
    with demo.db.session() as session:
        assert "sa01" not in training.overdue(session, today=datetime.now(UTC).date(), valid_days=365)
        view = next(v for v in training.plans(session) if v.plan.id == plan.id)
        assert view.attended == 1 and view.expected >= 1


def test_jis_7_the_validity_period_comes_from_the_policy(demo: Workspace) -> None:
    from mamoru.guard.engine import compile_policy

    policy = demo.policy.policy.model_copy(update={"staff": StaffRules(training_valid_days=180)})
    assert compile_policy(policy).training_valid == timedelta(days=180)
    with demo.db.session() as session:
        staff.get(session, "sa01").training_completed_at = NOW - timedelta(days=200)
        assert "sa01" in training.overdue(session, today=TODAY, valid_days=180)
        assert "sa01" not in training.overdue(session, today=TODAY, valid_days=365)


def test_jis_7_a_score_outside_0_to_100_is_refused(demo: Workspace) -> None:
    with demo.db.session() as session:
        plan = training.create_plan(session, year=2026, title="t", topics=["x"], audience=[], actor="cli")
        held = training.hold_session(session, plan.id, held_on=TODAY, title="s", method="video", actor="cli")
        with pytest.raises(Invalid, match="score"):
            training.record_attendance(session, held.id, "sa01", score=101, pass_score=70, actor="cli")


# --- internal rules (JIS-6) -------------------------------------------------------------------------


def test_jis_6_a_register_missing_a_mandatory_topic_is_a_nonconformity_naming_it(
    workspace: Workspace,
) -> None:
    topics = sorted(rules.MANDATORY_TOPICS)
    with workspace.db.session() as session:
        staff.register(session, "pm02", kind="employee", department="privacy", joined_on=TODAY, actor="cli")
        doc = rules.draft(
            session,
            code="PMS-R01",
            version="1.0",
            title_ja="個人情報保護規程",
            title_en="Personal information protection rules",
            topics=[t for t in topics if t != "complaints"],
            sha256=SHA,
            actor="staff:pm02",
        )
        assert rules.status(session).missing_topics == topics  # a draft covers nothing yet
        with pytest.raises(Invalid, match="drafted"):
            rules.approve(session, doc.id, actor="staff:pm02", now=NOW)  # not a protection manager either
        rules.approve(session, doc.id, actor="staff:admin", now=NOW)
        assert rules.status(session).missing_topics == ["complaints"]
        second = rules.draft(
            session,
            code="PMS-R02",
            version="1.0",
            title_ja="苦情対応手順",
            title_en="Complaint procedure",
            topics=["complaints"],
            sha256=SHA,
            actor="staff:pm02",
        )
        rules.approve(session, second.id, actor="staff:admin", now=NOW)
        status = rules.status(session)
        assert status.missing_topics == []
        assert status.unacknowledged["pm02"] == ["PMS-R01", "PMS-R02"]
        for d in (doc, second):
            for login in ("pm02", "admin"):
                rules.acknowledge(session, d.id, login, now=NOW)
        assert rules.status(session).conforming


def test_jis_6_a_new_version_supersedes_the_old_and_needs_acknowledging_again(workspace: Workspace) -> None:
    with workspace.db.session() as session:
        staff.register(session, "pm03", kind="employee", department="privacy", joined_on=TODAY, actor="cli")
        kw = {
            "title_ja": "規程",
            "title_en": "Rules",
            "topics": ["training"],
            "sha256": SHA,
            "actor": "staff:pm03",
        }
        v1 = rules.draft(session, code="PMS-R01", version="1.0", **kw)  # type: ignore[arg-type]
        rules.approve(session, v1.id, actor="staff:admin", now=NOW)
        rules.acknowledge(session, v1.id, "admin", now=NOW)
        v2 = rules.draft(session, code="PMS-R01", version="2.0", **kw)  # type: ignore[arg-type]
        rules.approve(session, v2.id, actor="staff:admin", now=NOW + timedelta(days=1))
        assert [d.version for d in rules.in_force(session)] == ["2.0"]
        assert rules.status(session).unacknowledged["admin"] == ["PMS-R01"]
        with pytest.raises(Invalid, match="already registered"):
            rules.draft(session, code="PMS-R01", version="2.0", **kw)  # type: ignore[arg-type]


# --- entry and exit (APPI-23-phys) ------------------------------------------------------------------


def _zones(ws: Workspace) -> None:
    with ws.db.session() as session:
        zones.add_zone(
            session, "server_room", name_ja="サーバ室", name_en="Server room", my_number=False, actor="cli"
        )
        zones.add_zone(
            session, "payroll", name_ja="給与事務室", name_en="Payroll office", my_number=True, actor="cli"
        )
        zones.allow(session, "server_room", "sa01", actor="cli")
        zones.issue_badge(session, ws.vault, "sa01", "B-1001", actor="cli")
        zones.issue_badge(session, ws.vault, "hr01", "B-2002", actor="cli")


def test_appi_23_phys_an_unauthorized_badge_raises_an_alert_and_an_incident_draft(demo: Workspace) -> None:
    _zones(demo)
    events = [
        zones.DoorEventIn("e1", "server_room", "B-1001", NOW, "in", True),
        zones.DoorEventIn("e2", "server_room", "B-2002", NOW + timedelta(minutes=1), "in", True),
    ]
    with demo.db.session() as session:
        result = signals.door_events(session, demo.vault, events, source="door-a", actor="api:doors", now=NOW)
    assert result.outcomes == {"ok": 1, "unauthorized": 1} and result.incident_ref
    with demo.db.session() as session:
        incident = session.scalar(select(Incident).where(Incident.ref == result.incident_ref))
        assert incident is not None and incident.status == "draft" and incident.source == "signal:entry_exit"
        # a resend of the same events is not a second alert
        again = signals.door_events(session, demo.vault, events, source="door-a", actor="api:doors", now=NOW)
        assert again.duplicates == len(events) and again.incident_ref is None


@pytest.mark.parametrize(
    ("badge", "authenticated", "outcome"),
    [("", False, "unauthenticated"), ("B-9999", True, "unknown_badge"), ("B-2002", True, "unauthorized")],
)
def test_appi_23_phys_unauthenticated_unknown_and_unauthorized_entries_alert(
    demo: Workspace, badge: str, authenticated: bool, outcome: str
) -> None:
    _zones(demo)
    with demo.db.session() as session:
        result = signals.door_events(
            session,
            demo.vault,
            [zones.DoorEventIn("x1", "server_room", badge, NOW, "in", authenticated)],
            source="door-b",
            actor="cli",
            now=NOW,
        )
    assert result.outcomes == {outcome: 1} and result.incident_ref


def test_appi_23_phys_zone_report_lists_entries_and_exits_with_the_authenticated_identity(
    demo: Workspace,
) -> None:
    _zones(demo)
    text = (
        "event_id,zone,badge,at,direction,authenticated\n"
        "r1,server_room,B-1001,2026-11-25T09:00:00+09:00,in,true\n"
        "r2,server_room,B-1001,2026-11-25T09:30:00+09:00,out,true\n"
        "r3,server_room,,2026-11-25T10:00:00+09:00,in,false\n"
    )
    with demo.db.session() as session:
        zones.ingest(session, demo.vault, zones.parse_csv(text), source="csv", actor="cli", now=NOW)
        lines = zones.report(session, since=NOW - timedelta(days=1), until=NOW + timedelta(days=1))
    assert [(line.direction, line.who, line.outcome) for line in lines] == [
        ("in", "sa01", "ok"),
        ("out", "sa01", "ok"),
        ("in", "—", "unauthenticated"),
    ]


def test_appi_23_phys_a_bad_csv_line_is_reported_by_line_and_nothing_is_read(demo: Workspace) -> None:
    _zones(demo)
    text = "event_id,zone,badge,at,direction,authenticated\nr1,server_room,B-1001,yesterday,in,true\n"
    with pytest.raises(Invalid, match=r"line 2\.at"):
        zones.parse_csv(text)
    with demo.db.session() as session, pytest.raises(Invalid, match="zone"):
        zones.ingest(
            session,
            demo.vault,
            [zones.DoorEventIn("z", "attic", "B-1001", NOW, "in", True)],
            source="s",
            actor="cli",
            now=NOW,
        )


def test_mn_7_a_my_number_zone_admits_only_my_number_handlers(demo: Workspace) -> None:
    _zones(demo)
    with demo.db.session() as session:
        with pytest.raises(Invalid, match="My Number"):
            zones.allow(session, "payroll", "sa01", actor="cli")
        handler = next(s.login for s in session.scalars(select(Staff)) if "my_number_handler" in s.role_names)
        zones.allow(session, "payroll", handler, actor="cli")


# --- inquiries and complaints (APPI-40) -------------------------------------------------------------

RULES = StaffRules()


def _complaint(ws: Workspace, text: str = "案内メールが止まりません 山田太郎 taro@example.jp") -> str:
    with ws.db.session() as session:
        q = inquiries.receive(
            session,
            ws.vault,
            inquiries.InquiryIn("complaint", "portal", "contact", "山田太郎", "taro@example.jp", text),
            rules=RULES,
            actor="portal",
            now=NOW,
        )
        return q.ref


def test_appi_40_closing_a_complaint_without_recorded_actions_is_refused(workspace: Workspace) -> None:
    ref = _complaint(workspace)
    with workspace.db.session() as session:
        q = inquiries.get(session, ref)
        with pytest.raises(Invalid, match="actions"):
            inquiries.close(session, q, outcome="resolved", actor="staff:admin", now=NOW)
    with workspace.db.session() as session:
        q = inquiries.get(session, ref)
        assert q.closed_at is None
        inquiries.add_action(
            session,
            workspace.vault,
            q,
            kind="response",
            note="Called back; stopped the mail.",
            actor="staff:admin",
            now=NOW + timedelta(hours=2),
        )
        inquiries.close(session, q, outcome="resolved", actor="staff:admin", now=NOW + timedelta(days=1))
        assert q.first_response_at is not None and q.outcome == "resolved"


def test_appi_40_targets_come_from_the_policy_and_contents_are_sealed(workspace: Workspace) -> None:
    ref = _complaint(workspace)
    with workspace.db.session() as session:
        q = inquiries.get(session, ref)
        assert q.first_response_due.date() == date(2026, 11, 30)  # 3 business days after a Wednesday
        assert q.close_due - q.received_at == timedelta(days=30)
        assert b"taro@example.jp" not in q.sealed
        assert inquiries.contents(workspace.vault, q)["contact"] == "taro@example.jp"
        bodies = b"".join(e.leaf for e in session.scalars(select(AuditEntry)))
    assert b"taro" not in bodies and "山田".encode() not in bodies


def test_appi_40_monthly_statistics_count_inquiries_complaints_and_late_answers(workspace: Workspace) -> None:
    _complaint(workspace)
    with workspace.db.session() as session:
        inquiries.receive(
            session,
            workspace.vault,
            inquiries.InquiryIn("inquiry", "phone", "notice", "", "", "How long do you keep my data?"),
            rules=RULES,
            actor="staff:admin",
            now=NOW - timedelta(days=40),
        )
        months = inquiries.monthly_stats(session, since=date(2026, 10, 1), until=date(2026, 12, 1))
    assert [(m.month, m.inquiries, m.complaints) for m in months] == [("2026-10", 1, 0), ("2026-11", 0, 1)]
    assert months[0].first_response_late == 1  # never answered, long past its target


def test_appi_40_bad_input_names_fields_without_echoing_values(workspace: Workspace) -> None:
    with workspace.db.session() as session, pytest.raises(Invalid) as caught:
        inquiries.receive(
            session,
            workspace.vault,
            inquiries.InquiryIn("praise", "fax", "other", "山田太郎", "taro@example.jp", ""),
            rules=RULES,
            actor="portal",
            now=NOW,
        )
    assert {p.field for p in caught.value.problems} == {"kind", "channel", "text"}
    assert "taro" not in str(caught.value)
    with workspace.db.session() as session:
        assert session.scalar(select(Inquiry)) is None


# --- the PMS cycle ----------------------------------------------------------------------------------


def test_jis_2_a_register_entry_past_its_review_day_is_flagged(workspace: Workspace) -> None:
    with workspace.db.session() as session:
        assert legal.seed(
            session, owner="staff:admin", today=TODAY - timedelta(days=400), actor="cli"
        ) == len(legal.SEED)
        assert legal.seed(session, owner="staff:admin", today=TODAY, actor="cli") == 0
        assert {i.code for i in legal.overdue(session, TODAY)} == {s.code for s in legal.SEED}
        legal.checked(session, "APPI", on=TODAY, next_review=None, actor="staff:admin")
        assert "APPI" not in {i.code for i in legal.overdue(session, TODAY)}
        assert any(
            x.startswith("MN-ACT") for x in nonconformities(session, workspace.policy.policy, TODAY)["legal"]
        )


def test_jis_3_a_ledger_entry_without_all_five_lifecycle_stages_is_a_nonconformity(demo: Workspace) -> None:
    with demo.db.session() as session:
        entry = session.scalars(select(LedgerEntry).order_by(LedgerEntry.code)).first()
        assert entry is not None
        gaps = risk.gaps(session, TODAY)
        assert {g.problem for g in gaps if g.entry == entry.code} == {
            f"missing_stage:{s}" for s in risk.STAGES
        }
        assert risk.draft_for_entry(session, entry, today=TODAY, actor="cli") == len(risk.STAGES)
        assert set(risk.STAGES) == {"acquisition", "transfer", "use", "storage", "disposal"}
        assert not [g for g in risk.gaps(session, TODAY) if g.entry == entry.code]


def test_jis_3_a_high_residual_risk_without_an_acceptor_is_refused(demo: Workspace) -> None:
    with demo.db.session() as session:
        entry = session.scalars(select(LedgerEntry)).first()
        assert entry is not None
        risk.draft_for_entry(session, entry, today=TODAY, actor="cli")
        item = risk.register(session)[0][1][0] if risk.register(session)[0][0].id == entry.id else None
        item = item or next(i for e, items in risk.register(session) if e.id == entry.id for i in items)
        with pytest.raises(Invalid, match="accepted by name"):
            risk.assess(
                session,
                item.id,
                likelihood=3,
                impact=3,
                controls=["GL-10-6-1"],
                residual="high",
                accepted_by=None,
                today=TODAY,
                actor="cli",
            )
        with pytest.raises(Invalid, match="catalogue"):
            risk.assess(
                session,
                item.id,
                likelihood=3,
                impact=3,
                controls=["NOPE"],
                residual="low",
                accepted_by=None,
                today=TODAY,
                actor="cli",
            )
        risk.assess(
            session,
            item.id,
            likelihood=3,
            impact=3,
            controls=["GL-10-6-1"],
            residual="high",
            accepted_by="staff:admin",
            today=TODAY,
            actor="cli",
        )
        assert item.residual == "high" and item.accepted_by == "staff:admin"


def test_appi_23_control_catalogue_export_has_every_category_and_flags_missing_owners_and_old_reviews(
    workspace: Workspace,
) -> None:
    with workspace.db.session() as session:
        data = controls.export(session, TODAY)
        ids = [c["id"] for c in data["categories"]]
        assert ids == ["10-1", "10-2", "10-3", "10-4", "10-5", "10-6", "10-7", "MN"]
        assert all(cat["controls"] for cat in data["categories"])
        assert all(c["problem"] == "no_owner" for cat in data["categories"] for c in cat["controls"])
        controls.record(
            session,
            "GL-10-6-1",
            owner="staff:admin",
            reviewed_on=TODAY - timedelta(days=400),
            evidence="doc:ac-review-2025",
            actor="cli",
        )
        controls.record(
            session,
            "GL-10-6-2",
            owner="staff:admin",
            reviewed_on=TODAY,
            evidence="doc:auth-2026",
            actor="cli",
        )
        views = {v.control.id: v for v in controls.catalogue(session, TODAY)}
        assert views["GL-10-6-1"].problem == "review_overdue" and views["GL-10-6-2"].problem is None
        with pytest.raises(Invalid, match="evidence"):
            controls.record(session, "GL-10-6-2", owner="x", reviewed_on=TODAY, evidence="", actor="cli")


def test_appi_23_web_skimming_check_finds_a_changed_collection_page(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The web package is served from a copy (importlib's lookup of the package folder points there),
    # so that a skimmer can change what the app serves without touching the source tree.
    import hashlib
    import shutil
    from importlib import resources

    from fastapi.testclient import TestClient

    from mamoru.pms.tables import IntegrityBaseline
    from mamoru.server import create_app
    from mamoru.web.portal import templates

    served = tmp_path / "web"
    shutil.copytree(
        Path(str(resources.files("mamoru.web"))), served, ignore=shutil.ignore_patterns("__pycache__")
    )
    package_files = resources.files
    monkeypatch.setattr(resources, "files", lambda pkg: served if pkg == "mamoru.web" else package_files(pkg))

    def sha(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    with workspace.db.session() as session:
        assert controls.integrity_check(session) == ["baseline: missing"]
        controls.record_baseline(session, actor="cli", now=NOW)
        assert controls.integrity_check(session) == []
        recorded = {b.path: b.sha256 for b in session.scalars(select(IntegrityBaseline))}
    with TestClient(create_app(workspace)) as client:
        # The recorded digests are those of what the collection pages are served from: the stylesheet
        # byte for byte, and the templates the app renders the request and inquiry forms with.
        assert sha(client.get("/static/portal.css").content) == recorded["static/portal.css"]
        for url in ("/requests/new?lang=en", "/inquiries/new?lang=en"):
            form = client.get(url)
            assert form.status_code == 200 and 'href="/static/portal.css"' in form.text
        env = templates()
        assert env.loader is not None
        for name in ("layout.html.j2", "request_new.html.j2", "inquiry_new.html.j2"):
            source, _, _ = env.loader.get_source(env, name)
            assert sha(source.encode()) == recorded[f"templates/{name}"], name

        # A skimmer adds a line to the stylesheet the collection pages load.
        css = served / "static" / "portal.css"
        css.write_bytes(css.read_bytes() + b"\n@import url(https://skim.example/k.css);\n")
        tampered = client.get("/static/portal.css")
        assert b"skim.example" in tampered.content and sha(tampered.content) != recorded["static/portal.css"]
    with workspace.db.session() as session:
        assert controls.integrity_check(session) == ["static/portal.css: changed"]


def test_jis_10_no_audit_in_the_last_pms_year_is_a_nonconformity(workspace: Workspace) -> None:
    enacted = date(2024, 4, 1)
    with workspace.db.session() as session:
        gaps = audits.gaps(session, enacted_on=enacted, today=date(2026, 11, 25))
        assert [g.problem for g in gaps] == ["no_internal_audit_in_year"]
        staff.register(
            session,
            "au02",
            kind="employee",
            department="audit",
            joined_on=TODAY,
            roles=["auditor"],
            actor="cli",
        )
        row = audits.plan(
            session,
            year=2025,
            department="sales",
            scope="ledger",
            auditor="au02",
            planned_on=date(2025, 10, 1),
            actor="cli",
        )
        audits.complete(session, row, done_on=date(2025, 10, 2), actor="cli")
        assert audits.gaps(session, enacted_on=enacted, today=date(2026, 11, 25)) == []


def test_jis_10_a_nonconformity_without_action_after_30_days_escalates(workspace: Workspace) -> None:
    with workspace.db.session() as session:
        staff.register(
            session,
            "au03",
            kind="employee",
            department="audit",
            joined_on=TODAY,
            roles=["auditor"],
            actor="cli",
        )
        row = audits.plan(
            session,
            year=2026,
            department="sales",
            scope="ledger",
            auditor="au03",
            planned_on=TODAY,
            actor="cli",
        )
        audits.complete(session, row, done_on=TODAY, actor="cli")
        finding = audits.add_finding(
            session,
            row,
            kind="nonconformity",
            clause="JIS-7",
            summary="Two staff untrained",
            raised_on=TODAY,
            actor="cli",
        )
        enacted = TODAY - timedelta(days=30)
        assert audits.gaps(session, enacted_on=enacted, today=TODAY + timedelta(days=30)) == []
        late = audits.gaps(session, enacted_on=enacted, today=TODAY + timedelta(days=31))
        assert [g.problem for g in late] == ["no_corrective_action_escalated"]
        action = audits.add_action(
            session,
            finding.id,
            root_cause="No reminder",
            action="Monthly reminder",
            due=TODAY + timedelta(days=40),
            owner="admin",
            actor="cli",
        )
        with pytest.raises(Invalid, match="owner"):
            audits.verify(session, action.id, done_on=TODAY, actor="staff:admin")
        audits.verify(session, action.id, done_on=TODAY + timedelta(days=35), actor="staff:au03")
        assert audits.gaps(session, enacted_on=enacted, today=TODAY + timedelta(days=60)) == []


def test_jis_10_management_review_draft_holds_incident_and_complaint_statistics(demo: Workspace) -> None:
    from mamoru.incidents.service import open_incident

    with demo.db.session() as session:
        open_incident(session, demo.vault, aware_at=NOW, actor="staff:admin", now=NOW, affected_count=1001)
    _complaint(demo)
    with demo.db.session() as session:
        rv = review.draft(
            session,
            demo.policy.policy,
            since=date(2026, 1, 1),
            until=date(2027, 1, 1),
            actor="staff:admin",
            now=NOW,
        )
        inputs = rv.inputs
        assert inputs["incidents"] == {"total": 1, "reportable": 1, "by_status": {"open": 1}}
        assert inputs["complaints"]["complaints"] == 1
        assert [m["month"] for m in inputs["complaints"]["monthly"]][:2] == ["2026-01", "2026-02"]
        assert {"internal_audits", "risks", "legal", "training", "rules", "controls", "requests"} <= set(
            inputs
        )
        with pytest.raises(Invalid, match="director"):
            review.approve(session, rv.id, decisions=["More training"], actor="staff:admin", now=NOW)
        staff.register(session, "ceo", kind="director", department="board", joined_on=TODAY, actor="cli")
        with pytest.raises(Invalid, match="decision"):
            review.approve(session, rv.id, decisions=[" "], actor="staff:ceo", now=NOW)
        review.approve(session, rv.id, decisions=["Budget for badge readers"], actor="staff:ceo", now=NOW)
        assert rv.approved_by == "staff:ceo"
