"""Pages for transfers.

The console: processors with their supervision status and due dates, recipients (basis, country, foreign
checks), the provision and receipt records searchable by subject, and the office's forms: the
confirmation of data received (APPI Art. 30), the recipient's consent to personally referable data
(Art. 31), the PPC filing of opt-out provision (Art. 27(2)-(4)) and a link asking a person's consent to
provision abroad (Art. 28).

The portal: the opt-out notice with its nine items and the way to stop, the Art. 28 information about
every recipient abroad, and the page a person's link opens to read that information and then answer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamoru.edge import MAX_ID, CurrentWorkspace, DbSession
from mamoru.errors import Invalid, Problem, problem
from mamoru.policy.notice import Lang
from mamoru.transfers import foreign, optout
from mamoru.transfers.gate import confirm_referable
from mamoru.transfers.records import PROVISIONS, Basis, ReceiptIn, provision_page, record_receipt, records_for
from mamoru.transfers.status import processor_status, recipient_status
from mamoru.transfers.supervision import ASSESSMENT_VALID_DAYS, PASS_SCORE, record_check
from mamoru.web import listing
from mamoru.web.console import Staff, check, console_page
from mamoru.web.forms import PostedForm, again, back_to, shown
from mamoru.web.i18n import choose_lang, labels
from mamoru.web.portal import page
from mamoru.words import country

router = APIRouter(prefix="/console/transfers", include_in_schema=False)
portal_router = APIRouter(include_in_schema=False)
Language = Annotated[Lang, Depends(choose_lang)]
Csrf = Annotated[str, Form(max_length=100)]
BACK = "/console/transfers"


@router.get("", response_class=HTMLResponse)
def transfers_page(
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Language,
    who: Staff,
    done: str = "",
    link: str = "",
) -> HTMLResponse:
    check(who, "transfers")
    policy = ws.policy.policy
    today = datetime.now(UTC).date()
    processors = [(p, processor_status(session, policy, p.id, today)) for p in policy.processors]
    recipients = [(r, recipient_status(session, policy, r.id, today)) for r in policy.recipients]
    words = labels(lang)
    asked = listing.asked(request, PROVISIONS)
    found = provision_page(session, asked)
    subject = asked.filters.get("subject", "")
    receipts = records_for(session, [subject])[1] if subject else []
    opt_out = [
        (r, optout.opt_out_problems(session, policy, r.id, today)) for r in optout.opt_out_recipients(policy)
    ]
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_transfers.html.j2",
        labels(lang)["transfers"],
        processors=processors,
        recipients=recipients,
        subject=subject,
        provisions=found.items,
        table=listing.listing(
            request,
            BACK,
            PROVISIONS,
            asked,
            found,
            lang,
            choices=[
                listing.Choice(
                    "recipient",
                    words["party"],
                    [(r.id, r.name.in_(lang)) for r in policy.recipients],
                    words["list_every"],
                ),
                listing.Choice(
                    "basis",
                    words["basis"],
                    [(b, words.get(f"notice_basis_{b}", b)) for b in ("consent", "opt_out")],
                    words["list_every"],
                ),
            ],
            anchor="records",
        ),
        receipts=receipts,
        today=today,
        country=lambda code: country(code, lang),
        pass_score=PASS_SCORE,
        valid_days=ASSESSMENT_VALID_DAYS,
        opt_out=opt_out,
        opt_out_enabled=ws.settings.transfer_opt_out_enabled,
        filings=optout.filings(session),
        linking=[r for r in policy.recipients if r.links_referable],
        abroad=[r for r in policy.recipients if r.foreign is not None and r.foreign.route == "consent"],
        categories=policy.categories,
        category_names={c.id: c.name.in_(lang) for c in policy.categories},
        purposes={p.id: p.text.in_(lang) for p in policy.purposes},
        done=done if done.isidentifier() else "",
        link=link
        if link.startswith("/foreign/") and link[9:].replace("-", "").replace("_", "").isalnum()
        else "",
    )


def _done(lang: Lang, what: str, **extra: str) -> RedirectResponse:
    query = "".join(f"&{k}={v}" for k, v in extra.items())
    return RedirectResponse(f"{BACK}?lang={lang}&done={what}{query}", status_code=303)


def _day(value: str, field: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid([problem(field, "a date like 2026-11-25", "date")]) from None


@router.post("/receipts", dependencies=[back_to(BACK)])
def receipt(who: Staff, session: DbSession, lang: Language, form: PostedForm) -> Response:
    """The confirmation on receiving data from another business (APPI Art. 30)."""
    check(who, "transfers.receive", str(form.get("csrf", "")))
    text = {k: str(form.get(k, "")).strip() for k in form}
    opt_out = text.get("basis") == "opt_out"
    record_receipt(
        session,
        ReceiptIn(
            subject_id=text.get("subject_id", ""),
            basis=Basis.OPT_OUT if opt_out else Basis.CONSENT,
            categories=[str(c) for c in form.getlist("categories") if str(c)],
            provider_name=text.get("provider_name", ""),
            provider_address=text.get("provider_address", ""),
            provider_representative=text.get("provider_representative") or None,
            provider_is_corporation=text.get("provider_kind", "corporation") != "individual",
            acquisition_history=text.get("acquisition_history", ""),
            evidence_ref=text.get("evidence_ref", ""),
            received_on=_day(text.get("received_on", ""), "received_on"),
            ppc_publication_ref=text.get("ppc_publication_ref") or None,
        ),
        actor=who.actor,
        today=datetime.now(UTC).date(),
    )
    return _done(lang, "receipt")


@router.post("/referable", dependencies=[back_to(BACK)])
def referable(
    ws: CurrentWorkspace, who: Staff, session: DbSession, lang: Language, form: PostedForm
) -> Response:
    """The confirmation that a recipient holds each person's consent (APPI Art. 31)."""
    check(who, "transfers.manage", str(form.get("csrf", "")))
    subjects = [s.strip() for s in str(form.get("subject_ids", "")).split() if s.strip()]
    if not subjects:
        raise Invalid([problem("subject_ids", "name at least one subject", "missing")])
    confirm_referable(
        session,
        ws.policy.policy,
        recipient=str(form.get("recipient", "")),
        subject_ids=subjects,
        method=str(form.get("method", "")),
        evidence_ref=str(form.get("evidence_ref", "")),
        actor=who.actor,
        now=datetime.now(UTC),
    )
    return _done(lang, "referable")


