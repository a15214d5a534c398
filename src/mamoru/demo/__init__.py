"""The demo organization: deterministic synthetic staff and data subjects (Faker, ja_JP).

The same seed always gives the same people and values. Personal values go only into the vault.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from faker import Faker
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import MamoruError
from mamoru.ledger.tables import DataSubject
from mamoru.people.tables import Role, Staff, StaffRole
from mamoru.policy.model import Policy
from mamoru.transfers.records import Basis, ProvisionIn, record_provision
from mamoru.vault.service import Vault

#: (login, department, roles, subject kind) of the demo staff.
#: System roles (Role) and the policy's business roles (which grant purposes) go side by side.
STAFF_PLAN: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("pm01", "general_affairs", (Role.PROTECTION_MANAGER, Role.PRIVACY_STAFF, "privacy_office"), "executive"),
    ("am01", "internal_audit", (Role.AUDIT_MANAGER, Role.AUDITOR), "employee"),
    ("po01", "general_affairs", (Role.PRIVACY_STAFF, "privacy_office", "general_affairs"), "employee"),
    ("po02", "general_affairs", (Role.PRIVACY_STAFF, "privacy_office"), "employee"),
    (
        "hr01",
        "human_resources",
        (Role.DEPARTMENT_USER, Role.MY_NUMBER_HANDLER, "hr", "my_number_affairs"),
        "employee",
    ),
    ("hr02", "human_resources", (Role.DEPARTMENT_USER, "hr"), "employee"),
    ("sa01", "sales", (Role.DEPARTMENT_USER, "sales"), "employee"),
    ("sa02", "sales", (Role.DEPARTMENT_USER, "sales"), "employee"),
    ("co01", "collaborator_management", (Role.DEPARTMENT_USER, "collaborator_desk"), "employee"),
    ("se01", "security_desk", (Role.DEPARTMENT_USER, "security_desk"), "employee"),
    ("rd01", "research", (Role.DEPARTMENT_USER, "research"), "employee"),
    ("it01", "information_systems", (Role.ADMINISTRATOR,), "employee"),
)
#: Whose training has lapsed in the demo, so the guard has someone to refuse.
LAPSED_TRAINING = {"sa02"}

DEMO_ACTOR = "system:demo"

#: How many demo subjects of each kind (kinds not listed get DEFAULT_PER_KIND).
PER_KIND = {"customer": 40, "patent_person": 20, "collaborator": 15, "survey_respondent": 15, "visitor": 10}
DEFAULT_PER_KIND = 6


@dataclass(frozen=True)
class DemoPerson:
    subject_id: str
    kind: str
    values: dict[str, str] = field(hash=False)


@dataclass(frozen=True)
class DemoStaff:
    login: str
    department: str
    roles: tuple[str, ...]
    joined_on: date
    person: DemoPerson


@dataclass(frozen=True)
class DemoPlan:
    staff: list[DemoStaff]
    subjects: list[DemoPerson]

    def all_people(self) -> list[DemoPerson]:
        return [s.person for s in self.staff] + self.subjects


def _values(fake: Faker, kind: str, serial: int) -> dict[str, str]:
    values = {"name": fake.name(), "name_kana": fake.kana_name()}
    if kind == "patent_person":
        values["address"] = fake.address()
        return values
    values["email"] = fake.unique.email()
    values["phone"] = fake.phone_number()
    if kind in {"visitor", "partner_contact", "official_contact", "customer"}:
        values["organization"] = fake.company()
    if kind in {"customer", "collaborator", "executive", "employee", "applicant", "former_employee", "payee"}:
        values["address"] = fake.address()
    if kind in {"executive", "employee", "former_employee"}:
        values["employee_number"] = f"E{serial:05d}"
        values["birth_date"] = fake.date_of_birth(minimum_age=22, maximum_age=65).isoformat()
    if kind == "dependent":
        values["birth_date"] = fake.date_of_birth(minimum_age=0, maximum_age=80).isoformat()
    return values


def plan_demo(policy: Policy, seed: int) -> DemoPlan:
    """The demo people for ``seed``: pure and deterministic."""
    fake = Faker("ja_JP")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    serial = 0

    def person(kind: str) -> DemoPerson:
        nonlocal serial
        serial += 1
        subject_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        return DemoPerson(subject_id, kind, _values(fake, kind, serial))

    staff = [
        DemoStaff(login, dept, roles, date(2010 + rng.randrange(15), rng.randrange(1, 13), 1), person(kind))
        for login, dept, roles, kind in STAFF_PLAN
    ]
    subjects = [
        person(kind.id)
        for kind in policy.subject_kinds
        for _ in range(PER_KIND.get(kind.id, DEFAULT_PER_KIND))
    ]
    return DemoPlan(staff=staff, subjects=subjects)


class WorkspaceNotEmpty(MamoruError):
    """The demo is loaded only into an empty workspace."""

    http_status = 409


def is_empty(session: Session) -> bool:
    """No data subjects yet (the first protection manager made by `mamoru init` does not count)."""
    return not session.scalar(select(func.count()).select_from(DataSubject))


#: Retention of each reference purpose's ledger entry: a policy rule, or a date when none fits.
LEDGER_RETENTION: dict[str, str] = {
    "services": "customers",
    "announcements": "customers",
    "research": "surveys",
    "partners": "customers",
    "liaison": "customers",
    "collaborators": "customers",
    "personnel": "personnel_records",
    "security": "entry_logs",
    "my_number_staff": "mn_tax_forms",
    "my_number_payees": "mn_tax_forms",
}
STORAGE: dict[str, tuple[str, str, list[str]]] = {
    "services": (
        "顧客管理システム（国内データセンター）",
        "暗号化データベース",
        ["department_user:sales", "privacy_staff"],
    ),
    "announcements": ("配信管理システム", "暗号化データベース", ["department_user:sales"]),
    "research": ("調査分析サーバ", "暗号化データベース", ["department_user:research"]),
    "patent_data": (
        "特許情報データベース",
        "データベース（公報由来の公開情報）",
        ["department_user:research"],
    ),
    "partners": ("契約管理システム", "暗号化データベース・施錠書庫", ["department_user:sales"]),
    "liaison": ("総務部 連絡先台帳", "暗号化データベース", ["privacy_staff"]),
    "collaborators": (
        "外部協力者管理システム",
        "暗号化データベース",
        ["department_user:collaborator_management"],
    ),
    "personnel": ("人事給与システム", "暗号化データベース・施錠書庫", ["department_user:human_resources"]),
    "security": ("入退室管理システム", "入退室ログ（暗号化）", ["department_user:security_desk"]),
    "my_number_staff": ("マイナンバー管理区域（人事部）", "専用ボールト（別鍵）", ["my_number_handler"]),
    "my_number_payees": ("マイナンバー管理区域（人事部）", "専用ボールト（別鍵）", ["my_number_handler"]),
}


def _ledger_plan(policy: Policy) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = []
    for purpose in policy.purposes:
        location, method, roles = STORAGE.get(purpose.id, ("総務部", "暗号化データベース", ["privacy_staff"]))
        rule = LEDGER_RETENTION.get(purpose.id)
        entries.append(
            {
                "code": f"L-{purpose.id}",
                "name": purpose.text.ja[:60],
                "data_items": list(purpose.categories),
                "purposes": [purpose.id],
                "storage_location": location,
                "storage_method": method,
                "access_roles": roles,
                "use_until": "利用目的の達成まで" if rule else "公報の公開期間中",
                "retention_rule": rule,
                "retention_until": None if rule else date(2046, 12, 31),
                "subject_kinds": list(purpose.subject_kinds),
                "acquisition_method": "public" if purpose.id == "patent_data" else "direct_written",
                "notice_method": "ウェブサイトで公表・申込書に明示",
                "recipients": [r.id for r in policy.recipients if purpose.id in r.purposes],
                "processors": [p.id for p in policy.processors if purpose.id in p.purposes],
                "medium": "electronic",
                "disposal_method": "暗号鍵の消去（crypto-erase）",
            }
        )
    return entries


def load_demo(
    session: Session, vault: Vault, policy: Policy, seed: int, *, now: datetime | None = None
) -> DemoPlan:
    """Fill an empty workspace with the demo organization: ledger, channels, people acquired through
    them (with the notice version shown), consents, staff and roles. Deterministic for ``seed``."""
    if not is_empty(session):
        raise WorkspaceNotEmpty(
            "the workspace already holds staff or data subjects; the demo loads only into an empty one"
        )
    from mamoru.ledger.acquisition import (
        AcquisitionIn,
        SourceType,
        SpecialCareException,
        acquire,
        activate_channel,
        attest_channel,
        create_channel,
    )
    from mamoru.ledger.consent import ConsentScope, give_consent
    from mamoru.ledger.entries import create_entry, review_entry
    from mamoru.policy.service import current_notice

    now = now or datetime.now(UTC)
    plan = plan_demo(policy, seed)
    rng = random.Random(seed)
    notice = current_notice(session)
    for data in _ledger_plan(policy):
        entry = create_entry(session, policy, data, DEMO_ACTOR)
        if rng.random() < 0.8:
            review_entry(session, entry.code, "staff:pm01", now - timedelta(days=rng.randrange(10, 300)))
        purpose_id = str(data["purposes"][0])  # type: ignore[index]
        public = purpose_id == "patent_data"
        create_channel(
            session,
            channel_id=f"ch-{purpose_id}",
            name=f"{purpose_id} form",
            ledger_code=entry.code,
            source_type=SourceType.PUBLIC if public else SourceType.DIRECT_WRITTEN,
            notice_in_advance=True,
            actor=DEMO_ACTOR,
        )
        attest_channel(session, f"ch-{purpose_id}", actor="staff:pm01", now=now)
        activate_channel(session, f"ch-{purpose_id}", actor="staff:pm01")

    categories = {c.id: c for c in policy.categories}
    for person in plan.all_people():
        purpose = next(p for p in policy.general_purposes() if person.kind in p.subject_kinds)
        items = [
            c for c in purpose.categories if not categories[c].special_care and not categories[c].my_number
        ]
        special = [c for c in purpose.categories if categories[c].special_care]
        if special and person.kind in {"executive", "employee"}:
            items += special
        age_days = 900 if person.kind == "visitor" and rng.random() < 0.5 else rng.randrange(1, 700)
        acquire(
            session,
            vault,
            policy,
            AcquisitionIn(
                channel_id=f"ch-{purpose.id}",
                subject_kind=person.kind,
                new_subject_id=person.subject_id,
                values=person.values,
                categories=items,
                purposes=[purpose.id],
                notice_shown=notice.id if notice else None,
                exception_code=SpecialCareException.LAW if special and set(special) & set(items) else None,
                exception_justification="労働安全衛生法に基づく健康診断"
                if set(special) & set(items)
                else None,
            ),
            actor=DEMO_ACTOR,
            now=now - timedelta(days=age_days),
        )
        if person.kind == "customer" and rng.random() < 0.3:
            consent = give_consent(
                session,
                subject_id=person.subject_id,
                scope=ConsentScope.THIRD_PARTY,
                recipient="event_cosponsor",
                purpose="announcements",
                categories=["identity", "contact"],
                channel="web_form",
                evidence_ref=f"form-submission:{rng.getrandbits(48):012x}",
                actor=DEMO_ACTOR,
                now=now - timedelta(days=rng.randrange(1, 300)),
                notice_id=notice.id if notice else None,
            )
            give_consent(  # acquired for the services; the co-sponsor's events are announcements
                session,
                subject_id=person.subject_id,
                scope=ConsentScope.BEYOND_PURPOSE,
                purpose="announcements",
                channel="web_form",
                evidence_ref=consent.evidence_ref,
                actor=DEMO_ACTOR,
                now=consent.given_at,
                notice_id=notice.id if notice else None,
            )
            if rng.random() < 0.5:
                record_provision(
                    session,
                    ProvisionIn(
                        person.subject_id,
                        "event_cosponsor",
                        Basis.CONSENT,
                        ["identity", "contact"],
                        consent_id=consent.id,
                    ),
                    actor="staff:sa01",
                    today=(now - timedelta(days=rng.randrange(0, 30))).date(),
                )
    _supervision(session, policy, now)
    _retention_events(session, policy, plan, seed, now)
    for member in plan.staff:
        session.add(
            Staff(
                login=member.login,
                department=member.department,
                joined_on=member.joined_on,
                subject_id=member.person.subject_id,
                roles=[StaffRole(role=str(role)) for role in member.roles],
                pledge_signed_at=now - timedelta(days=400),
                training_completed_at=now - timedelta(days=400 if member.login in LAPSED_TRAINING else 60),
            )
        )
    events = [
        AuditEvent(actor=DEMO_ACTOR, action="staff.grant_role", objects=(f"staff:{m.login}", f"role:{role}"))
        for m in plan.staff
        for role in m.roles
    ]
    events.append(
        AuditEvent(
            actor=DEMO_ACTOR,
            action="demo.load",
            counts={"seed": seed, "staff": len(plan.staff), "subjects": len(plan.subjects)},
            policy_version=policy.version,
        )
    )
    append(session, events)
    return plan


def _retention_events(session: Session, policy: Policy, plan: DemoPlan, seed: int, now: datetime) -> None:
    """Contracts that ended and people who left: about half of the people whose retention starts at such
    an event have it recorded, so their retention runs and they come due (the rest are still customers,
    collaborators or staff). Its own random stream, so the rest of the demo is what it was."""
    from mamoru.ledger.retention import EventKind, record_event
    from mamoru.ledger.tables import Acquisition

    rng = random.Random(seed * 7919 + 17)
    staff = {m.person.subject_id for m in plan.staff}
    starts = {r.id: r.starting.value for r in policy.retention}
    acquired = {a.subject_id: a.acquired_at for a in session.scalars(select(Acquisition))}
    for person in plan.all_people():
        purpose = next(p for p in policy.general_purposes() if person.kind in p.subject_kinds)
        start = starts.get(LEDGER_RETENTION.get(purpose.id, ""), "")
        if start not in {k.value for k in EventKind} or person.subject_id in staff:
            continue
        if person.subject_id not in acquired or rng.random() < 0.45:
            continue
        kind = EventKind(start)
        since = (now - acquired[person.subject_id]).days
        ended = (now - timedelta(days=rng.randrange(0, max(since, 1)))).date()
        record_event(
            session, policy, person.subject_id, kind, ended, actor=DEMO_ACTOR, source="demo", now=now
        )


def _supervision(session: Session, policy: Policy, now: datetime) -> None:
    """Every processor assessed, contracted and monitored; the mailing service's monitoring is overdue so
    the guard and the console have something to flag; the foreign processor's periodic check is done."""
    from mamoru.transfers.status import CONTRACT_CLAUSES, MY_NUMBER_CLAUSES
    from mamoru.transfers.supervision import (
        record_assessment,
        record_contract,
        record_foreign_check,
        record_monitoring,
    )

    today = now.date()
    for processor in policy.processors:
        record_assessment(
            session,
            policy,
            processor.id,
            score=85,
            on=today - timedelta(days=500),
            valid_days=3 * 365,
            evidence_ref=f"assessment:{processor.id}:2025",
            actor="staff:pm01",
        )
        record_contract(
            session,
            policy,
            processor.id,
            signed_on=today - timedelta(days=480),
            clauses=[*CONTRACT_CLAUSES, *MY_NUMBER_CLAUSES],
            evidence_ref=f"contract:{processor.id}",
            actor="staff:pm01",
        )
        overdue = processor.id == "mailing"
        record_monitoring(
            session,
            policy,
            processor.id,
            on=today - timedelta(days=processor.monitoring_days + 20 if overdue else 90),
            satisfactory=True,
            evidence_ref=f"monitoring:{processor.id}",
            actor="staff:po01",
        )
        if processor.foreign is not None:
            record_foreign_check(
                session,
                policy,
                f"processor:{processor.id}",
                on=today - timedelta(days=100),
                conforming=True,
                evidence_ref=f"foreign-check:{processor.id}",
                actor="staff:pm01",
            )
