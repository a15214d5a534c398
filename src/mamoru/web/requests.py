"""Request pages: the public form and status page on the portal, the queue and the workflow in the console.

The status page is reached only by its unguessable link (32 random bytes; the database keeps a hash).
Its answers carry ``Cache-Control: no-store`` and ``Referrer-Policy: no-referrer`` so the link does not
leak through caches or the Referer header.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict, deque
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

# What request.form() holds for a file: Starlette's class (FastAPI's UploadFile is a subclass of it,
# so an isinstance check against FastAPI's never matches a posted file).
from starlette.datastructures import UploadFile

from mamoru.edge import CurrentWorkspace, DbSession
from mamoru.errors import Invalid, MamoruError, Problem
from mamoru.incidents.service import reportable_subjects
from mamoru.law.requests import REFUSAL_GROUNDS, CessationGround, RequestKind, asks
from mamoru.mail import address_problem, has_control
from mamoru.policy.notice import Lang
from mamoru.requests import answer, jobs, labels, matching, service
from mamoru.requests.letter import field_label, purpose_label
from mamoru.requests.notify import send_code, send_link
from mamoru.requests.service import Document
from mamoru.requests.status import Status
from mamoru.requests.tables import SubjectRequest
from mamoru.web import listing
from mamoru.web.console import Staff, check, console_page
from mamoru.web.forms import PostedForm, again, back_to, shown
from mamoru.web.i18n import choose_lang
from mamoru.web.i18n import labels as ui_labels
from mamoru.web.portal import page
from mamoru.work.queue import submit
from mamoru.workspace import Workspace

portal_router = APIRouter(prefix="/requests", include_in_schema=False)
console_router = APIRouter(prefix="/console/requests", include_in_schema=False)
Language = Annotated[Lang, Depends(choose_lang)]
FORM_CSRF_COOKIE = "mamoru_request_csrf"
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


class TooManyRequests(MamoruError):
    http_status = 429


class RateLimit:
    """At most ``limit`` hits per ``window`` seconds for each client address (in this process).

    The address is the peer's, or the one a trusted proxy forwarded (:mod:`mamoru.proxies`); a header
    from anyone else changes nothing. Counting is under a lock: forty hits at once from one address
    let exactly ``limit`` through.
    """

    #: Addresses remembered at most; past that, those with no hit inside the window are forgotten.
    MAX_ADDRESSES = 10_000

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, request: Request, limit: int | None = None) -> None:
        """Count a hit; ``limit`` (from the settings) overrides the built-in one."""
        key = request.client.host if request.client else "unknown"
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and now - hits[0] > self.window:
                hits.popleft()
            if len(hits) >= (limit or self.limit):
                raise TooManyRequests(
                    "too many submissions from this address; please wait a minute and try again"
                )
            hits.append(now)
            if len(self._hits) > self.MAX_ADDRESSES:
                for stale in [k for k, v in self._hits.items() if not v or now - v[-1] > self.window]:
                    del self._hits[stale]


SUBMISSIONS = RateLimit(limit=10, window=60)
CODE_TRIES = RateLimit(limit=30, window=60)


def _chosen(kind: str | None) -> RequestKind | None:
    try:
        return RequestKind(kind) if kind else None
    except ValueError:
        return None


def _form_context(ws: Workspace, lang: Lang, kind: RequestKind | None) -> dict[str, Any]:
    """What the form shows: the kinds to choose from, then only what the chosen kind needs."""
    policy = ws.policy.policy
    fee = policy.requests.fees.get(kind, 0) if kind else 0
    return {
        "kinds": [
            (k.value, labels.text(labels.KINDS, k.value, lang), policy.requests.fees.get(k, 0))
            for k in RequestKind
        ],
        "kind": kind.value if kind else None,
        "kind_label": labels.text(labels.KINDS, kind.value, lang) if kind else "",
        "fee": fee,
        "fee_payment": policy.requests.fee_payment.in_(lang) if fee and policy.requests.fee_payment else "",
        "shows": asks(kind),
        "grounds": [(g.value, labels.text(labels.CESSATION_GROUNDS, g.value, lang)) for g in CessationGround],
        "purposes": [(p.id, p.text.in_(lang)) for p in policy.general_purposes()],
        "recipients": [(r.id, r.name.in_(lang)) for r in policy.recipients],
        "fields": sorted(
            (
                (f, field_label(policy, f, lang))
                for f, c in policy.fields.items()
                if not policy.category(c).my_number
            ),
            key=lambda pair: pair[1],
        ),
        "agent_kinds": [(k, labels.text(labels.AGENTS, k, lang)) for k in labels.AGENT_KINDS],
    }


def _new_form(
    request: Request,
    ws: Workspace,
    lang: Lang,
    *,
    kind: RequestKind | None = None,
    errors: list[Problem] | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = page(
        request,
        ws,
        lang,
        "request_new.html.j2",
        ui_labels(lang)["new_request"],
        csrf=token,
        form_errors=shown(errors or [], lang),
        values=values or {},
        **_form_context(ws, lang, kind),
    )
    response.set_cookie(FORM_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/requests")
    if errors:
        response.status_code = 422
    return response


@portal_router.get("/new", response_class=HTMLResponse)
def new_request(
    request: Request, ws: CurrentWorkspace, lang: Language, kind: Annotated[str, Query(max_length=48)] = ""
) -> HTMLResponse:
    """Step one chooses the kind; step two (``?kind=``) asks only what that kind needs."""
    chosen = _chosen(kind)
    if kind and chosen is None:
        return _new_form(request, ws, lang, errors=[Problem(("kind",), "", "enum")])
    return _new_form(request, ws, lang, kind=chosen)


def _submission_allowed(request: Request, ws: CurrentWorkspace) -> None:
    SUBMISSIONS.hit(request, ws.settings.portal_submissions_per_minute)


#: Counted before the form is read (route dependencies run before the route's own).
@portal_router.post("", dependencies=[Depends(_submission_allowed)])
def submit_request(
    request: Request, ws: CurrentWorkspace, session: DbSession, lang: Language, form: PostedForm
) -> Response:
    expected = request.cookies.get(FORM_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(str(form.get("csrf", "")), expected):
        raise service.RequestConflict("the form expired; reload it and send again")
    fields = (
        "kind",
        "name",
        "email",
        "phone",
        "birth_date",
        "member_number",
        "method",
        "postal_address",
        "agent_kind",
        "agent_name",
        "details",
    )
    raw: dict[str, Any] = {name: str(form.get(name, "")).strip() for name in fields}
    raw = {k: v for k, v in raw.items() if v}
    raw["lang"] = lang
    raw["by_agent"] = form.get("by_agent") == "on"
    raw["grounds"] = [str(g) for g in form.getlist("grounds")]
    raw["purposes"] = [str(p) for p in form.getlist("purposes")]
    raw["recipients"] = [str(r) for r in form.getlist("recipients")]
    corrections = []
    for field, value in zip(form.getlist("correction_field"), form.getlist("correction_value"), strict=False):
        if str(field) and str(value).strip():
            corrections.append({"field": str(field), "value": str(value)})
    raw["corrections"] = corrections
    if not raw["by_agent"]:
        raw.pop("agent_kind", None)
        raw.pop("agent_name", None)
    documents: list[Document] = []
    upload = form.get("authority_doc")
    if raw["by_agent"] and isinstance(upload, UploadFile) and upload.filename:
        content = upload.file.read(service.MAX_DOCUMENT_BYTES + 1)
        documents.append(Document("authority", upload.content_type or "", content))
    identity = form.get("identity_doc")
    if isinstance(identity, UploadFile) and identity.filename:
        content = identity.file.read(service.MAX_DOCUMENT_BYTES + 1)
        documents.append(Document("identity", identity.content_type or "", content))
    kind = _chosen(raw.get("kind"))
    again(request, lambda problems: _new_form(request, ws, lang, kind=kind, errors=problems, values=raw))
    data = service.parse_request(raw)
    done = service.submit(
        session,
        ws.vault,
        ws.policy.policy,
        ws.settings,
        data,
        now=datetime.now(UTC),
        channel="portal",
        documents=tuple(documents),
    )
    send_code(session, ws, done.request, done.code, done.status_token)
    session.commit()
    return RedirectResponse(f"/requests/status/{done.status_token}?lang={lang}", status_code=303)


def _status_page(
    request: Request,
    ws: Workspace,
    session: Session,
    lang: Lang,
    token: str,
    message: str = "",
    status: int = 200,
) -> HTMLResponse:
    subject_request = service.by_token(session, token)
    response = page(
        request,
        ws,
        lang,
        "request_status.html.j2",
        ui_labels(lang)["request_status"],
        r=subject_request,
        token=token,
        message=message,
        kind_label=labels.text(labels.KINDS, subject_request.kind, lang),
        status_label=labels.text(labels.STATUSES, subject_request.status, lang),
        outcome_label=labels.text(labels.OUTCOMES, subject_request.outcome, lang),
        identity=service.identity_status(session, subject_request),
        fee_payment=payment.in_(lang) if (payment := ws.policy.policy.requests.fee_payment) else "",
    )
    response.headers.update(PRIVATE_HEADERS)
    response.status_code = status
    return response


@portal_router.get("/status/{token}", response_class=HTMLResponse)
def request_status(
    token: str, request: Request, ws: CurrentWorkspace, session: DbSession, lang: Language, m: str = ""
) -> HTMLResponse:
    return _status_page(request, ws, session, lang, token, message=m)


@portal_router.post("/status/{token}/verify")
def verify_code(
    token: str,
    request: Request,
    session: DbSession,
    ws: CurrentWorkspace,
    lang: Language,
    code: Annotated[str, Form(max_length=20)],
) -> Response:
    CODE_TRIES.hit(request)
    subject_request = service.by_token(session, token)
    result = service.verify_code(
        session, ws.vault, subject_request, code, now=datetime.now(UTC), policy=ws.policy.policy
    )
    return RedirectResponse(f"/requests/status/{token}?lang={lang}&m=code_{result.value}", status_code=303)


@portal_router.post("/status/{token}/resend")
def resend_code(
    token: str, request: Request, session: DbSession, ws: CurrentWorkspace, lang: Language
) -> Response:
    SUBMISSIONS.hit(request, ws.settings.portal_submissions_per_minute)
    subject_request = service.by_token(session, token)
    code = service.new_code(session, ws.vault, subject_request, now=datetime.now(UTC))
    send_code(session, ws, subject_request, code, None)
    session.commit()
    return RedirectResponse(f"/requests/status/{token}?lang={lang}&m=code_sent", status_code=303)


@portal_router.post("/status/{token}/document")
def send_identity_document(
    token: str, request: Request, session: DbSession, ws: CurrentWorkspace, lang: Language, form: PostedForm
) -> Response:
    """The requester sends the identity document the office needs (a weak match, special care data)."""
    SUBMISSIONS.hit(request, ws.settings.portal_submissions_per_minute)
    subject_request = service.by_token(session, token)
    upload = form.get("identity_doc")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return RedirectResponse(
            f"/requests/status/{token}?lang={lang}&m=rq_identity_doc_missing", status_code=303
        )
    content = upload.file.read(service.MAX_DOCUMENT_BYTES + 1)
    again(
        request,
        lambda problems: _status_page(
            request, ws, session, lang, token, message="rq_identity_doc_invalid", status=422
        ),
    )
    service.add_document(
        session,
        ws.vault,
        subject_request,
        Document("identity", upload.content_type or "", content),
        now=datetime.now(UTC),
    )
    session.commit()
    return RedirectResponse(f"/requests/status/{token}?lang={lang}&m=rq_identity_doc_sent", status_code=303)


LINK_CSRF_COOKIE = "mamoru_link_csrf"


def _link_form(
    request: Request, ws: Workspace, lang: Lang, *, sent: bool = False, errors: list[Problem] | None = None
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = page(
        request,
        ws,
        lang,
        "request_link.html.j2",
        ui_labels(lang)["rq_link_title"],
        csrf=token,
        sent=sent,
        form_errors=shown(errors or [], lang),
    )
    response.set_cookie(LINK_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/requests")
    response.headers.update(PRIVATE_HEADERS)
    if errors:
        response.status_code = 422
    return response


@portal_router.get("/link", response_class=HTMLResponse)
def link_form(request: Request, ws: CurrentWorkspace, lang: Language, sent: bool = False) -> HTMLResponse:
    """Ask for the status link again, by the e-mail address the request was made with."""
    return _link_form(request, ws, lang, sent=sent)


@portal_router.post("/link", dependencies=[Depends(_submission_allowed)])
def send_link_again(
    request: Request, ws: CurrentWorkspace, session: DbSession, lang: Language, form: PostedForm
) -> Response:
    """Renew and mail the status links of the requests made with this address. The answer is the same
    whether or not there are any (no account enumeration); a request's link goes out at most once in
    ``service.LINK_INTERVAL``, and this address's client is limited like the request form."""
    expected = request.cookies.get(LINK_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(str(form.get("csrf", "")), expected):
        raise service.RequestConflict("the form expired; reload it and send again")
    email = str(form.get("email", ""))[:254].strip()
    if address_problem(email) is not None or has_control(email):
        return _link_form(request, ws, lang, errors=[Problem(("email",), "", "email")])
    for subject_request, token in service.renew_links(session, ws.vault, email, now=datetime.now(UTC)):
        send_link(session, ws, subject_request, token)
    session.commit()
    return RedirectResponse(f"/requests/link?lang={lang}&sent=true", status_code=303)


@portal_router.get("/status/{token}/letter", response_class=HTMLResponse)
def portal_letter(token: str, session: DbSession, ws: CurrentWorkspace) -> HTMLResponse:
    subject_request = service.by_token(session, token)
    letter = answer.open_letter(session, ws, subject_request, actor=answer.REQUESTER)
    return HTMLResponse(letter, headers=PRIVATE_HEADERS)


@portal_router.get("/status/{token}/package")
def portal_package(token: str, session: DbSession, ws: CurrentWorkspace) -> Response:
    subject_request = service.by_token(session, token)
    data = answer.open_package(session, ws, subject_request, actor=answer.REQUESTER)
    return Response(
        data,
        media_type="application/zip",
        headers={
            **PRIVATE_HEADERS,
            "Content-Disposition": f'attachment; filename="{subject_request.ref}.zip"',
        },
    )


# --- console ------------------------------------------------------------------------------------


def _days_left(r: SubjectRequest, now: datetime) -> int:
    return (r.due_at - now).days


@console_router.get("", response_class=HTMLResponse)
def queue(
    request: Request, ws: CurrentWorkspace, session: DbSession, lang: Language, who: Staff
) -> HTMLResponse:
    check(who, "requests")
    now = datetime.now(UTC)
    asked = listing.asked(request, service.QUEUE)
    pager = service.queue_page(session, asked)
    words = ui_labels(lang)
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_requests.html.j2",
        words["queue"],
        rows=[
            (
                r,
                labels.text(labels.KINDS, r.kind, lang),
                labels.text(labels.STATUSES, r.status, lang),
                _days_left(r, now),
                labels.text(labels.SHORT_OUTCOMES, r.outcome, lang),
            )
            for r in pager.items
        ],
        table=listing.listing(
            request,
            "/console/requests",
            service.QUEUE,
            asked,
            pager,
            lang,
            choices=[
                listing.Choice(
                    "kind",
                    words["kind"],
                    [(k.value, labels.text(labels.KINDS, k.value, lang)) for k in RequestKind],
                    words["list_all_kinds"],
                ),
                listing.Choice(
                    "status",
                    words["status"],
                    [(s.value, labels.text(labels.STATUSES, s.value, lang)) for s in Status],
                    words["list_every"],
                ),
                listing.Choice(
                    "all", words["list_which"], [("true", words["requests_all"])], words["list_open"]
                ),
            ],
            search_label=words["list_search_ref"],
        ),
    )