@router.post("/opt-out-filings", dependencies=[back_to(BACK)])
def opt_out_filing(
    ws: CurrentWorkspace, who: Staff, session: DbSession, lang: Language, form: PostedForm
) -> Response:
    """Record the PPC filing of an opt-out recipient's notice items (APPI Art. 27(2))."""
    check(who, "transfers.manage", str(form.get("csrf", "")))
    optout.record_filing(
        session,
        ws.policy.policy,
        str(form.get("recipient", "")),
        filed_on=_day(str(form.get("filed_on", "")), "filed_on") or datetime.now(UTC).date(),
        filing_ref=str(form.get("filing_ref", "")),
        actor=who.actor,
    )
    return _done(lang, "filing")


@router.post("/opt-out-filings/{filing_id}/publication", dependencies=[back_to(BACK)])
def opt_out_publication(
    filing_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    who: Staff,
    session: DbSession,
    lang: Language,
    form: PostedForm,
) -> Response:
    """Record the PPC's publication of a filing (APPI Art. 27(4))."""
    check(who, "transfers.manage", str(form.get("csrf", "")))
    optout.record_publication(
        session,
        filing_id,
        ppc_publication_ref=str(form.get("ppc_publication_ref", "")),
        published_on=_day(str(form.get("published_on", "")), "published_on") or datetime.now(UTC).date(),
        actor=who.actor,
    )
    return _done(lang, "publication")


