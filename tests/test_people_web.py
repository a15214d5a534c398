"""People and the PMS over HTTP: the portal's inquiry form, the console pages and forms, the API for
door controllers and other systems, and the security headers of every page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from mamoru.audit.tables import AuditEntry
from mamoru.demo.people import load_demo_people
from mamoru.people.tables import Inquiry
from mamoru.server import create_app
from mamoru.workspace import Workspace
from tests.demo_copies import demo_copy
from tests.tokens_helpers import system_token

PASSWORD = "correct horse battery"


@pytest.fixture
def client(workspace: Workspace) -> Iterator[tuple[TestClient, str]]:
    demo_copy(workspace, 3, password=PASSWORD)
    with workspace.db.session() as session:
        load_demo_people(session, workspace.vault, workspace.policy.policy, datetime.now(UTC))
    token = system_token(workspace, "facilities", "door_events", "pms_read", "inquiries")
    with TestClient(create_app(workspace)) as c:
        yield c, token


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _sign_in(c: TestClient, login: str) -> str:
    form = c.get("/console/login")
    c.post("/console/login", data={"login": login, "password": PASSWORD, "csrf": _csrf(form.text)})
    return _csrf(c.get("/console/").text)


def test_appi_40_portal_inquiry_form_to_closing_in_the_console(
    client: tuple[TestClient, str], workspace: Workspace
) -> None:
    c, _ = client
    form = c.get("/inquiries/new?lang=en")
    assert form.status_code == 200 and 'name="text"' in form.text
    assert "script-src 'self'" in form.headers["content-security-policy"]
    sent = c.post(
        "/inquiries?lang=en",
        data={
            "csrf": _csrf(form.text),
            "kind": "complaint",
            "category": "contact",
            "name": "佐藤花子",
            "contact": "hanako@example.jp",
            "text": "I asked you to stop the mailings but they keep coming.",
        },
    )
    assert sent.status_code == 200 and sent.headers["cache-control"] == "no-store"
    ref = re.search(r'id="ref">([^<]+)<', sent.text)
    assert ref is not None
    csrf = _sign_in(c, "po01")
    page = c.get(f"/console/inquiries/{ref.group(1)}?lang=en")
    assert page.status_code == 200 and "hanako@example.jp" in page.text
    closed = c.post(
        f"/console/inquiries/{ref.group(1)}/close",
        data={"csrf": csrf, "outcome": "resolved"},
        follow_redirects=False,
    )
    assert closed.status_code == 303 and "error=actions" in closed.headers["location"]
    c.post(
        f"/console/inquiries/{ref.group(1)}/action",
        data={"csrf": csrf, "kind": "response", "note": "Stopped; apologised."},
    )
    c.post(f"/console/inquiries/{ref.group(1)}/close", data={"csrf": csrf, "outcome": "resolved"})
    with workspace.db.session() as session:
        q = session.scalar(select(Inquiry).where(Inquiry.ref == ref.group(1)))
        assert q is not None and q.outcome == "resolved" and q.channel == "portal"
        leaves = b"".join(e.leaf for e in session.scalars(select(AuditEntry)))
    assert b"hanako" not in leaves and "佐藤".encode() not in leaves


def test_appi_40_the_portal_form_refuses_bad_input_and_a_missing_csrf_token(
    client: tuple[TestClient, str],
) -> None:
    c, _ = client
    form = c.get("/inquiries/new")
    bad = c.post(
        "/inquiries", data={"csrf": _csrf(form.text), "kind": "praise", "category": "my_number", "text": ""}
    )
    assert bad.status_code == 422 and "kind" in bad.text and "category" in bad.text
    c.cookies.clear()
    assert (
        c.post(
            "/inquiries", data={"csrf": "x", "kind": "inquiry", "category": "other", "text": "hi"}
        ).status_code
        == 409
    )


def test_console_people_and_pms_pages_show_the_register_and_nonconformities(
    client: tuple[TestClient, str],
) -> None:
    c, _ = client
    csrf = _sign_in(c, "pm01")
    people = c.get("/console/people?lang=en")
    assert (
        people.status_code == 200 and "Staff register" in people.text and "Dispatched worker" in people.text
    )
    assert "unauthorized" in people.text  # the demo's door alert
    pms = c.get("/console/pms?lang=ja")
    assert pms.status_code == 200 and "安全管理措置の一覧" in pms.text and "GL-10-6-1" in pms.text
    drafted = c.post("/console/pms/review", data={"csrf": csrf}, follow_redirects=False)
    assert drafted.status_code == 303
    assert c.get("/console/pms").text.count("<td>1</td>") >= 1
    assert c.get("/console/inquiries?lang=en").status_code == 200


def test_appi_24_a_pass_recorded_in_the_console_renews_training(
    client: tuple[TestClient, str], workspace: Workspace
) -> None:
    c, _ = client
    csrf = _sign_in(c, "po01")
    sessions = re.findall(r"#(\d+) \d{4}年\d{1,2}月\d{1,2}日", c.get("/console/people?lang=ja").text)
    assert sessions
    c.post(
        "/console/people/attendance",
        data={"csrf": csrf, "session_id": sessions[0], "login": "sa02", "score": 95},
    )
    from mamoru.people import training

    with workspace.db.session() as session:
        assert "sa02" not in training.overdue(session, today=datetime.now(UTC).date(), valid_days=365)


def test_appi_23_phys_door_controller_posts_events_over_the_api(client: tuple[TestClient, str]) -> None:
    c, token = client
    auth = {"Authorization": f"Bearer {token}"}
    body = {
        "source": "door-ctl-1",
        "events": [
            {
                "event_id": "a1",
                "zone": "server_room",
                "badge": "DEMO-0001",
                "at": "2026-11-25T09:00:00+09:00",
                "direction": "in",
                "authenticated": True,
            },
            {
                "event_id": "a2",
                "zone": "server_room",
                "badge": "DEMO-0003",
                "at": "2026-11-25T09:01:00+09:00",
                "direction": "in",
                "authenticated": True,
            },
        ],
    }
    assert c.post("/api/v1/door-events", json=body).status_code == 401
    answer = c.post("/api/v1/door-events", json=body, headers=auth)
    assert answer.status_code == 200
    assert answer.json()["outcomes"] == {"ok": 1, "unauthorized": 1} and answer.json()[
        "incident_ref"
    ].startswith("INC-")
    unknown_zone = dict(body, events=[dict(body["events"][0], event_id="a3", zone="attic")])  # type: ignore[arg-type]
    refused = c.post("/api/v1/door-events", json=unknown_zone, headers=auth)
    assert refused.status_code == 422 and "zone" in refused.text


def test_appi_23_controls_and_pms_check_over_the_api(client: tuple[TestClient, str]) -> None:
    c, token = client
    auth = {"Authorization": f"Bearer {token}"}
    catalogue = c.get("/api/v1/pms/controls", headers=auth).json()
    assert [cat["id"] for cat in catalogue["categories"]][-1] == "MN"
    check = c.get("/api/v1/pms/check", headers=auth).json()
    assert check["controls"] and check["collection_pages"] == []
    made = c.post(
        "/api/v1/inquiries",
        json={
            "kind": "inquiry",
            "channel": "phone",
            "category": "notice",
            "text": "How long do you keep data?",
        },
        headers=auth,
    )
    assert made.status_code == 201 and made.json()["ref"].startswith("INQ-")
