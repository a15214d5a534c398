"""The FastAPI application: portal, JSON API and health, over one opened workspace."""

from __future__ import annotations

import gc
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from mamoru import __version__, logfilter
from mamoru.api import audit, ledger, personal, v1
from mamoru.api import deid as api_deid
from mamoru.api import deps as api_deps
from mamoru.api import errors as api_errors
from mamoru.api import incidents as api_incidents
from mamoru.api import mynumber as api_mynumber
from mamoru.api import people as api_people
from mamoru.api import purposes as api_purposes
from mamoru.api import requests as api_requests
from mamoru.api import transfers as api_transfers
from mamoru.edge import CurrentWorkspace, DbSession
from mamoru.errors import Invalid, MamoruError
from mamoru.policy.service import is_current
from mamoru.web import account, console, door, forms, portal
from mamoru.web import datastores as web_datastores
from mamoru.web import deid as web_deid
from mamoru.web import incidents as web_incidents
from mamoru.web import mynumber as web_mynumber
from mamoru.web import people as web_people
from mamoru.web import purposes as web_purposes
from mamoru.web import requests as web_requests
from mamoru.web import scans as web_scans
from mamoru.web import tokens as web_tokens
from mamoru.web import transfers as web_transfers
from mamoru.workspace import Workspace

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mamoru API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script></body></html>
"""


def _api_docs(app: FastAPI) -> None:
    """/docs: Swagger UI from the swagger-ui-bundle package, served from this origin under the CSP."""
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs/assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs_page() -> HTMLResponse:
        return HTMLResponse(_DOCS_PAGE, headers={"Cache-Control": "no-store"})


#: Where errors stay JSON: the API and what machines read.
_MACHINE_PATHS = ("/api/", "/healthz", "/openapi.json", "/docs")


def _wants_page(request: Request) -> bool:
    return not request.url.path.startswith(_MACHINE_PATHS)


def settle_heap() -> None:
    """Take what start-up allocated (the modules, the app, the policy, the catalogs: ~240,000 objects) out
    of the garbage collector's reach, once the server is built and before it serves. A full collection
    then walks only what requests allocate: without it, a page that allocates much (the purposes page
    reads the policy file) set off a full collection over all of start-up every few dozen views, 100-150
    ms on the shared 2-core machine and the whole of such a page's p99 (issue 22)."""
    gc.collect()
    gc.freeze()


def create_app(workspace: Workspace) -> FastAPI:
    """Build the application over an opened workspace (key and policy already checked)."""
    app = FastAPI(
        title="mamoru",
        version=__version__,
        description="Personal-information protection management system / 個人情報保護マネジメントシステム",
        docs_url=None,  # FastAPI's own pages load a CDN; ours below ship Swagger UI in the package
        redoc_url=None,
    )
    app.state.workspace = workspace
    logfilter.install()

    @app.exception_handler(RequestValidationError)
    async def unreadable(request: Request, exc: RequestValidationError) -> Response:
        # A page's form goes back to itself with each problem beside its field, in the page's
        # language; the API (and a form with no page to go back to) answers as before.
        if _wants_page(request):
            if request.method == "GET":
                return portal.error_page(request, 422)
            back = forms.unreadable(request, exc.errors())
            return back if back is not None else portal.error_page(request, 422)
        return api_errors.unreadable(exc)

    @app.exception_handler(Invalid)
    async def invalid(request: Request, exc: Invalid) -> Response:
        # A page goes back to its form with the problems beside the fields; the API answers 422.
        if not request.url.path.startswith("/api/"):
            back = forms.answer(request, exc)
            if back is not None:
                return back
        return api_errors.invalid(exc)

    @app.exception_handler(MamoruError)
    async def mamoru_error(request: Request, exc: MamoruError) -> Response:
        # The one place where errors become HTTP statuses; messages carry no personal values.
        if isinstance(exc, console.NotSignedIn) and request.method == "GET":
            return RedirectResponse("/console/login", status_code=303)
        if _wants_page(request):
            return portal.error_page(request, exc.http_status, getattr(exc, "reason", None))
        return JSONResponse({"error": type(exc).__name__, "detail": str(exc)}, status_code=exc.http_status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Unknown addresses and methods: a page in the page's language for people, JSON on the API.
        if _wants_page(request):
            page = portal.error_page(request, exc.status_code)
            if exc.headers:
                page.headers.update(exc.headers)
            return page
        return await http_exception_handler(request, exc)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        # Whatever went wrong is in the log (through the log filter); the person reads words only.
        if _wants_page(request):
            return portal.error_page(request, 500)
        return JSONResponse({"error": "InternalError", "detail": "internal error"}, status_code=500)

    @app.get("/healthz", tags=["health"], summary="Liveness and the policy in force")
    def healthz(ws: CurrentWorkspace, session: DbSession) -> v1.HealthOut:
        return v1.HealthOut(
            status="ok",
            policy_version=ws.policy.policy.version,
            policy_sha256=ws.policy.sha256,
            notice_current=is_current(session, ws.policy),
        )

    static = resources.files("mamoru.web").joinpath("static")
    favicon = static.joinpath("favicon.svg").read_bytes()

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon_ico() -> Response:
        # where a browser looks when a page (a letter, a saved notice) names no icon
        return Response(favicon, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})

    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    if workspace.settings.docs_enabled:
        _api_docs(app)
    # The guard's routes first: each request is matched against the routers in this order, and
    # ``POST /api/v1/decisions`` is the call made most (no path of the others overlaps them).
    app.include_router(personal.router)
    app.include_router(v1.router)
    app.include_router(audit.router)
    app.include_router(ledger.router)
    app.include_router(ledger.personal_router)
    app.include_router(portal.router)
    app.include_router(console.router)
    app.include_router(account.router)
    app.include_router(web_requests.portal_router)
    app.include_router(web_requests.console_router)
    app.include_router(api_requests.router)
    app.include_router(api_requests.personal_router)
    app.include_router(web_transfers.router)
    app.include_router(web_transfers.portal_router)
    app.include_router(api_transfers.router)
    app.include_router(api_incidents.router)
    app.include_router(api_mynumber.router)
    app.include_router(web_mynumber.router)
    app.include_router(web_incidents.router)
    app.include_router(api_people.router)
    app.include_router(api_purposes.router)
    app.include_router(web_people.portal_router)
    app.include_router(web_people.console_router)
    app.include_router(web_purposes.router)
    app.include_router(web_datastores.router)
    app.include_router(web_scans.router)
    app.include_router(web_tokens.router)
    app.include_router(api_deid.router)
    app.include_router(web_deid.portal_router)
    app.include_router(web_deid.console_router)
    api_deps.check_every_route_declares_an_area(app.routes)
    # Outermost, in this order: the client's address is settled, then an oversized body is refused,
    # before any route, session or credential is touched.
    settings = workspace.settings
    # No third-party script can run on a page of ours (web skimming, APPI Art. 23 since 2024):
    # everything comes from this origin; forms post only here; nobody frames us.
    app.add_middleware(
        door.SecurityHeaders,
        headers={
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
        },
    )
    app.add_middleware(door.BodyLimit, limit=settings.max_body_bytes, larger=door.larger_bodies(settings))
    app.add_middleware(door.ClientAddress, trusted=settings.trusted_proxies)
    return app