@router.post("/foreign-invitations", dependencies=[back_to(BACK)])
def foreign_invitation(
    ws: CurrentWorkspace, who: Staff, session: DbSession, lang: Language, form: PostedForm
) -> Response:
    """Open a portal link asking a person's consent to provision abroad, after the Art. 28 information."""
    check(who, "transfers.manage", str(form.get("csrf", "")))
    _row, token = foreign.invite(
        session,
        ws.policy.policy,
        subject_id=str(form.get("subject_id", "")).strip(),
        recipient=str(form.get("recipient", "")),
        purpose=str(form.get("purpose", "")),
        actor=who.actor,
        now=datetime.now(UTC),
    )
    return _done(lang, "invitation", link=f"/foreign/{token}")


@portal_router.get("/opt-out", response_class=HTMLResponse)
def opt_out_notice(request: Request, ws: CurrentWorkspace, lang: Language) -> HTMLResponse:
    """The opt-out notice (APPI Art. 27(2)): for each recipient, the nine items and how to stop."""
    policy = ws.policy.policy
    enabled = ws.settings.transfer_opt_out_enabled
    return page(
        request,
        ws,
        lang,
        "opt_out.html.j2",
        labels(lang)["optout_title"],
        enabled=enabled,
        recipients=optout.opt_out_recipients(policy) if enabled else [],
        org=policy.organization,
        purposes={p.id: p.text.in_(lang) for p in policy.purposes},
        categories={c.id: c.name.in_(lang) for c in policy.categories},
    )


@portal_router.get("/foreign", response_class=HTMLResponse)
def foreign_list(request: Request, ws: CurrentWorkspace, lang: Language) -> HTMLResponse:
    """The APPI Art. 28 information about every party abroad the policy declares."""
    policy = ws.policy.policy
    infos = foreign.parties_abroad(policy, lang)
    return page(request, ws, lang, "foreign.html.j2", labels(lang)["foreign_title"], infos=infos)


@portal_router.get("/foreign/{token}", response_class=HTMLResponse)
def foreign_consent_form(
    token: str, request: Request, ws: CurrentWorkspace, session: DbSession, lang: Language
) -> HTMLResponse:
    """The page a person's link opens: the information first, then the question (APPI Art. 28(2)).

    The link's token is the person's capability; no one else can post to it."""
    return _consent_page(request, ws, session, lang, token)(None)


def _consent_page(
    request: Request, ws: CurrentWorkspace, session: DbSession, lang: Lang, token: str
) -> Callable[[list[Problem] | None], HTMLResponse]:
    """How the consent page shows itself: read now, rendered later (again with problems, if any)."""
    row = foreign.invitation(session, token, datetime.now(UTC))
    info = foreign.information(ws.policy.policy, row.recipient, lang)
    purpose = ws.policy.policy.purpose(row.purpose).text.in_(lang)

    def render(problems: list[Problem] | None = None) -> HTMLResponse:
        return page(
            request,
            ws,
            lang,
            "foreign_consent.html.j2",
            labels(lang)["foreign_title"],
            info=info,
            purpose=purpose,
            token=token,
            form_errors=shown(problems or [], lang),
        )

    return render


@portal_router.post("/foreign/{token}", response_class=HTMLResponse)
def foreign_consent_answer(
    token: str,
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Language,
    version: Annotated[int, Form(ge=1, le=1_000_000)],
    answer: Annotated[str, Form(pattern="^(agree|decline)$")],
) -> HTMLResponse:
    """The person's answer, recorded with the version of the information the page showed them; a page
    read before the information changed is shown again, current, with a word on why."""
    again(request, _consent_page(request, ws, session, lang, token))
    consent = foreign.answer(
        session,
        ws.policy.policy,
        token,
        agree=answer == "agree",
        version_shown=version,
        lang=lang,
        now=datetime.now(UTC),
    )
    return page(
        request,
        ws,
        lang,
        "foreign_answered.html.j2",
        labels(lang)["foreign_title"],
        agreed=consent is not None,
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
