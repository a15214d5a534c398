"""API tokens for the organization's other systems: shown once, kept only as a SHA-256 hash.

Tokens are 256 random bits, so a plain hash is enough to store them (no password stretching needed).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import Invalid, NotFound
from mamoru.people.tables import ApiClient

PREFIX = "mmr_"
_NAME = re.compile(r"^[a-z][a-z0-9_\-]{0,63}$")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def create_token(session: Session, name: str, *, actor: str, now: datetime) -> tuple[ApiClient, str]:
    """A new client and its token (the only time the token is available)."""
    if not _NAME.match(name):
        raise Invalid([("name", "lower-case letters, digits, _ and -; starting with a letter")])
    if session.scalar(select(ApiClient).where(ApiClient.name == name)) is not None:
        raise Invalid([("name", f"a client '{name}' already exists")])
    token = PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(name=name, token_sha256=_hash(token), created_at=now, created_by=actor)
    session.add(client)
    session.flush()
    append(session, [AuditEvent(actor=actor, action="api_client.create", objects=(f"api_client:{name}",))])
    return client, token


def authenticate(session: Session, token: str) -> ApiClient | None:
    """The active client holding ``token``, or None."""
    if not token.startswith(PREFIX):
        return None
    digest = _hash(token)
    client = session.scalar(select(ApiClient).where(ApiClient.token_sha256 == digest))
    if (
        client is None
        or client.revoked_at is not None
        or not hmac.compare_digest(client.token_sha256, digest)
    ):
        return None
    return client


def revoke_token(session: Session, name: str, *, actor: str, now: datetime) -> ApiClient:
    client = session.scalar(select(ApiClient).where(ApiClient.name == name))
    if client is None:
        raise NotFound(f"no API client '{name}'")
    if client.revoked_at is None:
        client.revoked_at = now
        append(
            session, [AuditEvent(actor=actor, action="api_client.revoke", objects=(f"api_client:{name}",))]
        )
    return client


def list_clients(session: Session) -> list[ApiClient]:
    return list(session.scalars(select(ApiClient).order_by(ApiClient.name)))
