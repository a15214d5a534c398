"""The signed-in person's own account: change their password and set up two-factor sign-in themselves.

The QR code of a new second factor is drawn here on the server as SVG (no script) and shown only on the
person's own page: no other staff member, administrators included, ever sees it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from mamoru.edge import CurrentWorkspace, DbSession
from mamoru.errors import Problem
from mamoru.people import auth
from mamoru.people.auth import SignedIn, TotpSetup
from mamoru.policy.notice import Lang
from mamoru.web.console import SESSION_COOKIE, Staff, check, console_page
from mamoru.web.forms import again, shown
from mamoru.web.i18n import choose_lang, labels
from mamoru.web.requests import PRIVATE_HEADERS

router = APIRouter(prefix="/console/account", include_in_schema=False)
Language = Annotated[Lang, Depends(choose_lang)]
#: The area every staff member opens: their own account is theirs.
AREA = "dashboard"


def qr_svg(uri: str, title: str) -> Markup:
    """The URI as a QR code, an inline SVG with a title for screen readers."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=2, title=title)
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))


def _page(
    request: Request,
    ws: CurrentWorkspace,
    totp_on: bool,
    lang: Lang,
    who: SignedIn,
    *,
    setup: TotpSetup | None = None,
    problems: list[Problem] | None = None,
    done: str = "",
) -> HTMLResponse:
    L = labels(lang)
    response = console_page(
        request,
        ws,
        lang,
        who,
        "console_account.html.j2",
        L["tk_account"],
        totp_on=totp_on,
        setup=setup,
        qr=qr_svg(setup.uri, L["tk_totp_qr"]) if setup else None,
        form_errors=shown(problems or [], lang),
        done=done,
        min_length=auth.MIN_PASSWORD_LENGTH,
    )
    response.headers.update(PRIVATE_HEADERS)
    return response


@router.get("", response_class=HTMLResponse)
def account(
    request: Request, ws: CurrentWorkspace, session: DbSession, lang: Language, who: Staff, done: str = ""
) -> HTMLResponse:
    check(who, AREA)
    on = auth.totp_enabled(session, who)
    return _page(request, ws, on, lang, who, done=done if done in ("totp_on", "totp_off") else "")


@router.post("/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form(max_length=100)],
    current: Annotated[str, Form(max_length=200)] = "",
    new: Annotated[str, Form(max_length=200)] = "",
    repeated: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """The password changes and every session ends, this one too: the person signs in again with it."""
    check(who, AREA, csrf)
    on = auth.totp_enabled(session, who)
    again(request, lambda problems: _page(request, ws, on, lang, who, problems=problems))
    auth.change_password(session, who, current=current, new=new, repeated=repeated, now=datetime.now(UTC))
    response = RedirectResponse(f"/console/login?lang={lang}", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/totp/start", response_class=HTMLResponse)
def totp_start(
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form(max_length=100)],
) -> HTMLResponse:
    """A new secret as a QR code, on this person's page only; nothing is kept until they confirm."""
    check(who, AREA, csrf)
    on = auth.totp_enabled(session, who)
    return _page(request, ws, on, lang, who, setup=None if on else auth.start_totp(ws.vault, who))


@router.post("/totp/confirm", response_class=HTMLResponse)
def totp_confirm(
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form(max_length=100)],
    pending: Annotated[str, Form(max_length=2000)] = "",
    code: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    check(who, AREA, csrf)
    on = auth.totp_enabled(session, who)
    setup = auth.resume_totp(ws.vault, who, pending)
    again(request, lambda problems: _page(request, ws, on, lang, who, setup=setup, problems=problems))
    auth.confirm_totp(session, ws.vault, who, pending=pending, code=code, now=datetime.now(UTC))
    return RedirectResponse(f"/console/account?lang={lang}&done=totp_on", status_code=303)


@router.post("/totp/off", response_class=HTMLResponse)
def totp_off(
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check(who, AREA, csrf)
    on = auth.totp_enabled(session, who)
    again(request, lambda problems: _page(request, ws, on, lang, who, problems=problems))
    auth.turn_off_totp(session, ws.vault, who, password=password)
    return RedirectResponse(f"/console/account?lang={lang}&done=totp_off", status_code=303)
