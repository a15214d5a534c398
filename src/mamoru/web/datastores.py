"""Console page for the organization's datastores: their maps, a connection test, the last runs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamoru.edge import CurrentWorkspace, DbSession
from mamoru.errors import MamoruError
from mamoru.policy.notice import Lang
from mamoru.requests.plan import connector_runs
from mamoru.web.console import Staff, check, console_page
from mamoru.web.i18n import choose_lang, labels

router = APIRouter(prefix="/console/datastores", include_in_schema=False)
Language = Annotated[Lang, Depends(choose_lang)]


@router.get("", response_class=HTMLResponse)
def datastores(
    request: Request,
    ws: CurrentWorkspace,
    session: DbSession,
    lang: Language,
    who: Staff,
    tested: str = "",
    result: str = "",
) -> HTMLResponse:
    from mamoru.connectors.registry import connectors
    from mamoru.connectors.said import in_words

    check(who, "datastores")
    error = ""
    try:
        found: dict[str, Any] = connectors(ws)
    except MamoruError as exc:
        found, error = {}, in_words(exc, lang)
    runs = connector_runs(session)
    return console_page(
        request,
        ws,
        lang,
        who,
        "console_datastores.html.j2",
        labels(lang)["datastores"],
        maps=[c.map for _, c in sorted(found.items())],
        runs=runs,
        error=error,
        tested=tested,
        result=result,
    )


@router.post("/{name}/test")
def test_connection(
    name: str, ws: CurrentWorkspace, lang: Language, who: Staff, csrf: Annotated[str, Form(max_length=100)]
) -> Response:
    from mamoru.connectors.registry import connectors

    check(who, "datastores.test", csrf)
    try:
        connector = connectors(ws).get(name)
        outcome = "unknown" if connector is None else f"ok:{connector.test()}"
    except MamoruError:
        outcome = "failed"
    return RedirectResponse(
        f"/console/datastores?lang={lang}&tested={name}&result={outcome}", status_code=303
    )
