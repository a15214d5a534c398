"""Demo data for people and the PMS cycle: kinds of staff, a training plan with scores, approved rules,
zones with badges and door events (one alert), inquiries and complaints, the legal register, risk
items, control reviews, an internal audit with a finding, and the collection-page baseline."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.incidents import signals
from mamoru.ledger.tables import LedgerEntry
from mamoru.people import inquiries, rules, training, zones
from mamoru.people.tables import Staff
from mamoru.pms import audits, controls, legal, risk
from mamoru.policy.model import Policy
from mamoru.vault.service import Vault

ACTOR = "system:demo"
KINDS = {"pm01": "director", "se01": "dispatched", "rd01": "part_time", "it01": "contractor"}
#: Controls left without a review in the demo, so the PMS page has something to show.
UNREVIEWED = {"GL-10-7-1", "MN-EX-1"}


def load_demo_people(session: Session, vault: Vault, policy: Policy, now: datetime) -> dict[str, int]:
    today = now.date()
    staff = {s.login: s for s in session.scalars(select(Staff))}
    for login, kind in KINDS.items():
        if login in staff:
            staff[login].kind = kind
    # Training: this year's plan, one session, everyone passed except the lapsed one.
    plan = training.create_plan(
        session,
        year=today.year,
        title="個人情報保護・マイナンバー研修 / Privacy and My Number training",
        topics=["appi_basics", "security_measures", "incident_reporting", "my_number"],
        audience=[],
        actor=ACTOR,
    )
    held = training.hold_session(
        session,
        plan.id,
        held_on=today - timedelta(days=60),
        title="e-learning",
        method="e_learning",
        actor=ACTOR,
    )
    for login, member in sorted(staff.items()):
        if member.training_completed_at is not None and (now - member.training_completed_at).days <= 365:
            score = 80 + (sum(map(ord, login)) % 20)
            training.record_attendance(
                session, held.id, login, score=score, pass_score=policy.staff.training_pass_score, actor=ACTOR
            )
    # Internal rules covering every topic, approved by the protection manager, acknowledged by most.
    split = list(rules.MANDATORY_TOPICS)
    docs = [
        ("PMS-R01", "個人情報保護規程", "Personal information protection rules", split[:10]),
        ("PMS-R02", "苦情・監査・見直し手順", "Complaints, audit and review procedure", split[10:]),
    ]
    made = []
    for code, ja, en, topics in docs:
        doc = rules.draft(
            session,
            code=code,
            version="1.0",
            title_ja=ja,
            title_en=en,
            topics=topics,
            sha256=hashlib.sha256(code.encode()).hexdigest(),
            actor="staff:po01",
        )
        rules.approve(session, doc.id, actor="staff:pm01", now=now - timedelta(days=90))
        made.append(doc)
    for login in sorted(staff):
        if login not in ("sa02", "rd01"):
            for doc in made:
                rules.acknowledge(session, doc.id, login, now=now - timedelta(days=80))
    # Zones, badges and a day of door events with one alert.
    zones.add_zone(
        session, "server_room", name_ja="サーバ室", name_en="Server room", my_number=False, actor=ACTOR
    )
    zones.add_zone(
        session, "payroll", name_ja="給与事務室", name_en="Payroll office", my_number=True, actor=ACTOR
    )
    zones.allow(session, "server_room", "it01", actor=ACTOR)
    zones.allow(session, "payroll", "hr01", actor=ACTOR)
    for n, login in enumerate(("it01", "hr01", "sa01"), 1):
        zones.issue_badge(session, vault, login, f"DEMO-{n:04d}", actor=ACTOR)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    events = [
        zones.DoorEventIn("d1", "server_room", "DEMO-0001", day + timedelta(hours=9), "in", True),
        zones.DoorEventIn("d2", "server_room", "DEMO-0001", day + timedelta(hours=10), "out", True),
        zones.DoorEventIn("d3", "payroll", "DEMO-0002", day + timedelta(hours=9, minutes=5), "in", True),
        zones.DoorEventIn("d4", "payroll", "DEMO-0003", day + timedelta(hours=12), "in", True),
        zones.DoorEventIn("d5", "payroll", "DEMO-0002", day + timedelta(hours=17), "out", True),
    ]
    signals.door_events(session, vault, events, source="demo-door", actor=ACTOR, now=now)
    # Inquiries and complaints over the last months.
    samples = [
        ("inquiry", "phone", "notice", 75, "保有期間について知りたい"),
        ("complaint", "email", "contact", 40, "案内メールの停止を依頼したが届き続けている"),
        ("inquiry", "portal", "request_procedure", 12, "開示請求の手数料について"),
        ("complaint", "letter", "handling", 2, "委託先からの連絡について説明を求める"),
    ]
    for n, (kind, channel, category, days_ago, text) in enumerate(samples):
        q = inquiries.receive(
            session,
            vault,
            inquiries.InquiryIn(
                kind, channel, category, f"デモ利用者{n + 1}", f"demo{n + 1}@example.jp", text
            ),
            rules=policy.staff,
            actor=ACTOR,
            now=now - timedelta(days=days_ago),
        )
        if days_ago > 10:
            inquiries.add_action(
                session,
                vault,
                q,
                kind="response",
                note="回答済み / answered",
                actor="staff:po01",
                now=q.received_at + timedelta(days=1),
            )
            inquiries.close(
                session, q, outcome="answered", actor="staff:po01", now=q.received_at + timedelta(days=3)
            )
    # The PMS cycle.
    legal.seed(session, owner="staff:pm01", today=today - timedelta(days=200), actor=ACTOR)
    for entry in session.scalars(select(LedgerEntry)):
        risk.draft_for_entry(session, entry, today=today, actor=ACTOR)
    for control in controls.CATALOGUE:
        if control.id not in UNREVIEWED:
            controls.record(
                session,
                control.id,
                owner="staff:pm01" if control.category != "MN" else "staff:hr01",
                reviewed_on=today - timedelta(days=100),
                evidence=f"doc:{control.id.lower()}-review",
                actor=ACTOR,
            )
    audit = audits.plan(
        session,
        year=today.year,
        department="sales",
        scope="Ledger, consent records and training of the sales department",
        auditor="am01",
        planned_on=today - timedelta(days=45),
        actor="staff:pm01",
    )
    audits.complete(session, audit, done_on=today - timedelta(days=44), actor="staff:am01")
    finding = audits.add_finding(
        session,
        audit,
        kind="nonconformity",
        clause="JIS-7",
        summary="One member's annual training had lapsed",
        raised_on=today - timedelta(days=44),
        actor="staff:am01",
    )
    audits.add_action(
        session,
        finding.id,
        root_cause="No reminder before the training lapsed",
        action="Monthly reminder from the console",
        due=today + timedelta(days=15),
        owner="po01",
        actor="staff:pm01",
    )
    controls.record_baseline(session, actor=ACTOR, now=now)
    return {"inquiries": len(samples), "door_events": len(events)}
