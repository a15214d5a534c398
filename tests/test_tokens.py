"""API tokens of one principal each: hashed, expiring, revocable, audited; and every way a person's
access ends (revocation, expiry, leaving, a lost role, a password changed) ends their tokens too."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from mamoru.audit.query import entries_for
from mamoru.demo import DemoPlan, load_demo
from mamoru.errors import Invalid
from mamoru.people import staff as people_staff
from mamoru.people.auth import set_password
from mamoru.people.tables import ApiClient
from mamoru.people.tokens import authenticate, issue_token, lifetime, list_tokens, revoke_token
from mamoru.server import create_app
from mamoru.settings import Settings
from mamoru.setup import initialize
from mamoru.workspace import Workspace
from tests.test_console import PASSWORD, csrf_of, sign_in
from tests.tokens_helpers import LIFETIME, bearer, staff_token, system_token

NOW = datetime.now(UTC)
ISSUER = "system:test"


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, DemoPlan, TestClient]]:
    """One workspace with the demo organization for the whole module (each test uses its own people)."""
    home: Path = tmp_path_factory.mktemp("tokens")
    mp = pytest.MonkeyPatch()
    mp.setenv("MAMORU_HOME", str(home))
    settings = Settings(home=home)
    initialize(settings)
    ws = Workspace.open(settings)
    with ws.db.session() as session:
        plan = load_demo(session, ws.vault, ws.policy.policy, 5)
    try:
        with TestClient(create_app(ws)) as client:
            yield ws, plan, client
    finally:
        ws.close()
        mp.undo()


def _asks(client: TestClient, token: str) -> int:
    """A guard question as the token's principal: 200 while the token is good."""
    body = {"subjects": ["someone"], "categories": ["contact"]}
    return client.post("/api/v1/decisions", json=body, headers=bearer(token, "services")).status_code


def _audited(ws: Workspace, actor: str, action: str, name: str) -> list[tuple[str, ...]]:
    with ws.db.session() as session:
        return [
            tuple(e.body["reasons"])
            for e in entries_for(session, "actor", actor, limit=1000)
            if e.body["action"] == action and f"api_token:{name}" in e.body["objects"]
        ]


def test_a_token_is_shown_once_and_kept_only_as_its_hash(
    office: tuple[Workspace, DemoPlan, TestClient],
) -> None:
    ws, _, _ = office
    with ws.db.session() as session:
        row, token = issue_token(
            session, "hashed", scopes=["door_events"], lifetime=LIFETIME, actor=ISSUER, now=NOW
        )
        assert token.startswith("mmr_") and len(token) > 40
        assert row.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
        stored = " ".join(str(getattr(row, c.key)) for c in ApiClient.__table__.columns)
        assert token not in stored
        assert all(token not in repr(v) for v in list_tokens(session, NOW))


def test_a_staff_token_acts_as_that_person_and_a_system_token_as_itself(
    office: tuple[Workspace, DemoPlan, TestClient],
) -> None:
    ws, _, client = office
    person, system = staff_token(ws, "sa01", name="as-sa01"), system_token(ws, "crm", "guard")
    with ws.db.session() as session:
        who = authenticate(session, person, NOW)
        assert who is not None and who.actor == "staff:sa01" and "sales" in who.roles and not who.system
        it = authenticate(session, system, NOW)
        assert it is not None and it.actor == "api:crm" and it.scopes == {"guard"} and it.roles == frozenset()
    # A header naming someone else changes nothing: the guard decided for the token's principal.
    body = {"subjects": ["someone"], "categories": ["contact"]}
    headers = {**bearer(system, "services"), "X-Mamoru-Actor": "staff:pm01"}
    assert client.post("/api/v1/decisions", json=body, headers=headers).json()[0]["reasons"] == [
        "actor_inactive"  # a system is not a person with a pledge and training: it reads no values
    ]
    with ws.db.session() as session:
        decided = [e.body["actor"] for e in entries_for(session, "subject", "someone", limit=1000)]
    assert decided == ["api:crm"]


