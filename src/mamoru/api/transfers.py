"""Transfers over HTTP: the provision gate for the organization's systems, supervision status, the
confirmation of data received (APPI Art. 30), the recipient's consent to personally referable data
(Art. 31), opt-out filings (Art. 27(2)) and the Art. 28 information and consent links."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from mamoru.api.deps import ERRORS, Access, AccessContext, CurrentWorkspace, DbSession, Permit, Principal
from mamoru.api.personal import PERSONAL_DATA
from mamoru.edge import MAX_ID
from mamoru.guard.engine import StatutoryException
from mamoru.references import Reference
from mamoru.transfers import foreign, optout
from mamoru.transfers.gate import TransferIn, TransferType, confirm_referable, transfer
from mamoru.transfers.records import Basis, ReceiptIn, RecordMode, record_receipt, records_for, records_json
from mamoru.transfers.status import every_party
from mamoru.transfers.tables import OptOutFiling

router = APIRouter(responses=ERRORS, prefix="/api/v1", tags=["transfers"])

Provide = Annotated[AccessContext, Depends(Access("transfers.provide"))]
Reader = Annotated[Principal, Depends(Permit("transfers"))]
Receiver = Annotated[Principal, Depends(Permit("transfers.receive"))]
Manager = Annotated[Principal, Depends(Permit("transfers.manage"))]
Text200 = Annotated[str, Field(max_length=200)]


class TransferBody(BaseModel):
    type: TransferType
    party: Reference
    subjects: Annotated[list[Reference], Field(min_length=1, max_length=10_000)]
    categories: Annotated[list[Reference], Field(min_length=1)]
    exception: StatutoryException | None = None
    justification: Annotated[str, Field(max_length=2000)] | None = None
    mode: RecordMode = RecordMode.EACH
    period_first: date | None = None
    period_last: date | None = None


class TransferOut(BaseModel):
    transfer_id: str
    provided: list[str]
    refused: dict[str, list[str]]
    refused_whole: bool
    records: list[int]
    package_zip_base64: str | None = Field(description="The data for the recipient (JSON and CSV in a ZIP).")


@router.post("/transfers", response_model=TransferOut, tags=[PERSONAL_DATA])
def create_transfer(
    body: TransferBody, access: Provide, session: DbSession, ws: CurrentWorkspace
) -> TransferOut:
    result = transfer(
        session,
        ws,
        TransferIn(
            type=body.type,
            party=body.party,
            purpose=access.purpose,
            subjects=body.subjects,
            categories=body.categories,
            exception=body.exception,
            justification=body.justification,
            mode=body.mode,
            period_first=body.period_first,
            period_last=body.period_last,
        ),
        actor=access.actor,
        now=datetime.now(UTC),
    )
    return TransferOut(
        transfer_id=result.transfer_id,
        provided=result.provided,
        refused=result.refused,
        refused_whole=result.refused_whole,
        records=result.records,
        package_zip_base64=base64.b64encode(result.package).decode() if result.package else None,
    )


class PartyOut(BaseModel):
    party: str
    cleared: bool
    problems: list[str]
    next_due: date | None


@router.get("/parties", response_model=list[PartyOut])
def parties(_who: Reader, session: DbSession, ws: CurrentWorkspace) -> list[PartyOut]:
    """Every processor and recipient with its supervision status today."""
    statuses = every_party(session, ws.policy.policy, datetime.now(UTC).date())
    return [
        PartyOut(party=s.party, cleared=s.cleared, problems=list(s.problems), next_due=s.next_due)
        for s in statuses
    ]


@router.get("/provision-records")
def provision_records(
    _who: Reader, session: DbSession, subject: Annotated[str, Query(max_length=36)]
) -> dict[str, list[dict[str, object]]]:
    """The provision and receipt records about one subject (references and codes only)."""
    return records_json(*records_for(session, [subject]))


class ReceiptBody(BaseModel):
    """The confirmation on receiving personal data from another business (APPI Art. 30(1), Rules Art. 22)."""

    subject_id: Reference
    basis: Basis
    categories: Annotated[list[Reference], Field(min_length=1)]
    provider_name: Text200
    provider_address: Annotated[str, Field(max_length=300)]
    provider_is_corporation: bool = True
    provider_representative: Text200 | None = None
    acquisition_history: Annotated[str, Field(max_length=2000, description="How the provider obtained it.")]
    evidence_ref: Text200
    mode: RecordMode = RecordMode.EACH
    received_on: date | None = None
    ppc_publication_ref: Text200 | None = None


class ReceiptOut(BaseModel):
    id: int
    purge_after: date


@router.post("/receipts", response_model=ReceiptOut, status_code=201)
def receipt(body: ReceiptBody, who: Receiver, session: DbSession) -> ReceiptOut:
    """Confirm and record data received from a third party; refused (422) until every item is confirmed."""
    row = record_receipt(
        session, ReceiptIn(**body.model_dump()), actor=who.actor, today=datetime.now(UTC).date()
    )
    return ReceiptOut(id=row.id, purge_after=row.purge_after)


class ReferableBody(BaseModel):
    recipient: Reference
    subject_ids: Annotated[list[Reference], Field(min_length=1, max_length=10_000)]
    method: Annotated[str, Field(max_length=64, description="How it was confirmed (a declaration, a form).")]
    evidence_ref: Text200


class ReferableOut(BaseModel):
    confirmed: int
    purge_after: date


@router.post("/referable-confirmations", response_model=ReferableOut, status_code=201)
def referable(body: ReferableBody, who: Manager, session: DbSession, ws: CurrentWorkspace) -> ReferableOut:
    """Record that the recipient holds each person's consent to receive referable data (APPI Art. 31)."""
    rows = confirm_referable(
        session,
        ws.policy.policy,
        recipient=body.recipient,
        subject_ids=body.subject_ids,
        method=body.method,
        evidence_ref=body.evidence_ref,
        actor=who.actor,
        now=datetime.now(UTC),
    )
    return ReferableOut(confirmed=len(rows), purge_after=rows[0].purge_after)


