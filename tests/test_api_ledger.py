"""The ledger, channels, acquisitions and consents over HTTP."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from mamoru.ledger.tables import DataSubject
from mamoru.policy.service import current_notice
from mamoru.server import create_app
from mamoru.setup import FIRST_LOGIN
from mamoru.workspace import Workspace
from tests.tokens_helpers import bearer, staff_token


@pytest.fixture
def api(workspace: Workspace) -> Iterator[tuple[TestClient, dict[str, str]]]:
    # The workspace's first protection manager: the privacy office keeps the ledger.
    with TestClient(create_app(workspace)) as client:
        yield client, bearer(staff_token(workspace, FIRST_LOGIN), purpose="research")


ENTRY = {
    "code": "L-survey",
    "name": "アンケート回答",
    "data_items": ["contact", "survey"],
    "purposes": ["research"],
    "storage_location": "調査分析サーバ",
    "storage_method": "暗号化データベース",
    "access_roles": ["research"],
    "use_until": "集計完了まで",
    "retention_rule": "surveys",
    "subject_kinds": ["survey_respondent"],
}


def test_jis_1_ledger_over_http_from_entry_to_excel(api: tuple[TestClient, dict[str, str]]) -> None:
    from openpyxl import load_workbook

    client, headers = api
    missing = {k: v for k, v in ENTRY.items() if k != "storage_method"}
    assert client.post("/api/v1/ledger", json=missing, headers=headers).status_code == 422
    created = client.post("/api/v1/ledger", json=ENTRY, headers=headers)
    assert created.status_code == 201 and created.json()["review_overdue"] is True
    reviewed = client.post("/api/v1/ledger/L-survey/review", headers=headers).json()
    assert reviewed["review_overdue"] is False and reviewed["reviewer"] == f"staff:{FIRST_LOGIN}"
    assert [e["code"] for e in client.get("/api/v1/ledger", headers=headers).json()] == ["L-survey"]
    assert client.get("/api/v1/ledger").status_code == 401
    xlsx = client.get("/api/v1/ledger-export?format=xlsx&lang=en", headers=headers)
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and sheet.cell(row=2, column=1).value == "L-survey"
    csv = client.get("/api/v1/ledger-export?format=csv", headers=headers)
    assert csv.text.startswith("\ufeff管理番号")


def test_acquisition_and_consent_over_http(
    api: tuple[TestClient, dict[str, str]], workspace: Workspace
) -> None:
    client, headers = api
    client.post("/api/v1/ledger", json=ENTRY, headers=headers)
    channel = {
        "id": "ch-survey",
        "name": "Web survey",
        "ledger_code": "L-survey",
        "source_type": "direct_written",
    }
    assert client.post("/api/v1/channels", json=channel, headers=headers).status_code == 201
    assert client.post("/api/v1/channels/ch-survey/activate", headers=headers).status_code == 422
    client.post("/api/v1/channels/ch-survey/attest", headers=headers)
    assert client.post("/api/v1/channels/ch-survey/activate", headers=headers).json()["active"] is True
    with workspace.db.session() as session:
        notice = current_notice(session)
        assert notice is not None
    body = {
        "channel_id": "ch-survey",
        "subject_kind": "survey_respondent",
        "values": {"email": "respondent@example.jp"},
        "categories": ["contact"],
        "purposes": ["research"],
    }
    refused = client.post("/api/v1/acquisitions", json=body, headers=headers)
    assert refused.status_code == 422 and "purpose_version_shown" in refused.json()["detail"]
    assert "respondent@example.jp" not in refused.text
    made = client.post(
        "/api/v1/acquisitions", json={**body, "purpose_version_shown": notice.id}, headers=headers
    )
    assert made.status_code == 201 and made.json()["notice_id"] == notice.id
    subject = made.json()["subject_id"]
    consent = client.post(
        "/api/v1/consents",
        json={
            "subject_id": subject,
            "scope": "beyond_purpose",
            "purpose": "announcements",
            "channel": "web",
            "evidence_ref": "form:3",
        },
        headers=headers,
    ).json()
    withdrawn = client.post(
        f"/api/v1/consents/{consent['id']}/withdraw", json={"channel": "web"}, headers=headers
    ).json()
    assert withdrawn["withdrawn_at"] is not None


def test_ledger_entry_patch_is_validated(api: tuple[TestClient, dict[str, str]]) -> None:
    client, headers = api
    client.post("/api/v1/ledger", json=ENTRY, headers=headers)
    assert client.patch("/api/v1/ledger/L-survey", json={"purposes": []}, headers=headers).status_code == 422
    changed = client.patch("/api/v1/ledger/L-survey", json={"approx_count": 1200}, headers=headers)
    assert changed.status_code == 200 and changed.json()["approx_count"] == 1200


def test_appi_22_retention_sweep_over_http(
    api: tuple[TestClient, dict[str, str]], workspace: Workspace
) -> None:
    from mamoru.demo import load_demo

    client, headers = api
    with workspace.db.session() as session:
        load_demo(session, workspace.vault, workspace.policy.policy, 3)
    due = client.post("/api/v1/retention/sweep?dry_run=true", headers=headers).json()
    assert due["due"] and due["disposal_records"] == []
    done = client.post("/api/v1/retention/sweep", headers=headers).json()
    assert len(done["disposal_records"]) == len(due["due"]) + len(due["partial"]) + len(due["records"])
    after = client.post("/api/v1/retention/sweep?dry_run=true", headers=headers).json()
    assert after["due"] == after["partial"] == after["records"] == []


def test_appi_22_an_event_recorded_over_http_starts_its_rule(
    api: tuple[TestClient, dict[str, str]], workspace: Workspace
) -> None:
    from sqlalchemy import select

    from mamoru.demo import load_demo
    from mamoru.ledger.retention import held

    client, headers = api
    with workspace.db.session() as session:
        load_demo(session, workspace.vault, workspace.policy.policy, 3)
        waiting = next(
            s
            for s in session.scalars(select(DataSubject.id).where(DataSubject.kind == "customer"))
            if any(h.waiting_for == "end_of_contract" for h in held(session, workspace.policy.policy, s))
        )
    today = datetime.now(UTC).date()
    bad = client.post(
        f"/api/v1/subjects/{waiting}/events",
        json={"kind": "end_of_contract", "occurred_on": (today + timedelta(days=2)).isoformat()},
        headers=headers,
    )
    assert bad.status_code == 422 and "occurred_on" in bad.text
    made = client.post(
        f"/api/v1/subjects/{waiting}/events",
        json={"kind": "end_of_contract", "occurred_on": today.isoformat()},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    assert made.json()["source"] == "api" and made.json()["started"]
    with workspace.db.session() as session:
        assert not any(h.waiting_for for h in held(session, workspace.policy.policy, waiting))


def test_appi_21a_a_notice_marked_done_over_http_is_no_longer_overdue(
    api: tuple[TestClient, dict[str, str]], workspace: Workspace
) -> None:
    from mamoru.audit.query import entries_for
    from mamoru.ledger.acquisition import AcquisitionIn, acquire

    client, headers = api
    client.post("/api/v1/ledger", json=ENTRY, headers=headers)
    channel = {
        "id": "ch-bought",
        "name": "Purchased survey panel",
        "ledger_code": "L-survey",
        "source_type": "third_party",
        "notice_in_advance": False,
    }
    assert client.post("/api/v1/channels", json=channel, headers=headers).status_code == 201
    client.post("/api/v1/channels/ch-bought/attest", headers=headers)
    assert client.post("/api/v1/channels/ch-bought/activate", headers=headers).json()["active"] is True
    with workspace.db.session() as session:  # acquired ten days ago, so the notice (due on day 5) is late
        row = acquire(
            session,
            workspace.vault,
            workspace.policy.policy,
            AcquisitionIn(
                channel_id="ch-bought",
                subject_kind="survey_respondent",
                values={"email": "panel@example.jp"},
                categories=["contact"],
                purposes=["research"],
                receipt_recorded=True,  # its confirmation on receipt (APPI Art. 30) is not this test's subject
            ),
            actor="staff:po01",
            now=datetime.now(UTC) - timedelta(days=10),
            notice_days=5,
        )
        acquisition_id, subject = row.id, row.subject_id
    (owed,) = client.get("/api/v1/notices-due", headers=headers).json()
    assert owed["acquisition_id"] == acquisition_id and owed["overdue"] is True
    assert client.post(f"/api/v1/acquisitions/{acquisition_id}/notified").status_code == 401

    done = client.post(f"/api/v1/acquisitions/{acquisition_id}/notified", headers=headers)
    assert done.status_code == 200
    assert done.json()["overdue"] is False and done.json()["notified_at"] is not None
    assert client.get("/api/v1/notices-due", headers=headers).json() == []
    again = client.post(f"/api/v1/acquisitions/{acquisition_id}/notified", headers=headers)
    assert again.json()["notified_at"] == done.json()["notified_at"]
    with workspace.db.session() as session:
        audited = [
            e for e in entries_for(session, "subject", subject) if e.body["action"] == "acquisition.notified"
        ]
    assert len(audited) == 1 and audited[0].body["actor"] == f"staff:{FIRST_LOGIN}"
    assert client.post("/api/v1/acquisitions/999999/notified", headers=headers).status_code == 404
