"""JSON API, version 1: the policy and the published notices (public, no personal data)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel

from mamoru.api.deps import ERRORS, MAX_ID, PUBLIC, CurrentWorkspace, DbSession
from mamoru.policy.service import current_notice, notice_version, notice_versions
from mamoru.policy.tables import PublishedNotice

#: Public: the policy and the published notices are for everyone to read.
router = APIRouter(responses=ERRORS, prefix="/api/v1", tags=["policy"], dependencies=[PUBLIC])


class NoticeVersionOut(BaseModel):
    id: int
    policy_version: str
    policy_sha256: str
    effective_from: date
    revised_on: date
    published_at: datetime
    current: bool

    @classmethod
    def of(cls, notice: PublishedNotice, current_id: int | None) -> NoticeVersionOut:
        return cls(
            id=notice.id,
            policy_version=notice.policy_version,
            policy_sha256=notice.policy_sha256,
            effective_from=notice.effective_from,
            revised_on=notice.revised_on,
            published_at=notice.published_at,
            current=notice.id == current_id,
        )


class NoticeOut(NoticeVersionOut):
    lang: Literal["ja", "en"]
    html: str


class HealthOut(BaseModel):
    status: Literal["ok"]
    policy_version: str
    policy_sha256: str
    notice_current: bool


@router.get("/policy", summary="The policy in force, as structured data")
def get_policy(ws: CurrentWorkspace) -> dict[str, Any]:
    return ws.policy.policy.model_dump(mode="json", by_alias=True)


@router.get("/notice/versions", summary="Every published version of the notice, newest first")
def list_versions(session: DbSession) -> list[NoticeVersionOut]:
    current = current_notice(session)
    current_id = current.id if current else None
    return [NoticeVersionOut.of(n, current_id) for n in notice_versions(session)]


@router.get("/notice/versions/{notice_id}", summary="One published version of the notice")
def get_version(
    notice_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: DbSession, lang: Literal["ja", "en"] = "ja"
) -> NoticeOut:
    notice = notice_version(session, notice_id)
    current = current_notice(session)
    head = NoticeVersionOut.of(notice, current.id if current else None)
    return NoticeOut(**head.model_dump(), lang=lang, html=notice.html_ja if lang == "ja" else notice.html_en)
