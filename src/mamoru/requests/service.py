"""Intake, verification and the office's decision on a data-subject request.

A request is received (portal, API, or entered by the office), the requester proves control of the
e-mail address by a one-time code, the person is found by every identifier given (:mod:`.matching`;
the office links or unlinks persons by hand), agents' documents and, where the match is weak or the
data special care-required, an identity document are checked by the office (APPI Arts. 33, 37), and
the office approves or refuses with a ground and reasons (Art. 36). Fulfilment is :mod:`mamoru.requests.jobs`.
No personal value is in a row or an audit entry: the requester's details are sealed per request.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError
from pydantic_core import PydanticCustomError
from sqlalchemy import ColumnElement, select, true, update
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import Invalid, MamoruError, NotFound, Problem, problem
from mamoru.law.deadlines import clock_for
from mamoru.law.requests import (
    DISCLOSING,
    NEEDS_GROUND,
    REFUSAL_GROUNDS,
    CessationGround,
    RefusalGround,
    RequestKind,
)
from mamoru.ledger.tables import DataSubject
from mamoru.mail import CONTROL_IN_ADDRESS, address_problem, has_control
from mamoru.policy.model import Policy
from mamoru.requests import matching
from mamoru.requests.plan import plan
from mamoru.requests.sealed import details, seal_details
from mamoru.requests.status import OPEN_STATUSES, Status
from mamoru.requests.tables import RequestCandidate, RequestDocument, RequestStep, SubjectRequest
from mamoru.settings import Settings
from mamoru.store.listing import Filter, ListQuery, ListSpec, list_page
from mamoru.store.paging import Page
from mamoru.vault.service import Vault

CODE_DIGITS = 6
CODE_VALID = timedelta(minutes=30)
#: Wrong codes allowed before the request locks (the office can still verify it by other means).
MAX_CODE_ATTEMPTS = 5
MAX_CODES_SENT = 5
#: A request's status link is renewed and mailed again at most once in this time (however often asked).
LINK_INTERVAL = timedelta(minutes=15)
#: The newest requests of one address whose links are sent again.
MAX_LINKS_AT_ONCE = 10
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
DOCUMENT_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})


class RequestConflict(MamoruError):
    """The request is not in a state where this can be done."""

    http_status = 409


Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class CorrectionItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    value: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


def _no_control(value: Any) -> Any:
    """Before whitespace is stripped: an address with a line break or a NUL anywhere is refused, not
    quietly trimmed (it could add headers to the mail the code goes out in)."""
    if isinstance(value, str) and has_control(value):
        raise PydanticCustomError("email", CONTROL_IN_ADDRESS)
    return value


class RequestIn(BaseModel):
    """What a person (or their agent) asks for. No reason is asked for: the law requires none."""

    model_config = ConfigDict(extra="forbid")
    kind: RequestKind
    name: Short
    email: Annotated[
        str, BeforeValidator(_no_control), StringConstraints(strip_whitespace=True, max_length=254)
    ]
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    #: Further identifiers that help find the person (APPI Art. 33): only their blind indexes are kept
    #: in the request's row; the values are sealed with the other details.
    birth_date: date | None = None
    member_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    lang: Literal["ja", "en"] = "ja"
    method: Literal["electronic", "paper"] = "electronic"
    #: Where a paper answer goes ("by post"); sealed with the other details.
    postal_address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None
    by_agent: bool = False
    agent_kind: Literal["legal_representative", "appointed"] | None = None
    agent_name: Short | None = None
    grounds: list[CessationGround] = Field(default_factory=list)
    purposes: list[str] = Field(default_factory=list)
    recipients: list[str] = Field(default_factory=list)
    corrections: list[CorrectionItem] = Field(default_factory=list, max_length=20)
    details: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


def parse_request(data: dict[str, Any]) -> RequestIn:
    """Validate raw form or JSON input, reporting every problem with its field."""
    try:
        return RequestIn.model_validate(data)
    except ValidationError as exc:
        raise Invalid.from_validation(exc) from None


def check_request(policy: Policy, data: RequestIn) -> None:
    """The rules beyond shape: grounds for Art. 35 kinds, known purposes, recipients and fields, agents."""
    # What a person sent is never repeated in a problem: the field path says which entry is wrong.
    problems: list[Problem] = []
    if address_problem(data.email) is not None:
        problems.append(
            problem("email", "an e-mail address like name@example.jp is needed to send the code", "email")
        )
    if data.kind in NEEDS_GROUND and not data.grounds:
        problems.append(problem("grounds", "choose at least one ground (APPI Art. 35)", "ground_needed"))
    known_purposes = {p.id for p in policy.purposes}
    for i, purpose in enumerate(data.purposes):
        if purpose not in known_purposes:
            problems.append(problem(("purposes", i), "not a purpose in our policy", "unknown"))
    known_recipients = {r.id for r in policy.recipients}
    for i, recipient in enumerate(data.recipients):
        if recipient not in known_recipients:
            problems.append(problem(("recipients", i), "not a recipient in our policy", "unknown"))
    if data.kind is RequestKind.CORRECTION:
        if not data.corrections:
            problems.append(
                problem(
                    "corrections",
                    "say which item is untrue and what it should be (APPI Art. 34)",
                    "correction_needed",
                )
            )
        for i, item in enumerate(data.corrections):
            if item.field not in policy.fields:
                problems.append(problem(("corrections", i, "field"), "not an item we keep", "unknown"))
            elif policy.category(policy.fields[item.field]).my_number:
                problems.append(
                    problem(
                        ("corrections", i, "field"),
                        "the Individual Number is corrected by its designated handlers",
                        "my_number_correction",
                    )
                )
    if data.kind in DISCLOSING and data.method == "paper" and not data.postal_address:
        problems.append(
            problem(
                "postal_address",
                "give the postal address the answer is to be sent to by post",
                "postal_address_needed",
            )
        )
    if data.by_agent and (data.agent_kind is None or data.agent_name is None):
        problems.append(
            problem(
                "agent_kind",
                "an agent gives the kind of agency and their own name (APPI Art. 37)",
                "agent_needed",
            )
        )
    if problems:
        raise Invalid(problems)


@dataclass(frozen=True)
class Document:
    kind: Literal["authority", "agent_identity", "identity"]
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Submitted:
    request: SubjectRequest
    status_token: str
    code: str


def _check_documents_shape(documents: tuple[Document, ...]) -> None:
    for i, doc in enumerate(documents):
        if doc.content_type not in DOCUMENT_TYPES:
            raise Invalid([(f"documents.{i}", "send a PDF, PNG or JPEG file")])
        if not 0 < len(doc.content) <= MAX_DOCUMENT_BYTES:
            raise Invalid([(f"documents.{i}", "a document must be between 1 byte and 5 MB")])


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _new_ref(now: datetime) -> str:
    tail = base64.b32encode(secrets.token_bytes(5)).decode()[:6]
    return f"R{now:%Y%m%d}-{tail}"


def submit(
    session: Session,
    vault: Vault,
    policy: Policy,
    settings: Settings,
    data: RequestIn,
    *,
    now: datetime,
    channel: str = "portal",
    documents: tuple[Document, ...] = (),
) -> Submitted:
    """Receive a request: validate, seal the details, start the clock, issue a code and a status token."""
    check_request(policy, data)
    _check_documents_shape(documents)
    clock = clock_for(
        now,
        ack_business_days=settings.request_ack_business_days,
        escalate_days=settings.request_escalate_days,
        due_days=settings.request_due_days,
    )
    token = secrets.token_urlsafe(32)
    code = _new_code()
    request_id = str(uuid.uuid4())
    fee = policy.requests.fees.get(data.kind, 0)
    request = SubjectRequest(
        id=request_id,
        ref=_new_ref(now),
        kind=data.kind.value,
        status=Status.AWAITING_CODE.value,
        lang=data.lang,
        channel=channel,
        method=data.method if data.kind in DISCLOSING else None,
        by_agent=data.by_agent,
        agent_kind=data.agent_kind if data.by_agent else None,
        grounds=[g.value for g in data.grounds],
        purposes=list(data.purposes),
        recipients=list(data.recipients),
        status_token_sha256=token_hash(token),
        email_index=vault.blind_index("email", data.email),
        identifiers=matching.identifier_indexes(
            vault,
            name=data.name,
            phone=data.phone,
            birth_date=data.birth_date,
            member_number=data.member_number,
        ),
        identity_needs=[],
        code_hash=vault.keyed_hash(f"code:{request_id}", code),
        code_expires_at=now + CODE_VALID,
        codes_sent=1,
        sealed=b"",
        fee_yen=fee,
        fee_status="due" if fee else "none",
        received_at=now,
        acknowledge_by=clock.acknowledge_by,
        escalate_at=clock.escalate_at,
        due_at=clock.due_at,
    )
    seal_details(
        vault,
        request,
        {
            "name": data.name,
            "email": data.email,
            "phone": data.phone,
            "birth_date": data.birth_date.isoformat() if data.birth_date else None,
            "member_number": data.member_number,
            "postal_address": data.postal_address
            if data.kind in DISCLOSING and data.method == "paper"
            else None,
            "agent_name": data.agent_name if data.by_agent else None,
            "corrections": [item.model_dump() for item in data.corrections],
            "details": data.details,
            "reasons": "",
        },
    )
    session.add(request)
    session.flush()
    for doc in documents:
        session.add(
            RequestDocument(
                request_id=request_id,
                kind=doc.kind,
                content_type=doc.content_type,
                size=len(doc.content),
                sealed=vault.seal_private(request_id, f"document:{doc.kind}", doc.content),
            )
        )
    _audit(session, "request.received", request, reasons=(f"kind:{request.kind}", f"channel:{channel}"))
    return Submitted(request, token, code)


def _audit(
    session: Session,
    action: str,
    request: SubjectRequest,
    *,
    actor: str = "system:requests",
    subjects: tuple[str, ...] = (),
    objects: tuple[str, ...] = (),
    reasons: tuple[str, ...] = (),
) -> None:
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action=action,
                subjects=subjects,
                objects=(f"request:{request.id}", *objects),
                reasons=reasons,
            )
        ],
    )


def by_token(session: Session, token: str) -> SubjectRequest:
    """The request a status link points to; the same answer for a wrong token and no request."""
    request = session.scalar(
        select(SubjectRequest).where(SubjectRequest.status_token_sha256 == token_hash(token))
    )
    if request is None:
        raise NotFound("no request at this address")
    return request


def get(session: Session, request_id: str) -> SubjectRequest:
    request = session.get(SubjectRequest, request_id)
    if request is None:
        request = session.scalar(select(SubjectRequest).where(SubjectRequest.ref == request_id))
    if request is None:
        raise NotFound(f"no request {request_id}")
    return request


class CodeResult(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"
    LOCKED = "locked"
    NOT_AWAITING = "not_awaiting"


def _lock(session: Session, request: SubjectRequest) -> None:
    """Take the request's row lock until the transaction ends and read it afresh.

    An update that changes nothing: a row lock on PostgreSQL, the write lock on SQLite (which has no
    SELECT ... FOR UPDATE). Counters read after it (wrong codes, codes sent) cannot be lost to a
    concurrent attempt, which waits and then sees this one's count.
    """
    session.execute(
        update(SubjectRequest)
        .where(SubjectRequest.id == request.id)
        .values(code_attempts=SubjectRequest.code_attempts)
        .execution_options(synchronize_session=False)
    )
    session.refresh(request)


def verify_code(
    session: Session,
    vault: Vault,
    request: SubjectRequest,
    code: str,
    *,
    now: datetime,
    policy: Policy,
) -> CodeResult:
    """Check the e-mailed code, then find the person by every identifier given (:mod:`.matching`).

    After MAX_CODE_ATTEMPTS wrong codes the request locks, however many arrive at once: each attempt
    holds the request's row lock until its transaction ends."""
    _lock(session, request)
    if request.status == Status.LOCKED:
        return CodeResult.LOCKED
    if request.status != Status.AWAITING_CODE or request.code_hash is None:
        return CodeResult.NOT_AWAITING
    if request.code_expires_at is not None and now > request.code_expires_at:
        return CodeResult.EXPIRED
    given = re.sub(r"\s", "", code)[: CODE_DIGITS * 2]
    if not secrets.compare_digest(vault.keyed_hash(f"code:{request.id}", given), request.code_hash):
        request.code_attempts += 1
        if request.code_attempts >= MAX_CODE_ATTEMPTS:
            request.status = Status.LOCKED.value
            request.code_hash = None
            _audit(session, "request.locked", request, reasons=("too_many_wrong_codes",))
            return CodeResult.LOCKED
        return CodeResult.WRONG
    request.code_hash = None
    request.verified_at = now
    request.acknowledged_at = request.acknowledged_at or now
    _match(session, vault, policy, request)
    _audit(
        session,
        "request.email_verified",
        request,
        subjects=tuple(request.subjects),
        reasons=tuple(f"identity_needed:{need}" for need in request.identity_needs or ()),
    )
    return CodeResult.OK