class FilingBody(BaseModel):
    recipient: Reference
    filed_on: date
    filing_ref: Text200


class PublicationBody(BaseModel):
    ppc_publication_ref: Text200
    published_on: date


class FilingOut(BaseModel):
    id: int
    recipient: str
    filed_on: date
    filing_ref: str
    ppc_publication_ref: str | None
    published_on: date | None
    problems: list[str] = Field(description="Why opt-out provision to this recipient may not go on today.")


def _filing_out(session: DbSession, ws: CurrentWorkspace, row: OptOutFiling) -> FilingOut:
    problems = optout.opt_out_problems(session, ws.policy.policy, row.recipient, datetime.now(UTC).date())
    return FilingOut(
        id=row.id,
        recipient=row.recipient,
        filed_on=row.filed_on,
        filing_ref=row.filing_ref,
        ppc_publication_ref=row.ppc_publication_ref,
        published_on=row.published_on,
        problems=problems,
    )


@router.get("/opt-out-filings", response_model=list[FilingOut])
def opt_out_filings(_who: Reader, session: DbSession, ws: CurrentWorkspace) -> list[FilingOut]:
    """Every PPC filing for provision by opt-out, newest first, with what still stops provision."""
    return [_filing_out(session, ws, f) for f in optout.filings(session)]


@router.post("/opt-out-filings", response_model=FilingOut, status_code=201)
def file_opt_out(body: FilingBody, who: Manager, session: DbSession, ws: CurrentWorkspace) -> FilingOut:
    """Record the PPC filing of an opt-out recipient's notice items as the policy now states them."""
    row = optout.record_filing(
        session,
        ws.policy.policy,
        body.recipient,
        filed_on=body.filed_on,
        filing_ref=body.filing_ref,
        actor=who.actor,
    )
    return _filing_out(session, ws, row)


@router.post("/opt-out-filings/{filing_id}/publication", response_model=FilingOut)
def publish_opt_out(
    filing_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    body: PublicationBody,
    who: Manager,
    session: DbSession,
    ws: CurrentWorkspace,
) -> FilingOut:
    """Record the PPC's publication of a filing (APPI Art. 27(4))."""
    row = optout.record_publication(
        session,
        filing_id,
        ppc_publication_ref=body.ppc_publication_ref,
        published_on=body.published_on,
        actor=who.actor,
    )
    return _filing_out(session, ws, row)


class ForeignInformationOut(BaseModel):
    recipient: str
    recipient_name: str
    country: str
    country_system: str
    recipient_measures: str
    source: str | None
    version: int
    route: str


@router.get("/foreign-information/{recipient}", response_model=ForeignInformationOut)
def foreign_information(
    recipient: str, _who: Reader, ws: CurrentWorkspace, lang: Literal["ja", "en"] = "ja"
) -> ForeignInformationOut:
    """What a person is told about a recipient abroad before consenting (APPI Art. 28(2)), with its version."""
    info = foreign.information(ws.policy.policy, recipient, lang)
    return ForeignInformationOut(**info.__dict__)


class InvitationBody(BaseModel):
    subject_id: Reference
    recipient: Reference
    purpose: Reference


class InvitationOut(BaseModel):
    id: int
    link: str = Field(description="The portal path to send the person; shown once.")
    expires_at: datetime


@router.post("/foreign-consent-invitations", response_model=InvitationOut, status_code=201)
def invite(body: InvitationBody, who: Manager, session: DbSession, ws: CurrentWorkspace) -> InvitationOut:
    """Open a portal link where the person reads the Art. 28 information and then consents or declines."""
    row, token = foreign.invite(
        session,
        ws.policy.policy,
        subject_id=body.subject_id,
        recipient=body.recipient,
        purpose=body.purpose,
        actor=who.actor,
        now=datetime.now(UTC),
    )
    return InvitationOut(id=row.id, link=f"/foreign/{token}", expires_at=row.expires_at)
