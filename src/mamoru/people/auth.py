"""Staff sign-in: argon2id password hashes, lockout after repeated failures, server-side sessions.

A session cookie carries a random token; the database keeps only its SHA-256 and a CSRF token that
every form must echo.
"""

from __future__ import annotations

import base64
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
from mamoru.errors import Invalid, MamoruError, NotFound, problem
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


@dataclass(frozen=True)
class TotpSetup:
    """A two-factor set-up in progress, for the person themselves only.

    ``uri`` (the ``otpauth://`` URI an authenticator app reads, as a QR code) is shown to them once;
    ``pending`` is the new secret sealed under their own key, carried by their set-up form until they
    prove with a code that their app holds it. Nothing is stored before that.
    """

    uri: str
    pending: str


def start_totp(vault: Vault, who: SignedIn) -> TotpSetup:
    """A new TOTP secret (RFC 6238) for the signed-in person; only they ever see it (no other staff
    member, not even an administrator, sets up someone else's second factor)."""
    secret = pyotp.random_base32()
    sealed = vault.seal_private(_totp_holder(who.login), "totp_pending", secret.encode())
    uri = pyotp.TOTP(secret).provisioning_uri(name=who.login, issuer_name=TOTP_ISSUER)
    return TotpSetup(uri, base64.urlsafe_b64encode(sealed).decode("ascii"))


def _pending_secret(vault: Vault, who: SignedIn, pending: str) -> str | None:
    try:
        return vault.open_private(
            _totp_holder(who.login), "totp_pending", base64.urlsafe_b64decode(pending.encode("ascii"))
        ).decode()
    except Exception:  # a tampered, foreign or stale set-up form
        return None


def resume_totp(vault: Vault, who: SignedIn, pending: str) -> TotpSetup | None:
    """The set-up in progress again (to show its QR code once more after a wrong code); None if it is
    not this person's."""
    secret = _pending_secret(vault, who, pending)
    if secret is None:
        return None
    return TotpSetup(pyotp.TOTP(secret).provisioning_uri(name=who.login, issuer_name=TOTP_ISSUER), pending)


def confirm_totp(
    session: Session, vault: Vault, who: SignedIn, *, pending: str, code: str, now: datetime
) -> None:
    """Turn two-factor sign-in on for the signed-in person once ``code`` shows their app holds the secret
    of ``pending`` (from :func:`start_totp`); from then on sign-in needs a code as well."""
    secret = _pending_secret(vault, who, pending)
    if secret is None:
        raise Invalid([problem("code", "the set-up expired; start it again", "totp_setup_expired")])
    totp = pyotp.TOTP(secret)
    clean = code.strip()
    matched = [
        step
        for offset in (0, -1, 1)
        if clean.isascii()
        and clean.isdigit()
        and secrets.compare_digest(totp.generate_otp(step := totp.timecode(now) + offset), clean)
    ]
    if not matched:
        raise Invalid(
            [problem("code", "the code does not match; type the code your app shows now", "totp_code")]
        )
    staff = session.get(Staff, who.staff_id)
    if staff is None:
        raise NotFound(f"no staff member '{who.login}'")
    if staff.totp_sealed is not None:
        raise Invalid(
            [problem("code", "two-factor sign-in is on already; turn it off first", "totp_already_on")]
        )
    staff.totp_sealed = vault.seal_private(_totp_holder(who.login), "totp", secret.encode())
    staff.totp_last_step = matched[0]  # the code that confirmed it is not accepted again
    append(
        session, [AuditEvent(actor=who.actor, action="staff.totp_enrolled", objects=(f"staff:{who.login}",))]
    )


def totp_enabled(session: Session, who: SignedIn) -> bool:
    staff = session.get(Staff, who.staff_id)
    return staff is not None and staff.totp_sealed is not None


def turn_off_totp(session: Session, vault: Vault, who: SignedIn, *, password: str) -> None:
    """The signed-in person turns their own two-factor sign-in off, after giving their password (to set
    up a new phone). An administrator resets a lost one with ``mamoru staff totp LOGIN --remove``."""
    staff = session.get(Staff, who.staff_id)
    if staff is None or staff.password_hash is None:
        raise NotFound(f"no staff member '{who.login}'")
    try:
        _hasher.verify(staff.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise Invalid([problem("password", "the password is not right", "password_wrong")]) from None
    remove_totp(session, vault, who.login, actor=who.actor)


def change_password(
    session: Session, who: SignedIn, *, current: str, new: str, repeated: str, now: datetime
) -> None:
    """The signed-in person changes their own password: the current one first, the new one twice.
    Every session and token of theirs ends (as with :func:`set_password`), this one included."""
    staff = session.get(Staff, who.staff_id)
    if staff is None or staff.password_hash is None:
        raise NotFound(f"no staff member '{who.login}'")
    problems = []
    try:
        _hasher.verify(staff.password_hash, current)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        problems.append(problem("current", "the current password is not right", "password_wrong"))
    if len(new) < MIN_PASSWORD_LENGTH:
        problems.append(problem("new", f"at least {MIN_PASSWORD_LENGTH} characters", "password_short"))
    elif new != repeated:
        problems.append(problem("repeated", "the two new passwords differ", "password_mismatch"))
    elif new == current:
        problems.append(problem("new", "choose a password other than the current one", "password_same"))
    if problems:
        raise Invalid(problems)
    set_password(session, who.login, new, actor=who.actor, now=now)


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
