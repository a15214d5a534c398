"""Data-subject requests: every kind end to end on the service layer, deadlines, verification, holds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import orjson
import pytest
from sqlalchemy import select

from mamoru.audit.query import entries_for
from mamoru.audit.tables import AuditEntry
from mamoru.demo import DemoPlan
from mamoru.errors import Invalid
from mamoru.guard.decision import Action, Reason
from mamoru.guard.service import decide_and_record
from mamoru.law.requests import RequestKind
from mamoru.ledger.tables import Cessation, DataSubject
from mamoru.requests import jobs, service
from mamoru.requests.service import (
    MAX_CODE_ATTEMPTS,
    Document,
    RequestConflict,
    RequestIn,
)
from mamoru.requests.status import Status
from mamoru.requests.tables import SubjectRequest
from mamoru.transfers.records import (
    Basis,
    ProvisionIn,
    ReceiptIn,
    record_provision,
    record_receipt,
)
from mamoru.workspace import Workspace
from tests.requests_helpers import (
    OFFICER,
    approve_and_run,
    load_office,
    package,
    package_json,
    person,
    submit,
    verified,
)


@pytest.fixture
def office(any_workspace: Workspace) -> tuple[Workspace, DemoPlan]:
    """The demo organization, on SQLite and on PostgreSQL."""
    return any_workspace, load_office(any_workspace)


def _request(ws: Workspace, request_id: str) -> SubjectRequest:
    with ws.db.session() as session:
        request = service.get(session, request_id)
        session.expunge(request)
        return request


def test_appi_33_disclosure_package_holds_exactly_the_subjects_data(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    customer = person(plan, "customer", 3)
    request_id = verified(ws, RequestKind.DISCLOSURE, customer.values["email"], lang="en")
    with ws.db.session() as session:
        service.approve(
            session, service.get(session, request_id), actor=OFFICER, now=datetime.now(UTC), fee_received=True
        )
    assert jobs.run(ws, request_id) == Status.COMPLETED
    data = package_json(ws, request_id)
    (subject,) = data["subjects"]
    assert subject["subject_id"] == customer.subject_id
    assert {f["field"]: f["value"] for f in subject["fields"]} == customer.values
    assert subject["acquisitions"] and subject["acquisitions"][0]["purposes"] == ["services"]
    # Nothing of anyone else, in any file of the package.
    files = package(ws, request_id)
    blob = b"".join(files.values()).decode("utf-8", "replace")
    for other in plan.all_people():
        if other.subject_id == customer.subject_id:
            continue
        for value in other.values.values():
            if len(value) >= 6 and value not in customer.values.values():
                assert value not in blob, f"{other.kind} value leaked into the package"
    assert _request(ws, request_id).outcome == "fulfilled"
    assert "letter-en.html" in files and "data.csv" in files


def test_appi_33_access_history_entries_carry_inclusion_proofs_that_verify(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    customer = person(plan, "customer", 1)
    with ws.db.session() as session:
        decide_and_record(
            session,
            ws.policy,
            actor="staff:sa01",
            purpose="services",
            subjects=[customer.subject_id],
            categories=["contact"],
            action=Action.READ,
            now=datetime.now(UTC),
        )
    request_id = verified(ws, RequestKind.ACCESS_HISTORY, customer.values["email"])
    approve_and_run(ws, request_id)
    history = package_json(ws, request_id)["access_history"]
    actors = {e["actor"] for e in history["entries"]}
    assert "staff:sa01" in actors and "system:demo" in actors
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from mamoru.audit.proofs import Checkpoint, InclusionProof

    public = load_pem_public_key(history["public_key_pem"].encode())
    for entry in history["entries"]:
        proof = entry["proof"]
        assert proof is not None
        rebuilt = InclusionProof(
            proof["seq"],
            bytes.fromhex(proof["leaf"]),
            bytes.fromhex(proof["entry_hash"]),
            Checkpoint.from_json(proof["checkpoint"]),
            [bytes.fromhex(p) for p in proof["path"]],
        )
        assert rebuilt.verify(public)  # type: ignore[arg-type]


def test_appi_33_subject_with_no_data_gets_the_no_data_held_letter(workspace: Workspace) -> None:
    request_id = verified(workspace, RequestKind.DISCLOSURE, "nobody@example.jp")
    approve_and_run(workspace, request_id)
    request = _request(workspace, request_id)
    assert request.outcome == "no_data" and request.subjects == []
    letter = package(workspace, request_id)["letter-ja.html"].decode()
    assert "保有個人データは存在しません" in letter
    assert "data.json" not in package(workspace, request_id)


def test_appi_33_refusal_without_a_ground_is_blocked(workspace: Workspace) -> None:
    request_id = verified(workspace, RequestKind.DISCLOSURE, "a@example.jp")
    with workspace.db.session() as session, pytest.raises(Invalid, match="ground"):
        service.refuse(
            session,
            workspace.vault,
            service.get(session, request_id),
            actor=OFFICER,
            ground="",
            reasons="業務に著しい支障",
            now=datetime.now(UTC),
        )
    with workspace.db.session() as session, pytest.raises(Invalid, match="ground"):
        service.refuse(
            session,
            workspace.vault,
            service.get(session, request_id),
            actor=OFFICER,
            ground="not_untrue",
            reasons="wrong ground for a disclosure",
            now=datetime.now(UTC),
        )
    assert _request(workspace, request_id).status == Status.VERIFIED


def test_appi_36_refusal_with_empty_reasons_is_blocked_and_a_full_one_is_explained(
    workspace: Workspace,
) -> None:
    request_id = verified(workspace, RequestKind.DISCLOSURE, "b@example.jp", lang="en")
    with workspace.db.session() as session, pytest.raises(Invalid, match="reasons"):
        service.refuse(
            session,
            workspace.vault,
            service.get(session, request_id),
            actor=OFFICER,
            ground="business_hindrance",
            reasons="   ",
            now=datetime.now(UTC),
        )
    with workspace.db.session() as session:
        service.refuse(
            session,
            workspace.vault,
            service.get(session, request_id),
            actor=OFFICER,
            ground="business_hindrance",
            reasons="The records are being migrated this week.",
            now=datetime.now(UTC),
        )
    jobs.run(workspace, request_id)
    letter = package(workspace, request_id)["letter-en.html"].decode()
    assert "Art. 33(2)(ii)" in letter and "being migrated" in letter
    assert _request(workspace, request_id).outcome == "refused"


def test_appi_33_5_provision_record_disclosure_lists_exactly_the_subjects_records(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    customer, other = person(plan, "customer", 0), person(plan, "customer", 1)
    today = date.today()
    with ws.db.session() as session:
        for recipient, subject in (
            ("event_cosponsor", customer),
            ("event_cosponsor", customer),
            ("event_cosponsor", other),
        ):
            record_provision(
                session,
                ProvisionIn(
                    subject.subject_id, recipient, Basis.CONSENT, ["identity", "contact"], consent_id=1
                ),
                actor=OFFICER,
                today=today,
            )
        record_receipt(
            session,
            ReceiptIn(
                customer.subject_id,
                Basis.CONSENT,
                ["contact"],
                "株式会社例示",
                "東京都千代田区1-1",
                "本人から書面で取得",
                "contract:2026-17",
                provider_representative="代表取締役 例示太郎",
            ),
            actor=OFFICER,
            today=today,
        )
    request_id = verified(ws, RequestKind.PROVISION_RECORD_DISCLOSURE, customer.values["email"])
    approve_and_run(ws, request_id, fee_received=True)
    data = package_json(ws, request_id)
    # The customer's two provisions and one receipt; the other customer's provision is not theirs.
    assert [r["subject_id"] for r in data["provision_records"]] == [customer.subject_id] * 2
    assert [r["subject_id"] for r in data["receipt_records"]] == [customer.subject_id]
    for record in data["provision_records"]:
        assert record["recipient"] and record["data_items"] and record["consent_obtained"]
    assert data["receipt_records"][0]["acquisition_history"] == "本人から書面で取得"


def test_appi_32b_purpose_notification_lists_only_that_subjects_purposes(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    researcher = person(plan, "survey_respondent")
    request_id = verified(ws, RequestKind.PURPOSE_NOTIFICATION, researcher.values["email"])
    approve_and_run(ws, request_id)
    purposes = [p["id"] for p in package_json(ws, request_id)["purposes"]]
    assert purposes == ["research"]
    letter = package(ws, request_id)["letter-ja.html"].decode()
    assert ws.policy.policy.purpose("research").text.ja in letter
    assert ws.policy.policy.purpose("services").text.ja not in letter


def test_appi_34_correction_changes_the_value_and_audits_keyed_hashes_only(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    customer = person(plan, "customer", 2)
    new_address = "東京都江東区東陽九丁目9番9号"
    request_id = verified(
        ws,
        RequestKind.CORRECTION,
        customer.values["email"],
        corrections=[{"field": "address", "value": new_address}],
    )
    approve_and_run(ws, request_id)
    with ws.db.session() as session:
        assert ws.vault.decrypt(session, customer.subject_id, ["address"]) == {"address": new_address}
        (event,) = [
            e
            for e in entries_for(session, "subject", customer.subject_id, limit=1000)
            if e.body["action"] == "request.correct"
        ]
    objects = event.body["objects"]
    before = ws.vault.keyed_hash("value:address", customer.values["address"])
    after = ws.vault.keyed_hash("value:address", new_address)
    assert f"before:{before}" in objects and f"after:{after}" in objects
    assert _request(ws, request_id).outcome == "fulfilled"


def test_appi_34_correction_of_an_item_we_do_not_keep_is_refused_at_intake(workspace: Workspace) -> None:
    with pytest.raises(Invalid, match=r"corrections\.0\.field"):
        submit(
            workspace,
            RequestKind.CORRECTION,
            "c@example.jp",
            corrections=[{"field": "shoe_size", "value": "27"}],
        )


def test_appi_35_erasure_crypto_erases_and_the_guard_then_refuses(office: tuple[Workspace, DemoPlan]) -> None:
    ws, plan = office
    customer = person(plan, "customer", 4)
    request_id = verified(ws, RequestKind.ERASE, customer.values["email"], grounds=["no_longer_needed"])
    approve_and_run(ws, request_id)
    with ws.db.session() as session:
        assert session.get(DataSubject, customer.subject_id).erased_at is not None  # type: ignore[union-attr]
        assert ws.vault.field_names(session, customer.subject_id) == []
        (decision,) = decide_and_record(
            session,
            ws.policy,
            actor="staff:sa01",
            purpose="services",
            subjects=[customer.subject_id],
            categories=["contact"],
            action=Action.READ,
            now=datetime.now(UTC),
        )
    assert decision.reasons == (Reason.SUBJECT_ERASED,)
    assert _request(ws, request_id).outcome == "fulfilled"


def test_appi_35_the_seven_grounds_and_a_ground_is_required(workspace: Workspace) -> None:
    from mamoru.law.requests import CessationGround

    # Art. 35's grounds by name: the four original ones and the three of the 2022 amendment.
    assert set(CessationGround) == {
        CessationGround.BEYOND_PURPOSE,
        CessationGround.IMPROPER_USE,
        CessationGround.IMPROPER_ACQUISITION,
        CessationGround.PROVISION_WITHOUT_CONSENT,
        CessationGround.NO_LONGER_NEEDED,
        CessationGround.REPORTABLE_BREACH,
        CessationGround.RIGHTS_HARMED,
    }
    with pytest.raises(Invalid, match="grounds"):
        submit(workspace, RequestKind.STOP_USE, "d@example.jp")


def test_appi_35_stop_use_and_stop_provision_bind_the_guard(office: tuple[Workspace, DemoPlan]) -> None:
    ws, plan = office
    customer = person(plan, "customer", 5)
    stop = verified(
        ws,
        RequestKind.STOP_USE,
        customer.values["email"],
        grounds=["rights_harmed"],
        purposes=["announcements"],
    )
    approve_and_run(ws, stop)
    halt = verified(
        ws, RequestKind.STOP_PROVISION, customer.values["email"], grounds=["provision_without_consent"]
    )
    approve_and_run(ws, halt)
    now = datetime.now(UTC)
    with ws.db.session() as session:
        kinds = {
            (c.kind, c.purpose, c.recipient)
            for c in session.scalars(select(Cessation).where(Cessation.subject_id == customer.subject_id))
        }
        assert kinds == {("stop_use", "announcements", None), ("stop_provision", None, None)}
        (use,) = decide_and_record(
            session,
            ws.policy,
            actor="staff:sa01",
            purpose="announcements",
            subjects=[customer.subject_id],
            categories=["contact"],
            action=Action.CONTACT,
            now=now,
        )
        (provide,) = decide_and_record(
            session,
            ws.policy,
            actor="staff:sa01",
            purpose="announcements",
            subjects=[customer.subject_id],
            categories=["contact"],
            action=Action.PROVIDE,
            recipient="event_cosponsor",
            now=now,
        )
    assert use.reasons == (Reason.USE_STOPPED,) and provide.reasons == (Reason.USE_STOPPED,)


def test_appi_36_erasure_of_data_under_a_statutory_hold_is_a_partial_refusal_with_the_law(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    employee = person(plan, "employee", 0)
    request_id = verified(
        ws, RequestKind.ERASE, employee.values["email"], grounds=["no_longer_needed"], lang="en"
    )
    approve_and_run(ws, request_id)
    assert _request(ws, request_id).outcome == "partial"
    with ws.db.session() as session:
        assert session.get(DataSubject, employee.subject_id).erased_at is None  # type: ignore[union-attr]
        assert ws.vault.field_names(session, employee.subject_id)  # kept: Labour Standards Act
    letter = package(ws, request_id)["letter-en.html"].decode()
    assert "Labour Standards Act" in letter


def test_appi_37_request_by_an_agent_without_proof_of_authority_stays_pending_verification(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    customer = person(plan, "customer", 6)
    request_id = verified(
        ws,
        RequestKind.DISCLOSURE,
        customer.values["email"],
        by_agent=True,
        agent_kind="appointed",
        agent_name="代理 太郎",
    )
    assert _request(ws, request_id).status == Status.PENDING_VERIFICATION
    with ws.db.session() as session, pytest.raises(RequestConflict):
        service.approve(session, service.get(session, request_id), actor=OFFICER, now=datetime.now(UTC))
    with ws.db.session() as session, pytest.raises(RequestConflict, match="no documents"):
        service.check_documents(
            session, service.get(session, request_id), actor=OFFICER, accept=True, now=datetime.now(UTC)
        )


def test_appi_37_agent_with_accepted_proof_of_authority_is_verified(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    customer = person(plan, "customer", 7)
    data = RequestIn(
        kind=RequestKind.DISCLOSURE,
        name="本人 花子",
        email=customer.values["email"],
        by_agent=True,
        agent_kind="legal_representative",
        agent_name="代理 太郎",
    )
    now = datetime.now(UTC)
    with ws.db.session() as session:
        done = service.submit(
            session,
            ws.vault,
            ws.policy.policy,
            ws.settings,
            data,
            now=now,
            documents=(Document("authority", "application/pdf", b"%PDF-1.4 power of attorney"),),
        )
        assert (
            service.verify_code(session, ws.vault, done.request, done.code, now=now, policy=ws.policy.policy)
            == "ok"
        )
        assert done.request.status == Status.PENDING_VERIFICATION
        service.check_documents(session, done.request, actor=OFFICER, accept=True, now=now)
        assert done.request.status == Status.VERIFIED


def test_appi_37_no_reason_is_asked_for() -> None:
    assert "reason" not in RequestIn.model_fields


def test_appi_38_fee_is_charged_on_disclosure_only_and_must_be_received_before_approval(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    customer = person(plan, "customer", 8)
    disclosure = verified(ws, RequestKind.DISCLOSURE, customer.values["email"])
    erase = verified(ws, RequestKind.ERASE, customer.values["email"], grounds=["no_longer_needed"])
    assert _request(ws, disclosure).fee_yen == ws.policy.policy.requests.fees[RequestKind.DISCLOSURE] > 0
    assert _request(ws, erase).fee_yen == 0
    with ws.db.session() as session, pytest.raises(Invalid, match="fee"):
        service.approve(session, service.get(session, disclosure), actor=OFFICER, now=datetime.now(UTC))
    approve_and_run(ws, disclosure, fee_received=True)
    assert _request(ws, disclosure).fee_status == "received"


def test_appi_39_untouched_request_escalates_on_day_10_and_breaches_on_day_14(workspace: Workspace) -> None:
    request_id, _, _ = submit(workspace, RequestKind.DISCLOSURE, "late@example.jp")
    received = _request(workspace, request_id).received_at
    with workspace.db.session() as session:
        assert service.sweep_deadlines(session, now=received + timedelta(days=9, hours=23)) == ([], [])
        assert service.sweep_deadlines(session, now=received + timedelta(days=10)) == ([request_id], [])
        assert service.sweep_deadlines(session, now=received + timedelta(days=13)) == ([], [])
        assert service.sweep_deadlines(session, now=received + timedelta(days=14)) == ([], [request_id])
        assert service.sweep_deadlines(session, now=received + timedelta(days=20)) == ([], [])
        actions = [e.body["action"] for e in _request_entries(session, request_id)]
    assert actions.count("request.escalated") == 1 and actions.count("request.deadline_breached") == 1


def _request_entries(session, request_id: str) -> list:  # type: ignore[no-untyped-def, type-arg]
    from mamoru.audit.entry import decode_leaf

    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
    entries = [decode_leaf(bytes(r.leaf), bytes(r.entry_hash)) for r in rows]
    return [e for e in entries if f"request:{request_id}" in e.body["objects"]]


def test_appi_39_acknowledgement_is_due_in_two_business_days() -> None:
    from mamoru.law.deadlines import clock_for

    friday = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    clock = clock_for(friday, ack_business_days=2, escalate_days=10, due_days=14)
    assert clock.acknowledge_by == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # Tuesday
    assert clock.escalate_at == friday + timedelta(days=10) and clock.due_at == friday + timedelta(days=14)


def test_wrong_codes_lock_the_request_after_the_limit(workspace: Workspace) -> None:
    request_id, _, code = submit(workspace, RequestKind.DISCLOSURE, "e@example.jp")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    now = datetime.now(UTC)
    with workspace.db.session() as session:
        request = service.get(session, request_id)
        results = [
            service.verify_code(
                session, workspace.vault, request, wrong, now=now, policy=workspace.policy.policy
            )
            for _ in range(MAX_CODE_ATTEMPTS)
        ]
        assert results[:-1] == ["wrong"] * (MAX_CODE_ATTEMPTS - 1) and results[-1] == "locked"
        # The right code no longer helps.
        assert (
            service.verify_code(
                session, workspace.vault, request, code, now=now, policy=workspace.policy.policy
            )
            == "locked"
        )
        assert request.status == Status.LOCKED


def test_an_expired_code_is_refused_and_a_new_one_works(workspace: Workspace) -> None:
    request_id, _, code = submit(workspace, RequestKind.DISCLOSURE, "f@example.jp")
    later = datetime.now(UTC) + timedelta(hours=1)
    with workspace.db.session() as session:
        request = service.get(session, request_id)
        assert (
            service.verify_code(
                session, workspace.vault, request, code, now=later, policy=workspace.policy.policy
            )
            == "expired"
        )
        fresh = service.new_code(session, workspace.vault, request, now=later)
        assert (
            service.verify_code(
                session, workspace.vault, request, fresh, now=later, policy=workspace.policy.policy
            )
            == "ok"
        )


def test_no_personal_value_of_a_request_reaches_the_database_rows_or_the_audit_log(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    customer = person(plan, "customer", 9)
    secret_name = "秘密 依頼者名"
    request_id = verified(
        ws,
        RequestKind.CORRECTION,
        customer.values["email"],
        name=secret_name,
        corrections=[{"field": "address", "value": "大阪府大阪市北区梅田七丁目7番7号"}],
    )
    approve_and_run(ws, request_id)
    with ws.db.session() as session:
        leaves = b"".join(bytes(r) for r in session.scalars(select(AuditEntry.leaf)))
        row = service.get(session, request_id)
        columns = orjson.dumps(
            {c.name: str(getattr(row, c.key)) for c in SubjectRequest.__table__.columns if c.name != "sealed"}
        )
    for value in (secret_name, customer.values["email"], "梅田七丁目", customer.values["address"]):
        assert value.encode() not in leaves
        assert value.encode() not in columns


def test_demo_requests_cover_every_state_and_outcome(workspace: Workspace) -> None:
    from mamoru.demo.requests import load_demo_requests

    plan = load_office(workspace)
    load_demo_requests(workspace, plan, datetime.now(UTC))
    with workspace.db.session() as session:
        rows = service.queue(session, include_closed=True)
    # Every state a request rests in ("approved" lasts only while its job runs; "needs_attention" only
    # when an organization datastore fails, and the demo reaches none).
    assert {r.status for r in rows} == {s.value for s in Status} - {Status.APPROVED, Status.NEEDS_ATTENTION}
    assert {r.outcome for r in rows if r.outcome} == {"fulfilled", "partial", "refused", "no_data"}
    assert any(r.escalated_at is not None and r.status != "completed" for r in rows)


def test_cli_lists_shows_and_runs_requests(workspace: Workspace) -> None:
    from typer.testing import CliRunner

    from mamoru.cli.main import app

    request_id = verified(workspace, RequestKind.PURPOSE_NOTIFICATION, "cli@example.jp")
    with workspace.db.session() as session:
        service.approve(session, service.get(session, request_id), actor=OFFICER, now=datetime.now(UTC))
    runner = CliRunner()
    listed = runner.invoke(app, ["requests", "list", "--json"])
    assert listed.exit_code == 0 and request_id in listed.output
    ran = runner.invoke(app, ["requests", "run"])
    assert ran.exit_code == 0 and f"{request_id}: completed" in ran.output
    shown = runner.invoke(app, ["requests", "show", _request(workspace, request_id).ref])
    assert shown.exit_code == 0 and '"outcome": "no_data"' in shown.output
    assert runner.invoke(app, ["requests", "sweep"]).exit_code == 0
    assert runner.invoke(app, ["requests", "show", "R00000000-NOPE"]).exit_code == 2


def test_every_opening_of_a_request_is_audited_with_who_and_what_but_no_value(workspace: Workspace) -> None:
    from mamoru.audit.query import entries_for
    from mamoru.requests import answer

    plan = load_office(workspace)
    customer = person(plan, "customer", 5)
    now = datetime.now(UTC)
    data = RequestIn(
        kind=RequestKind.DISCLOSURE,
        name="本人 花子",
        email=customer.values["email"],
        by_agent=True,
        agent_kind="legal_representative",
        agent_name="代理 太郎",
    )
    with workspace.db.session() as session:
        done = service.submit(
            session,
            workspace.vault,
            workspace.policy.policy,
            workspace.settings,
            data,
            now=now,
            documents=(Document("authority", "application/pdf", b"%PDF-1.4 power of attorney"),),
        )
        service.verify_code(
            session, workspace.vault, done.request, done.code, now=now, policy=workspace.policy.policy
        )
        service.check_documents(session, done.request, actor=OFFICER, accept=True, now=now)
        service.approve(session, done.request, actor=OFFICER, now=now, fee_received=True)
        request_id = done.request.id
    assert jobs.run(workspace, request_id) == Status.COMPLETED
    staff = "staff:viewer01"
    with workspace.db.session() as session:
        request = service.get(session, request_id)
        shown = answer.view(session, workspace.vault, request, actor=staff)
        assert shown.sealed["agent_name"] == "代理 太郎" and [d.kind for d in shown.documents] == [
            "authority"
        ]
        assert [s.name for s in shown.steps][-3:] == ["package", "notify", "complete"]
        doc = answer.open_document(session, workspace.vault, request_id, shown.documents[0].id, actor=staff)
        assert doc.content_type == "application/pdf" and doc.content.startswith(b"%PDF")
        assert "本人 花子" in answer.open_letter(session, workspace, request, actor=staff)
        assert answer.open_package(session, workspace, request, actor=answer.REQUESTER).startswith(b"PK")
    with workspace.db.session() as session:
        by_staff = entries_for(session, "actor", staff)
        by_requester = entries_for(session, "actor", answer.REQUESTER)
    assert [e.body["action"] for e in by_staff] == [
        "request.viewed",
        "request.document_viewed",
        "request.letter_downloaded",
    ]
    assert [e.body["action"] for e in by_requester] == ["request.package_downloaded"]
    for entry in [*by_staff, *by_requester]:
        assert entry.body["objects"] == [f"request:{request_id}"]
        text = str(entry.body)
        assert customer.values["email"] not in text and "花子" not in text and "太郎" not in text
    assert by_requester[0].body["subjects"] == [customer.subject_id]


def _hold_pseudonymized(ws: Workspace, subject_id: str, value: str) -> None:
    with ws.db.session() as session:
        ws.vault.store(session, subject_id, {"usage_segment": value})


def test_appi_41b_disclosure_leaves_pseudonymized_information_out_and_the_letter_says_why(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    customer = person(plan, "customer", 4)
    _hold_pseudonymized(ws, customer.subject_id, "segment-7f3a9c")
    request_id = verified(ws, RequestKind.DISCLOSURE, customer.values["email"], lang="en")
    with ws.db.session() as session:
        service.approve(
            session, service.get(session, request_id), actor=OFFICER, now=datetime.now(UTC), fee_received=True
        )
    assert jobs.run(ws, request_id) == Status.COMPLETED
    (subject,) = package_json(ws, request_id)["subjects"]
    # The person's other data is disclosed; the pseudonymized item is not (APPI Art. 42(2)).
    assert {f["field"]: f["value"] for f in subject["fields"]} == customer.values
    assert subject["pseudonymized_held"] is True
    files = package(ws, request_id)
    blob = b"".join(files.values()).decode("utf-8", "replace")
    assert "segment-7f3a9c" not in blob
    assert "Article 42" in files["letter-en.html"].decode()


def test_appi_41b_correction_leaves_pseudonymized_information_as_it_is(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    customer = person(plan, "customer", 5)
    _hold_pseudonymized(ws, customer.subject_id, "segment-1")
    new_address = "東京都江東区東陽八丁目8番8号"
    request_id = verified(
        ws,
        RequestKind.CORRECTION,
        customer.values["email"],
        corrections=[{"field": "address", "value": new_address}, {"field": "usage_segment", "value": "x"}],
    )
    approve_and_run(ws, request_id)
    with ws.db.session() as session:
        values = ws.vault.decrypt(session, customer.subject_id, ["address", "usage_segment"])
    assert values == {"address": new_address, "usage_segment": "segment-1"}
