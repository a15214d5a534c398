"""The console's page of API tokens, under the people area: the privacy office lists, issues and revokes
tokens; a new token is shown once, on the answer to the form that issued it, and never again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamoru.edge import CurrentWorkspace, DbSession
from mamoru.errors import Problem
from mamoru.people.permissions import Scope
from mamoru.people.tokens import issue_token, lifetime, list_tokens, revoke_token
from mamoru.policy.notice import Lang
from mamoru.web.console import Staff, check, console_page
from mamoru.web.forms import again, back_to, shown
from mamoru.web.i18n import choose_lang, labels
from mamoru.web.requests import PRIVATE_HEADERS

router = APIRouter(prefix="/console", include_in_schema=False)
Language = Annotated[Lang, Depends(choose_lang)]


def _page(
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Lang,
    who: Staff,
    *,
    errors: list[Problem] | None = None,
    values: dict[str, object] | None = None,
    issued: tuple[str, str] | None = None,
) -> HTMLResponse:
    response = console_page(
        request,
        ws,
        lang,
        who,
        "console_tokens.html.j2",
        labels(lang)["tokens"],
        tokens=list_tokens(session, datetime.now(UTC)),
        scopes=[s.value for s in Scope],
        most_days=ws.settings.token_lifetime_days,
        form_errors=shown(errors or [], lang),
        values=values or {},
        issued=issued,
    )
    response.headers.update(PRIVATE_HEADERS)  # a new token is on this page: never cached
    return response


@router.get("/tokens", response_class=HTMLResponse)
def tokens_page(
    request: Request, ws: CurrentWorkspace, session: DbSession, lang: Language, who: Staff
) -> HTMLResponse:
    check(who, "tokens")
    return _page(request, ws, session, lang, who)


@router.post("/tokens", response_class=HTMLResponse)
def issue(
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form(max_length=100)],
    name: Annotated[str, Form(max_length=64)] = "",
    kind: Annotated[str, Form(max_length=8)] = "staff",
    staff: Annotated[str, Form(max_length=64)] = "",
    scopes: Annotated[list[str] | None, Form(max_length=20)] = None,
    days: Annotated[int | None, Form(ge=1, le=3650)] = None,
) -> HTMLResponse:
    check(who, "tokens", csrf)
    values: dict[str, object] = {
        "name": name,
        "kind": kind,
        "staff": staff,
        "scopes": scopes or [],
        "days": days,
    }
    again(request, lambda problems: _page(request, ws, session, lang, who, errors=problems, values=values))
    row, token = issue_token(
        session,
        name,
        staff=(staff or None) if kind == "staff" else None,
        scopes=(scopes or []) if kind == "system" else [],
        lifetime=lifetime(days, ws.settings.token_lifetime_days),
        actor=who.actor,
        now=datetime.now(UTC),
    )
    return _page(request, ws, session, lang, who, issued=(row.name, token))


@router.post("/tokens/{name}/revoke", dependencies=[back_to("/console/tokens")])
def revoke(
    name: str,
    session: DbSession,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form(max_length=100)],
) -> Response:
    check(who, "tokens", csrf)
    revoke_token(session, name, actor=who.actor, now=datetime.now(UTC))
    return RedirectResponse(f"/console/tokens?lang={lang}", status_code=303)