@console_router.get("/{request_id}", response_class=HTMLResponse)
def detail(
    request_id: str,
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Language,
    who: Staff,
) -> HTMLResponse:
    check(who, "requests")
    opened = answer.view(session, ws.vault, service.get(session, request_id), actor=f"staff:{who.login}")
    r, steps = opened.request, opened.steps
    kind = RequestKind(r.kind)
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_request.html.j2",
        f"{ui_labels(lang)['requests']} {r.ref}",
        r=r,
        sealed=opened.sealed,
        documents=opened.documents,
        steps=steps,
        kind_label=labels.text(labels.KINDS, r.kind, lang),
        status_label=labels.text(labels.STATUSES, r.status, lang)
        + (
            f": {labels.text(labels.ATTENTION, why['attention'], lang)} ({why['step']} {why['target']}: {why['detail']})"
            if (why := jobs.attention(session, r))
            else ""
        ),
        outcome_label=labels.text(labels.OUTCOMES, r.outcome, lang),
        grounds=[labels.text(labels.CESSATION_GROUNDS, g, lang) for g in r.grounds],
        refusal_grounds=[
            (g.value, labels.text(labels.REFUSAL_GROUNDS, g.value, lang))
            for g in sorted(REFUSAL_GROUNDS[kind], key=lambda g: g.value)
        ],
        agent_kind=labels.text(labels.AGENTS, r.agent_kind, lang),
        purpose_labels=[purpose_label(ws.policy.policy, p, lang) for p in r.purposes],
        corrections=[
            (field_label(ws.policy.policy, c["field"], lang), c["value"])
            for c in opened.sealed.get("corrections", [])
        ],
        pending_steps=any(s.done_at is None for s in steps),
        breach_incidents=sorted(set(reportable_subjects(session, list(r.subjects)).values())),
        candidates=[
            (
                c,
                c.subject_id in (r.subjects or []),
                labels.text(labels.CONFIDENCE, matching.confidence(c.score).value, lang),
                [labels.text(labels.MATCH_REASONS, reason, lang) for reason in c.reasons],
            )
            for c in service.candidates(session, r)
        ],
        linkable=r.status in service.LINKABLE,
        identity=service.identity_status(session, r),
        identity_needs=[labels.text(labels.IDENTITY_NEEDS, n, lang) for n in r.identity_needs or ()],
        now=datetime.now(UTC),
    )


