"""Ledger, channels, acquisitions and consents over HTTP, for systems with an API token.

Acquisitions carry personal values, so that route takes the full :class:`AccessContext` and is marked
personal-data; the ledger itself holds no personal value.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from mamoru.api.deps import (
    CSV_OR_XLSX,
    ERRORS,
    MAX_ID,
    Access,
    AccessContext,
    CurrentWorkspace,
    DbSession,
    Permit,
    Principal,
)
from mamoru.api.personal import PERSONAL_DATA
from mamoru.ledger import entries as ledger
from mamoru.ledger import retention
from mamoru.ledger.acquisition import (
    AcquisitionIn,
    SourceType,
    SpecialCareException,
    acquire,
    activate_channel,
    attest_channel,
    create_channel,
    is_overdue,
    mark_notified,
    notifications_due,
)
from mamoru.ledger.consent import ConsentScope, give_consent, withdraw_consent
from mamoru.ledger.tables import Acquisition, LedgerEntry
from mamoru.references import Reference
from mamoru.transfers import expiry
from mamoru.transfers.inbound import receive
from mamoru.transfers.records import Basis, ReceiptIn

router = APIRouter(responses=ERRORS, prefix="/api/v1", tags=["ledger"])
personal_router = APIRouter(responses=ERRORS, prefix="/api/v1", tags=[PERSONAL_DATA])
Reader = Annotated[Principal, Depends(Permit("ledger"))]
Keeper = Annotated[Principal, Depends(Permit("ledger.review"))]
Exporter = Annotated[Principal, Depends(Permit("ledger.export"))]
Retention = Annotated[Principal, Depends(Permit("retention"))]
AcquisitionAccess = Annotated[AccessContext, Depends(Access("acquisitions"))]
ConsentAccess = Annotated[AccessContext, Depends(Access("consents"))]
#: An event in a person's life that starts retention (personal data: it is about one person).
RetentionAccess = Annotated[AccessContext, Depends(Access("retention"))]


class LedgerEntryOut(ledger.LedgerEntryIn):
    """A ledger entry as the API shows it, with what the ledger derives."""

    special_care: bool
    my_number: bool
    review_overdue: bool
    last_reviewed_at: datetime | None
    reviewer: str | None


def _out(row: LedgerEntry, ws: Any) -> LedgerEntryOut:
    status = ledger.status(row, ws.policy.policy, datetime.now(UTC))
    fields = {name: getattr(row, name) for name in ledger.LedgerEntryIn.model_fields}
    return LedgerEntryOut(
        **fields,
        special_care=status.special_care,
        my_number=status.my_number,
        review_overdue=status.review_overdue,
        last_reviewed_at=row.last_reviewed_at,
        reviewer=row.reviewer,
    )


@router.get("/ledger", summary="The personal-information management ledger")
def list_ledger(_who: Reader, ws: CurrentWorkspace, session: DbSession) -> list[LedgerEntryOut]:
    return [_out(row, ws) for row in ledger.list_entries(session)]


@router.post(
    "/ledger", status_code=201, summary="Add a ledger entry (the seven JIS Q 15001 columns are required)"
)
def post_ledger(
    body: ledger.LedgerEntryIn, who: Keeper, ws: CurrentWorkspace, session: DbSession
) -> LedgerEntryOut:
    row = ledger.create_entry(session, ws.policy.policy, body.model_dump(), who.actor)
    return _out(row, ws)


@router.get("/ledger/{code}", summary="One ledger entry")
def get_ledger(code: str, _who: Reader, ws: CurrentWorkspace, session: DbSession) -> LedgerEntryOut:
    return _out(ledger.get_entry(session, code), ws)


@router.patch("/ledger/{code}", summary="Change columns of a ledger entry (validated like a new one)")
def patch_ledger(
    code: str, changes: dict[str, Any], who: Keeper, ws: CurrentWorkspace, session: DbSession
) -> LedgerEntryOut:
    row = ledger.update_entry(session, ws.policy.policy, code, changes, who.actor)
    return _out(row, ws)


@router.post(
    "/ledger/{code}/review", summary="Record the annual review of an entry, by the token's staff member"
)
def review_ledger(code: str, who: Keeper, ws: CurrentWorkspace, session: DbSession) -> LedgerEntryOut:
    return _out(ledger.review_entry(session, code, who.actor, datetime.now(UTC)), ws)


@router.get(
    "/ledger-export",
    summary="The ledger as CSV or an Excel workbook",
    response_class=Response,
    responses=CSV_OR_XLSX,
)
def export_ledger(
    _who: Exporter,
    ws: CurrentWorkspace,
    session: DbSession,
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "xlsx",
    lang: Annotated[str, Query(pattern="^(ja|en)$")] = "ja",
) -> Response:
    body, media = ledger.export(
        ledger.list_entries(session), ws.policy.policy, lang, datetime.now(UTC), format
    )
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="ledger.{format}"'}
    )


class ChannelIn(BaseModel):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_\-]{0,63}$")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    ledger_code: str
    source_type: SourceType | None = None
    notice_in_advance: bool = True


class ChannelOut(BaseModel):
    id: str
    name: str
    source_type: str | None
    notice_in_advance: bool
    legality_attested_by: str | None
    active: bool


def _channel_out(row: Any) -> ChannelOut:
    return ChannelOut(
        id=row.id,
        name=row.name,
        source_type=row.source_type,
        notice_in_advance=row.notice_in_advance,
        legality_attested_by=row.legality_attested_by,
        active=row.active,
    )


@router.post("/channels", status_code=201, summary="Create a collection channel (a draft until activated)")
def post_channel(body: ChannelIn, who: Keeper, session: DbSession) -> ChannelOut:
    row = create_channel(
        session,
        channel_id=body.id,
        name=body.name,
        ledger_code=body.ledger_code,
        source_type=body.source_type,
        notice_in_advance=body.notice_in_advance,
        actor=who.actor,
    )
    return _channel_out(row)


@router.post(
    "/channels/{channel_id}/attest",
    summary="Attest, as the token's staff member, that the channel acquires lawfully (APPI Art. 20(1))",
)
def post_attest(channel_id: str, who: Keeper, session: DbSession) -> ChannelOut:
    return _channel_out(attest_channel(session, channel_id, actor=who.actor, now=datetime.now(UTC)))


@router.post(
    "/channels/{channel_id}/activate", summary="Let a channel go live (needs source type and attestation)"
)
def post_activate(channel_id: str, who: Keeper, session: DbSession) -> ChannelOut:
    return _channel_out(activate_channel(session, channel_id, actor=who.actor))


class ReceiptConfirmation(BaseModel):
    """What the recipient confirms on receiving data from another business (APPI Art. 30(1))."""

    basis: Basis = Basis.CONSENT
    provider_name: Annotated[str, Field(max_length=200)]
    provider_address: Annotated[str, Field(max_length=300)]
    provider_is_corporation: bool = True
    provider_representative: Annotated[str, Field(max_length=200)] | None = None
    acquisition_history: Annotated[str, Field(max_length=2000)]
    evidence_ref: Annotated[str, Field(max_length=200)]
    received_on: date | None = None
    ppc_publication_ref: Annotated[str, Field(max_length=200)] | None = None


class AcquisitionBody(BaseModel):
    channel_id: Reference
    subject_kind: Reference
    values: Annotated[dict[str, Annotated[str, Field(max_length=2000)]], Field(min_length=1, max_length=50)]
    categories: Annotated[list[Reference], Field(min_length=1)]
    purposes: Annotated[list[Reference], Field(min_length=1)]
    subject_id: Reference | None = None
    purpose_version_shown: int | None = Field(
        default=None, description="Published notice version the person saw"
    )
    exception_code: SpecialCareException | None = None
    exception_justification: str | None = None
    receipt: ReceiptConfirmation | None = Field(
        default=None,
        description="Required for a channel whose source is another business (APPI Art. 30): the "
        "confirmation on receipt, recorded first, in the same transaction.",
    )


class AcquisitionOut(BaseModel):
    id: int
    subject_id: str
    notice_id: int | None
    notification_due: date | None
    retain_until: date | None


@personal_router.post(
    "/acquisitions", status_code=201, summary="Record personal data coming in (APPI Arts. 20, 21)"
)
def post_acquisition(
    body: AcquisitionBody, access: AcquisitionAccess, ws: CurrentWorkspace, session: DbSession
) -> AcquisitionOut:
    data = AcquisitionIn(
        channel_id=body.channel_id,
        subject_kind=body.subject_kind,
        values=body.values,
        categories=body.categories,
        purposes=body.purposes,
        subject_id=body.subject_id,
        notice_shown=body.purpose_version_shown,
        exception_code=body.exception_code,
        exception_justification=body.exception_justification,
    )
    now = datetime.now(UTC)
    if body.receipt is not None:
        receipt = ReceiptIn(subject_id="", categories=[], **body.receipt.model_dump())
        row, _ = receive(session, ws.vault, ws.policy.policy, data, receipt, actor=access.actor, now=now)
    else:
        row = acquire(session, ws.vault, ws.policy.policy, data, actor=access.actor, now=now)
    return AcquisitionOut(
        id=row.id,
        subject_id=row.subject_id,
        notice_id=row.notice_id,
        notification_due=row.notification_due,
        retain_until=row.retain_until,
    )


class NoticeOut(BaseModel):
    """A purpose notice owed after an acquisition without a notice in advance (APPI Art. 21(1))."""

    acquisition_id: int
    subject_id: str
    channel_id: str
    acquired_at: datetime
    due: date | None = Field(
        description="Notify by this day; none where the purposes were published in advance"
    )
    notified_at: datetime | None
    overdue: bool


def _notice_out(row: Acquisition, today: date) -> NoticeOut:
    return NoticeOut(
        acquisition_id=row.id,
        subject_id=row.subject_id,
        channel_id=row.channel_id,
        acquired_at=row.acquired_at,
        due=row.notification_due,
        notified_at=row.notified_at,
        overdue=is_overdue(row, today),
    )


@router.get("/notices-due", summary="Purpose notices still owed after acquisitions (APPI Art. 21(1))")
def list_notices_due(_who: Reader, session: DbSession) -> list[NoticeOut]:
    today = datetime.now(UTC).date()
    return [_notice_out(row, today) for row in notifications_due(session, today)]


@router.post(
    "/acquisitions/{acquisition_id}/notified",
    summary="Record that the purposes were notified or published after an acquisition (APPI Art. 21(1))",
)
def post_notified(
    acquisition_id: Annotated[int, Path(ge=1, le=MAX_ID)], who: Keeper, session: DbSession
) -> NoticeOut:
    now = datetime.now(UTC)
    row = mark_notified(session, acquisition_id, actor=who.actor, now=now)
    return _notice_out(row, now.date())


class ConsentIn(BaseModel):
    subject_id: Reference
    scope: ConsentScope
    channel: Annotated[str, Field(min_length=1, max_length=64)]
    evidence_ref: Annotated[str, Field(min_length=1, max_length=200)]
    purpose: Reference | None = None
    recipient: Reference | None = None
    categories: list[Reference] = Field(default_factory=list)
    notice_id: int | None = None


class ConsentOut(BaseModel):
    id: int
    subject_id: str
    scope: str
    given_at: datetime
    withdrawn_at: datetime | None


@personal_router.post("/consents", status_code=201, summary="Record a consent with its scope and evidence")
def post_consent(body: ConsentIn, access: ConsentAccess, session: DbSession) -> ConsentOut:
    row = give_consent(
        session,
        subject_id=body.subject_id,
        scope=body.scope,
        channel=body.channel,
        evidence_ref=body.evidence_ref,
        actor=access.actor,
        now=datetime.now(UTC),
        purpose=body.purpose,
        recipient=body.recipient,
        categories=body.categories,
        notice_id=body.notice_id,
    )
    return ConsentOut(
        id=row.id, subject_id=row.subject_id, scope=row.scope, given_at=row.given_at, withdrawn_at=None
    )


class WithdrawIn(BaseModel):
    channel: Annotated[str, Field(min_length=1, max_length=64)]


@personal_router.post("/consents/{consent_id}/withdraw", summary="Withdraw a consent; effective at once")
def post_withdraw(
    consent_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    body: WithdrawIn,
    access: ConsentAccess,
    session: DbSession,
) -> ConsentOut:
    row = withdraw_consent(
        session, consent_id, channel=body.channel, actor=access.actor, now=datetime.now(UTC)
    )
    return ConsentOut(
        id=row.id,
        subject_id=row.subject_id,
        scope=row.scope,
        given_at=row.given_at,
        withdrawn_at=row.withdrawn_at,
    )


class SweepOut(BaseModel):
    today: date
    due: list[str] = Field(description="Persons crypto-erased as a whole (or due, on a dry run)")
    partial: list[str] = Field(
        default_factory=list, description="Persons of whom some ledger entries or fields ended, the rest kept"
    )
    records: list[str] = Field(
        default_factory=list, description="Provision and receipt records purged on their date (APPI-29r, 30r)"
    )
    disposal_records: list[int]


@router.post(
    "/retention/sweep",
    summary="Erase what is past retention (persons, single ledger entries and fields, provision and receipt "
    "records) and record each disposal (APPI Art. 22, APPI-29r, APPI-30r)",
)
def post_sweep(who: Retention, ws: CurrentWorkspace, dry_run: bool = False) -> SweepOut:
    now = datetime.now(UTC)
    report = expiry.sweep(
        ws.db, ws.vault, ws.policy.policy, actor=who.actor, today=now.date(), now=now, dry_run=dry_run
    )
    return SweepOut(
        today=report.today,
        due=report.subjects,
        partial=report.partial,
        records=report.records,
        disposal_records=report.disposed,
    )


class EventIn(BaseModel):
    kind: retention.EventKind = Field(
        description="What ended: end_of_contract, end_of_employment, end_of_use"
    )
    occurred_on: date = Field(description="The day it ended (not counted: the period starts the next day)")
    ledger_code: str | None = Field(default=None, description="Only this ledger entry; default: every entry")


class EventOut(BaseModel):
    id: int
    subject_id: str
    kind: str
    occurred_on: date
    source: str
    started: dict[int, date] = Field(description="Acquisition id -> the last day it is kept")


@personal_router.post(
    "/subjects/{subject_id}/events",
    status_code=201,
    summary="Record that a contract, employment or use ended; starts the retention rules waiting for it",
)
def post_event(
    subject_id: Reference, body: EventIn, access: RetentionAccess, ws: CurrentWorkspace, session: DbSession
) -> EventOut:
    result = retention.record_event(
        session,
        ws.policy.policy,
        subject_id,
        body.kind,
        body.occurred_on,
        actor=access.actor,
        source="api",
        now=datetime.now(UTC),
        ledger_code=body.ledger_code,
    )
    e = result.event
    return EventOut(
        id=e.id,
        subject_id=e.subject_id,
        kind=e.kind,
        occurred_on=e.occurred_on,
        source=e.source,
        started=result.started,
    )
