"""The role × route matrix, generated from the app: every operation of the OpenAPI document and every
console route, called as anonymous, with a tampered credential, an expired one, a system token of the
wrong scopes, and as every demo staff member (every role). The expected answer of each cell comes from
the one permission table (``people.permissions``): 0 unauthorized successes, and every refusal is the
documented status (401 without a valid credential, 403 when the roles or scopes do not open the area;
an anonymous console page redirects to the sign-in page)."""

from __future__ import annotations

import hashlib
import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import update

from mamoru.api.deps import Public, api_routes, route_area
from mamoru.demo import STAFF_PLAN, load_demo
from mamoru.people.auth import set_password, sign_in
from mamoru.people.permissions import ACCESS, PERMISSIONS, Principal, Scope, may, permits
from mamoru.people.tables import ConsoleSession
from mamoru.people.tokens import authenticate, issue_token
from mamoru.server import create_app
from mamoru.settings import Settings
from mamoru.setup import initialize
from mamoru.web.console import SESSION_COOKIE
from mamoru.words import word
from mamoru.workspace import Workspace
from tests.tokens_helpers import LIFETIME, staff_token, system_token

PASSWORD = "correct horse battery"
LOGINS = [login for login, *_ in STAFF_PLAN]
#: Values for path parameters, so that the permission (not validation) answers.
SAMPLE = {
    "stage": "escalation",
    "kind": "ppc_prelim",
    "form": "withholding_slips",
    "affair": "withholding_slip",
}
QUERY = {"fields": "name", "affair": "withholding_slip", "year": "2026", "subject": "x", "destination": "x"}


@dataclass
class Office:
    ws: Workspace
    client: TestClient
    tokens: dict[str, str]  # login -> staff token
    cookies: dict[str, tuple[str, str]]  # login -> (session cookie, csrf)
    expired_token: str
    expired_cookie: str


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    home: Path = tmp_path_factory.mktemp("matrix")
    mp = pytest.MonkeyPatch()
    mp.setenv("MAMORU_HOME", str(home))
    settings = Settings(home=home)
    initialize(settings)
    ws = Workspace.open(settings)
    now = datetime.now(UTC)
    with ws.db.session() as session:
        load_demo(session, ws.vault, ws.policy.policy, 7)
        for login in LOGINS:
            set_password(session, login, PASSWORD, actor="test")
    cookies: dict[str, tuple[str, str]] = {}
    with ws.db.session() as session:
        for login in LOGINS:
            signed = sign_in(session, login, PASSWORD, now)
            assert signed is not None
            cookies[login] = (signed[0], signed[1].csrf_token)
        expired = sign_in(session, "pm01", PASSWORD, now)
        assert expired is not None
        expired_cookie = expired[0]
        session.flush()
        session.execute(
            update(ConsoleSession)
            .where(ConsoleSession.token_sha256 == hashlib.sha256(expired_cookie.encode()).hexdigest())
            .values(expires_at=now - timedelta(seconds=1))
        )
        _, expired_token = issue_token(
            session,
            "expired-pm01",
            staff="pm01",
            lifetime=LIFETIME,
            actor="test",
            now=now - timedelta(days=2),
        )
    tokens = {login: staff_token(ws, login, name=f"matrix-{login}") for login in LOGINS}
    try:
        with TestClient(create_app(ws)) as client:
            yield Office(ws, client, tokens, cookies, expired_token, expired_cookie)
    finally:
        ws.close()
        mp.undo()


#: what the console's error page says when the roles do not open a page (QUERY asks for Japanese pages)
ROLES_REFUSED = word("errpage_403_roles", "ja")


def _url(path: str) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: SAMPLE.get(m.group(1), "1"), path)


def _operations(app: Any) -> list[tuple[str, str, APIRoute]]:
    """Every (method, path) of the OpenAPI document, with the route that answers it."""
    routes = {(m, r.path): r for r in api_routes(app.routes) for m in r.methods}
    found = []
    for path, item in app.openapi()["paths"].items():
        if path == "/healthz":  # liveness, outside the API: no area, no personal data
            continue
        assert path.startswith("/api/"), path
        for method in item:
            found.append((method.upper(), path, routes[(method.upper(), path)]))
    return found


def _console_routes(app: Any) -> list[tuple[str, str, str | None]]:
    """Every console route but the sign-in page, with the area its page checks (None: a person's own
    account, open to everyone signed in)."""
    found = []
    for route in api_routes(app.routes):
        if not route.path.startswith("/console/") or route.path == "/console/login":
            continue
        areas = set(re.findall(r'check\(who, "([a-z._]+)"', inspect.getsource(route.endpoint)))
        if route.path.startswith("/console/account"):
            assert not areas, route.path
            areas = {None}
        (area,) = areas
        for method in route.methods:
            found.append((method, route.path, area))
    return found


def _form(route_path: str, app: Any, method: str, csrf: str) -> dict[str, Any]:
    """A complete form for a console POST, so that the page's role check answers, not validation."""
    route = next(r for r in api_routes(app.routes) if r.path == route_path and method in r.methods)
    data: dict[str, Any] = {}
    for param in route.dependant.body_params:
        annotation = str(param.field_info.annotation)
        if "bool" in annotation:
            data[param.alias] = "false"
        elif "int" in annotation:
            data[param.alias] = "1"
        elif "date" in annotation:
            data[param.alias] = "2026-01-01"
        else:
            data[param.alias] = "x"
        kind = param.field_info.annotation
        if isinstance(kind, type) and issubclass(kind, Enum):
            data[param.alias] = next(iter(kind)).value
        elif get_origin(kind) is Literal:
            data[param.alias] = get_args(kind)[0]
        for constraint in param.field_info.metadata:
            choice = re.match(r"\^\(([a-z_]+)", str(getattr(constraint, "pattern", "") or ""))
            if choice:  # a closed choice such as ^(accept|reject)$: its first value
                data[param.alias] = choice.group(1)
    data["csrf"] = csrf
    return data


