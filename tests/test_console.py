"""The staff console: sign-in with lockout, CSRF on every form, the role × page matrix, guarded reads."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from mamoru.demo import DemoPlan
from mamoru.law.requests import RequestKind
from mamoru.ledger.tables import Acquisition
from mamoru.people.auth import MAX_FAILURES
from mamoru.people.permissions import ACCESS, ANY_STAFF
from mamoru.people.tables import Role, Staff, StaffRole
from mamoru.server import create_app
from mamoru.words import catalog, day
from mamoru.workspace import Workspace
from tests.demo_copies import demo_copy
from tests.requests_helpers import submit

PASSWORD = "correct horse battery"


@pytest.fixture
def demo(workspace: Workspace) -> tuple[Workspace, DemoPlan, str]:
    plan = demo_copy(workspace, 8, password=PASSWORD)
    with workspace.db.session() as session:
        subject = str(
            session.scalar(
                select(Acquisition.subject_id)
                .where(Acquisition.channel_id == "ch-services")
                .order_by(Acquisition.id)
            )
        )
    return workspace, plan, subject


@pytest.fixture
def app_client(demo: tuple[Workspace, DemoPlan, str]) -> Iterator[TestClient]:
    with TestClient(create_app(demo[0])) as client:
        yield client


def sign_in(client: TestClient, login: str, password: str = PASSWORD) -> int:
    form = client.get("/console/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    response = client.post(
        "/console/login",
        data={"login": login, "password": password, "csrf": csrf.group(1)},
        follow_redirects=False,
    )
    return response.status_code


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_sign_in_and_out(app_client: TestClient) -> None:
    assert app_client.get("/console/", follow_redirects=False).headers["location"] == "/console/login"
    assert sign_in(app_client, "pm01") == 303
    dashboard = app_client.get("/console/")
    assert dashboard.status_code == 200 and "pm01" in dashboard.text
    cookie = app_client.cookies.get("mamoru_session")
    assert cookie
    assert (
        app_client.post(
            "/console/logout", data={"csrf": csrf_of(dashboard.text)}, follow_redirects=False
        ).status_code
        == 303
    )
    app_client.cookies.set("mamoru_session", cookie)
    assert app_client.get("/console/", follow_redirects=False).status_code == 303  # the old session is gone


def test_wrong_passwords_lock_the_account_without_saying_which_part_was_wrong(app_client: TestClient) -> None:
    assert sign_in(app_client, "nobody", "whatever-whatever") == 401
    for _ in range(MAX_FAILURES):
        assert sign_in(app_client, "sa01", "not the password") == 401
    assert sign_in(app_client, "sa01") == 401  # locked, even with the right password


def test_forms_without_the_session_csrf_token_are_refused(app_client: TestClient) -> None:
    sign_in(app_client, "pm01")
    assert app_client.post("/console/ledger/L-services/review", data={"csrf": "forged"}).status_code == 403
    ledger = app_client.get("/console/ledger")
    ok = app_client.post(
        "/console/ledger/L-services/review", data={"csrf": csrf_of(ledger.text)}, follow_redirects=False
    )
    assert ok.status_code == 303


def test_login_form_needs_its_csrf_cookie(app_client: TestClient) -> None:
    response = app_client.post("/console/login", data={"login": "pm01", "password": PASSWORD, "csrf": "x"})
    assert response.status_code == 403


PAGES = {
    "dashboard": "/console/",
    "ledger": "/console/ledger",
    "ledger.export": "/console/ledger/export",
    "audit": "/console/audit",
    "requests": "/console/requests",
    "transfers": "/console/transfers",
    "incidents": "/console/incidents",
    "mynumber": "/console/mynumber",
    "datamap": "/console/datamap",
    "people": "/console/people",
    "inquiries": "/console/inquiries",
    "pms": "/console/pms",
    "datastores": "/console/datastores",
}


@pytest.mark.parametrize("login", ["pm01", "am01", "po01", "hr01", "sa01", "se01", "it01"])
def test_role_matrix_every_role_reaches_exactly_its_pages(
    app_client: TestClient, demo: tuple[Workspace, DemoPlan, str], login: str
) -> None:
    workspace = demo[0]
    with workspace.db.session() as session:
        staff = session.scalar(select(Staff).where(Staff.login == login))
        assert staff is not None
        roles = set(staff.role_names)
    sign_in(app_client, login)
    for area, path in PAGES.items():
        allowed = ACCESS[area] is ANY_STAFF or bool(roles & ACCESS[area])
        status = app_client.get(path).status_code
        assert status == (200 if allowed else 403), (login, area, status)
    csrf = csrf_of(app_client.get("/console/").text)
    review = app_client.post("/console/ledger/L-services/review", data={"csrf": csrf}, follow_redirects=False)
    assert (review.status_code == 303) == bool(roles & ACCESS["ledger.review"])
    verify = app_client.post("/console/audit/verify", data={"csrf": csrf}, follow_redirects=False)
    assert (verify.status_code == 303) == bool(roles & ACCESS["audit.verify"])


def test_every_console_area_is_in_the_matrix_and_every_role_is_known() -> None:
    known = {r.value for r in Role}
    for area, roles in ACCESS.items():
        assert roles is ANY_STAFF or roles <= known, area


def test_subject_page_shows_values_only_when_the_guard_allows(
    app_client: TestClient, demo: tuple[Workspace, DemoPlan, str]
) -> None:
    _, plan, subject = demo
    person = next(p for p in plan.all_people() if p.subject_id == subject)
    sign_in(app_client, "sa01")
    allowed = app_client.get(f"/console/subjects/{subject}?purpose=services&lang=en")
    assert person.values["name"] in allowed.text and "allowed" in allowed.text
    research = app_client.get(f"/console/subjects/{subject}?purpose=research&lang=en")
    assert person.values["name"] not in research.text
    assert person.values["email"] not in research.text and "role_lacks_purpose" in research.text
    empty = app_client.get(f"/console/subjects/{subject}?lang=en")
    assert person.values["name"] not in empty.text


def test_ledger_export_from_the_console(app_client: TestClient) -> None:
    sign_in(app_client, "po01")
    response = app_client.get("/console/ledger/export?format=xlsx")
    assert response.status_code == 200 and response.content[:2] == b"PK"


def test_staff_who_left_cannot_sign_in(app_client: TestClient, demo: tuple[Workspace, DemoPlan, str]) -> None:
    from datetime import UTC, datetime

    with demo[0].db.session() as session:
        staff = session.scalar(select(Staff).where(Staff.login == "co01"))
        assert staff is not None
        staff.left_on = datetime.now(UTC).date()
    assert sign_in(app_client, "co01") == 401


def test_init_creates_the_first_protection_manager(settings) -> None:  # type: ignore[no-untyped-def]
    from mamoru.setup import initialize

    report = initialize(settings)
    assert report.initial_login == "admin" and len(report.initial_password) >= 12
    assert initialize(settings).initial_password == ""
    from mamoru.workspace import Workspace as Ws

    ws = Ws.open(settings)
    try:
        with TestClient(create_app(ws)) as client:
            assert sign_in(client, "admin", report.initial_password) == 303
            assert client.get("/console/ledger").status_code == 200
        with ws.db.session() as session:
            assert session.scalar(select(StaffRole).where(StaffRole.role == "protection_manager")) is not None
    finally:
        ws.close()


def test_jis_1_ledger_entry_is_edited_in_the_console_and_bad_input_changes_nothing(
    app_client: TestClient, demo: tuple[Workspace, DemoPlan, str]
) -> None:
    from mamoru.ledger.entries import get_entry

    sign_in(app_client, "po01")
    form = app_client.get("/console/ledger/L-services/edit?lang=en")
    assert form.status_code == 200
    csrf = csrf_of(form.text)
    # what the form holds: the typed fields, the ticked boxes (a list field has one box a choice) and
    # the chosen options, every one by its code, never shown as one
    typed = dict(re.findall(r'<input id="(\w+)" name="\w+" value="([^"]*)"', form.text))
    ticked = re.findall(r'name="(\w+)" value="([^"]*)" checked', form.text)
    chosen = re.findall(r'<select id="(\w+)"[^>]*>.*?<option value="([^"]*)" selected', form.text)
    assert dict(ticked)["purposes"] == "services" and ">services<" not in form.text
    fields = {**typed, **{k: [v for name, v in ticked if name == k] for k, _ in ticked}, **dict(chosen)}
    bad = app_client.post(
        "/console/ledger/L-services/edit", data={**fields, "csrf": csrf, "storage_location": ""}
    )
    assert bad.status_code == 422 and "storage_location" in bad.text
    with demo[0].db.session() as session:
        assert get_entry(session, "L-services").storage_location != ""
    good = app_client.post(
        "/console/ledger/L-services/edit",
        data={**fields, "csrf": csrf, "storage_location": "新しい顧客管理システム"},
        follow_redirects=False,
    )
    assert good.status_code == 303
    with demo[0].db.session() as session:
        entry = get_entry(session, "L-services")
        assert entry.storage_location == "新しい顧客管理システム"
        # the lists come back whole from their boxes
        assert entry.purposes == ["services"] and len(entry.data_items) == len(fields["data_items"]) > 1
    sign_in(app_client, "sa01")
    assert app_client.get("/console/ledger/L-services/edit").status_code == 403


def test_two_factor_sign_in_needs_the_current_code_and_never_accepts_it_twice(
    app_client: TestClient, demo: tuple[Workspace, DemoPlan, str]
) -> None:
    import pyotp

    from mamoru.people.auth import SignedIn, confirm_totp, start_totp

    workspace = demo[0]
    with workspace.db.session() as session:
        staff = session.scalar(select(Staff).where(Staff.login == "po01"))
        assert staff is not None
        me = SignedIn(staff.id, "po01", frozenset(), "")
        setup = start_totp(workspace.vault, me)
        totp = pyotp.parse_uri(setup.uri)
        confirm_totp(
            session, workspace.vault, me, pending=setup.pending, code=totp.now(), now=datetime.now(UTC)
        )  # type: ignore[attr-defined]
    form = app_client.get("/console/login")
    base = {"login": "po01", "password": PASSWORD, "csrf": csrf_of(form.text)}
    assert app_client.post("/console/login", data=base, follow_redirects=False).status_code == 401
    assert (
        app_client.post("/console/login", data={**base, "code": "000000"}, follow_redirects=False).status_code
        == 401
    )
    code = totp.at(datetime.now(UTC) + timedelta(seconds=30))  # type: ignore[attr-defined]
    assert (
        app_client.post("/console/login", data={**base, "code": code}, follow_redirects=False).status_code
        == 303
    )
    again = {**base, "csrf": csrf_of(app_client.get("/console/login").text), "code": code}
    assert app_client.post("/console/login", data=again, follow_redirects=False).status_code == 401


def test_the_dashboard_draws_its_charts_and_the_data_map_shows_foreign_parties(
    app_client: TestClient, demo: tuple[Workspace, DemoPlan, str]
) -> None:
    assert sign_in(app_client, "pm01") == 303
    dashboard = app_client.get("/console/?lang=en").text
    charts = re.findall(r'<svg role="img"[^>]*><title>([^<]*)</title>', dashboard)
    assert charts == ["Requests received per month", "Days to answer (median)", "Incidents per month"]
    assert "Training lapsed" in dashboard and "sa02" in dashboard  # the demo's lapsed salesperson
    datamap = app_client.get("/console/datamap?lang=en")
    assert datamap.status_code == 200 and "United States" in datamap.text


#: Path parameters with a type get a valid value, so the role check (not validation) answers.
SAMPLE_PARAMS = {"kind": "ppc_prelim", "document_id": "1", "form": "withholding_slips"}


@pytest.mark.parametrize("login", ["it01", "sa01"])
def test_every_console_route_refuses_roles_without_personal_data_duties(
    app_client: TestClient, demo: tuple[Workspace, DemoPlan, str], login: str
) -> None:
    """Walk every GET route of the console: the administrator and a department user reach only the
    dashboard, the sign-in page and the guarded subject page; everything else answers 403."""
    from fastapi.routing import APIRoute

    from mamoru.web import (
        account,
        console,
        datastores,
        incidents,
        mynumber,
        people,
        requests,
        tokens,
        transfers,
    )

    open_to_all = {"/console/", "/console/login", "/console/subjects/{subject_id}", "/console/account"}
    routers = (
        console.router,
        account.router,
        requests.console_router,
        transfers.router,
        incidents.router,
        mynumber.router,
        people.console_router,
        datastores.router,
        tokens.router,
    )
    routes = sorted(
        r.path
        for router in routers
        for r in router.routes
        if isinstance(r, APIRoute) and r.path.startswith("/console") and "GET" in r.methods
    )
    assert len(routes) > 15
    assert sign_in(app_client, login) == 303
    for path in routes:
        if path in open_to_all:
            continue
        url = re.sub(r"\{([^}]+)\}", lambda m: SAMPLE_PARAMS.get(m.group(1), "x"), path)
        status = app_client.get(
            url, params={"year": 2026, "subject": "x"}, follow_redirects=False
        ).status_code
        assert status == 403, (login, path, status)


def test_appi_21a_an_overdue_notice_is_marked_done_from_the_ledger_page(
    app_client: TestClient, demo: tuple[Workspace, DemoPlan, str]
) -> None:
    from datetime import UTC, datetime, timedelta

    from mamoru.ledger.acquisition import (
        AcquisitionIn,
        SourceType,
        acquire,
        activate_channel,
        attest_channel,
        create_channel,
    )

    workspace = demo[0]
    with workspace.db.session() as session:
        create_channel(
            session,
            channel_id="ch-bought",
            name="Purchased list",
            ledger_code="L-services",
            source_type=SourceType.THIRD_PARTY,
            notice_in_advance=False,
            actor="staff:pm01",
        )
        attest_channel(session, "ch-bought", actor="staff:pm01", now=datetime.now(UTC))
        activate_channel(session, "ch-bought", actor="staff:pm01")
        row = acquire(
            session,
            workspace.vault,
            workspace.policy.policy,
            AcquisitionIn(
                channel_id="ch-bought",
                subject_kind="customer",
                values={"email": "bought@example.jp"},
                categories=["contact"],
                purposes=["services"],
                receipt_recorded=True,  # its confirmation on receipt (APPI Art. 30) is not this test's subject
            ),
            actor="staff:pm01",
            # 20:00 UTC: already the next day in Japan, so a UTC date on the page would show
            now=(datetime.now(UTC) - timedelta(days=10)).replace(hour=20),
            notice_days=5,
        )
        action = f"/console/ledger/notices/{row.id}/notified"
    sign_in(app_client, "pm01")
    page = app_client.get("/console/ledger?lang=en")
    assert action in page.text and "(overdue)" in page.text
    # Words and Japan's date, not codes: the channel by its name, the acquisition day in JST.
    acquired_jst = day(row.acquired_at, "en")  # e.g. "24 Nov 2026": the day in Japan
    assert "Purchased list" in page.text and "<td>ch-bought</td>" not in page.text
    assert f"<td>{acquired_jst}</td>" in page.text
    assert app_client.post(action, data={"csrf": "forged"}).status_code == 403
    done = app_client.post(action, data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert done.status_code == 303
    after = app_client.get("/console/ledger?lang=en")
    assert action not in after.text and "No purpose notice is owed." in after.text


def test_appi_22_the_office_records_an_event_on_the_subject_page_and_retention_starts(
    app_client: TestClient, demo: tuple[Workspace, DemoPlan, str]
) -> None:
    """The person's retention shows what waits for an event; recording it from the console dates it,
    and a day still to come is sent back with the reason beside the field, changing nothing."""
    from datetime import UTC, datetime, timedelta

    from mamoru.law.periods import period_end
    from mamoru.ledger.retention import held

    ws, _, _ = demo
    with ws.db.session() as session:
        subject = next(
            s
            for s in session.scalars(
                select(Acquisition.subject_id).where(Acquisition.channel_id == "ch-services")
            )
            if any(h.waiting_for for h in held(session, ws.policy.policy, s))
        )
    sign_in(app_client, "po01")
    page = app_client.get(f"/console/subjects/{subject}?lang=ja")
    assert "保存期間" in page.text and "契約・会員・取引の終了" in page.text
    today = datetime.now(UTC).date()
    refused = app_client.post(
        f"/console/subjects/{subject}/events?lang=ja",
        data={
            "csrf": csrf_of(page.text),
            "kind": "end_of_contract",
            "occurred_on": (today + timedelta(days=3)).isoformat(),
        },
        follow_redirects=True,
    )
    assert "まだ来ていない日は記録できません" in refused.text
    with ws.db.session() as session:
        assert any(h.waiting_for for h in held(session, ws.policy.policy, subject))
    done = app_client.post(
        f"/console/subjects/{subject}/events?lang=en",
        data={"csrf": csrf_of(page.text), "kind": "end_of_contract", "occurred_on": today.isoformat()},
        follow_redirects=True,
    )
    assert done.status_code == 200 and "Contract, membership or transaction ended" in done.text
    with ws.db.session() as session:
        rows = held(session, ws.policy.policy, subject)
        assert not any(h.waiting_for for h in rows)
        assert {h.kept_until for h in rows if h.ledger_code == "L-services"} == {period_end(today, years=5)}


def test_the_request_queue_filters_by_kind_and_sorts_on_the_server(
    demo: tuple[Workspace, DemoPlan, str], app_client: TestClient
) -> None:
    """The list filters, sorts and pages without a script: a GET form and links, read by the server."""
    for n, kind in enumerate((RequestKind.ERASE, RequestKind.DISCLOSURE, RequestKind.ERASE)):
        submit(demo[0], kind, f"queue{n}@example.jp", grounds=["no_longer_needed"] if kind == "erase" else [])
    assert sign_in(app_client, "pm01") == 303
    every = app_client.get("/console/requests?all=true&lang=ja")
    ja = catalog("ja")
    row_kinds = re.compile(r"</a></td>\s*<td>([^<]+)</td>")
    shown = set(row_kinds.findall(every.text))
    assert every.status_code == 200 and len(shown) > 1, every.text[-3000:]
    code = next(k for k in ("erase", "disclosure", "correction") if ja[f"req_kind_{k}"] in shown)
    one = app_client.get(f"/console/requests?all=true&kind={code}&lang=ja")
    assert set(row_kinds.findall(one.text)) == {ja[f"req_kind_{code}"]}
    refs = lambda html: re.findall(r">(R\d{8}-[A-Z2-7]{6})</a>", html)  # noqa: E731
    up = refs(app_client.get("/console/requests?all=true&sort=ref&lang=ja").text)
    down = refs(app_client.get("/console/requests?all=true&sort=-ref&lang=ja").text)
    assert up == sorted(up) and down == sorted(down, reverse=True) and up[0] != down[0]
    assert 'aria-sort="ascending"' in app_client.get("/console/requests?sort=due&lang=ja").text
    # a sort or kind the list does not know is the default order, not an error
    assert app_client.get("/console/requests?sort=-nothing&kind=nothing&lang=ja").status_code == 200