def new_code(session: Session, vault: Vault, request: SubjectRequest, *, now: datetime) -> str:
    """Issue a fresh code (the old one stops working); limited to MAX_CODES_SENT per request."""
    _lock(session, request)
    if request.status != Status.AWAITING_CODE:
        raise RequestConflict("this request is not waiting for a code")
    if request.codes_sent >= MAX_CODES_SENT:
        raise RequestConflict("no more codes can be sent for this request; contact the inquiry desk")
    code = _new_code()
    request.code_hash = vault.keyed_hash(f"code:{request.id}", code)
    request.code_expires_at = now + CODE_VALID
    request.codes_sent += 1
    return code


def renew_links(
    session: Session, vault: Vault, email: str, *, now: datetime
) -> list[tuple[SubjectRequest, str]]:
    """New status links for the requests made with ``email`` (found by blind index), to be mailed to
    the address each request gave; the old links stop working.

    A request whose link was sent again less than LINK_INTERVAL ago is left out, so asking again and
    again sends nothing more. The caller answers the same whether or not anything was found: who asks
    learns nothing about whether a request exists (no account enumeration).
    """
    address = email.strip()
    if address_problem(address) is not None:
        return []
    found = list(
        session.scalars(
            select(SubjectRequest)
            .where(SubjectRequest.email_index == vault.blind_index("email", address))
            .order_by(SubjectRequest.received_at.desc())
            .limit(MAX_LINKS_AT_ONCE)
        )
    )
    renewed: list[tuple[SubjectRequest, str]] = []
    for request in found:
        _lock(session, request)
        if request.link_sent_at is not None and now - request.link_sent_at < LINK_INTERVAL:
            continue
        token = secrets.token_urlsafe(32)
        request.status_token_sha256 = token_hash(token)
        request.link_sent_at = now
        request.links_sent = (request.links_sent or 0) + 1
        _audit(session, "request.link_renewed", request)
        renewed.append((request, token))
    return renewed


