"""Opening what a request holds: its sealed details and the documents sent with it for the office, the
answer (letter and package) for the requester and the office. Each opening is audited in the caller's
transaction, with who opened what and never a value: the console and the portal only show what this
module hands them.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import NotFound
from mamoru.requests.package import package_path
from mamoru.requests.plan import steps_of
from mamoru.requests.sealed import details
from mamoru.requests.status import Status
from mamoru.requests.tables import RequestDocument, RequestStep, SubjectRequest
from mamoru.vault.service import Vault
from mamoru.workspace import Workspace

#: The actor of what the requester opens through the status link (the link proves no more than that).
REQUESTER = "subject:requester"


@dataclass(frozen=True)
class RequestView:
    """One request as the office sees it: the row, the sealed details, the documents (still sealed)
    and the plan's steps."""

    request: SubjectRequest
    sealed: dict[str, Any]
    documents: list[RequestDocument]
    steps: list[RequestStep]


@dataclass(frozen=True)
class OpenedDocument:
    content_type: str
    content: bytes


def _audit(
    session: Session, actor: str, action: str, request_id: str, subjects: tuple[str, ...] = ()
) -> None:
    append(
        session,
        [AuditEvent(actor=actor, action=action, subjects=subjects, objects=(f"request:{request_id}",))],
    )


def documents_of(session: Session, request_id: str) -> list[RequestDocument]:
    """The documents sent with a request (their rows; the content stays sealed)."""
    return list(
        session.scalars(
            select(RequestDocument)
            .where(RequestDocument.request_id == request_id)
            .order_by(RequestDocument.id)
        )
    )


def view(session: Session, vault: Vault, request: SubjectRequest, *, actor: str) -> RequestView:
    """The request with its sealed details opened, for a member of the office (audited)."""
    sealed = details(vault, request)
    _audit(session, actor, "request.viewed", request.id)
    return RequestView(request, sealed, documents_of(session, request.id), steps_of(session, request.id))


def open_document(
    session: Session, vault: Vault, request_id: str, document_id: int, *, actor: str
) -> OpenedDocument:
    """One document the requester sent, opened for a member of the office (audited)."""
    doc = session.get(RequestDocument, document_id)
    if doc is None or doc.request_id != request_id:
        raise NotFound(f"no document {document_id} on this request")
    content = vault.open_private(request_id, f"document:{doc.kind}", doc.sealed)
    _audit(session, actor, "request.document_viewed", request_id)
    return OpenedDocument(doc.content_type, content)


def _package(ws: Workspace, request: SubjectRequest) -> bytes:
    if request.status != Status.COMPLETED:
        raise NotFound("the answer is not ready yet")
    path = package_path(ws, request.id)
    if not path.exists():
        raise NotFound("the answer's files are no longer kept")
    return ws.vault.open_private(request.id, "package", path.read_bytes())


def _downloaded(
    session: Session, request: SubjectRequest, actor: str, what: Literal["letter", "package"]
) -> None:
    _audit(session, actor, f"request.{what}_downloaded", request.id, tuple(request.subjects))


def open_package(session: Session, ws: Workspace, request: SubjectRequest, *, actor: str) -> bytes:
    """The answer's package (a ZIP), once the request is answered (audited)."""
    data = _package(ws, request)
    _downloaded(session, request, actor, "package")
    return data


def open_letter(session: Session, ws: Workspace, request: SubjectRequest, *, actor: str) -> str:
    """The answer's letter (printable HTML) from the package, once the request is answered (audited)."""
    with zipfile.ZipFile(io.BytesIO(_package(ws, request))) as archive:
        name = next(n for n in archive.namelist() if n.startswith("letter-"))
        letter = archive.read(name).decode("utf-8")
    _downloaded(session, request, actor, "letter")
    return letter
