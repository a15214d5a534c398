"""The console's page of the policy in force and of changed purposes: whether the policy file is the
published version (the difference if not), publishing it (the privacy officer approves the purpose changes
it records), and recording that the notices of a changed purpose went out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamoru.edge import CurrentWorkspace, DbSession
from mamoru.errors import MamoruError
from mamoru.ledger import purposes
from mamoru.people.permissions import may
from mamoru.policy.notice import Lang
from mamoru.policy.service import difference
from mamoru.web.console import Staff, check, console_page
from mamoru.web.i18n import choose_lang, labels

router = APIRouter(prefix="/console", include_in_schema=False)
Language = Annotated[Lang, Depends(choose_lang)]


@router.get("/purposes", response_class=HTMLResponse)
def purposes_page(
    request: Request, ws: CurrentWorkspace, session: DbSession, lang: Language, who: Staff
) -> HTMLResponse:
    check(who, "ledger")
    problem = None
    diff = ""
    try:
        file = ws.policy_file()
        diff = difference(session, file)
        file_version = file.policy.version
    except MamoruError as exc:  # the file does not load: say why; the enforced policy is unchanged
        problem, file_version = str(exc), ""
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_purposes.html.j2",
        labels(lang)["pc_title"],
        enforced=ws.policy,
        file_version=file_version,
        diff=diff,
        problem=problem,
        changes=purposes.change_statuses(session),
        channels=sorted(purposes.CHANNELS),
        may_act=may(who, "ledger.review"),
    )


@router.post("/purposes/publish")
def publish(
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form(max_length=100)],
) -> Response:
    check(who, "ledger.review", csrf)
    file = ws.policy_file()
    purposes.publish_policy(session, file, by=who.actor)
    ws.reload_policy(session, file)
    return RedirectResponse(f"/console/purposes?lang={lang}", status_code=303)


@router.post("/purposes/{purpose_id}/{version}/delivered")
def delivered(
    purpose_id: Annotated[str, Path(max_length=64)],
    version: Annotated[int, Path(ge=1, le=10_000)],
    session: DbSession,
    lang: Language,
    who: Staff,
    csrf: Annotated[str, Form(max_length=100)],
    channel: Annotated[str, Form(max_length=16)],
) -> Response:
    check(who, "ledger.review", csrf)
    purposes.record_delivery(
        session,
        purpose_id=purpose_id,
        version=version,
        channel=channel,
        by=who.actor,
        now=datetime.now(UTC),
    )
    return RedirectResponse(f"/console/purposes?lang={lang}", status_code=303)