def test_issue_and_revoke_land_in_the_audit_log(office: tuple[Workspace, DemoPlan, TestClient]) -> None:
    ws, _, client = office
    token = system_token(ws, "doors-audited", "door_events", "pms_read")
    assert _audited(ws, ISSUER, "api_token.issue", "doors-audited") == [
        ("scope:door_events", "scope:pms_read")
    ]
    with ws.db.session() as session:
        revoke_token(session, "doors-audited", actor="staff:pm01", now=NOW)
        revoke_token(session, "doors-audited", actor="staff:pm01", now=NOW)  # a second time changes nothing
    assert _audited(ws, "staff:pm01", "api_token.revoke", "doors-audited") == [()]
    assert client.get("/api/v1/pms/check", headers=bearer(token)).status_code == 401
    staff_token(ws, "po02", name="po02-audited")
    with ws.db.session() as session:
        entry = [
            e.body
            for e in entries_for(session, "actor", ISSUER, limit=1000)
            if "api_token:po02-audited" in e.body["objects"]
        ]
    assert entry[0]["objects"] == ["api_token:po02-audited", "staff:po02"]


def test_appi_23_a_revoked_token_stops_working_at_once(
    office: tuple[Workspace, DemoPlan, TestClient],
) -> None:
    ws, _, client = office
    token = staff_token(ws, "sa01", name="revoked-sa01")
    assert _asks(client, token) == 200
    with ws.db.session() as session:
        revoke_token(session, "revoked-sa01", actor="staff:pm01", now=datetime.now(UTC))
    assert _asks(client, token) == 401


def test_an_expired_token_stops_working(office: tuple[Workspace, DemoPlan, TestClient]) -> None:
    ws, _, client = office
    with ws.db.session() as session:
        _, token = issue_token(
            session,
            "expired-sa01",
            staff="sa01",
            lifetime=timedelta(days=1),
            actor=ISSUER,
            now=datetime.now(UTC) - timedelta(days=1, seconds=1),
        )
    assert _asks(client, token) == 401
    with ws.db.session() as session:
        assert authenticate(session, token, datetime.now(UTC) - timedelta(hours=1)) is not None
        (view,) = [t for t in list_tokens(session, datetime.now(UTC)) if t.name == "expired-sa01"]
        assert view.state == "expired"


def test_the_last_use_is_recorded(office: tuple[Workspace, DemoPlan, TestClient]) -> None:
    ws, _, client = office
    token = staff_token(ws, "sa01", name="used-sa01")
    with ws.db.session() as session:
        assert session.scalar(select(ApiClient.last_used_at).where(ApiClient.name == "used-sa01")) is None
    before = datetime.now(UTC)
    assert _asks(client, token) == 200
    with ws.db.session() as session:
        used = session.scalar(select(ApiClient.last_used_at).where(ApiClient.name == "used-sa01"))
    assert used is not None and used >= before - timedelta(seconds=1)


def test_appi_23_leaving_ends_every_token_and_session_of_the_person(
    office: tuple[Workspace, DemoPlan, TestClient],
) -> None:
    ws, _, client = office
    token = staff_token(ws, "rd01", name="leaver-rd01")
    assert _asks(client, token) == 200
    with ws.db.session() as session:
        people_staff.set_exit(session, "rd01", date.today(), actor="staff:pm01", now=datetime.now(UTC))
    assert _asks(client, token) == 401
    assert _audited(ws, "staff:pm01", "api_token.revoke", "leaver-rd01") == [("left",)]
    with ws.db.session() as session, pytest.raises(Invalid):
        issue_token(
            session, "rd01-again", staff="rd01", lifetime=LIFETIME, actor=ISSUER, now=datetime.now(UTC)
        )


