"""The mails a requester receives: the one-time code with the status link, the status link sent again,
and "your answer is ready".

Written in the request's language with the catalog's words (:mod:`mamoru.words`): a greeting to the
person (様), the fee and how to pay it (from the policy), and the organization's signature. Queued in
the outbox (:mod:`mamoru.outbox`) in the caller's transaction; the outbox's sender delivers them. Links
start at the public base URL (``base_url``, or what ``serve`` derived from its own host and port).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from mamoru.outbox import enqueue
from mamoru.requests import labels
from mamoru.requests.sealed import details
from mamoru.requests.service import CODE_VALID
from mamoru.requests.tables import SubjectRequest
from mamoru.words import word, yen
from mamoru.workspace import Workspace


def status_url(ws: Workspace, token: str) -> str:
    return f"{ws.settings.link_base}/requests/status/{token}"


def resend_url(ws: Workspace, lang: str) -> str:
    """Where a requester who lost the status link asks for it again."""
    return f"{ws.settings.link_base}/requests/link?lang={lang}"


def fee_text(ws: Workspace, request: SubjectRequest) -> str:
    """The fee of the request and how to pay it (the policy's words); empty when there is none."""
    if not request.fee_yen:
        return ""
    lang = request.lang
    payment = ws.policy.policy.requests.fee_payment
    lines = [word("mail_fee", lang).format(amount=yen(request.fee_yen, lang))]
    if payment is not None:
        lines.append(word("mail_fee_how", lang).format(how=payment.in_(lang)))
    return "\n".join(lines) + "\n\n"


def signature(ws: Workspace, lang: str) -> str:
    """The organization's signature: its name and the inquiry desk."""
    org = ws.policy.policy.organization
    lines = ["-- ", org.name.in_(lang)]
    contact = org.inquiry_contact
    if contact is not None:
        lines += [contact.desk.in_(lang), contact.address.in_(lang)]
        reach = [
            word("mail_phone", lang).format(phone=contact.phone) if contact.phone else "",
            contact.email or "",
        ]
        if any(reach):
            lines.append(" / ".join(r for r in reach if r))
    return "\n".join(lines) + "\n"


def _letter(ws: Workspace, request: SubjectRequest, name: str, *parts: str) -> str:
    lang = request.lang
    greeting = word("mail_greeting", lang).format(name=name)
    return f"{greeting}\n\n" + "".join(parts) + word("mail_not_you", lang) + "\n\n" + signature(ws, lang)


def send_code(session: Session, ws: Workspace, request: SubjectRequest, code: str, token: str | None) -> str:
    """Queue the mail of the one-time code (and, the first time, the status link) to the address given;
    returns its Message-ID."""
    sealed = details(ws.vault, request)
    lang = request.lang
    minutes = int(CODE_VALID.total_seconds() // 60)
    kind = labels.text(labels.KINDS, request.kind, lang)
    org = ws.policy.policy.organization.name.in_(lang)
    link = (
        word("mail_status_link", lang).format(link=status_url(ws, token), resend=resend_url(ws, lang))
        + "\n\n"
        if token
        else ""
    )
    body = _letter(
        ws,
        request,
        sealed["name"],
        word("mail_code_intro", lang).format(kind=kind, ref=request.ref) + "\n\n",
        word("mail_code", lang).format(code=code, minutes=minutes) + "\n\n",
        link,
        fee_text(ws, request),
    )
    subject = word("mail_code_subject", lang).format(org=org, ref=request.ref)
    return _queue(session, ws, "request.code", sealed["email"], subject, body)


def send_link(session: Session, ws: Workspace, request: SubjectRequest, token: str) -> str:
    """Queue the mail that sends a request's (new) status link again."""
    sealed = details(ws.vault, request)
    lang = request.lang
    kind = labels.text(labels.KINDS, request.kind, lang)
    org = ws.policy.policy.organization.name.in_(lang)
    body = _letter(
        ws,
        request,
        sealed["name"],
        word("mail_link_intro", lang).format(kind=kind, ref=request.ref) + "\n\n",
        word("mail_status_link", lang).format(link=status_url(ws, token), resend=resend_url(ws, lang))
        + "\n\n",
        fee_text(ws, request) if request.fee_status == "due" else "",
    )
    subject = word("mail_link_subject", lang).format(org=org, ref=request.ref)
    return _queue(session, ws, "request.link", sealed["email"], subject, body)


def answer_ready(session: Session, ws: Workspace, request: SubjectRequest) -> str:
    sealed = details(ws.vault, request)
    lang = request.lang
    org = ws.policy.policy.organization.name.in_(lang)
    body = _letter(
        ws,
        request,
        sealed["name"],
        word("mail_ready_body", lang).format(ref=request.ref, resend=resend_url(ws, lang)) + "\n\n",
    )
    subject = word("mail_ready_subject", lang).format(org=org, ref=request.ref)
    return _queue(session, ws, "request.answer_ready", sealed["email"], subject, body)


def _queue(session: Session, ws: Workspace, kind: str, to: str, subject: str, body: str) -> str:
    now = datetime.now(UTC)
    return enqueue(session, ws, to=to, subject=subject, body=body, kind=kind, now=now).message_id
