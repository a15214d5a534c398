"""The staff console: sign-in, dashboard, ledger, a subject's page (through the guard), audit status.

Which role may open which page is decided in one table, ``people.permissions.ACCESS``; every form carries the
session's CSRF token; the session cookie is HttpOnly and SameSite=Strict.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamoru.audit.chain import head
from mamoru.audit.proofs import latest_checkpoint
from mamoru.audit.verification import verification_status
from mamoru.connectors.registry import ledger_links
from mamoru.edge import MAX_ID, CurrentWorkspace, DbSession
from mamoru.errors import Invalid, MamoruError, Problem, problem
from mamoru.guard.service import fields_for_purpose, read_fields
from mamoru.incidents.signals import verify_log
from mamoru.law.deadlines import JST
from mamoru.ledger import entries as ledger
from mamoru.ledger import retention
from mamoru.ledger.acquisition import channel_names, is_overdue, mark_notified, notifications_due
from mamoru.ledger.datamap import data_map
from mamoru.people.auth import REFUSED, SignedIn, current, sign_in, sign_out
from mamoru.people.permissions import may
from mamoru.people.tables import Role
from mamoru.pms.dashboard import figures as dashboard_figures
from mamoru.policy.notice import Lang
from mamoru.web import charts, listing
from mamoru.web.forms import PostedForm, again, back_to, from_query, shown
from mamoru.web.i18n import choose_lang, labels
from mamoru.web.portal import page

router = APIRouter(prefix="/console", include_in_schema=False)
SESSION_COOKIE = "mamoru_session"
LOGIN_CSRF_COOKIE = "mamoru_login_csrf"
Language = Annotated[Lang, Depends(choose_lang)]


class NotSignedIn(MamoruError):
    http_status = 401


class Forbidden(MamoruError):
    http_status = 403
    #: which words the error page gives (``errpage_403_<reason>``); None: the general ones
    reason: str | None = None


class RolesRefused(Forbidden):
    reason = "roles"


class FormExpired(Forbidden):
    reason = "csrf"


def signed_in(request: Request, session: DbSession) -> SignedIn:
    who = current(session, request.cookies.get(SESSION_COOKIE), datetime.now(UTC))
    if who is None:
        raise NotSignedIn("sign in at /console/login")
    return who


Staff = Annotated[SignedIn, Depends(signed_in)]


def check(who: SignedIn, area: str, csrf: str | None = None) -> None:
    if not may(who, area):
        raise RolesRefused(f"your roles do not open '{area}'")
    if csrf is not None and not secrets.compare_digest(csrf, who.csrf_token):
        raise FormExpired("the form's CSRF token does not match your session; reload the page")


def console_page(
    request: Request,
    ws: CurrentWorkspace,
    lang: Lang,
    who: SignedIn | None,
    name: str,
    title: str,
    **context: object,
) -> HTMLResponse:
    words = labels(lang)
    business_roles = {r.id: r.name.in_(lang) for r in ws.policy.policy.roles}
    return page(
        request,
        ws,
        lang,
        name,
        title,
        who=who,
        may=(lambda area: who is not None and may(who, area)),
        # a role or a department by name: a system role's or a department's from the catalog, a
        # business role's from the policy
        role_name=lambda code: words.get(f"role_{code}") or business_roles.get(code, code),
        dept_name=lambda code: words.get(f"dept_{code}", code),
        **context,
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, ws: CurrentWorkspace, lang: Language, error: str = "") -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = console_page(
        request, ws, lang, None, "console_login.html.j2", labels(lang)["sign_in"], csrf=token, error=error
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/console")
    return response


@router.post("/login")
def login(
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Language,
    login: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form(max_length=100)],
    code: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(csrf, expected):
        raise Forbidden("the sign-in form expired; reload it")
    result = sign_in(session, login, password, datetime.now(UTC), code=code or None, vault=ws.vault)
    if result is None:
        refused = console_page(
            request,
            ws,
            lang,
            None,
            "console_login.html.j2",
            labels(lang)["sign_in"],
            csrf=expected,
            error=REFUSED,
        )
        refused.status_code = 401
        return refused
    token, _ = result
    redirect = RedirectResponse(f"/console/?lang={lang}", status_code=303)
    secure = ws.settings.link_base.startswith("https://")
    redirect.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/")
    redirect.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return redirect


@router.post("/logout")
def logout(
    request: Request, session: DbSession, who: Staff, csrf: Annotated[str, Form(max_length=100)]
) -> Response:
    check(who, "dashboard", csrf)
    sign_out(session, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/", response_class=HTMLResponse)
def dashboard(
    request: Request, ws: CurrentWorkspace, session: DbSession, who: Staff, lang: Language
) -> HTMLResponse:
    check(who, "dashboard")
    d = dashboard_figures(session, ws.policy.policy, datetime.now(UTC), public=ws.signer.public)
    L = labels(lang)
    processor_names = {p.id: p.name.in_(lang) for p in ws.policy.policy.processors}
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_dashboard.html.j2",
        L["dashboard"],
        requests_open=d.requests_open,
        requests_escalated=d.requests_escalated,
        requests_late=d.requests_late,
        requests_next=d.requests_next,
        chart_requests=charts.bar_chart(L["chart_requests"], d.received_by_month, lang=lang),
        chart_answer=charts.bar_chart(
            L["chart_answer"], d.answer_days_by_month, lang=lang, unit=L["days_unit"]
        ),
        chart_incidents=charts.bar_chart(L["chart_incidents"], d.incidents_by_month, lang=lang),
        incident_clocks=d.incident_clocks,
        training_lapsed=d.training_lapsed,
        training_lapsed_count=d.training_lapsed_count,
        processors_flagged=[processor_names.get(p, p) for p in d.processors_flagged],
        ledger_total=d.ledger_total,
        review_overdue=d.review_overdue,
        notifications_due=d.notifications_due,
        notifications_overdue=d.notifications_overdue,
        subjects=d.subjects,
        audit_entries=d.audit_entries,
        verification=d.verification,
        checkpoint=d.checkpoint,
        statistics_at=d.statistics_at,
    )


@router.get("/ledger", response_class=HTMLResponse)
def ledger_page(
    request: Request, ws: CurrentWorkspace, session: DbSession, who: Staff, lang: Language
) -> HTMLResponse:
    check(who, "ledger")
    now = datetime.now(UTC)
    words = labels(lang)
    asked = listing.asked(request, ledger.LIST)
    found = ledger.entry_page(session, asked, now)
    items = [(row, ledger.status(row, ws.policy.policy, now)) for row in found.items]
    purposes = {p.id: p.text.in_(lang) for p in ws.policy.policy.purposes}
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_ledger.html.j2",
        labels(lang)["ledger"],
        items=items,
        purposes=purposes,
        datastores=ledger_links(ws),
        table=listing.listing(
            request,
            "/console/ledger",
            ledger.LIST,
            asked,
            found,
            lang,
            choices=[
                listing.Choice(
                    "review",
                    words["last_review"],
                    [("overdue", words["review_overdue"]), ("current", words["list_review_current"])],
                    words["list_every"],
                ),
                listing.Choice(
                    "retained",
                    words["list_retained"],
                    [("yes", words["list_yes"]), ("no", words["list_no"])],
                    words["list_every"],
                ),
            ],
            search_label=words["list_search_code_name"],
        ),
        notices=[(a, is_overdue(a, now.date())) for a in notifications_due(session, now.date())],
        channels=channel_names(session),
    )


@router.post("/ledger/notices/{acquisition_id}/notified")
def notice_given(
    acquisition_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    session: DbSession,
    who: Staff,
    lang: Language,
    csrf: Annotated[str, Form(max_length=100)],
) -> Response:
    """The purposes were notified to the person (or published) after an acquisition (APPI Art. 21(1))."""
    check(who, "ledger.review", csrf)
    mark_notified(session, acquisition_id, actor=who.actor, now=datetime.now(UTC))
    return RedirectResponse(f"/console/ledger?lang={lang}#notices", status_code=303)


EDITABLE = (
    ("name", False),
    ("data_items", True),
    ("purposes", True),
    ("storage_location", False),
    ("storage_method", False),
    ("access_roles", True),
    ("use_until", False),
    ("retention_rule", False),
    ("subject_kinds", True),
    ("recipients", True),
    ("processors", True),
    ("medium", False),
    ("disposal_method", False),
)
#: How the data is kept (the ledger's medium), chosen by name.
MEDIA = ("electronic", "paper", "both")


def _choices(ws: CurrentWorkspace, lang: Lang) -> dict[str, list[tuple[str, str]]]:
    """The fields a person chooses rather than types: each code with its name in ``lang`` (the
    policy's names, the catalog's roles and departments), so the form never shows a code."""
    words = labels(lang)
    policy = ws.policy.policy
    departments = sorted(k.removeprefix("dept_") for k in words if k.startswith("dept_"))
    role = words["role_department_user"]
    return {
        "data_items": [(c.id, c.name.in_(lang)) for c in policy.categories],
        "purposes": [(p.id, p.text.in_(lang)) for p in policy.purposes],
        "access_roles": [
            (r.value, words.get(f"role_{r.value}", r.value)) for r in Role if r != Role.DEPARTMENT_USER
        ]
        + [
            (f"{Role.DEPARTMENT_USER.value}:{d}", f"{role}（{words.get(f'dept_{d}', d)}）")
            for d in departments
        ],
        "retention_rule": [(r.id, r.description.in_(lang)) for r in policy.retention],
        "subject_kinds": [(k.id, k.name.in_(lang)) for k in policy.subject_kinds],
        "recipients": [(r.id, r.name.in_(lang)) for r in policy.recipients],
        "processors": [(p.id, p.name.in_(lang)) for p in policy.processors],
        "medium": [(m, words[f"ledger_medium_{m}"]) for m in MEDIA],
    }


def _edit_page(
    request: Request,
    ws: CurrentWorkspace,
    lang: Lang,
    who: SignedIn,
    code: str,
    values: dict[str, list[str]],
    problems: list[Problem],
) -> HTMLResponse:
    choices = _choices(ws, lang)
    for name, chosen in values.items():
        # a value the policy no longer declares stays in view (as it was written) until it is unticked
        known = {value for value, _ in choices.get(name, [])}
        if name in choices:
            choices[name] += [(v, v) for v in chosen if v not in known]
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_ledger_edit.html.j2",
        labels(lang)["ledger"],
        code=code,
        fields=[(name, is_list, values.get(name, [])) for name, is_list in EDITABLE],
        choices=choices,
        form_errors=shown(problems, lang),
    )


@router.get("/ledger/{code}/edit", response_class=HTMLResponse)
def edit_form(
    code: str, request: Request, ws: CurrentWorkspace, session: DbSession, who: Staff, lang: Language
) -> HTMLResponse:
    check(who, "ledger.review")
    row = ledger.get_entry(session, code)
    values = {
        name: list(getattr(row, name)) if is_list else [v for v in [getattr(row, name)] if v]
        for name, is_list in EDITABLE
    }
    return _edit_page(request, ws, lang, who, code, values, [])


@router.post("/ledger/{code}/edit", response_class=HTMLResponse)
def edit_save(
    code: str,
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    who: Staff,
    lang: Language,
    form: PostedForm,
) -> Response:
    check(who, "ledger.review", str(form.get("csrf", "")))
    # a list comes as ticked boxes (one value each) or typed, comma-separated
    values = {
        name: [v.strip() for raw in form.getlist(name) for v in str(raw).split(",") if v.strip()]
        if is_list
        else [v for v in [str(form.get(name, "")).strip()] if v]
        for name, is_list in EDITABLE
    }
    changes: dict[str, object] = {
        name: values[name] if is_list else (values[name][0] if values[name] else None)
        for name, is_list in EDITABLE
    }
    again(request, lambda problems: _edit_page(request, ws, lang, who, code, values, problems))
    ledger.update_entry(session, ws.policy.policy, code, changes, who.actor)
    return RedirectResponse(f"/console/ledger?lang={lang}", status_code=303)


@router.post("/ledger/{code}/review")
def review(
    code: str, session: DbSession, who: Staff, lang: Language, csrf: Annotated[str, Form(max_length=100)]
) -> Response:
    check(who, "ledger.review", csrf)
    ledger.review_entry(session, code, who.actor, datetime.now(UTC))
    return RedirectResponse(f"/console/ledger?lang={lang}", status_code=303)


@router.get("/ledger/export")
def export(
    ws: CurrentWorkspace,
    session: DbSession,
    who: Staff,
    lang: Language,
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "xlsx",
) -> Response:
    check(who, "ledger.export")
    body, media = ledger.export(
        ledger.list_entries(session), ws.policy.policy, lang, datetime.now(UTC), format
    )
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="ledger.{format}"'}
    )


@router.get("/subjects/{subject_id}", response_class=HTMLResponse)
def subject_page(
    subject_id: str,
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    who: Staff,
    lang: Language,
    purpose: str = "",
) -> HTMLResponse:
    """A subject's values, only for a stated purpose and only as far as the guard allows."""
    check(who, "subject")
    policy = ws.policy.policy
    decision, values = None, None
    if purpose:
        wanted = fields_for_purpose(policy, ws.vault.field_names(session, subject_id), purpose)
        if wanted:
            decision, values = read_fields(
                session,
                ws.policy,
                ws.vault,
                actor=who.actor,
                purpose=purpose,
                subject_id=subject_id,
                fields=wanted,
                now=datetime.now(UTC),
            )
    purposes = [(p.id, p.text.in_(lang)) for p in policy.general_purposes()] + [
        (p.id, p.text.in_(lang)) for p in policy.my_number_purposes()
    ]
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_subject.html.j2",
        labels(lang)["subject"],
        subject_id=subject_id,
        purpose=purpose,
        purposes=purposes,
        decision=decision,
        values=values,
        held=(held := retention.held(session, policy, subject_id)),
        ledger_codes=sorted({(h.ledger_code, h.ledger_name) for h in held}),
        category_names={c.id: c.name.in_(lang) for c in policy.categories},
        events=retention.events_of(session, subject_id),
        event_kinds=list(retention.EventKind),
        today=datetime.now(UTC).astimezone(JST).date(),
        form_errors=from_query(request, lang),
    )


