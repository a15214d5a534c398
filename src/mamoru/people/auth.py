"""Staff sign-in: argon2id password hashes, lockout after repeated failures, server-side sessions.

A session cookie carries a random token; the database keeps only its SHA-256 and a CSRF token that
every form must echo.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mamoru.audit.entry import AuditEvent
from mamoru.audit.log import append
from mamoru.errors import MamoruError, NotFound
from mamoru.people.tables import ConsoleSession, Staff

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)
MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


class WeakPassword(MamoruError):
    http_status = 422


def set_password(session: Session, login: str, password: str, *, actor: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    staff = session.scalar(select(Staff).where(Staff.login == login))
    if staff is None:
        raise NotFound(f"no staff member '{login}'")
    staff.password_hash = _hasher.hash(password)
    staff.failed_logins = 0
    staff.locked_until = None
    append(session, [AuditEvent(actor=actor, action="staff.set_password", objects=(f"staff:{login}",))])


def new_password() -> str:
    return secrets.token_urlsafe(15)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    staff_id: int
    login: str
    roles: frozenset[str]
    csrf_token: str

    @property
    def actor(self) -> str:
        return f"staff:{self.login}"


REFUSED = "sign-in failed: wrong login or password, or the account is locked for a while"


def sign_in(session: Session, login: str, password: str, now: datetime) -> tuple[str, SignedIn] | None:
    """Check the password; return a new session token (for the cookie) and who signed in, or None.

    A failure is recorded (and counts towards the lockout) in the caller's transaction, which the
    caller commits before answering, so refusing never rolls the count back.
    """
    staff = session.scalar(select(Staff).where(Staff.login == login))
    if staff is None or staff.password_hash is None:
        _hasher.hash(password)  # same work as a real check, so timing does not tell which logins exist
        return None
    if staff.locked_until is not None and staff.locked_until > now:
        return None
    if staff.left_on is not None and staff.left_on <= now.date():
        return None
    try:
        _hasher.verify(staff.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        staff.failed_logins += 1
        if staff.failed_logins >= MAX_FAILURES:
            staff.locked_until = now + LOCKOUT
            staff.failed_logins = 0
            append(
                session,
                [AuditEvent(actor=f"staff:{login}", action="staff.locked", reasons=("too_many_failures",))],
            )
        else:
            append(session, [AuditEvent(actor=f"staff:{login}", action="staff.sign_in_failed")])
        return None
    staff.failed_logins = 0
    staff.locked_until = None
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    session.add(
        ConsoleSession(
            token_sha256=_digest(token),
            staff_id=staff.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    append(session, [AuditEvent(actor=f"staff:{login}", action="staff.sign_in")])
    return token, SignedIn(staff.id, staff.login, frozenset(staff.role_names), csrf)


def current(session: Session, token: str | None, now: datetime) -> SignedIn | None:
    """Who holds this session token, if it is valid now."""
    if not token:
        return None
    row = session.scalar(select(ConsoleSession).where(ConsoleSession.token_sha256 == _digest(token)))
    if row is None or row.expires_at <= now:
        return None
    staff = session.get(Staff, row.staff_id)
    if staff is None or (staff.left_on is not None and staff.left_on <= now.date()):
        return None
    return SignedIn(staff.id, staff.login, frozenset(staff.role_names), row.csrf_token)


def sign_out(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(ConsoleSession).where(ConsoleSession.token_sha256 == _digest(token)))