def test_losing_a_role_ends_every_token_and_session_of_the_person(
    office: tuple[Workspace, DemoPlan, TestClient],
) -> None:
    ws, _, client = office
    with ws.db.session() as session:
        set_password(session, "co01", PASSWORD, actor="test")
    token = staff_token(ws, "co01", name="co01-role")
    assert _asks(client, token) == 200
    assert sign_in(client, "co01") == 303 and client.get("/console/").status_code == 200
    with ws.db.session() as session:
        people_staff.revoke(session, "co01", "collaborator_desk", actor="staff:pm01")
    assert _asks(client, token) == 401
    assert client.get("/console/", follow_redirects=False).status_code == 303  # the session is gone
    assert _audited(ws, "staff:pm01", "api_token.revoke", "co01-role") == [("role_revoked",)]
    client.cookies.clear()


def test_a_password_change_or_reset_ends_every_token_and_session_of_the_person(
    office: tuple[Workspace, DemoPlan, TestClient],
) -> None:
    ws, _, client = office
    with ws.db.session() as session:
        set_password(session, "se01", PASSWORD, actor="test")
    first, second = staff_token(ws, "se01", name="se01-a"), staff_token(ws, "se01", name="se01-b")
    assert _asks(client, first) == 200 and _asks(client, second) == 200
    assert sign_in(client, "se01") == 303 and client.get("/console/").status_code == 200
    with ws.db.session() as session:
        set_password(session, "se01", PASSWORD + " new", actor="staff:pm01")
    assert _asks(client, first) == 401 and _asks(client, second) == 401
    assert client.get("/console/", follow_redirects=False).status_code == 303
    assert _audited(ws, "staff:pm01", "api_token.revoke", "se01-b") == [("password_set",)]
    client.cookies.clear()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "Bad Name", "scopes": ["guard"]}, "name"),
        ({"name": "both", "staff": "sa01", "scopes": ["guard"]}, "scopes"),
        ({"name": "neither"}, "scopes"),
        ({"name": "unknown-scope", "scopes": ["mynumber"]}, "scopes"),
        ({"name": "nobody", "staff": "nobody"}, "staff"),
        ({"name": "taken", "scopes": ["guard"]}, "name"),  # names are never reused
    ],
)
def test_issuing_refuses_bad_input_and_changes_nothing(
    office: tuple[Workspace, DemoPlan, TestClient], kwargs: dict[str, object], field: str
) -> None:
    ws, _, _ = office
    with ws.db.session() as session:
        if not session.scalar(select(ApiClient.id).where(ApiClient.name == "taken")):
            issue_token(session, "taken", scopes=["guard"], lifetime=LIFETIME, actor=ISSUER, now=NOW)
    with ws.db.session() as session:
        before = session.scalar(select(ApiClient.id).order_by(ApiClient.id.desc()).limit(1))
    with pytest.raises(Invalid) as refused, ws.db.session() as session:
        issue_token(session, lifetime=LIFETIME, actor=ISSUER, now=NOW, **kwargs)  # type: ignore[arg-type]
    assert field in {p.field for p in refused.value.problems}
    with ws.db.session() as session:
        assert session.scalar(select(ApiClient.id).order_by(ApiClient.id.desc()).limit(1)) == before


def test_the_lifetime_comes_from_the_settings_and_cannot_exceed_them() -> None:
    assert lifetime(None, 90) == timedelta(days=90)
    assert lifetime(7, 90) == timedelta(days=7)
    for days in (0, 91):
        with pytest.raises(Invalid):
            lifetime(days, 90)
    assert Settings().token_lifetime_days == 90


