"""The mails a requester receives: the one-time code with the status link, and "your answer is ready".

Written in the request's language and queued in the outbox (:mod:`mamoru.outbox`) in the caller's
transaction; the outbox's sender delivers them. The status link is sent only in the first mail: the
system keeps just its hash, so it cannot be sent again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from mamoru.outbox import enqueue
from mamoru.requests import labels
from mamoru.requests.sealed import details
from mamoru.requests.service import CODE_VALID
from mamoru.requests.tables import SubjectRequest
from mamoru.workspace import Workspace


def status_url(ws: Workspace, token: str) -> str:
    return f"{ws.settings.base_url.rstrip('/')}/requests/status/{token}"


def send_code(session: Session, ws: Workspace, request: SubjectRequest, code: str, token: str | None) -> str:
    """Queue the mail of the one-time code (and, the first time, the status link) to the address given;
    returns its Message-ID."""
    to = details(ws.vault, request)["email"]
    minutes = int(CODE_VALID.total_seconds() // 60)
    kind = labels.text(labels.KINDS, request.kind, request.lang)
    org = ws.policy.policy.organization.name.in_(request.lang)
    link = status_url(ws, token) if token else None
    if request.lang == "ja":
        subject = f"【{org}】ご請求の確認コード（受付番号 {request.ref}）"
        body = (
            f"「{kind}」のご請求を受け付けました。受付番号: {request.ref}\n\n"
            f"確認コード: {code}\n（{minutes}分間有効です）\n\n"
            + (
                f"状況確認ページ（このリンクは再送できません。大切に保管してください）:\n{link}\n\n"
                if link
                else ""
            )
            + "お心当たりのない場合は、このメールを破棄してください。\n"
        )
    else:
        subject = f"[{org}] Your verification code (request {request.ref})"
        body = (
            f"We have received your request: {kind}. Reference: {request.ref}\n\n"
            f"Verification code: {code}\n(valid for {minutes} minutes)\n\n"
            + (f"Status page (we cannot send this link again; please keep it):\n{link}\n\n" if link else "")
            + "If you did not make this request, please ignore this message.\n"
        )
    return _queue(session, ws, "request.code", to, subject, body)


def answer_ready(session: Session, ws: Workspace, request: SubjectRequest) -> str:
    to = details(ws.vault, request)["email"]
    org = ws.policy.policy.organization.name.in_(request.lang)
    if request.lang == "ja":
        subject = f"【{org}】ご請求への回答のお知らせ（受付番号 {request.ref}）"
        body = (
            f"受付番号 {request.ref} のご請求への回答をご用意しました。\n"
            "最初のメールでお送りした状況確認ページから、回答書と資料をダウンロードしてください。\n"
        )
    else:
        subject = f"[{org}] Our answer to your request {request.ref} is ready"
        body = (
            f"Our answer to your request {request.ref} is ready.\n"
            "Download the letter and the files from the status page linked in our first message.\n"
        )
    return _queue(session, ws, "request.answer_ready", to, subject, body)


def _queue(session: Session, ws: Workspace, kind: str, to: str, subject: str, body: str) -> str:
    now = datetime.now(UTC)
    return enqueue(session, ws, to=to, subject=subject, body=body, kind=kind, now=now).message_id