def _match(session: Session, vault: Vault, policy: Policy, request: SubjectRequest) -> None:
    """Record every candidate with its score and reasons, link those found well enough, and work out
    whether an identity document is needed."""
    found = matching.find(session, vault, request)
    kept = {c.subject_id: c for c in candidates(session, request)}
    for match in found:
        row = kept.get(match.subject_id)
        if row is None:
            session.add(
                RequestCandidate(
                    request_id=request.id,
                    subject_id=match.subject_id,
                    score=match.score,
                    reasons=[r.value for r in match.reasons],
                )
            )
        else:
            row.score, row.reasons = match.score, [r.value for r in match.reasons]
    session.flush()
    request.subjects = [m.subject_id for m in found if m.score >= matching.LINK_FROM]
    _reassess(session, vault, policy, request)


def _reassess(session: Session, vault: Vault, policy: Policy, request: SubjectRequest) -> None:
    request.identity_needs = [n.value for n in matching.identity_needs(session, vault, policy, request)]
    _advance_verification(session, request)


def candidates(session: Session, request: SubjectRequest) -> list[RequestCandidate]:
    """The persons the request may be about, the best match first (linked or not)."""
    return list(
        session.scalars(
            select(RequestCandidate)
            .where(RequestCandidate.request_id == request.id)
            .order_by(RequestCandidate.score.desc(), RequestCandidate.subject_id)
        )
    )


