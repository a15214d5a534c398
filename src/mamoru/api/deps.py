"""Typed dependencies of the API routes: the token's principal, the area each route declares, the access
context, the error shapes; the workspace and the session come from ``mamoru.edge`` (shared with the pages).

Who acts is always the principal of the API token (``people.tokens``): a staff member or a named system.
No header names the actor; ``X-Mamoru-Purpose`` states the purpose only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from pydantic import BaseModel

from mamoru.audit.entry import REFERENCE_PATTERN
from mamoru.edge import MAX_ID as MAX_ID
from mamoru.edge import CurrentWorkspace as CurrentWorkspace
from mamoru.edge import DbSession as DbSession
from mamoru.edge import download as download
from mamoru.errors import MamoruError
from mamoru.people.permissions import PERMISSIONS, permits
from mamoru.people.permissions import Principal as Principal
from mamoru.people.tokens import authenticate, authenticate_cached
from mamoru.store import versions
from mamoru.workspace import Workspace


class ErrorOut(BaseModel):
    """Every error: its kind and what was wrong, where and why; never a value that was sent."""

    error: str
    detail: str | list[dict[str, Any]]


#: Documented on every API route, so clients (and schemathesis) know each answer's shape.
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text, "content": {"application/json": {}}}
    for code, text in (
        (400, "Bad input or a bad access context"),
        (401, "No valid API token: none, unknown, expired, revoked, or its staff member left"),
        (403, "Refused: the token's roles or scopes do not open this route, or the guard or a rule refused"),
        (404, "Not found"),
        (409, "In conflict with the current state"),
        (422, "Invalid input: each problem with its location"),
        (429, "Too many requests"),
    )
}


#: Binary downloads, documented so that clients know what comes back.
CSV_OR_XLSX: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file",
        "content": {
            "text/csv": {},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
        },
    }
}


class Unauthenticated(MamoruError):
    """No valid API token."""

    http_status = 401


class Refused(MamoruError):
    """The token's principal does not open the route's area."""

    http_status = 403


class BadAccessContext(MamoruError):
    http_status = 400


def _principal_in_session(ws: Workspace, token: str) -> Principal | None:
    with ws.db.session() as session:
        return authenticate(session, token, datetime.now(UTC))


async def current_principal(request: Request) -> Principal:
    """Who the API token acts as; the only source of the actor (no header can change it).

    A token the cache knows to be valid is answered in the event loop; any other is checked in a
    transaction of its own in a worker thread, before the route's: the last use is recorded even when
    the route fails, and the route's transaction never starts with a write it did not make.

    Called directly by :class:`Permit` and :class:`Access` (not through ``Depends``): each level of
    FastAPI's dependency tree costs every API call a resolution of its own, and an area is the only one
    that asks who acts."""
    workspace: Workspace = request.app.state.workspace
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    found = None
    if scheme.lower() == "bearer":
        token = token.strip()
        engine = workspace.db.engine
        found = authenticate_cached(engine, token, datetime.now(UTC), await versions.stamps_async(engine))
        if found is None:
            found = await run_in_threadpool(_principal_in_session, workspace, token)
    if found is None:
        raise Unauthenticated(
            "a valid API token is required (Authorization: Bearer mmr_…); it may be unknown, expired or "
            "revoked, or its staff member has left"
        )
    return found


class Area:
    """What every API route declares: the area of ``people.permissions`` it belongs to. The app refuses to
    start with an API route that has none (:func:`check_every_route_declares_an_area`)."""

    def __init__(self, area: str | None) -> None:
        if area is not None and area not in PERMISSIONS:
            raise KeyError(f"no area '{area}' in people.permissions")
        self.area = area

    def check(self, principal: Principal) -> Principal:
        assert self.area is not None
        if permits(principal, self.area):
            return principal
        if principal.system and PERMISSIONS[self.area].my_number:
            raise Refused("a system token never reaches a My Number route; use a handler's own token")
        if principal.system:
            raise Refused(f"this system token's scopes do not open '{self.area}'")
        raise Refused(f"your roles do not open '{self.area}'")


class Public(Area):
    """A route open without a token: it carries no personal data (the policy, the notices, checkpoints)."""

    def __init__(self) -> None:
        super().__init__(None)

    async def __call__(self) -> None:
        return None


class Permit(Area):
    """The route's area; answers the token's principal once it opens the area (401 without a valid
    token, 403 when its roles or scopes do not open it)."""

    async def __call__(self, request: Request) -> Principal:
        return self.check(await current_principal(request))


#: Declared as ``dependencies=[PUBLIC]`` on a route that is open to everyone.
PUBLIC = Depends(Public())
_REF = re.compile(REFERENCE_PATTERN)


@dataclass(frozen=True)
class AccessContext:
    """Who uses personal data, for which purpose, through which token. Every personal-data route takes
    it; the guard decides on it. The actor is the token's principal, the purpose the caller's statement."""

    client: str
    actor: str
    purpose: str


class Access(Area):
    """The access context of a personal-data route in ``area``: the token's principal (who acts) and the
    stated purpose (``X-Mamoru-Purpose``)."""

    async def __call__(
        self,
        request: Request,
        # Optional to FastAPI so that the area is checked first (a refused caller gets 403, not 422);
        # required here: without it the answer is 400.
        purpose: Annotated[
            str | None, Header(alias="X-Mamoru-Purpose", description="Purpose id of the policy (required)")
        ] = None,
    ) -> AccessContext:
        principal = self.check(await current_principal(request))
        if purpose is None or not _REF.match(purpose):
            raise BadAccessContext("X-Mamoru-Purpose: a reference of letters, digits and _.:/- is expected")
        return AccessContext(client=f"api:{principal.token}", actor=principal.actor, purpose=purpose)


def _calls(dependant: Any) -> list[object]:
    found = [dependant.call]
    for sub in dependant.dependencies:
        found += _calls(sub)
    return found


def route_area(route: APIRoute) -> Area | None:
    """The area an API route declares, or None when it declares none (or more than one)."""
    areas = [c for c in _calls(route.dependant) if isinstance(c, Area)]
    return areas[0] if len(areas) == 1 else None


def api_routes(routes: list[Any]) -> list[APIRoute]:
    """Every route of an app, including those of included routers (FastAPI keeps them behind a wrapper)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(api_routes(route.original_router.routes))
    return found


def check_every_route_declares_an_area(routes: list[Any]) -> None:
    """Fail closed at start: every ``/api/`` route declares exactly one area (or :data:`PUBLIC`)."""
    for route in api_routes(routes):
        if route.path.startswith("/api/") and route_area(route) is None:
            raise RuntimeError(f"{route.path} declares no permission area (people.permissions)")
