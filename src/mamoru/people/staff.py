"""The staff register (APPI Art. 24): every kind of worker, their roles and pledge, and leaving.

Leaving takes every grant away: roles, console sessions, API tokens, the two-factor secret, zone grants and badges.
An exit date in the past or today is applied at once; a later one by the next :func:`sweep_exits` run
on or after that day (``mamoru staff sweep``, also run by ``mamoru serve`` at start).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import NotFound, Problem, problem, require
from mamoru.people.auth import new_password, set_password
from mamoru.people.tables import Badge, Role, Staff, StaffRole, ZoneGrant
from mamoru.people.tokens import end_access
from mamoru.store.listing import Filter, ListQuery, ListSpec, list_page
from mamoru.store.paging import Page


class StaffKind(StrEnum):
    """従業者 in APPI Art. 24 covers all of these, not just employees."""

    DIRECTOR = "director"  # 役員（取締役・監査役・理事）
    EMPLOYEE = "employee"  # 正社員・職員
    DISPATCHED = "dispatched"  # 派遣労働者
    PART_TIME = "part_time"  # パート・アルバイト
    CONTRACTOR = "contractor"  # 業務委託で常駐する者


_LOGIN = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
_DEPT = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
#: JIS Q 15001 A.3.3.4: the audit manager is independent of the protection manager.
EXCLUSIVE = frozenset({Role.PROTECTION_MANAGER.value, Role.AUDIT_MANAGER.value})


def _audit(session: Session, actor: str, action: str, login: str, *reasons: str) -> None:
    append(session, [AuditEvent(actor=actor, action=action, objects=(f"staff:{login}",), reasons=reasons)])


def get(session: Session, login: str) -> Staff:
    staff = session.scalar(select(Staff).where(Staff.login == login.removeprefix("staff:")))
    if staff is None:
        raise NotFound(f"no staff member '{login}'")
    return staff


def register(
    session: Session,
    login: str,
    *,
    kind: str,
    department: str,
    joined_on: date,
    roles: list[str] | None = None,
    business_roles: frozenset[str] = frozenset(),
    actor: str,
) -> Staff:
    """Add a worker of any kind. Roles are checked as :func:`grant` checks them."""
    problems: list[Problem] = []
    if not _LOGIN.match(login):
        problems.append(
            problem(
                "login",
                "2–32 lower-case letters, digits and _, starting with a letter (never a name)",
                "login",
            )
        )
    elif session.scalar(select(Staff.id).where(Staff.login == login)) is not None:
        problems.append(problem("login", "this login is taken", "login_taken"))
    if kind not in StaffKind.__members__.values():
        problems.append(problem("kind", f"one of {', '.join(StaffKind)}", "choice"))
    if not _DEPT.match(department):
        problems.append(
            problem("department", "a department code: lower-case letters, digits and _", "department")
        )
    roles = sorted(set(roles or []))
    problems += _role_problems(session, None, roles, business_roles)
    require(problems)
    staff = Staff(login=login, kind=kind, department=department, joined_on=joined_on)
    staff.roles = [StaffRole(role=r) for r in roles]
    session.add(staff)
    session.flush()
    _audit(session, actor, "staff.registered", login, f"kind:{kind}", *(f"role:{r}" for r in roles))
    return staff


def _role_problems(
    session: Session, staff: Staff | None, adding: list[str], business_roles: frozenset[str]
) -> list[Problem]:
    """System roles (:class:`Role`) and the policy's business roles may be granted; nothing else."""
    problems: list[Problem] = []
    known = {r.value for r in Role} | business_roles
    for role in adding:
        if role not in known:
            problems.append(problem("role", f"not a role; one of {', '.join(sorted(known))}", "choice"))
    held = set(staff.role_names) if staff is not None else set()
    if held | set(adding) >= EXCLUSIVE:
        problems.append(
            problem(
                "role",
                "the protection manager and the audit manager must be different people (JIS Q 15001)",
                "role_exclusive",
            )
        )
    if staff is not None and staff.left_on is not None:
        problems.append(problem("login", "this person has left; grants cannot be given", "staff_left"))
    return problems


def grant(
    session: Session, login: str, role: str, *, actor: str, business_roles: frozenset[str] = frozenset()
) -> None:
    staff = get(session, login)
    if role in staff.role_names:
        return
    require(_role_problems(session, staff, [role], business_roles))
    staff.roles.append(StaffRole(role=role))
    _audit(session, actor, "staff.role_granted", staff.login, f"role:{role}")


def revoke(session: Session, login: str, role: str, *, actor: str, now: datetime | None = None) -> None:
    """Take a role away; every console session and API token of the person ends with it."""
    staff = get(session, login)
    kept = [r for r in staff.roles if r.role != role]
    if len(kept) != len(staff.roles):
        staff.roles = kept
        _audit(session, actor, "staff.role_revoked", staff.login, f"role:{role}")
        end_access(session, staff.id, actor=actor, now=now or datetime.now(UTC), reason="role_revoked")


def sign_pledge(session: Session, login: str, *, at: datetime, actor: str) -> None:
    """Record the confidentiality pledge (誓約書). Without it the guard refuses all personal data."""
    staff = get(session, login)
    staff.pledge_signed_at = at
    _audit(session, actor, "staff.pledge_signed", staff.login)


