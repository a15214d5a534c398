"""Typed dependencies of the API routes: the token, the access context, the error shapes; the workspace
and the session come from ``mamoru.edge`` (shared with the pages)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from pydantic import BaseModel

from mamoru.audit.entry import REFERENCE_PATTERN
from mamoru.edge import MAX_ID as MAX_ID
from mamoru.edge import CurrentWorkspace as CurrentWorkspace
from mamoru.edge import DbSession as DbSession
from mamoru.edge import download as download
from mamoru.errors import MamoruError
from mamoru.people.tables import ApiClient
from mamoru.people.tokens import authenticate


class ErrorOut(BaseModel):
    """Every error: its kind and what was wrong, where and why; never a value that was sent."""

    error: str
    detail: str | list[dict[str, Any]]


#: Documented on every API route, so clients (and schemathesis) know each answer's shape.
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text, "content": {"application/json": {}}}
    for code, text in (
        (400, "Bad input or a bad access context"),
        (401, "No valid API token"),
        (403, "Refused by the guard or by a rule"),
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


class BadAccessContext(MamoruError):
    http_status = 400


def require_api_client(request: Request, session: DbSession) -> ApiClient:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    client = authenticate(session, token.strip()) if scheme.lower() == "bearer" else None
    if client is None:
        raise Unauthenticated("a valid API token is required (Authorization: Bearer mmr_…)")
    return client


CurrentApiClient = Annotated[ApiClient, Depends(require_api_client)]
_REF = re.compile(REFERENCE_PATTERN)


@dataclass(frozen=True)
class AccessContext:
    """Who uses personal data, for which purpose, through which client. Every personal-data route takes
    it; the guard decides on it."""

    client: str
    actor: str
    purpose: str


def access_context(
    client: CurrentApiClient,
    actor: Annotated[str, Header(alias="X-Mamoru-Actor", description="Who uses the data, e.g. staff:sa01")],
    purpose: Annotated[str, Header(alias="X-Mamoru-Purpose", description="Purpose id of the policy")],
) -> AccessContext:
    for name, value in (("X-Mamoru-Actor", actor), ("X-Mamoru-Purpose", purpose)):
        if not _REF.match(value):
            raise BadAccessContext(f"{name}: a reference of letters, digits and _.:/- is expected")
    return AccessContext(client=f"api:{client.name}", actor=actor, purpose=purpose)


CurrentAccess = Annotated[AccessContext, Depends(access_context)]