def _back(request_id: str, lang: Lang) -> RedirectResponse:
    return RedirectResponse(f"/console/requests/{request_id}?lang={lang}", status_code=303)


#: A refused decision goes back to the request's page with the problems (see ``web.forms``).
BACK = [back_to("/console/requests/{request_id}")]


@console_router.post("/{request_id}/documents")
def documents(
    request_id: str,
    session: DbSession,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form()],
    decision: Annotated[str, Form(pattern="^(accept|reject)$")],
) -> Response:
    check(who, "requests.decide", csrf)
    r = service.get(session, request_id)
    service.check_documents(
        session, r, actor=f"staff:{who.login}", accept=decision == "accept", now=datetime.now(UTC)
    )
    return _back(r.id, lang)


@console_router.post("/{request_id}/link", dependencies=BACK)
def link_subject(
    request_id: str,
    session: DbSession,
    ws: CurrentWorkspace,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form()],
    subject_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    check(who, "requests.decide", csrf)
    r = service.get(session, request_id)
    service.link(
        session, ws.vault, ws.policy.policy, r, subject_id, actor=f"staff:{who.login}", now=datetime.now(UTC)
    )
    return _back(r.id, lang)


def _day(value: str, field: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise Invalid([Problem((field,), "enter the date as 1980-04-02", "date_parsing")]) from None


@console_router.post("/{request_id}/search", dependencies=BACK)
def search_persons(
    request_id: str,
    session: DbSession,
    ws: CurrentWorkspace,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form()],
    name: Annotated[str, Form(max_length=200)] = "",
    phone: Annotated[str, Form(max_length=40)] = "",
    birth_date: Annotated[str, Form(max_length=20)] = "",
    member_number: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Look for the person by details the requester gave another way; those found become candidates."""
    check(who, "requests.decide", csrf)
    r = service.get(session, request_id)
    service.search_candidates(
        session,
        ws.vault,
        r,
        actor=f"staff:{who.login}",
        name=name.strip() or None,
        phone=phone.strip() or None,
        birth_date=_day(birth_date.strip(), "birth_date"),
        member_number=member_number.strip() or None,
    )
    return _back(r.id, lang)


@console_router.post("/{request_id}/unlink", dependencies=BACK)
def unlink_subject(
    request_id: str,
    session: DbSession,
    ws: CurrentWorkspace,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form()],
    subject_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    check(who, "requests.decide", csrf)
    r = service.get(session, request_id)
    service.unlink(
        session, ws.vault, ws.policy.policy, r, subject_id, actor=f"staff:{who.login}", now=datetime.now(UTC)
    )
    return _back(r.id, lang)


@console_router.get("/{request_id}/documents/{document_id}")
def document(
    request_id: str, document_id: int, session: DbSession, ws: CurrentWorkspace, who: Staff
) -> Response:
    check(who, "requests")
    doc = answer.open_document(session, ws.vault, request_id, document_id, actor=f"staff:{who.login}")
    return Response(doc.content, media_type=doc.content_type, headers={"Cache-Control": "no-store"})


@console_router.get("/{request_id}/approve", response_class=HTMLResponse)
def confirm_approval(
    request_id: str,
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Language,
    who: Staff,
    fee_received: bool = False,
) -> HTMLResponse:
    """Before an erasure is approved: what will be erased, and what a law requires us to keep."""
    check(who, "requests.decide")
    r = service.get(session, request_id)
    policy = ws.policy.policy
    preview = jobs.erasure_preview(session, ws, r, datetime.now(UTC).date())
    rules = {rule.id: rule for rule in policy.retention}
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_erase_confirm.html.j2",
        f"{ui_labels(lang)['tk_erase_confirm']} {r.ref}",
        r=r,
        subjects=[
            (
                p,
                [field_label(policy, f, lang) for f in p.erased],
                [
                    (
                        field_label(policy, f, lang),
                        law.in_(lang) if rid in rules and (law := rules[rid].law) else "",
                        rules[rid].description.in_(lang) if rid in rules else "",
                    )
                    for f, rid in sorted(p.held.items())
                ],
            )
            for p in preview.subjects
        ],
        datastores=preview.datastores,
        fee_received=fee_received,
    )


@console_router.post("/{request_id}/approve", dependencies=BACK)
def approve(
    request_id: str,
    session: DbSession,
    ws: CurrentWorkspace,
    lang: Language,
    who: Staff,
    background: BackgroundTasks,
    csrf: Annotated[str, Form()],
    fee_received: Annotated[bool, Form()] = False,
    confirmed: Annotated[bool, Form()] = False,
) -> Response:
    check(who, "requests.decide", csrf)
    r = service.get(session, request_id)
    if r.kind == RequestKind.ERASE and r.subjects and not confirmed:
        # An erasure cannot be undone: it is approved only from the page that shows what it erases.
        fee = "&fee_received=true" if fee_received else ""
        return RedirectResponse(f"/console/requests/{r.id}/approve?lang={lang}{fee}", status_code=303)
    service.approve(session, r, actor=f"staff:{who.login}", now=datetime.now(UTC), fee_received=fee_received)
    background.add_task(submit, ws, "request.fulfil", request_id=r.id)
    return _back(r.id, lang)


@console_router.post("/{request_id}/refuse", dependencies=BACK)
def refuse(
    request_id: str,
    session: DbSession,
    ws: CurrentWorkspace,
    lang: Language,
    who: Staff,
    background: BackgroundTasks,
    csrf: Annotated[str, Form()],
    ground: Annotated[str, Form(max_length=48)] = "",
    reasons: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    check(who, "requests.decide", csrf)
    r = service.get(session, request_id)
    service.refuse(
        session,
        ws.vault,
        r,
        actor=f"staff:{who.login}",
        ground=ground,
        reasons=reasons,
        now=datetime.now(UTC),
    )
    background.add_task(submit, ws, "request.fulfil", request_id=r.id)
    return _back(r.id, lang)


@console_router.post("/{request_id}/run")
def resume(
    request_id: str, ws: CurrentWorkspace, lang: Language, who: Staff, csrf: Annotated[str, Form()]
) -> Response:
    check(who, "requests.decide", csrf)
    submit(ws, "request.fulfil", request_id=request_id, retry=True)
    return _back(request_id, lang)


@console_router.get("/{request_id}/letter", response_class=HTMLResponse)
def console_letter(request_id: str, session: DbSession, ws: CurrentWorkspace, who: Staff) -> HTMLResponse:
    check(who, "requests")
    r = service.get(session, request_id)
    letter = answer.open_letter(session, ws, r, actor=f"staff:{who.login}")
    return HTMLResponse(letter, headers={"Cache-Control": "no-store"})


@console_router.get("/{request_id}/package")
def console_package(request_id: str, session: DbSession, ws: CurrentWorkspace, who: Staff) -> Response:
    check(who, "requests")
    r = service.get(session, request_id)
    data = answer.open_package(session, ws, r, actor=f"staff:{who.login}")
    return Response(
        data,
        media_type="application/zip",
        headers={"Cache-Control": "no-store", "Content-Disposition": f'attachment; filename="{r.ref}.zip"'},
    )
