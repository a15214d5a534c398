"""The demo organization: deterministic synthetic staff and data subjects (Faker, ja_JP).

The same seed always gives the same people and values. Personal values go only into the vault.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date

from faker import Faker
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamoru.audit.entry import AuditEvent
from mamoru.audit.log import append
from mamoru.errors import MamoruError
from mamoru.ledger.tables import DataSubject
from mamoru.people.tables import Role, Staff, StaffRole
from mamoru.policy.model import Policy
from mamoru.vault.service import Vault

#: (login, department, roles, subject kind) of the demo staff.
STAFF_PLAN: tuple[tuple[str, str, tuple[Role, ...], str], ...] = (
    ("pm01", "general_affairs", (Role.PROTECTION_MANAGER, Role.PRIVACY_STAFF), "executive"),
    ("am01", "internal_audit", (Role.AUDIT_MANAGER, Role.AUDITOR), "employee"),
    ("po01", "general_affairs", (Role.PRIVACY_STAFF,), "employee"),
    ("po02", "general_affairs", (Role.PRIVACY_STAFF,), "employee"),
    ("hr01", "human_resources", (Role.DEPARTMENT_USER, Role.MY_NUMBER_HANDLER), "employee"),
    ("hr02", "human_resources", (Role.DEPARTMENT_USER,), "employee"),
    ("sa01", "sales", (Role.DEPARTMENT_USER,), "employee"),
    ("sa02", "sales", (Role.DEPARTMENT_USER,), "employee"),
    ("co01", "collaborator_management", (Role.DEPARTMENT_USER,), "employee"),
    ("se01", "security_desk", (Role.DEPARTMENT_USER,), "employee"),
    ("rd01", "research", (Role.DEPARTMENT_USER,), "employee"),
    ("it01", "information_systems", (Role.ADMINISTRATOR,), "employee"),
)

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
    roles: tuple[Role, ...]
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
    return not session.scalar(select(func.count()).select_from(Staff)) and not session.scalar(
        select(func.count()).select_from(DataSubject)
    )


def load_demo(session: Session, vault: Vault, policy: Policy, seed: int) -> DemoPlan:
    """Fill an empty workspace with the demo organization."""
    if not is_empty(session):
        raise WorkspaceNotEmpty(
            "the workspace already holds staff or data subjects; the demo loads only into an empty one"
        )
    plan = plan_demo(policy, seed)
    for person in plan.all_people():
        session.add(DataSubject(id=person.subject_id, kind=person.kind))
    session.flush()
    for person in plan.all_people():
        vault.store(session, person.subject_id, person.values, new=True)
    for member in plan.staff:
        session.add(
            Staff(
                login=member.login,
                department=member.department,
                joined_on=member.joined_on,
                subject_id=member.person.subject_id,
                roles=[StaffRole(role=role.value) for role in member.roles],
            )
        )
    events = [
        AuditEvent(
            actor=DEMO_ACTOR, action="subject.create", subjects=(p.subject_id,), objects=(f"kind:{p.kind}",)
        )
        for p in plan.all_people()
    ]
    events += [
        AuditEvent(
            actor=DEMO_ACTOR, action="staff.grant_role", objects=(f"staff:{m.login}", f"role:{role.value}")
        )
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
