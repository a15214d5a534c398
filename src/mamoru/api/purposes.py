"""The policy in force and changed purposes, for the privacy office: whether the policy file is the
published version (and the difference if not), publishing it, reloading it, and the notice queue of each
changed purpose. Thin: each route is one service call (:mod:`mamoru.ledger.purposes`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from mamoru.api.deps import ERRORS, CurrentWorkspace, DbSession, Permit, Principal
from mamoru.ledger import purposes
from mamoru.policy.service import difference

router = APIRouter(responses=ERRORS, prefix="/api/v1", tags=["purposes"])
Reader = Annotated[Principal, Depends(Permit("ledger"))]
Office = Annotated[Principal, Depends(Permit("ledger.review"))]
PurposeId = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_\-]{0,63}$")]


class PolicyStatusOut(BaseModel):
    enforced_version: str
    enforced_sha256: str
    file_version: str
    file_sha256: str
    file_published: bool
    difference: str = Field(description="Unified difference from the published version to the file.")


class PublishedOut(BaseModel):
    notice_id: int
    policy_version: str
    policy_sha256: str
    published_at: datetime
    queued: dict[str, int] = Field(description="purpose:version -> persons to notify or ask for consent")


class ChangeOut(BaseModel):
    purpose: str
    version: int
    related: bool | None
    justification: dict[str, str | None]
    approved_by: str
    assessed_by: str
    assessed_on: date
    published_at: datetime
    needs: str = Field(description="notice (a related change) or consent (a change that is not related)")
    pending: int
    delivered: int


class DeliveryIn(BaseModel):
    channel: str = Field(description="email, post, portal or in_person")
    subject_ids: list[Annotated[str, Field(max_length=36)]] | None = Field(default=None, max_length=10_000)


@router.get("/policy/status", summary="Whether the policy file is the published version enforced")
def policy_status(ws: CurrentWorkspace, session: DbSession, _: Reader) -> PolicyStatusOut:
    file = ws.policy_file()
    return PolicyStatusOut(
        enforced_version=ws.policy.policy.version,
        enforced_sha256=ws.policy.sha256,
        file_version=file.policy.version,
        file_sha256=file.sha256,
        file_published=not difference(session, file),
        difference=difference(session, file),
    )


@router.post("/policy/publish", summary="Publish the policy file (you approve its purpose changes)")
def publish_policy(ws: CurrentWorkspace, session: DbSession, who: Office) -> PublishedOut:
    file = ws.policy_file()
    done = purposes.publish_policy(session, file, by=who.actor)
    ws.reload_policy(session, file)
    n = done.notice
    return PublishedOut(
        notice_id=n.id,
        policy_version=n.policy_version,
        policy_sha256=n.policy_sha256,
        published_at=n.published_at,
        queued=done.queued,
    )


@router.post("/policy/reload", summary="Enforce the policy file, if it is the published version (409 if not)")
def reload_policy(ws: CurrentWorkspace, _: Office) -> PolicyStatusOut:
    loaded = ws.reload_policy()
    return PolicyStatusOut(
        enforced_version=loaded.policy.version,
        enforced_sha256=loaded.sha256,
        file_version=loaded.policy.version,
        file_sha256=loaded.sha256,
        file_published=True,
        difference="",
    )


@router.get("/purposes/changes", summary="Changed purposes and their notice queues, newest first")
def list_changes(session: DbSession, _: Reader) -> list[ChangeOut]:
    return [
        ChangeOut(
            purpose=c.version.purpose_id,
            version=c.version.version,
            related=c.version.related,
            justification={"ja": c.version.justification_ja, "en": c.version.justification_en},
            approved_by=c.version.approved_by,
            assessed_by=c.version.assessed_by,
            assessed_on=c.version.assessed_on,
            published_at=c.version.published_at,
            needs=c.kind,
            pending=c.pending,
            delivered=c.delivered,
        )
        for c in purposes.change_statuses(session)
    ]


@router.post(
    "/purposes/{purpose_id}/versions/{version}/delivered",
    summary="Record that the notice (or consent request) of a changed purpose went out",
)
def record_delivery(
    purpose_id: PurposeId,
    version: Annotated[int, Path(ge=2, le=10_000)],
    body: DeliveryIn,
    session: DbSession,
    who: Office,
) -> dict[str, int]:
    count = purposes.record_delivery(
        session,
        purpose_id=purpose_id,
        version=version,
        channel=body.channel,
        by=who.actor,
        now=datetime.now(UTC),
        subject_ids=body.subject_ids,
    )
    return {"delivered": count}
