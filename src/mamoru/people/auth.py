"""Staff sign-in: argon2id password hashes, lockout after repeated failures, server-side sessions.

A session cookie carries a random token; the database keeps only its SHA-256 and a CSRF token that
every form must echo.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import MamoruError, NotFound
from mamoru.people.tables import ConsoleSession, Staff
from mamoru.people.tokens import end_access
from mamoru.vault.service import Vault

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)
MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


class WeakPassword(MamoruError):
    http_status = 422


def set_password(
    session: Session, login: str, password: str, *, actor: str, now: datetime | None = None
) -> None:
    """Set (change or reset) a password; every session and API token of the person ends."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    staff = session.scalar(select(Staff).where(Staff.login == login))
    if staff is None:
        raise NotFound(f"no staff member '{login}'")
    staff.password_hash = _hasher.hash(password)
    staff.failed_logins = 0
    staff.locked_until = None
    append(session, [AuditEvent(actor=actor, action="staff.set_password", objects=(f"staff:{login}",))])
    end_access(session, staff.id, actor=actor, now=now or datetime.now(UTC), reason="password_set")


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


TOTP_ISSUER = "mamoru"


def _totp_holder(login: str) -> str:
    return f"totp:{login}"


def enroll_totp(session: Session, vault: Vault, login: str, *, actor: str) -> str:
    """Give a staff member a new TOTP secret (RFC 6238) and return its provisioning URI, shown once.

    The secret is kept sealed with a key of its own; from now on sign-in needs a code as well.
    """
    staff = session.scalar(select(Staff).where(Staff.login == login))
    if staff is None:
        raise NotFound(f"no staff member '{login}'")
    secret = pyotp.random_base32()
    staff.totp_sealed = vault.seal_private(_totp_holder(login), "totp", secret.encode())
    staff.totp_last_step = None
    append(session, [AuditEvent(actor=actor, action="staff.totp_enrolled", objects=(f"staff:{login}",))])
    return pyotp.TOTP(secret).provisioning_uri(name=login, issuer_name=TOTP_ISSUER)


def remove_totp(session: Session, vault: Vault, login: str, *, actor: str) -> None:
    staff = session.scalar(select(Staff).where(Staff.login == login))
    if staff is None:
        raise NotFound(f"no staff member '{login}'")
    staff.totp_sealed = None
    staff.totp_last_step = None
    vault.keystore.destroy_subject_key(_totp_holder(login))
    append(session, [AuditEvent(actor=actor, action="staff.totp_removed", objects=(f"staff:{login}",))])


def _totp_ok(staff: Staff, vault: Vault | None, code: str | None, now: datetime) -> bool:
    if staff.totp_sealed is None:
        return True
    if vault is None or not code or not code.strip().isascii() or not code.strip().isdigit():
        return False
    totp = pyotp.TOTP(vault.open_private(_totp_holder(staff.login), "totp", staff.totp_sealed).decode())
    for offset in (0, -1, 1):  # one step of clock drift either way
        step = totp.timecode(now) + offset
        if secrets.compare_digest(totp.generate_otp(step), code.strip()) and step > (
            staff.totp_last_step or -1
        ):
            staff.totp_last_step = step
            return True
    return False


def _locked_staff(session: Session, login: str) -> Staff | None:
    """The staff row, read after taking its lock until the transaction ends.

    An update that changes nothing takes a row lock on PostgreSQL and the write lock on SQLite (which has
    no SELECT ... FOR UPDATE); the read that follows sees what the previous attempt committed.
    """
    session.execute(
        update(Staff)
        .where(Staff.login == login)
        .values(failed_logins=Staff.failed_logins)
        .execution_options(synchronize_session=False)
    )
    return session.scalar(select(Staff).where(Staff.login == login).execution_options(populate_existing=True))


def sign_in(
    session: Session,
    login: str,
    password: str,
    now: datetime,
    *,
    code: str | None = None,
    vault: Vault | None = None,
) -> tuple[str, SignedIn] | None:
    """Check the password (and the TOTP code, for staff who set one up); return a new session token
    (for the cookie) and who signed in, or None.

    A failure is recorded (and counts towards the lockout) in the caller's transaction, which the
    caller commits before answering, so refusing never rolls the count back. The staff row stays
    locked until then: attempts on one account are checked one after the other, so forty sent at once
    still lock it at the fifth failure and the rest are refused unheard.
    """
    # An unknown login takes no lock (on SQLite that would be the whole database's write lock).
    known = session.scalar(select(Staff.password_hash).where(Staff.login == login)) is not None
    staff = _locked_staff(session, login) if known else None
    if staff is None or staff.password_hash is None:
        _hasher.hash(password)  # same work as a real check, so timing does not tell which logins exist
        return None
    if staff.locked_until is not None and staff.locked_until > now:
        return None
    if staff.left_on is not None and staff.left_on <= now.date():
        return None
    try:
        _hasher.verify(staff.password_hash, password)
        if not _totp_ok(staff, vault, code, now):
            raise VerifyMismatchError
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
