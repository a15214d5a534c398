"""Console pages for transfers: processors with their supervision status and due dates, recipients
(basis, country, foreign checks), and the provision and receipt records, searchable by subject."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamoru.edge import CurrentWorkspace, DbSession
from mamoru.policy.notice import Lang
from mamoru.transfers.records import records_for
from mamoru.transfers.status import processor_status, recipient_status
from mamoru.transfers.supervision import ASSESSMENT_VALID_DAYS, PASS_SCORE, record_check
from mamoru.web.console import Staff, check, console_page
from mamoru.web.forms import PostedForm, back_to
from mamoru.web.i18n import choose_lang, labels
from mamoru.words import country

router = APIRouter(prefix="/console/transfers", include_in_schema=False)
Language = Annotated[Lang, Depends(choose_lang)]


@router.get("", response_class=HTMLResponse)
def transfers_page(
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Language,
    who: Staff,
    subject: str = "",
) -> HTMLResponse:
    check(who, "transfers")
    policy = ws.policy.policy
    today = datetime.now(UTC).date()
    processors = [(p, processor_status(session, policy, p.id, today)) for p in policy.processors]
    recipients = [(r, recipient_status(session, policy, r.id, today)) for r in policy.recipients]
    provisions, receipts = records_for(session, [subject.strip()]) if subject.strip() else ([], [])
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_transfers.html.j2",
        labels(lang)["transfers"],
        processors=processors,
        recipients=recipients,
        subject=subject.strip(),
        provisions=provisions,
        receipts=receipts,
        today=today,
        country=lambda code: country(code, lang),
        pass_score=PASS_SCORE,
        valid_days=ASSESSMENT_VALID_DAYS,
    )


@router.post("/checks", dependencies=[back_to("/console/transfers")])
def record_processor_check(
    ws: CurrentWorkspace, session: DbSession, lang: Language, who: Staff, form: PostedForm
) -> Response:
    """Record a processor's assessment or a monitoring of its handling (APPI Art. 25, JIS-9)."""
    check(who, "transfers.supervise", str(form.get("csrf", "")))
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    record_check(session, ws.policy.policy, values, actor=who.actor, today=datetime.now(UTC).date())
    return RedirectResponse(f"/console/transfers?lang={lang}#processors", status_code=303)
