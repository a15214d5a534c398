"""Pages for people and the PMS: the portal's inquiry form; in the console the staff register with
training, rules and entry/exit alerts, the inquiry and complaint register, and the PMS cycle."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamoru.edge import CurrentWorkspace, DbSession
from mamoru.errors import Problem
from mamoru.people import inquiries, rules, training, zones
from mamoru.people.staff import REGISTER, StaffKind, grant, register, register_page, revoke, staff_logins
from mamoru.people.tables import Role
from mamoru.pms import audits, controls, legal, review
from mamoru.pms.check import nonconformities
from mamoru.policy.notice import Lang
from mamoru.requests.service import RequestConflict
from mamoru.web import listing
from mamoru.web.console import Staff, check, console_page
from mamoru.web.forms import PostedForm, again, back_to, shown
from mamoru.web.i18n import choose_lang, labels
from mamoru.web.portal import page
from mamoru.web.requests import PRIVATE_HEADERS, SUBMISSIONS

portal_router = APIRouter(prefix="/inquiries", include_in_schema=False)
console_router = APIRouter(prefix="/console", include_in_schema=False)
Language = Annotated[Lang, Depends(choose_lang)]
FORM_CSRF_COOKIE = "mamoru_inquiry_csrf"


def _form(
    request: Request, ws: CurrentWorkspace, lang: Lang, errors: list[Problem], values: dict[str, str]
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = page(
        request,
        ws,
        lang,
        "inquiry_new.html.j2",
        labels(lang)["new_inquiry"],
        csrf=token,
        form_errors=shown(errors, lang),
        values=values,
        categories=inquiries.PORTAL_CATEGORIES,
    )
    response.set_cookie(FORM_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/inquiries")
    if errors:
        response.status_code = 422
    return response


@portal_router.get("/new", response_class=HTMLResponse)
def new_inquiry(request: Request, ws: CurrentWorkspace, lang: Language) -> HTMLResponse:
    return _form(request, ws, lang, [], {})


@portal_router.post("", response_class=HTMLResponse)
def submit_inquiry(
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Language,
    csrf: Annotated[str, Form(max_length=100)],
    kind: Annotated[str, Form(max_length=16)] = "",
    category: Annotated[str, Form(max_length=32)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    contact: Annotated[str, Form(max_length=254)] = "",
    text: Annotated[str, Form(max_length=inquiries.MAX_TEXT)] = "",
) -> HTMLResponse:
    SUBMISSIONS.hit(request, ws.settings.portal_submissions_per_minute)
    expected = request.cookies.get(FORM_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(csrf, expected):
        raise RequestConflict("the form expired; reload it and send again")
    values = {"kind": kind, "category": category, "name": name, "contact": contact}
    again(request, lambda problems: _form(request, ws, lang, problems, values))
    data = inquiries.InquiryIn(kind, "portal", category, name, contact, text)
    q = inquiries.receive(
        session, ws.vault, data, rules=ws.policy.policy.staff, actor="portal", now=datetime.now(UTC)
    )
    response = page(request, ws, lang, "inquiry_received.html.j2", labels(lang)["new_inquiry"], q=q)
    response.headers.update(PRIVATE_HEADERS)
    response.delete_cookie(FORM_CSRF_COOKIE, path="/inquiries")
    return response


# --- console: people ---------------------------------------------------------------------------------


@console_router.get("/people", response_class=HTMLResponse)
def people_page(
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Language,
    who: Staff,
) -> HTMLResponse:
    check(who, "people")
    now = datetime.now(UTC)
    policy = ws.policy.policy
    words = labels(lang)
    asked = listing.asked(request, REGISTER)
    staff = register_page(session, today=now.date(), valid_days=policy.staff.training_valid_days, asked=asked)
    # the departments the catalog names, offered by name (a person never types a code)
    departments = sorted(
        ((k.removeprefix("dept_"), v) for k, v in words.items() if k.startswith("dept_")), key=lambda d: d[1]
    )
    system_roles = [r.value for r in Role]
    business_roles = [(r.id, r.name.in_(lang)) for r in policy.roles]
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_people.html.j2",
        labels(lang)["people"],
        staff=staff,
        table=listing.listing(
            request,
            "/console/people",
            REGISTER,
            asked,
            staff,
            lang,
            choices=[
                listing.Choice(
                    "kind",
                    words["staff_kind"],
                    [(k.value, words[f"staff_{k.value}"]) for k in StaffKind],
                    words["list_every"],
                ),
                listing.Choice("department", words["department"], departments, words["list_every"]),
                listing.Choice(
                    "role",
                    words["roles"],
                    [*((r, words[f"tk_role_{r}"]) for r in system_roles), *business_roles],
                    words["list_every"],
                ),
            ],
            search_label=words["list_search_login"],
            anchor="staff",
        ),
        plans=training.plans(session),
        rules_in_force=rules.in_force(session),
        rules_status=rules.status(session, limit=0),
        door=zones.report(session, since=now - timedelta(days=7), until=now, exceptions_only=True),
        pass_score=policy.staff.training_pass_score,
        staff_kinds=list(StaffKind),
        system_roles=system_roles,
        business_roles=business_roles,
        business_role_names={r.id: r.name.in_(lang) for r in policy.roles},
        departments=departments,
    )


#: The staff forms go back to the register with the problems beside their fields (see ``web.forms``).
PEOPLE_BACK = [back_to("/console/people")]


@console_router.post("/people/staff", dependencies=PEOPLE_BACK)
def add_staff(
    session: DbSession,
    ws: CurrentWorkspace,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form(max_length=100)],
    login: Annotated[str, Form(max_length=64)] = "",
    kind: Annotated[str, Form(max_length=32)] = "",
    department: Annotated[str, Form(max_length=64)] = "",
    role: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Register a worker (APPI Art. 24) with, optionally, a first role; their password is set by
    ``mamoru staff password``, and they sign the pledge and train before they touch personal data."""
    check(who, "people.manage", csrf)
    register(
        session,
        login.strip(),
        kind=kind,
        department=department.strip(),
        joined_on=datetime.now(UTC).date(),
        roles=[role] if role else [],
        business_roles=frozenset(r.id for r in ws.policy.policy.roles),
        actor=who.actor,
    )
    return RedirectResponse(f"/console/people?lang={lang}#staff", status_code=303)