def test_the_matrix_covers_every_route_and_every_area(office: Office) -> None:
    app = office.client.app
    operations = _operations(app)
    assert len(operations) > 45
    areas = {route_area(r).area for _, _, r in operations} | {a for *_, a in _console_routes(app)}  # type: ignore[union-attr]
    assert areas - {None} == set(PERMISSIONS), set(PERMISSIONS) ^ (areas - {None})
    assert {a: p.roles for a, p in PERMISSIONS.items()} == ACCESS
    for method, path, route in operations:
        documented = app.openapi()["paths"][path][method.lower()]["responses"]
        if not isinstance(route_area(route), Public):
            assert {"401", "403"} <= set(documented), (method, path)


def test_appi_23_the_api_matrix_has_no_unauthorized_success(office: Office) -> None:
    client, app = office.client, office.client.app
    every_scope = {s.value for s in Scope}
    checked = 0
    with office.ws.db.session() as session:
        principals = {
            login: authenticate(session, t, datetime.now(UTC)) for login, t in office.tokens.items()
        }
    assert all(isinstance(p, Principal) and not p.system for p in principals.values())
    for method, path, route in _operations(app):
        area = route_area(route)
        assert area is not None, path
        url = _url(path)

        def call(headers: dict[str, str], method: str = method, url: str = url) -> Any:
            return client.request(
                method, url, params=QUERY, json={}, headers={**headers, "X-Mamoru-Purpose": "services"}
            )

        if isinstance(area, Public):
            assert call({}).status_code not in (401, 403), path  # open to everyone
            continue
        assert area.area is not None
        permission = PERMISSIONS[area.area]
        # No credential, a tampered token, an expired token: 401, always.
        assert call({}).status_code == 401, path
        tampered = office.tokens["pm01"][:-2] + ("AA" if not office.tokens["pm01"].endswith("AA") else "BB")
        assert call({"Authorization": f"Bearer {tampered}"}).status_code == 401, path
        assert call({"Authorization": f"Bearer {office.expired_token}"}).status_code == 401, path
        assert call({"Authorization": "Bearer " + office.cookies["pm01"][0]}).status_code == 401, path
        # A system token holding every scope but the one that opens the area: 403.
        wrong = every_scope - ({permission.scope.value} if permission.scope else set())
        token = system_token(office.ws, f"wrong-{checked}", *sorted(wrong))
        refused = call({"Authorization": f"Bearer {token}"})
        assert refused.status_code == 403 and refused.json()["error"] == "Refused", (path, refused.text)
        if permission.scope is not None:
            right = system_token(office.ws, f"right-{checked}", permission.scope.value)
            assert call({"Authorization": f"Bearer {right}"}).status_code not in (401,), path
        # Every demo staff member: refused (403, by the table) exactly where their roles do not open the area.
        for login, token in office.tokens.items():
            principal = principals[login]
            answer = call({"Authorization": f"Bearer {token}"})
            by_table = answer.status_code == 403 and answer.json().get("error") == "Refused"
            if permits(principal, area.area):
                assert answer.status_code != 401 and not by_table, (login, method, path, answer.status_code)
            else:
                assert by_table, (login, method, path, answer.status_code, answer.text[:200])
            checked += 1
    assert checked > 45 * len(LOGINS)


def test_appi_23_the_console_matrix_has_no_unauthorized_success(office: Office) -> None:
    client, app = office.client, office.client.app
    routes = _console_routes(app)
    assert len(routes) > 40
    for method, path, area in routes:
        url = _url(path)
        for cookie in (None, "tampered" + office.cookies["pm01"][0][8:], office.expired_cookie):
            client.cookies.clear()
            if cookie is not None:
                client.cookies.set(SESSION_COOKIE, cookie)
            answer = client.request(method, url, params=QUERY, data={"csrf": "x"}, follow_redirects=False)
            if method == "GET":
                assert answer.status_code == 303 and answer.headers["location"] == "/console/login", (
                    path,
                    cookie,
                )
            else:
                assert answer.status_code == 401, (method, path, answer.status_code)
        for login in LOGINS:
            token, csrf = office.cookies[login]
            client.cookies.clear()
            client.cookies.set(SESSION_COOKIE, token)
            roles = _roles(office, login)
            allowed = area is None or may(_Who(roles), area)
            if allowed and path in ("/console/logout", "/console/account/password"):
                continue  # it would end the session the next rows use
            if method == "GET":
                answer = client.get(url, params=QUERY, follow_redirects=False)
            else:
                answer = client.post(
                    url, params=QUERY, data=_form(path, app, method, csrf), follow_redirects=False
                )
            if allowed:
                assert answer.status_code not in (401,) and not (
                    answer.status_code == 403 and ROLES_REFUSED in answer.text
                ), (login, method, path)
            else:
                assert answer.status_code == 403 and ROLES_REFUSED in answer.text, (
                    login,
                    method,
                    path,
                    answer.status_code,
                    answer.text[:300],
                )
    client.cookies.clear()


@dataclass(frozen=True)
class _Who:
    roles: frozenset[str]


_ROLES: dict[str, frozenset[str]] = {}


def _roles(office: Office, login: str) -> frozenset[str]:
    if login not in _ROLES:
        from mamoru.people.staff import get

        with office.ws.db.session() as session:
            _ROLES[login] = frozenset(get(session, login).role_names)
    return _ROLES[login]