def set_exit(session: Session, login: str, left_on: date, *, actor: str, now: datetime) -> bool:
    """Record the day a person leaves; returns whether their grants were taken away now."""
    staff = get(session, login)
    require([("left_on", "cannot be before the day they joined")] if left_on < staff.joined_on else [])
    staff.left_on = left_on
    _audit(session, actor, "staff.exit_set", staff.login)
    if left_on <= now.date():
        _revoke_all(session, staff, actor=actor, now=now)
        return True
    return False


def _revoke_all(session: Session, staff: Staff, *, actor: str, now: datetime) -> None:
    roles = staff.role_names
    staff.roles = []
    staff.password_hash = None
    staff.totp_sealed = None
    staff.revoked_at = now
    end_access(session, staff.id, actor=actor, now=now, reason="left")
    session.execute(delete(ZoneGrant).where(ZoneGrant.staff_id == staff.id))
    session.execute(
        update(Badge).where(Badge.staff_id == staff.id, Badge.revoked_at.is_(None)).values(revoked_at=now)
    )
    _audit(session, actor, "staff.grants_revoked", staff.login, *(f"role:{r}" for r in roles))


def sweep_exits(session: Session, *, now: datetime, actor: str = "system:staff_sweep") -> list[str]:
    """Take every grant from people whose exit day has come; returns their logins."""
    due = session.scalars(
        select(Staff).where(
            Staff.left_on.is_not(None), Staff.left_on <= now.date(), Staff.revoked_at.is_(None)
        )
    ).all()
    for staff in due:
        _revoke_all(session, staff, actor=actor, now=now)
    return [s.login for s in due]


@dataclass(frozen=True)
class StaffView:
    """One line of the register, for the console and the CLI."""

    login: str
    kind: str
    department: str
    roles: list[str]
    pledge: bool
    trained_on: date | None
    training_due: date | None
    lapsed: bool
    left_on: date | None
    revoked: bool


def _view(s: Staff, today: date, valid_days: int) -> StaffView:
    trained = s.training_completed_at.date() if s.training_completed_at else None
    due = trained + timedelta(days=valid_days) if trained else None
    active = s.left_on is None or s.left_on > today
    return StaffView(
        login=s.login,
        kind=s.kind,
        department=s.department,
        roles=s.role_names,
        pledge=s.pledge_signed_at is not None,
        trained_on=trained,
        training_due=due,
        lapsed=active and (due is None or due < today),
        left_on=s.left_on,
        revoked=s.revoked_at is not None,
    )


def register_view(session: Session, *, today: date, valid_days: int) -> list[StaffView]:
    """The whole staff register, by department and login."""
    query = select(Staff).order_by(Staff.department, Staff.login)
    return [_view(s, today, valid_days) for s in session.scalars(query)]


#: What the staff register may be sorted and filtered by (never by a person's own values: they are sealed).
REGISTER = ListSpec(
    sorts={"department": (Staff.department, Staff.login), "login": (Staff.login,), "kind": (Staff.kind,)},
    default="department",
    tiebreak=Staff.id,
    filters={
        "kind": Filter(Staff.kind, {k.value for k in StaffKind}),
        "department": Filter(Staff.department),
        "role": Filter(
            where=lambda role: Staff.id.in_(select(StaffRole.staff_id).where(StaffRole.role == role))
        ),
    },
    search=(Staff.login,),
)


def register_page(session: Session, *, today: date, valid_days: int, asked: ListQuery) -> Page[StaffView]:
    """One page of the staff register as ``asked`` (see :data:`REGISTER`), with the number of rows."""
    return list_page(session, select(Staff), REGISTER, asked, lambda row: _view(row[0], today, valid_days))


def ensure_protection_manager(session: Session, *, login: str, actor: str) -> str | None:
    """Create a protection manager account ``login`` if there is no protection manager (JIS Q 15001
    needs one); its one-time password, or ``None`` when one exists already."""
    exists = session.scalar(select(StaffRole).where(StaffRole.role == Role.PROTECTION_MANAGER.value).limit(1))
    if exists is not None:
        return None
    now = datetime.now(UTC)
    session.add(
        Staff(
            login=login,
            department="privacy_office",
            joined_on=now.date(),
            pledge_signed_at=now,
            training_completed_at=now,
            roles=[StaffRole(role=Role.PROTECTION_MANAGER.value), StaffRole(role=Role.PRIVACY_STAFF.value)],
        )
    )
    session.flush()
    password = new_password()
    set_password(session, login, password, actor=actor)
    return password


#: How many logins a form suggests at most; any other login may still be typed.
SUGGESTED = 200


def staff_logins(session: Session, *, limit: int = SUGGESTED) -> list[str]:
    """The logins a form suggests for who answers for something (a control's owner): the staff still
    working here who hold a console role (the privacy office, auditors, department heads, ...), at most
    ``limit`` of them by login. Never the whole register: at 100,000 staff that is megabytes on every page
    and no help to the person choosing; anyone else's login may still be typed."""
    return list(
        session.scalars(
            select(Staff.login)
            .join(StaffRole, StaffRole.staff_id == Staff.id)
            .where(Staff.revoked_at.is_(None))
            .group_by(Staff.login)
            .order_by(Staff.login)
            .limit(limit)
        )
    )