#: Persons are linked and unlinked by hand only after the code and before the decision.
LINKABLE = frozenset({Status.PENDING_VERIFICATION, Status.VERIFIED})


def link(
    session: Session,
    vault: Vault,
    policy: Policy,
    request: SubjectRequest,
    subject_id: str,
    *,
    actor: str,
    now: datetime,
) -> RequestCandidate:
    """The office links a person to the request by hand (APPI Art. 33), audited by ids only. A person
    linked below a strong match needs an identity document checked before approval."""
    _lock(session, request)
    if request.status not in LINKABLE:
        raise RequestConflict(
            f"persons are linked after the e-mail code and before the decision; this request is {request.status}"
        )
    subject = session.get(DataSubject, subject_id.strip())
    if subject is None or subject.erased_at is not None:
        raise Invalid([problem("subject_id", "no person with this reference is held", "subject_unknown")])
    row = session.get(RequestCandidate, (request.id, subject.id))
    if row is None:
        row = RequestCandidate(
            request_id=request.id, subject_id=subject.id, score=0, reasons=[matching.Reason.BY_HAND.value]
        )
        session.add(row)
    row.decision, row.decided_by, row.decided_at = "linked", actor, now
    if subject.id not in (request.subjects or []):
        request.subjects = [*(request.subjects or []), subject.id]
    session.flush()
    _reassess(session, vault, policy, request)
    _audit(
        session,
        "request.subject_linked",
        request,
        actor=actor,
        subjects=(subject.id,),
        reasons=(f"confidence:{matching.confidence(row.score).value}",),
    )
    return row