@router.post("/subjects/{subject_id}/events", dependencies=[back_to("/console/subjects/{subject_id}")])
def subject_event(
    subject_id: str,
    ws: CurrentWorkspace,
    session: DbSession,
    who: Staff,
    lang: Language,
    csrf: Annotated[str, Form(max_length=100)],
    kind: Annotated[str, Form(max_length=32)],
    occurred_on: Annotated[str, Form(max_length=10)],
    ledger_code: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Record that a contract, employment or use ended: the retention rules waiting for it start."""
    check(who, "retention", csrf)
    try:
        day = date.fromisoformat(occurred_on)
    except ValueError:
        raise Invalid([problem("occurred_on", "a date like 2026-11-25")]) from None
    retention.record_event(
        session,
        ws.policy.policy,
        subject_id,
        kind,
        day,
        actor=who.actor,
        source="console",
        now=datetime.now(UTC),
        ledger_code=ledger_code or None,
    )
    return RedirectResponse(f"/console/subjects/{subject_id}?lang={lang}", status_code=303)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request, ws: CurrentWorkspace, session: DbSession, who: Staff, lang: Language
) -> HTMLResponse:
    check(who, "audit")
    size, _ = head(session)
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_audit.html.j2",
        labels(lang)["audit"],
        size=size,
        verification=verification_status(session, ws.signer.public, now=datetime.now(UTC)),
        checkpoint=latest_checkpoint(session),
    )


@router.post("/audit/verify")
def verify_now(
    ws: CurrentWorkspace, who: Staff, lang: Language, csrf: Annotated[str, Form(max_length=100)]
) -> Response:
    check(who, "audit.verify", csrf)
    verify_log(ws, ws.signer.public, by=who.actor, now=datetime.now(UTC), workers=1)
    return RedirectResponse(f"/console/audit?lang={lang}", status_code=303)


@router.get("/datamap", response_class=HTMLResponse)
def datamap(
    request: Request, ws: CurrentWorkspace, session: DbSession, who: Staff, lang: Language
) -> HTMLResponse:
    check(who, "datamap")
    entries = [(e.name, list(e.purposes)) for e in ledger.list_entries(session)]
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_datamap.html.j2",
        labels(lang)["datamap"],
        map=data_map(ws.policy.policy, entries, lang),
    )
