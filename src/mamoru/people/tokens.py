"""API tokens: each belongs to exactly one principal, a staff member or a named system.

A staff member's token acts as them (``staff:<login>``), with the roles, pledge, training and handler
designation they hold at the moment of each call; it stops working when they leave, and every token and
console session of a person ends when their password is changed or reset or they lose a role
(:func:`end_access`). A system's token acts as ``api:<name>`` and opens only the areas of the scopes it
was issued with (``people.permissions``); never a My Number area. No header changes who is acting.

Tokens are shown once and kept only as a SHA-256 hash: they are 256 random bits, so a plain hash is
enough (no password stretching needed). They expire, record their last use, and can be revoked; every
issue and revocation is audited.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import NotFound, require
from mamoru.people.permissions import Principal, Scope
from mamoru.people.tables import ApiClient, ConsoleSession, Staff
from mamoru.store import versions

PREFIX = "mmr_"
STAFF, SYSTEM = "staff", "system"
#: The actor a system token's calls are recorded under: ``api:<name>``. It can never be a staff member
#: (``staff:…``) nor one of mamoru's own jobs (``system:…``).
SYSTEM_ACTOR_PREFIX = "api:"
#: How often the last use is written at most (one write per token a minute, not one per call).
LAST_USE_RESOLUTION = timedelta(minutes=1)
_NAME = re.compile(r"^[a-z][a-z0-9_\-]{0,63}$")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def _audit(session: Session, actor: str, action: str, row: ApiClient, *reasons: str) -> None:
    objects = [f"api_token:{row.name}"]
    if row.staff_id is not None:
        login = session.scalar(select(Staff.login).where(Staff.id == row.staff_id))
        objects.append(f"staff:{login}")
    append(session, [AuditEvent(actor=actor, action=action, objects=tuple(objects), reasons=reasons)])


def _active_staff(staff: Staff | None, now: datetime) -> bool:
    return (
        staff is not None
        and staff.revoked_at is None
        and (staff.left_on is None or staff.left_on > now.date())
    )


def lifetime(days: int | None, most_days: int) -> timedelta:
    """The lifetime of a new token: ``days`` (at most the setting ``token_lifetime_days``), or the setting."""
    chosen = most_days if days is None else days
    require(
        []
        if 1 <= chosen <= most_days
        else [("days", f"a token lives from 1 to {most_days} days (the setting token_lifetime_days)")]
    )
    return timedelta(days=chosen)


def issue_token(
    session: Session,
    name: str,
    *,
    staff: str | None = None,
    scopes: Iterable[str] = (),
    lifetime: timedelta,
    actor: str,
    now: datetime,
) -> tuple[ApiClient, str]:
    """A new token for one staff member (``staff``, a login) or one named system (``scopes``), valid for
    ``lifetime``; returns the row and the token, the only time the token is available."""
    wanted = sorted(set(scopes))
    problems: list[tuple[str, str]] = []
    if not _NAME.match(name):
        problems.append(("name", "lower-case letters, digits, _ and -; starting with a letter"))
    elif session.scalar(select(ApiClient.id).where(ApiClient.name == name)) is not None:
        problems.append(("name", f"a token named '{name}' exists already; names are never reused"))
    member: Staff | None = None
    if staff is not None and wanted:
        problems.append(("scopes", "a staff member's token acts with their roles; scopes are for systems"))
    elif staff is None and not wanted:
        problems.append(("scopes", "name the staff member the token acts as, or the system's scopes"))
    elif staff is not None:
        member = session.scalar(select(Staff).where(Staff.login == staff.removeprefix("staff:")))
        if not _active_staff(member, now):
            problems.append(("staff", f"no current staff member '{staff}'"))
    known = {s.value for s in Scope}
    for scope in wanted:
        if scope not in known:
            problems.append(("scopes", f"'{scope}' is not a scope; one of {', '.join(sorted(known))}"))
    if lifetime <= timedelta(0):
        problems.append(("lifetime", "a token must live for a while (at least one day)"))
    require(problems)
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiClient(
        name=name,
        token_sha256=_hash(token),
        kind=STAFF if member is not None else SYSTEM,
        staff_id=member.id if member is not None else None,
        scopes=wanted,
        created_at=now,
        created_by=actor,
        expires_at=now + lifetime,
    )
    try:
        with session.begin_nested():  # two issues of one name at once: the second is bad input, not a 500
            session.add(row)
            session.flush()
    except IntegrityError:
        require([("name", f"a token named '{name}' exists already; names are never reused")])
    _audit(session, actor, "api_token.issue", row, *(f"scope:{s}" for s in wanted))
    return row, token


@dataclass(slots=True)
class _Known:
    """A valid token as last read: its principal and what decides, at each call, whether it still holds."""

    row_id: int
    principal: Principal
    expires_at: datetime
    left_on: date | None
    last_used_at: datetime | None


class _Tokens:
    __slots__ = ("known", "stamp")

    def __init__(self) -> None:
        self.stamp = ""
        self.known: dict[str, _Known] = {}


_TOKENS: versions.PerEngine[_Tokens] = versions.PerEngine(_Tokens)


def _read(session: Session, digest: str, now: datetime) -> _Known | None:
    row = session.scalar(select(ApiClient).where(ApiClient.token_sha256 == digest))
    if (
        row is None
        or not hmac.compare_digest(row.token_sha256, digest)
        or row.revoked_at is not None
        or row.expires_at <= now
    ):
        return None
    if row.kind == STAFF:
        member = session.get(Staff, row.staff_id) if row.staff_id is not None else None
        if member is None or not _active_staff(member, now):
            return None
        principal = Principal(
            token=row.name,
            actor=f"staff:{member.login}",
            roles=frozenset(member.role_names),
            staff_id=member.id,
        )
        return _Known(row.id, principal, row.expires_at, member.left_on, row.last_used_at)
    if row.kind == SYSTEM and row.staff_id is None:
        principal = Principal(
            token=row.name, actor=f"{SYSTEM_ACTOR_PREFIX}{row.name}", scopes=frozenset(row.scopes)
        )
        return _Known(row.id, principal, row.expires_at, None, row.last_used_at)
    return None


def authenticate_cached(
    engine: Engine, token: str, now: datetime, stamps: dict[str, str]
) -> Principal | None:
    """The principal of ``token`` when the cache alone can say it is valid now and no use needs recording
    (``stamps``: current, from ``versions``); None otherwise, when :func:`authenticate` must decide (an
    unknown, expired or revoked token included). No session, no I/O."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    cache = _TOKENS(engine)
    if stamps.get("actors", "") != cache.stamp:
        return None
    known = cache.known.get(_hash(token))
    if (
        known is None
        or known.expires_at <= now
        or (known.left_on is not None and known.left_on <= now.date())
        or known.last_used_at is None
        or known.last_used_at < now - LAST_USE_RESOLUTION
    ):
        return None
    return known.principal