def unlink(
    session: Session,
    vault: Vault,
    policy: Policy,
    request: SubjectRequest,
    subject_id: str,
    *,
    actor: str,
    now: datetime,
) -> None:
    """The office takes a person off the request by hand (a wrong match), audited by ids only."""
    _lock(session, request)
    if request.status not in LINKABLE:
        raise RequestConflict(
            f"persons are unlinked after the e-mail code and before the decision; this request is {request.status}"
        )
    if subject_id not in (request.subjects or []):
        raise Invalid(
            [problem("subject_id", "this person is not linked to the request", "subject_not_linked")]
        )
    row = session.get(RequestCandidate, (request.id, subject_id))
    if row is not None:
        row.decision, row.decided_by, row.decided_at = "unlinked", actor, now
    request.subjects = [s for s in request.subjects if s != subject_id]
    session.flush()
    _reassess(session, vault, policy, request)
    _audit(session, "request.subject_unlinked", request, actor=actor, subjects=(subject_id,))


def search_candidates(
    session: Session,
    vault: Vault,
    request: SubjectRequest,
    *,
    actor: str,
    name: str | None = None,
    phone: str | None = None,
    birth_date: date | None = None,
    member_number: str | None = None,
) -> list[RequestCandidate]:
    """The office looks for the person by details the requester gave another way (a letter, a call):
    the persons found become candidates, not linked; the office then links one by hand. Looked up by
    blind index only; the audit entry says who searched and how many were found, never the values."""
    if request.status not in LINKABLE:
        raise RequestConflict(
            f"persons are searched for after the e-mail code and before the decision; this request is {request.status}"
        )
    indexes = matching.identifier_indexes(
        vault, name=name, phone=phone, birth_date=birth_date, member_number=member_number
    )
    if set(indexes) <= {"name"}:
        raise Invalid(
            [
                problem(
                    "phone",
                    "give a phone number, a date of birth with the name, or a customer or staff number",
                    "search_needs_identifier",
                )
            ]
        )
    found = matching.find_by_indexes(session, vault, indexes)
    kept = {c.subject_id: c for c in candidates(session, request)}
    rows: list[RequestCandidate] = []
    for match in found:
        row = kept.get(match.subject_id)
        if row is None:
            row = RequestCandidate(
                request_id=request.id,
                subject_id=match.subject_id,
                score=match.score,
                reasons=[r.value for r in match.reasons],
            )
            session.add(row)
        else:
            merged = matching.combined(match.subject_id, [*row.reasons, *(r.value for r in match.reasons)])
            row.score, row.reasons = merged.score, [r.value for r in merged.reasons]
        rows.append(row)
    session.flush()
    _audit(session, "request.candidates_searched", request, actor=actor, reasons=(f"found:{len(rows)}",))
    return rows


