"""API tokens for tests: a token for one staff member, a system token with some scopes, the headers."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from mamoru.people.tokens import issue_token
from mamoru.workspace import Workspace

_names = itertools.count(1)
LIFETIME = timedelta(days=1)


def staff_token(ws: Workspace, login: str, *, name: str | None = None) -> str:
    """A token that acts as staff member ``login`` (with their roles, pledge and training)."""
    with ws.db.session() as session:
        _, token = issue_token(
            session,
            name or f"staff-{login}-{next(_names)}",
            staff=login,
            lifetime=LIFETIME,
            actor="system:test",
            now=datetime.now(UTC),
        )
    return token


def system_token(ws: Workspace, name: str, *scopes: str) -> str:
    """A token of the named system ``name`` holding ``scopes`` (recorded as ``api:<name>``)."""
    with ws.db.session() as session:
        _, token = issue_token(
            session, name, scopes=scopes, lifetime=LIFETIME, actor="system:test", now=datetime.now(UTC)
        )
    return token


def bearer(token: str, purpose: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if purpose is not None:
        headers["X-Mamoru-Purpose"] = purpose
    return headers