def test_the_console_lists_issues_once_and_revokes_for_the_privacy_office_only(
    office: tuple[Workspace, DemoPlan, TestClient],
) -> None:
    ws, _, client = office
    with ws.db.session() as session:
        for login in ("po01", "am01"):
            set_password(session, login, PASSWORD, actor="test")
    assert sign_in(client, "am01") == 303  # the audit manager reads the people area but not tokens
    assert client.get("/console/tokens").status_code == 403
    client.cookies.clear()
    assert sign_in(client, "po01") == 303
    page = client.get("/console/tokens?lang=en")
    assert page.status_code == 200 and "Issue a token" in page.text
    csrf = csrf_of(page.text)
    bad = client.post(
        "/console/tokens?lang=en", data={"csrf": csrf, "name": "grc", "kind": "system", "days": "120"}
    )
    assert bad.status_code == 422 and "grc" in bad.text  # the form again, values kept, nothing issued
    with ws.db.session() as session:
        assert session.scalar(select(ApiClient).where(ApiClient.name == "grc")) is None
    made = client.post(
        "/console/tokens?lang=en",
        data={"csrf": csrf, "name": "grc", "kind": "system", "scopes": ["pms_read"], "days": "30"},
    )
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    found = re.search(r'<code id="new-token">(mmr_[^<]+)</code>', made.text)
    assert found is not None
    token = found.group(1)
    assert client.get("/api/v1/pms/check", headers=bearer(token)).status_code == 200
    listed = client.get("/console/tokens?lang=en")
    assert (
        token not in listed.text
        and "grc" in listed.text
        and "read controls and non-conformities" in listed.text
    )
    assert _audited(ws, "staff:po01", "api_token.issue", "grc") == [("scope:pms_read",)]
    revoked = client.post("/console/tokens/grc/revoke", data={"csrf": csrf}, follow_redirects=False)
    assert revoked.status_code == 303
    assert client.get("/api/v1/pms/check", headers=bearer(token)).status_code == 401
    assert _audited(ws, "staff:po01", "api_token.revoke", "grc") == [()]
    client.cookies.clear()


def test_the_cli_issues_lists_and_revokes(office: tuple[Workspace, DemoPlan, TestClient]) -> None:
    from mamoru.cli.main import app

    _, _, client = office
    runner = CliRunner()
    issued = runner.invoke(
        app, ["tokens", "issue", "cli-hr01", "--staff", "hr01", "--days", "5", "--by", "staff:pm01"]
    )
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip().rsplit(" ", 1)[-1]
    assert _asks(client, token) == 200
    refused = runner.invoke(app, ["tokens", "issue", "cli-bad", "--scope", "door_events", "--staff", "hr01"])
    assert refused.exit_code == 2 and "scopes" in refused.output
    listed = runner.invoke(app, ["tokens", "list", "--json"])
    (row,) = [r for r in json.loads(listed.output) if r["name"] == "cli-hr01"]
    assert row["principal"] == "staff:hr01" and row["state"] == "active" and row["last_used_at"]
    assert runner.invoke(app, ["tokens", "revoke", "cli-hr01", "--by", "staff:pm01"]).exit_code == 0
    assert _asks(client, token) == 401
    scopes = runner.invoke(app, ["tokens", "scopes"])
    assert "door_events" in scopes.output and "mynumber" not in scopes.output


def test_migration_0023_revokes_the_tokens_that_could_claim_any_actor(db_url: str) -> None:
    from alembic import command
    from sqlalchemy import text

    from mamoru.store.db import Database, alembic_config

    db = Database(db_url)
    db.migrate("head")
    command.downgrade(alembic_config(db), "0022")  # the way down works too
    token = "mmr_" + "old" * 10
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO api_clients (name, token_sha256, created_at, created_by) "
                "VALUES ('hr-system', :digest, :at, 'staff:it01')"
            ),
            {"digest": hashlib.sha256(token.encode()).hexdigest(), "at": NOW - timedelta(days=3)},
        )
    db.migrate("head")
    with db.session() as session:
        row = session.scalar(select(ApiClient).where(ApiClient.name == "hr-system"))
        assert row is not None and row.kind == "system" and row.scopes == [] and row.revoked_at is not None
        assert authenticate(session, token, NOW) is None
    db.dispose()