def add_document(
    session: Session, vault: Vault, request: SubjectRequest, document: Document, *, now: datetime
) -> RequestDocument:
    """A document the requester sends after the request (an identity document the office asked for)."""
    if request.status not in (Status.AWAITING_CODE, *LINKABLE):
        raise RequestConflict("documents are received until the office decides")
    _check_documents_shape((document,))
    row = RequestDocument(
        request_id=request.id,
        kind=document.kind,
        content_type=document.content_type,
        size=len(document.content),
        sealed=vault.seal_private(request.id, f"document:{document.kind}", document.content),
        uploaded_at=now,
    )
    session.add(row)
    session.flush()
    _audit(session, "request.document_received", request, reasons=(f"document:{document.kind}",))
    return row


def identity_checked(session: Session, request: SubjectRequest) -> bool:
    """An identity document was sent and the office accepted it."""
    docs = session.scalars(
        select(RequestDocument).where(
            RequestDocument.request_id == request.id, RequestDocument.kind == "identity"
        )
    )
    return any(d.accepted for d in docs)


def identity_status(session: Session, request: SubjectRequest) -> str:
    """Where the identity document stands, as a code the pages put into words: ``not_needed``,
    ``needed`` (none sent yet), ``sent`` (waiting for the office), ``accepted`` or ``rejected``."""
    docs = list(
        session.scalars(
            select(RequestDocument)
            .where(RequestDocument.request_id == request.id, RequestDocument.kind == "identity")
            .order_by(RequestDocument.id)
        )
    )
    if any(d.accepted for d in docs):
        return "accepted"
    if not request.identity_needs and not docs:
        return "not_needed"
    if not docs:
        return "needed"
    if docs[-1].accepted is None:
        return "sent"
    return "rejected"


def _advance_verification(session: Session, request: SubjectRequest) -> None:
    """Verified once the e-mail is proven, an agent's proof of authority is accepted, and, where the match
    is weak or the data special care-required, an identity document is accepted."""
    if request.by_agent or request.identity_needs:
        docs = list(session.scalars(select(RequestDocument).where(RequestDocument.request_id == request.id)))
        kinds = {d.kind for d in docs}
        if (
            (request.by_agent and "authority" not in kinds)
            or (request.identity_needs and "identity" not in kinds)
            or not all(d.accepted for d in docs)
        ):
            request.status = Status.PENDING_VERIFICATION.value
            return
    request.status = Status.VERIFIED.value


def check_documents(
    session: Session, request: SubjectRequest, *, actor: str, accept: bool, now: datetime
) -> None:
    """The office's check of an agent's documents (APPI Art. 37)."""
    if request.status != Status.PENDING_VERIFICATION:
        raise RequestConflict("documents are checked while a request is pending verification")
    docs = list(session.scalars(select(RequestDocument).where(RequestDocument.request_id == request.id)))
    if not docs:
        raise RequestConflict("the requester sent no documents; refuse with identity_not_verified or wait")
    for doc in docs:
        doc.accepted, doc.checked_by, doc.checked_at = accept, actor, now
    _advance_verification(session, request)
    _audit(
        session,
        "request.documents_checked",
        request,
        actor=actor,
        reasons=("accepted" if accept else "rejected",),
    )


def approve(
    session: Session,
    request: SubjectRequest,
    *,
    actor: str,
    now: datetime,
    fee_received: bool = False,
    connectors: tuple[str, ...] = (),
) -> list[RequestStep]:
    """Approve a verified request and write its fulfilment plan; the job then runs the plan.

    A request that needs an identity document (a weak match, special care-required data) is approved
    only once the office has accepted one."""
    if request.identity_needs and not identity_checked(session, request):
        raise RequestConflict(
            "an identity document checked by the office is needed first "
            f"({', '.join(request.identity_needs)}); ask the requester for one, or refuse"
        )
    if request.status != Status.VERIFIED:
        raise RequestConflict(f"only a verified request can be approved; this one is {request.status}")
    if request.fee_status == "due" and request.subjects:
        if not fee_received:
            raise Invalid([("fee_received", f"the fee of {request.fee_yen} yen has not been received")])
        request.fee_status = "received"
    request.status = Status.APPROVED.value
    request.approved_at, request.approved_by = now, actor
    steps = plan(session, request, connectors=connectors)
    _audit(session, "request.approved", request, actor=actor, subjects=tuple(request.subjects))
    return steps