@console_router.post("/people/staff/{login}/roles", dependencies=PEOPLE_BACK)
def change_role(
    login: Annotated[str, Path(max_length=64)],
    session: DbSession,
    ws: CurrentWorkspace,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form(max_length=100)],
    change: Annotated[str, Form(pattern="^(grant|revoke)$")],
    role: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Grant or revoke one role; revoking ends every session and token of the person."""
    check(who, "people.manage", csrf)
    if change == "grant":
        grant(
            session,
            login,
            role,
            actor=who.actor,
            business_roles=frozenset(r.id for r in ws.policy.policy.roles),
        )
    else:
        revoke(session, login, role, actor=who.actor, now=datetime.now(UTC))
    return RedirectResponse(f"/console/people?lang={lang}#staff", status_code=303)


@console_router.post("/people/attendance", dependencies=[back_to("/console/people")])
def attendance(
    session: DbSession,
    ws: CurrentWorkspace,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form(max_length=100)],
    session_id: Annotated[int, Form(ge=1)],
    login: Annotated[str, Form(max_length=64)],
    score: Annotated[int, Form(ge=0, le=100)],
) -> Response:
    check(who, "people.manage", csrf)
    training.record_attendance(
        session,
        session_id,
        login,
        score=score,
        pass_score=ws.policy.policy.staff.training_pass_score,
        actor=f"staff:{who.login}",
    )
    return RedirectResponse(f"/console/people?lang={lang}", status_code=303)


# --- console: inquiries and complaints ----------------------------------------------------------------


@console_router.get("/inquiries", response_class=HTMLResponse)
def inquiry_list(
    request: Request, ws: CurrentWorkspace, session: DbSession, lang: Language, who: Staff
) -> HTMLResponse:
    check(who, "inquiries")
    today = datetime.now(UTC).date()
    start = date(today.year - 1 if today.month < 12 else today.year, today.month % 12 + 1, 1)
    words = labels(lang)
    asked = listing.asked(request, inquiries.LIST)
    found = inquiries.inquiry_page(session, asked)
    choices = [
        listing.Choice(
            "state",
            words["list_state"],
            [("closed", words["closed"]), ("all", words["list_every"])],
            words["list_open"],
        ),
        listing.Choice(
            "kind",
            words["inquiry_kind"],
            [(k, words[f"kind_{k}"]) for k in inquiries.KINDS],
            words["list_every"],
        ),
        listing.Choice(
            "channel",
            words["channel"],
            [(c, words[f"ch_{c}"]) for c in inquiries.CHANNELS],
            words["list_every"],
        ),
        listing.Choice(
            "category",
            words["category"],
            [(c, words[f"cat_{c}"]) for c in inquiries.CATEGORIES],
            words["list_every"],
        ),
    ]
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_inquiries.html.j2",
        labels(lang)["inquiries"],
        open_items=found.items,
        table=listing.listing(
            request,
            "/console/inquiries",
            inquiries.LIST,
            asked,
            found,
            lang,
            choices=choices,
            search_label=words["list_search_ref_owner"],
        ),
        months=inquiries.monthly_stats(session, since=start, until=today + timedelta(days=1)),
        now=datetime.now(UTC),
        kinds=inquiries.KINDS,
        channels=[c for c in inquiries.CHANNELS if c != "portal"],
        categories=inquiries.CATEGORIES,
    )


@console_router.post("/inquiries", dependencies=[back_to("/console/inquiries")])
def record_inquiry(
    session: DbSession,
    ws: CurrentWorkspace,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form(max_length=100)],
    kind: Annotated[str, Form(max_length=16)],
    channel: Annotated[str, Form(max_length=16)],
    category: Annotated[str, Form(max_length=32)],
    text: Annotated[str, Form(max_length=inquiries.MAX_TEXT)],
    name: Annotated[str, Form(max_length=200)] = "",
    contact: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    """Staff record a call, a letter or a visit."""
    check(who, "inquiries", csrf)
    q = inquiries.receive(
        session,
        ws.vault,
        inquiries.InquiryIn(kind, channel, category, name, contact, text),
        rules=ws.policy.policy.staff,
        actor=f"staff:{who.login}",
        now=datetime.now(UTC),
    )
    return RedirectResponse(f"/console/inquiries/{q.ref}?lang={lang}", status_code=303)


@console_router.get("/inquiries/{ref}", response_class=HTMLResponse)
def inquiry_page(
    ref: str,
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Language,
    who: Staff,
) -> HTMLResponse:
    check(who, "inquiries")
    q = inquiries.get(session, ref)
    response = console_page(
        request,
        ws,
        lang,
        who,
        "console_inquiry.html.j2",
        f"{labels(lang)['inquiries']} {q.ref}",
        q=q,
        text=inquiries.contents(ws.vault, q),
        notes=[(a, inquiries.note_text(ws.vault, q, a)) for a in q.actions],
        action_kinds=inquiries.ACTION_KINDS,
        outcomes=inquiries.OUTCOMES,
        now=datetime.now(UTC),
    )
    response.headers.update(PRIVATE_HEADERS)
    return response


def _back(ref: str, lang: Lang) -> RedirectResponse:
    return RedirectResponse(f"/console/inquiries/{ref}?lang={lang}", status_code=303)


#: A refused step goes back to the inquiry's page with the problems (see ``web.forms``).
BACK = [back_to("/console/inquiries/{ref}")]


@console_router.post("/inquiries/{ref}/action", dependencies=BACK)
def inquiry_action(
    ref: str,
    session: DbSession,
    ws: CurrentWorkspace,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form(max_length=100)],
    kind: Annotated[str, Form(max_length=24)],
    note: Annotated[str, Form(max_length=inquiries.MAX_TEXT)],
) -> Response:
    check(who, "inquiries", csrf)
    inquiries.add_action(
        session,
        ws.vault,
        inquiries.get(session, ref),
        kind=kind,
        note=note,
        actor=f"staff:{who.login}",
        now=datetime.now(UTC),
    )
    return _back(ref, lang)


@console_router.post("/inquiries/{ref}/close", dependencies=BACK)
def inquiry_close(
    ref: str,
    session: DbSession,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form(max_length=100)],
    outcome: Annotated[str, Form(max_length=32)],
) -> Response:
    check(who, "inquiries", csrf)
    inquiries.close(
        session,
        inquiries.get(session, ref),
        outcome=outcome,
        actor=f"staff:{who.login}",
        now=datetime.now(UTC),
    )
    return _back(ref, lang)


# --- console: the PMS cycle ----------------------------------------------------------------------------


@console_router.get("/pms", response_class=HTMLResponse)
def pms_page(
    request: Request, ws: CurrentWorkspace, session: DbSession, lang: Language, who: Staff
) -> HTMLResponse:
    check(who, "pms")
    today = datetime.now(UTC).date()
    words = labels(lang)
    asked = listing.asked(request, audits.AUDITS)
    found = audits.audit_page(session, asked)
    departments = sorted(
        ((k.removeprefix("dept_"), v) for k, v in words.items() if k.startswith("dept_")), key=lambda d: d[1]
    )
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_pms.html.j2",
        labels(lang)["pms"],
        found=nonconformities(session, ws.policy.policy, today, limit=8, lang=lang),
        legal_items=legal.items(session),
        catalogue=controls.catalogue(session, today),
        staff_logins=staff_logins(session),
        categories=controls.CATEGORIES,
        audit_rows=found.items,
        audit_table=listing.listing(
            request,
            "/console/pms",
            audits.AUDITS,
            asked,
            found,
            lang,
            choices=[
                listing.Choice("department", words["department"], departments, words["list_every"]),
                listing.Choice(
                    "state",
                    words["list_state"],
                    [("planned", words["list_audit_planned"]), ("done", words["list_audit_done"])],
                    words["list_every"],
                ),
            ],
            search_label=words["list_search_ref"],
            anchor="audits",
        ),
        reviews=review.reviews(session),
        today=today,
    )


@console_router.post("/pms/controls", dependencies=[back_to("/console/pms")])
def assign_control(session: DbSession, lang: Language, who: Staff, form: PostedForm) -> Response:
    """Assign a control's owner, with its last review and evidence (APPI-23)."""
    check(who, "pms.manage", str(form.get("csrf", "")))
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    controls.assign(session, values, actor=who.actor, today=datetime.now(UTC).date())
    return RedirectResponse(f"/console/pms?lang={lang}#controls", status_code=303)


@console_router.post("/pms/review")
def draft_review(
    session: DbSession,
    ws: CurrentWorkspace,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form(max_length=100)],
) -> Response:
    """Draft the management review of the last twelve months."""
    check(who, "pms.manage", csrf)
    now = datetime.now(UTC)
    until = now.date() + timedelta(days=1)
    review.draft(
        session,
        ws.policy.policy,
        since=until - timedelta(days=365),
        until=until,
        actor=f"staff:{who.login}",
        now=now,
    )
    return RedirectResponse(f"/console/pms?lang={lang}#reviews", status_code=303)