def authenticate(session: Session, token: str, now: datetime) -> Principal | None:
    """The principal of ``token`` if it is valid now (not revoked, not expired, its staff member still
    here), or None. Records the use (at most once a minute).

    A valid token is kept in memory under the ``actors`` stamp of ``store.versions``: a revocation, a
    left date, a lost role or a reissue changes the stamp, and the next call reads the token again."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    digest = _hash(token)
    engine = versions.engine_of(session)
    cache: _Tokens | None = None
    known: _Known | None = None
    stamp = ""
    if engine is not None and not versions.dirty(session):
        cache = _TOKENS(engine)
        stamp = versions.stamps(engine).get("actors", "")
        if stamp != cache.stamp:
            cache.known, cache.stamp = {}, stamp
        known = cache.known.get(digest)
    if known is None:
        known = _read(session, digest, now)
        if known is None:
            return None
        if cache is not None and cache.stamp == stamp:
            if len(cache.known) > 100_000:
                cache.known = {}
            cache.known[digest] = known
    elif known.expires_at <= now or (known.left_on is not None and known.left_on <= now.date()):
        return None
    if known.last_used_at is None or known.last_used_at < now - LAST_USE_RESOLUTION:
        # At most one write a minute per token, and an atomic one: of many calls at once, one writes.
        known.last_used_at = now
        session.execute(
            update(ApiClient)
            .where(
                ApiClient.id == known.row_id,
                or_(ApiClient.last_used_at.is_(None), ApiClient.last_used_at < now - LAST_USE_RESOLUTION),
            )
            .values(last_used_at=now)
        )
    return known.principal


def revoke_token(session: Session, name: str, *, actor: str, now: datetime) -> ApiClient:
    """Revoke a token at once (a second revocation changes nothing and is not audited again)."""
    row = session.scalar(select(ApiClient).where(ApiClient.name == name).with_for_update())
    if row is None:
        raise NotFound(f"no API token '{name}'")
    if row.revoked_at is None:
        row.revoked_at = now
        row.revoked_by = actor
        _audit(session, actor, "api_token.revoke", row)
    return row


def end_access(session: Session, staff_id: int, *, actor: str, now: datetime, reason: str) -> int:
    """End every console session and every API token of one staff member (a password changed or reset,
    a role lost, leaving); each token's end is audited with ``reason``. Returns how many tokens ended."""
    session.execute(delete(ConsoleSession).where(ConsoleSession.staff_id == staff_id))
    rows = list(
        session.scalars(
            select(ApiClient)
            .where(ApiClient.staff_id == staff_id, ApiClient.revoked_at.is_(None))
            .order_by(ApiClient.id)
            .with_for_update()
        )
    )
    for row in rows:
        row.revoked_at = now
        row.revoked_by = actor
        _audit(session, actor, "api_token.revoke", row, reason)
    return len(rows)


@dataclass(frozen=True)
class TokenView:
    """One token as the console and the CLI list it (never the token itself)."""

    name: str
    kind: str
    principal: str
    scopes: list[str]
    created_at: datetime
    created_by: str
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    state: str  # active, expired, revoked


def list_tokens(session: Session, now: datetime) -> list[TokenView]:
    rows = list(session.scalars(select(ApiClient).order_by(ApiClient.name)))
    # the logins of the tokens' holders only, never the whole register
    holders = {row.staff_id for row in rows if row.staff_id is not None}
    logins = {
        i: login for i, login in session.execute(select(Staff.id, Staff.login).where(Staff.id.in_(holders)))
    }
    views = []
    for row in rows:
        expired = row.expires_at <= now
        views.append(
            TokenView(
                name=row.name,
                kind=row.kind,
                principal=(
                    f"staff:{logins.get(row.staff_id or 0, '?')}"
                    if row.kind == STAFF
                    else f"{SYSTEM_ACTOR_PREFIX}{row.name}"
                ),
                scopes=list(row.scopes),
                created_at=row.created_at,
                created_by=row.created_by,
                expires_at=row.expires_at,
                last_used_at=row.last_used_at,
                revoked_at=row.revoked_at,
                state="revoked" if row.revoked_at is not None else "expired" if expired else "active",
            )
        )
    return views
