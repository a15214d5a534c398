"""The web application: portal in Japanese and English, notice versions, health, OpenAPI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from mamoru.policy.load import parse_policy
from mamoru.policy.service import publish
from mamoru.server import create_app
from mamoru.workspace import Workspace


@pytest.fixture
def client(workspace: Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(workspace)) as test_client:
        yield test_client


def test_portal_serves_the_notice_in_japanese_by_default(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="ja">' in page.text
    assert "個人情報保護方針" in page.text and "利用目的" in page.text


def test_portal_switches_to_english_and_remembers_it(client: TestClient) -> None:
    page = client.get("/?lang=en")
    assert '<html lang="en">' in page.text and "Purposes of use" in page.text
    assert client.cookies.get("mamoru_lang") == "en"
    assert '<html lang="en">' in client.get("/").text


def test_portal_follows_accept_language(client: TestClient) -> None:
    assert '<html lang="en">' in client.get("/", headers={"accept-language": "en-US,en;q=0.9"}).text


def test_portal_lists_versions_and_marks_earlier_ones(client: TestClient, workspace: Workspace) -> None:
    newer = parse_policy(
        workspace.policy.source.replace('version: "2026.11"', 'version: "2026.12"').replace(
            "revised_on: 2026-11-01", "revised_on: 2026-12-01"
        )
    )
    with workspace.db.session() as session:
        publish(session, newer, "tester")
    listing = client.get("/notice/versions?lang=en")
    assert "2026.12" in listing.text and "2026.11" in listing.text
    versions = client.get("/api/v1/notice/versions").json()
    assert [v["policy_version"] for v in versions] == ["2026.12", "2026.11"]
    assert versions[0]["current"] and not versions[1]["current"]
    old = client.get(f"/notice/versions/{versions[1]['id']}?lang=en")
    assert "This is not the policy in force." in old.text
    current = client.get(f"/notice/versions/{versions[0]['id']}?lang=en")
    assert "This is not the policy in force." not in current.text


def test_unknown_version_is_404_with_a_reason(client: TestClient) -> None:
    response = client.get("/api/v1/notice/versions/999")
    assert response.status_code == 404
    assert response.json()["error"] == "NotFound"


def test_healthz_reports_the_policy_in_force(client: TestClient, workspace: Workspace) -> None:
    body = client.get("/healthz").json()
    assert body == {
        "status": "ok",
        "policy_version": "2026.11",
        "policy_sha256": workspace.policy.sha256,
        "notice_current": True,
    }


def test_openapi_is_served(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "/api/v1/policy" in schema["paths"]


def test_api_policy_returns_the_policy(client: TestClient, workspace: Workspace) -> None:
    body = client.get("/api/v1/policy").json()
    assert body["schema"] == "mamoru.policy/1"
    # Every purpose of the policy in force, the My Number uses included, and nothing else.
    assert [p["id"] for p in body["purposes"]] == [p.id for p in workspace.policy.policy.purposes]
    assert {"services", "my_number_staff", "my_number_payees"} <= {p["id"] for p in body["purposes"]}


def test_static_stylesheet_is_served_locally(client: TestClient) -> None:
    assert client.get("/static/portal.css").status_code == 200


def test_audit_checkpoints_and_consistency_are_public_and_verifiable(
    client: TestClient, workspace: Workspace
) -> None:
    from mamoru.audit import merkle
    from mamoru.audit.chain import append
    from mamoru.audit.entry import AuditEvent
    from mamoru.audit.proofs import Checkpoint, make_checkpoint
    from mamoru.audit.signing import load_public_key_pem, verify_statement

    # Two checkpoints with entries between them: the proof has to bind the older root to the newer.
    with workspace.db.session() as session:
        append(session, [AuditEvent(actor="staff:t1", action="decision.read") for _ in range(3)])
        make_checkpoint(session, workspace.signer)
    with workspace.db.session() as session:
        append(session, [AuditEvent(actor="staff:t2", action="decision.read") for _ in range(4)])
        make_checkpoint(session, workspace.signer)
    body = client.get("/api/v1/audit/checkpoints").json()
    public = load_public_key_pem(body["public_key_pem"])
    older, newer = [Checkpoint.from_json(c) for c in body["checkpoints"]]
    assert verify_statement(public, older.signature, older.statement())
    assert verify_statement(public, newer.signature, newer.statement())
    assert older.tree_size < newer.tree_size

    proof = client.get(f"/api/v1/audit/consistency?first={older.tree_size}&second={newer.tree_size}").json()
    assert (proof["first"], proof["second"]) == (older.tree_size, newer.tree_size)
    path = [bytes.fromhex(p) for p in proof["path"]]
    assert merkle.verify_consistency(older.tree_size, newer.tree_size, older.root_hash, newer.root_hash, path)
    # The same proof does not bind a root the log never had, and a bent proof binds nothing.
    assert not merkle.verify_consistency(older.tree_size, newer.tree_size, bytes(32), newer.root_hash, path)
    bent = [path[0][:-1] + bytes([path[0][-1] ^ 1]), *path[1:]]
    assert not merkle.verify_consistency(
        older.tree_size, newer.tree_size, older.root_hash, newer.root_hash, bent
    )
    assert client.get("/api/v1/audit/consistency?first=5&second=2").status_code == 404


def test_audit_status_page_shows_the_last_verification_and_checkpoint(
    client: TestClient, workspace: Workspace
) -> None:
    from mamoru.audit.proofs import make_checkpoint
    from mamoru.audit.verification import record_verification, verify

    assert "Not verified yet." in client.get("/audit?lang=en").text
    with workspace.db.session() as session:
        make_checkpoint(session, workspace.signer)
    report = verify(workspace.db, workspace.signer.public)
    with workspace.db.session() as session:
        record_verification(session, report, by="test", signer=workspace.signer)
    page = client.get("/audit?lang=ja").text
    assert "改ざんなし" in page and "Merkle ルート" in page
    status = client.get("/api/v1/audit/status").json()
    assert status["last_verification_ok"] is True and status["entries"] == report.entries
    assert status["latest_checkpoint"]["tree_size"] == report.entries


def test_every_answer_forbids_third_party_scripts_sniffing_and_framing(client: TestClient) -> None:
    """Pages, API answers, static files and errors all carry the same protective headers, once."""
    for path in ("/", "/api/v1/policy", "/static/portal.css", "/no-such-page", "/healthz"):
        answer = client.get(path)
        assert "default-src 'self'" in answer.headers["content-security-policy"], path
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert answer.headers["x-frame-options"] == "DENY", path
        assert answer.headers.get_list("content-security-policy") == [
            answer.headers["content-security-policy"]
        ]
