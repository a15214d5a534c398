"""Helpers shared by the request tests: a demo office, submitting and verifying, opening packages."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from typing import Any

import orjson

from mamoru.demo import DemoPerson, DemoPlan
from mamoru.law.requests import RequestKind
from mamoru.requests import jobs, service
from mamoru.requests.package import package_path
from mamoru.requests.service import Document, RequestIn
from mamoru.workspace import Workspace
from tests.demo_copies import demo_copy

OFFICER = "staff:pm01"


def load_office(ws: Workspace, seed: int = 8) -> DemoPlan:
    return demo_copy(ws, seed)


def person(plan: DemoPlan, kind: str, index: int = 0) -> DemoPerson:
    return [p for p in plan.all_people() if p.kind == kind][index]


def submit(ws: Workspace, kind: RequestKind, email: str, **extra: Any) -> tuple[str, str, str]:
    """Submit a request; returns (request id, status token, code)."""
    data = RequestIn(kind=kind, name=extra.pop("name", "Requester"), email=email, **extra)
    with ws.db.session() as session:
        done = service.submit(session, ws.vault, ws.policy.policy, ws.settings, data, now=datetime.now(UTC))
        return done.request.id, done.status_token, done.code


#: A one-page PDF standing in for a scanned identity document.
IDENTITY_PDF = b"%PDF-1.4 identity document"


def verified(ws: Workspace, kind: RequestKind, email: str, **extra: Any) -> str:
    """Submit and enter the code; where the office needs an identity document (special care-required
    data, a weak match: tests/test_requests_matching.py), the requester sends one and the office
    accepts it, so the request ends verified."""
    request_id, _, code = submit(ws, kind, email, **extra)
    now = datetime.now(UTC)
    with ws.db.session() as session:
        request = service.get(session, request_id)
        assert service.verify_code(session, ws.vault, request, code, now=now, policy=ws.policy.policy) == "ok"
        if request.identity_needs and not request.by_agent:
            service.add_document(
                session, ws.vault, request, Document("identity", "application/pdf", IDENTITY_PDF), now=now
            )
            service.check_documents(session, request, actor=OFFICER, accept=True, now=now)
    return request_id


def approve_and_run(ws: Workspace, request_id: str, **kw: Any) -> str:
    with ws.db.session() as session:
        service.approve(session, service.get(session, request_id), actor=OFFICER, now=datetime.now(UTC), **kw)
    return jobs.run(ws, request_id)


def package(ws: Workspace, request_id: str) -> dict[str, bytes]:
    sealed = package_path(ws, request_id).read_bytes()
    data = ws.vault.open_private(request_id, "package", sealed)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def package_json(ws: Workspace, request_id: str) -> dict[str, Any]:
    value: dict[str, Any] = orjson.loads(package(ws, request_id)["data.json"])
    return value