def refuse(
    session: Session,
    vault: Vault,
    request: SubjectRequest,
    *,
    actor: str,
    ground: str,
    reasons: str,
    now: datetime,
) -> list[RequestStep]:
    """Refuse with a ground fitting the kind and the reasons the letter gives (APPI Arts. 33(3), 36)."""
    if request.status in (Status.APPROVED, Status.COMPLETED):
        raise RequestConflict(f"a request that is {request.status} can no longer be refused")
    problems: list[tuple[str, str]] = []
    kind = RequestKind(request.kind)
    allowed = REFUSAL_GROUNDS[kind]
    if ground not in {g.value for g in allowed}:
        problems.append(
            (
                "ground",
                f"choose one of {', '.join(sorted(g.value for g in allowed))} for a {kind.value} request",
            )
        )
    if not reasons.strip():
        problems.append(("reasons", "give the reasons the letter will explain (APPI Art. 36)"))
    if problems:
        raise Invalid(problems)
    sealed = details(vault, request)
    sealed["reasons"] = reasons.strip()
    seal_details(vault, request, sealed)
    request.status = Status.APPROVED.value
    request.refusal_ground = RefusalGround(ground).value
    request.decided_by = actor
    steps = plan(session, request, refused=True)
    _audit(session, "request.refused", request, actor=actor, reasons=(f"ground:{ground}",))
    return steps


def sweep_deadlines(session: Session, *, now: datetime) -> tuple[list[str], list[str]]:
    """Escalate open requests past day 10 and mark those past day 14 (once each, audited)."""
    escalated: list[str] = []
    breached: list[str] = []
    open_ = [s.value for s in OPEN_STATUSES]
    for request in session.scalars(
        select(SubjectRequest).where(SubjectRequest.status.in_(open_), SubjectRequest.escalate_at <= now)
    ):
        if request.escalated_at is None:
            request.escalated_at = now
            escalated.append(request.id)
            _audit(session, "request.escalated", request, reasons=("day_10",))
        if request.breached_at is None and request.due_at <= now:
            request.breached_at = now
            breached.append(request.id)
            _audit(session, "request.deadline_breached", request, reasons=("day_14",))
    return escalated, breached


def _open_or_every(value: str) -> ColumnElement[bool]:
    return true() if value == "true" else SubjectRequest.status.in_([s.value for s in OPEN_STATUSES])


#: What the queue may be sorted and filtered by; ``all=true`` shows the closed requests too.
QUEUE = ListSpec(
    sorts={
        "due": (SubjectRequest.due_at,),
        "received": (SubjectRequest.received_at,),
        "ref": (SubjectRequest.ref,),
        "kind": (SubjectRequest.kind,),
        "status": (SubjectRequest.status,),
    },
    default="due",
    tiebreak=SubjectRequest.id,
    filters={
        "kind": Filter(SubjectRequest.kind, {k.value for k in RequestKind}),
        "status": Filter(SubjectRequest.status, {s.value for s in Status}),
        "all": Filter(values={"true"}, where=_open_or_every),
    },
    search=(SubjectRequest.ref,),
)


def queue_page(session: Session, asked: ListQuery) -> Page[SubjectRequest]:
    """One page of the requests as ``asked`` (see :data:`QUEUE`): the open ones unless ``all`` or a
    status is chosen, by due date (the soonest first) unless another sort is; counted in the database."""
    query = select(SubjectRequest)
    if "all" not in asked.filters and "status" not in asked.filters:
        query = query.where(_open_or_every(""))
    return list_page(session, query, QUEUE, asked)


def queue(session: Session, *, include_closed: bool = False) -> list[SubjectRequest]:
    """Requests by due date, the soonest first."""
    query = select(SubjectRequest).order_by(SubjectRequest.due_at, SubjectRequest.received_at)
    if not include_closed:
        query = query.where(SubjectRequest.status.in_([s.value for s in OPEN_STATUSES]))
    return list(session.scalars(query))
