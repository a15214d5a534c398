"""The guard over HTTP: tokens, the AccessContext every personal-data route takes, decisions, reads.

The actor is always the token's principal: ``tokens["sa01"]`` acts as staff:sa01."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from sqlalchemy import select

from mamoru.api.deps import Access, api_routes
from mamoru.api.personal import PERSONAL_DATA, DecisionOut, decision_fields
from mamoru.audit.query import entries_for
from mamoru.demo import DemoPlan
from mamoru.guard.decision import Action, Decision, Reason
from mamoru.ledger.tables import Acquisition
from mamoru.people.tokens import revoke_token
from mamoru.server import create_app
from mamoru.web.console import signed_in
from mamoru.workspace import Workspace
from tests.demo_copies import demo_copy
from tests.tokens_helpers import staff_token

Setup = tuple[TestClient, dict[str, str], DemoPlan, str]


@pytest.fixture
def setup(workspace: Workspace) -> Iterator[Setup]:
    plan = demo_copy(workspace, 6)
    with workspace.db.session() as session:
        subject = str(
            session.scalar(
                select(Acquisition.subject_id)
                .where(Acquisition.channel_id == "ch-services")
                .order_by(Acquisition.id)
            )
        )
    tokens = {login: staff_token(workspace, login, name=f"t-{login}") for login in ("sa01", "sa02", "am01")}
    with TestClient(create_app(workspace)) as client:
        yield client, tokens, plan, subject


def headers(token: str, purpose: str = "services") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Mamoru-Purpose": purpose}


def _dependencies(dependant) -> set[object]:  # type: ignore[no-untyped-def]
    found = {dependant.call}
    for sub in dependant.dependencies:
        found |= _dependencies(sub)
    return found


def test_every_personal_data_route_takes_the_access_context(workspace: Workspace) -> None:
    routes = api_routes(list(create_app(workspace).routes))
    assert len(routes) > 8
    personal = [r for r in routes if PERSONAL_DATA in r.tags]
    assert {r.path for r in personal} >= {
        "/api/v1/decisions",
        "/api/v1/decisions/batch",
        "/api/v1/subjects/{subject_id}",
    }
    for route in personal:
        assert any(isinstance(d, Access) for d in _dependencies(route.dependant)), route.path
    for route in routes:
        if route.path.startswith("/api/") and ("subject" in route.path or "decision" in route.path):
            assert PERSONAL_DATA in route.tags, f"{route.path} handles personal data but is not marked"
        if route.path.startswith("/console/") and "subject" in route.path:
            # Console pages act for the signed-in staff member, who is the actor the guard decides for.
            assert signed_in in _dependencies(route.dependant), route.path


def test_the_decisions_route_resolves_nothing_but_its_access_context(workspace: Workspace) -> None:
    """``POST /api/v1/decisions`` is the call made most: FastAPI resolves each dependency level on every
    call, so the route takes its access context (which authenticates the token itself) and nothing else."""
    routes = api_routes(list(create_app(workspace).routes))
    route = next(r for r in routes if r.path == "/api/v1/decisions")
    calls = _dependencies(route.dependant) - {route.dependant.call}
    assert len(calls) == 1 and isinstance(calls.pop(), Access), calls


def test_decisions_need_a_valid_token_and_a_context(setup: Setup, workspace: Workspace) -> None:
    client, tokens, _, subject = setup
    token = tokens["sa01"]
    body = {"subjects": [subject], "categories": ["contact"]}
    assert client.post("/api/v1/decisions", json=body).status_code in (401, 422)
    assert client.post("/api/v1/decisions", json=body, headers=headers("mmr_wrong")).status_code == 401
    assert (
        client.post(
            "/api/v1/decisions", json=body, headers=headers(token, purpose="name with spaces")
        ).status_code
        == 400
    )
    ok = client.post("/api/v1/decisions", json=body, headers=headers(token))
    assert ok.status_code == 200 and ok.json()[0]["allow"] is True
    with workspace.db.session() as session:
        revoke_token(session, "t-sa01", actor="staff:pm01", now=datetime.now(UTC))
    assert client.post("/api/v1/decisions", json=body, headers=headers(token)).status_code == 401


def test_batch_decisions_over_http(setup: Setup) -> None:
    client, tokens, _, subject = setup
    token = tokens["sa01"]
    body = {"subjects": [subject, "unknown-subject"], "categories": ["contact"], "action": "read"}
    result = client.post("/api/v1/decisions", json=body, headers=headers(token)).json()
    assert [(d["allow"], d["reasons"]) for d in result] == [(True, ["allowed"]), (False, ["subject_erased"])]


def test_the_decisions_answers_are_exactly_the_documented_models(setup: Setup) -> None:
    """``/decisions`` and ``/decisions/batch`` encode their answers without building ``DecisionOut``s (it
    was the larger part of a call's serialization): what they send must still be the models' JSON, no
    field missing or added, whatever the decision (allowed, refused with several reasons, masked)."""
    client, tokens, _, subject = setup
    token = tokens["sa01"]
    one = TypeAdapter(list[DecisionOut])
    body = {"subjects": [subject, "unknown-subject"], "categories": ["contact"]}
    sent = client.post("/api/v1/decisions", json=body, headers=headers(token))
    assert sent.headers["content-type"] == "application/json"
    assert sent.json() == one.dump_python(one.validate_json(sent.content), mode="json")
    batch = {"requests": [body, {**body, "action": "erase"}]}
    many = TypeAdapter(list[list[DecisionOut]])
    sent = client.post("/api/v1/decisions/batch", json=batch, headers=headers(token))
    assert sent.json() == many.dump_python(many.validate_json(sent.content), mode="json")
    refused = Decision(
        allow=False,
        actor="staff:sa01",
        purpose="services",
        action=Action.READ,
        subjects=("s-1",),
        categories=("contact",),
        reasons=(Reason.PLEDGE_MISSING, Reason.TRAINING_LAPSED),
        rule="deny",
        policy_version="1",
        mask_fields=("email", "phone"),
    )
    assert decision_fields(refused) == DecisionOut.of(refused).model_dump(mode="json")
    assert list(decision_fields(refused)) == list(DecisionOut.model_fields)


def test_subject_read_is_guarded_audited_and_decrypts_only_on_allow(
    setup: Setup, workspace: Workspace
) -> None:
    client, tokens, plan, subject = setup
    token = tokens["sa01"]
    person = next(p for p in plan.all_people() if p.subject_id == subject)
    allowed = client.get(f"/api/v1/subjects/{subject}?fields=name&fields=email", headers=headers(token))
    assert allowed.status_code == 200
    assert allowed.json()["values"] == {"name": person.values["name"], "email": person.values["email"]}
    denied = client.get(f"/api/v1/subjects/{subject}?fields=name", headers=headers(tokens["sa02"]))
    assert denied.status_code == 403 and "training_lapsed" in denied.json()["detail"]
    assert person.values["name"] not in denied.text
    wrong_purpose = client.get(
        f"/api/v1/subjects/{subject}?fields=name", headers=headers(token, purpose="research")
    )
    assert wrong_purpose.status_code == 403
    with workspace.db.session() as session:
        decisions = [
            e.body for e in entries_for(session, "subject", subject) if e.body["action"] == "decision.read"
        ]
    assert [d["decision"] for d in decisions] == ["allow", "deny", "deny"]
    assert [d["actor"] for d in decisions] == ["staff:sa01", "staff:sa02", "staff:sa01"]


def test_fields_without_a_category_are_refused(setup: Setup) -> None:
    client, tokens, _, subject = setup
    token = tokens["sa01"]
    response = client.get(f"/api/v1/subjects/{subject}?fields=password", headers=headers(token))
    assert response.status_code == 403 and "password" in response.json()["detail"]


def test_batch_endpoint_answers_each_request(setup: Setup) -> None:
    client, tokens, _, subject = setup
    token = tokens["sa01"]
    body = {
        "requests": [
            {"subjects": [subject], "categories": ["contact"]},
            {"subjects": [subject], "categories": ["contact"], "action": "erase"},
        ]
    }
    result = client.post("/api/v1/decisions/batch", json=body, headers=headers(token)).json()
    assert [r[0]["allow"] for r in result] == [True, False]
    assert result[1][0]["reasons"] == ["role_lacks_purpose"]


def test_audit_entries_and_proofs_need_a_token(setup: Setup, workspace: Workspace) -> None:
    from mamoru.audit.proofs import InclusionProof, make_checkpoint

    client, tokens, _, subject = setup
    client.post(
        "/api/v1/decisions",
        json={"subjects": [subject], "categories": ["contact"]},
        headers=headers(tokens["sa01"]),
    )
    assert client.get(f"/api/v1/audit/entries?subject={subject}").status_code == 401
    sales = {"Authorization": f"Bearer {tokens['sa01']}"}
    assert client.get(f"/api/v1/audit/entries?subject={subject}", headers=sales).status_code == 403
    auth = {"Authorization": f"Bearer {tokens['am01']}"}
    entries = client.get(f"/api/v1/audit/entries?subject={subject}", headers=auth).json()
    assert [e["action"] for e in entries][-1] == "decision.read"
    assert client.get("/api/v1/audit/entries?subject=a&actor=b", headers=auth).status_code == 400
    with workspace.db.session() as session:
        make_checkpoint(session, workspace.signer)
    seq = entries[-1]["seq"]
    data = client.get(f"/api/v1/audit/proof/{seq}", headers=auth).json()
    from mamoru.audit.proofs import Checkpoint

    proof = InclusionProof(
        seq, bytes.fromhex(data["leaf"]), bytes.fromhex(data["entry_hash"]), Checkpoint.from_json(data["checkpoint"]),
        [bytes.fromhex(p) for p in data["path"]],
    )  # fmt: skip
    assert proof.verify(workspace.signer.public)
