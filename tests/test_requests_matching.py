"""Requests that find the person (APPI Art. 33): several identifiers by blind index, a confidence the office
sees, linking by hand (audited by ids), and an identity document where the match is weak or the data
special care-required."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from mamoru.audit.tables import AuditEntry
from mamoru.errors import Invalid
from mamoru.law.requests import RequestKind
from mamoru.ledger.tables import DataSubject
from mamoru.requests import answer, matching, service
from mamoru.requests.service import Document, RequestConflict, RequestIn
from mamoru.requests.status import Status
from mamoru.requests.tables import SubjectRequest
from mamoru.vault import crypto
from mamoru.vault.tables import SubjectField
from mamoru.workspace import Workspace
from tests.requests_helpers import IDENTITY_PDF, OFFICER

NOW = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
#: A person we hold without any e-mail address: name, date of birth, phone and a customer number.
NO_EMAIL = {
    "name": "山田 太郎",
    "birth_date": "1980-04-02",
    "phone": "03-5555-0101",
    "customer_number": "C-20481",
}


def _person(ws: Workspace, values: dict[str, str], kind: str = "customer") -> str:
    subject_id = str(uuid.uuid4())
    with ws.db.session() as session:
        session.add(DataSubject(id=subject_id, kind=kind, created_at=NOW))
        session.flush()
        ws.vault.store(session, subject_id, values, new=True)
    return subject_id


def _verified(ws: Workspace, email: str = "another@example.jp", **extra: Any) -> str:
    """Submit from an address we do not hold and enter the code; returns the request id."""
    data = RequestIn(
        kind=extra.pop("kind", RequestKind.DISCLOSURE),
        name=extra.pop("name", "山田太郎"),
        email=email,
        **extra,
    )
    with ws.db.session() as session:
        done = service.submit(session, ws.vault, ws.policy.policy, ws.settings, data, now=NOW)
        result = service.verify_code(
            session, ws.vault, done.request, done.code, now=NOW, policy=ws.policy.policy
        )
        assert result == "ok"
        return done.request.id


def _row(ws: Workspace, request_id: str) -> SubjectRequest:
    with ws.db.session() as session:
        row = service.get(session, request_id)
        session.expunge(row)
        return row


def _audit_bodies(ws: Workspace) -> list[dict[str, Any]]:
    from mamoru.audit.entry import decode_leaf

    with ws.db.session() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        return [decode_leaf(bytes(r.leaf), bytes(r.entry_hash)).body for r in rows]


def _candidate(ws: Workspace, request_id: str, subject_id: str) -> tuple[int, list[str]]:
    with ws.db.session() as session:
        found = {
            c.subject_id: (c.score, list(c.reasons))
            for c in service.candidates(session, service.get(session, request_id))
        }
    return found[subject_id]


def test_appi_33_a_person_with_no_email_on_file_is_found_by_phone(workspace: Workspace) -> None:
    subject = _person(workspace, NO_EMAIL)
    request_id = _verified(workspace, name="別の 名前", phone="０３（５５５５）０１０１")
    assert _row(workspace, request_id).subjects == [subject]
    score, reasons = _candidate(workspace, request_id, subject)
    assert reasons == ["phone"] and matching.confidence(score) is matching.Confidence.MEDIUM


def test_appi_33_a_person_with_no_email_on_file_is_found_by_name_and_date_of_birth(
    workspace: Workspace,
) -> None:
    subject = _person(workspace, NO_EMAIL)
    found = _verified(workspace, name="山田　太郎", birth_date=date(1980, 4, 2))
    assert _row(workspace, found).subjects == [subject]
    assert _candidate(workspace, found, subject)[1] == ["name_birth_date"]
    # The name alone, or the name with another birthday, finds nobody.
    assert _row(workspace, _verified(workspace, name="山田太郎")).subjects == []
    assert _row(workspace, _verified(workspace, name="山田太郎", birth_date=date(1980, 4, 3))).subjects == []


def test_appi_33_a_person_is_found_by_customer_or_staff_number(workspace: Workspace) -> None:
    customer = _person(workspace, NO_EMAIL)
    employee = _person(workspace, {"name": "佐藤 花子", "employee_number": "E00042"}, kind="employee")
    assert _row(workspace, _verified(workspace, member_number="c-20481")).subjects == [customer]
    assert _row(workspace, _verified(workspace, member_number="E00042")).subjects == [employee]


def test_appi_33_two_identifiers_that_agree_make_a_strong_match_without_a_document(
    workspace: Workspace,
) -> None:
    subject = _person(workspace, NO_EMAIL)
    request_id = _verified(workspace, phone="03-5555-0101", member_number="C-20481")
    row = _row(workspace, request_id)
    assert row.subjects == [subject] and row.identity_needs == [] and row.status == Status.VERIFIED
    assert matching.confidence(_candidate(workspace, request_id, subject)[0]) is matching.Confidence.STRONG


def test_appi_33_a_weak_match_needs_the_identity_document_checked_before_approval(
    workspace: Workspace,
) -> None:
    _person(workspace, NO_EMAIL)
    request_id = _verified(workspace, phone="03-5555-0101")
    row = _row(workspace, request_id)
    assert row.identity_needs == ["weak_match"] and row.status == Status.PENDING_VERIFICATION
    with workspace.db.session() as session:
        request = service.get(session, request_id)
        assert service.identity_status(session, request) == "needed"
        with pytest.raises(RequestConflict):
            service.approve(session, request, actor=OFFICER, now=NOW)
    with workspace.db.session() as session:
        request = service.get(session, request_id)
        service.add_document(
            session, workspace.vault, request, Document("identity", "application/pdf", IDENTITY_PDF), now=NOW
        )
        assert service.identity_status(session, request) == "sent"
        with pytest.raises(RequestConflict):
            service.approve(session, request, actor=OFFICER, now=NOW)
        service.check_documents(session, request, actor=OFFICER, accept=True, now=NOW)
        assert request.status == Status.VERIFIED
        service.approve(session, request, actor=OFFICER, now=NOW, fee_received=True)
        assert request.status == Status.APPROVED


def test_appi_33_special_care_data_needs_the_identity_document_even_when_the_email_matches(
    workspace: Workspace,
) -> None:
    _person(
        workspace,
        {"name": "鈴木 一郎", "email": "ichiro@example.jp", "medical_history": "既往歴あり"},
        "employee",
    )
    request_id = _verified(workspace, email="ichiro@example.jp")
    row = _row(workspace, request_id)
    assert row.identity_needs == ["special_care"] and row.status == Status.PENDING_VERIFICATION
    with workspace.db.session() as session, pytest.raises(RequestConflict):
        service.approve(session, service.get(session, request_id), actor=OFFICER, now=NOW, fee_received=True)


def test_appi_33_the_office_links_and_unlinks_by_hand_audited_by_ids_and_never_values(
    workspace: Workspace,
) -> None:
    wrong = _person(workspace, NO_EMAIL)
    right = _person(workspace, {"name": "山田 次郎", "address": "大阪府大阪市北区梅田一丁目1番1号"})
    request_id = _verified(workspace, name="山田 次郎", phone="03-5555-0101")
    assert _row(workspace, request_id).subjects == [wrong]
    with workspace.db.session() as session:
        request = service.get(session, request_id)
        service.unlink(
            session, workspace.vault, workspace.policy.policy, request, wrong, actor=OFFICER, now=NOW
        )
        assert request.subjects == [] and request.identity_needs == [] and request.status == Status.VERIFIED
        service.link(
            session, workspace.vault, workspace.policy.policy, request, right, actor=OFFICER, now=NOW
        )
        # Linked by hand: nothing the requester gave found this person, so a document is needed.
        assert request.subjects == [right] and request.identity_needs == ["weak_match"]
        assert request.status == Status.PENDING_VERIFICATION
    bodies = _audit_bodies(workspace)
    linked = [b for b in bodies if b["action"] == "request.subject_linked"]
    unlinked = [b for b in bodies if b["action"] == "request.subject_unlinked"]
    assert [(b["actor"], b["subjects"]) for b in linked] == [(OFFICER, [right])]
    assert [(b["actor"], b["subjects"]) for b in unlinked] == [(OFFICER, [wrong])]
    everything = repr(bodies)
    for value in ("山田", "5555", "0101", "1980-04-02", "C-20481", "梅田"):
        assert value not in everything
    with workspace.db.session() as session:
        columns = repr(
            {
                c.name: getattr(service.get(session, request_id), c.key)
                for c in SubjectRequest.__table__.columns
                if c.name != "sealed"
            }
        )
    for value in ("山田", "5555", "0101"):
        assert value not in columns


def test_appi_33_linking_refuses_an_unknown_person_and_a_decided_request(workspace: Workspace) -> None:
    subject = _person(workspace, NO_EMAIL)
    request_id = _verified(workspace, phone="03-5555-0101", member_number="C-20481")
    with workspace.db.session() as session:
        request = service.get(session, request_id)
        with pytest.raises(Invalid) as refused:
            service.link(
                session,
                workspace.vault,
                workspace.policy.policy,
                request,
                str(uuid.uuid4()),
                actor=OFFICER,
                now=NOW,
            )
        assert refused.value.problems[0].type == "subject_unknown"
        service.approve(session, request, actor=OFFICER, now=NOW, fee_received=True)
    with workspace.db.session() as session:
        request = service.get(session, request_id)
        with pytest.raises(RequestConflict):
            service.unlink(
                session, workspace.vault, workspace.policy.policy, request, subject, actor=OFFICER, now=NOW
            )
    assert not any(b["action"] == "request.subject_unlinked" for b in _audit_bodies(workspace))


def test_appi_33_matching_reads_blind_indexes_and_opens_no_stored_value(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    subject = _person(workspace, NO_EMAIL)
    with workspace.db.session() as session:
        indexed = dict(
            session.execute(
                select(SubjectField.field, SubjectField.blind_index).where(SubjectField.subject_id == subject)
            ).all()
        )
    assert all(indexed[f] for f in NO_EMAIL)

    def refuse(*_: object) -> str:
        raise AssertionError("matching opened a stored value")

    monkeypatch.setattr(crypto, "open_sealed", refuse)
    request_id = _verified(
        workspace, phone="03-5555-0101", birth_date=date(1980, 4, 2), member_number="C20481"
    )
    assert _row(workspace, request_id).subjects == [subject]


def test_appi_33_values_stored_before_the_upgrade_are_found_after_reindexing(workspace: Workspace) -> None:
    subject = _person(workspace, NO_EMAIL)
    with workspace.db.session() as session:
        for row in session.scalars(select(SubjectField).where(SubjectField.subject_id == subject)):
            if row.field in ("name", "birth_date", "customer_number"):
                row.blind_index = None
    assert _row(workspace, _verified(workspace, member_number="C-20481")).subjects == []
    with workspace.db.session() as session:
        assert workspace.vault.reindex(session) == 3
        assert workspace.vault.reindex(session) == 0
    assert _row(workspace, _verified(workspace, member_number="C-20481")).subjects == [subject]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("1980/4/2", "1980-04-02"),
        ("19800402", "1980-04-02"),
        ("1980年4月2日", "1980-04-02"),
        ("１９８０－０４－０２", "1980-04-02"),
    ],
)
def test_dates_of_birth_in_any_common_form_index_alike(workspace: Workspace, given: str, stored: str) -> None:
    assert workspace.vault.blind_index("birth_date", given) == workspace.vault.blind_index(
        "birth_date", stored
    )


# --- the pages -------------------------------------------------------------------------------------


def test_appi_33_portal_form_asks_for_the_identifiers_and_the_status_page_takes_the_document(
    workspace: Workspace,
) -> None:
    import re

    from fastapi.testclient import TestClient

    from mamoru.server import create_app

    _person(workspace, NO_EMAIL)
    data = RequestIn(
        kind=RequestKind.DISCLOSURE, name="山田 太郎", email="other@example.jp", phone="03-5555-0101"
    )
    with workspace.db.session() as session:
        done = service.submit(
            session, workspace.vault, workspace.policy.policy, workspace.settings, data, now=NOW
        )
        service.verify_code(
            session, workspace.vault, done.request, done.code, now=NOW, policy=workspace.policy.policy
        )
        token, request_id = done.status_token, done.request.id
    with TestClient(create_app(workspace)) as client:
        form = client.get("/requests/new?kind=erase&lang=ja").text
        for name in ("phone", "birth_date", "member_number", "identity_doc"):
            assert f'name="{name}"' in form
        assert "お客様番号又は社員番号" in form and "<script" not in form
        posted = client.post(
            "/requests?lang=ja",
            data={
                "csrf": re.search(r'name="csrf" value="([^"]+)"', form).group(1),  # type: ignore[union-attr]
                "kind": "erase",
                "name": "山田 太郎",
                "email": "third@example.jp",
                "grounds": "no_longer_needed",
                "birth_date": "1980-04-02",
                "member_number": "C-20481",
            },
            files={"identity_doc": ("id.pdf", IDENTITY_PDF, "application/pdf")},
            follow_redirects=False,
        )
        assert posted.status_code == 303
        with workspace.db.session() as session:
            newest = session.scalars(
                select(SubjectRequest).order_by(SubjectRequest.received_at.desc())
            ).first()
            assert newest is not None and set(newest.identifiers or {}) >= {"birth_date", "customer_number"}
            assert [d.kind for d in answer.documents_of(session, newest.id)] == ["identity"]
        status = client.get(f"/requests/status/{token}?lang=ja").text
        assert "本人確認書類が必要です" in status and 'action="/requests/status/' in status
        sent = client.post(
            f"/requests/status/{token}/document?lang=ja",
            files={"identity_doc": ("id.pdf", IDENTITY_PDF, "application/pdf")},
            follow_redirects=False,
        )
        assert sent.status_code == 303 and "rq_identity_doc_sent" in sent.headers["location"]
        wrong = client.post(
            f"/requests/status/{token}/document?lang=en",
            files={"identity_doc": ("id.txt", b"plain text", "text/plain")},
            follow_redirects=False,
        )
        assert wrong.status_code == 422 and "PDF, PNG or JPEG" in wrong.text
        assert re.search("has arrived and waits", client.get(f"/requests/status/{token}?lang=en").text)
    with workspace.db.session() as session:
        assert service.identity_status(session, service.get(session, request_id)) == "sent"


def test_appi_33_console_shows_candidates_in_words_and_links_by_hand(workspace: Workspace) -> None:
    from fastapi.testclient import TestClient

    from mamoru.server import create_app
    from tests.demo_copies import demo_copy
    from tests.test_console import PASSWORD, csrf_of, sign_in

    demo_copy(workspace, 8, password=PASSWORD)
    found = _person(workspace, NO_EMAIL)
    other = _person(workspace, {"name": "山田 次郎"})
    request_id = _verified(workspace, phone="03-5555-0101")
    with TestClient(create_app(workspace)) as client:
        assert sign_in(client, "pm01") == 303
        page = client.get(f"/console/requests/{request_id}?lang=ja").text
        assert found in page and "電話番号が一致" in page and "中程度" in page
        assert (
            "紐付けを外す" in page
            and "本人確認書類が必要です" in page
            and "ご本人との一致が十分でない" in page
        )
        csrf = csrf_of(page)
        unknown = client.post(
            f"/console/requests/{request_id}/link?lang=ja",
            data={"csrf": csrf, "subject_id": str(uuid.uuid4())},
            follow_redirects=True,
        )
        assert "この参照番号の本人は保有していません" in unknown.text
        linked = client.post(
            f"/console/requests/{request_id}/link?lang=en",
            data={"csrf": csrf, "subject_id": other},
            follow_redirects=True,
        )
        assert linked.status_code == 200 and "linked by hand by our staff" in linked.text
        empty = client.post(
            f"/console/requests/{request_id}/search?lang=ja", data={"csrf": csrf}, follow_redirects=True
        )
        assert "電話番号、氏名と生年月日、又はお客様番号・社員番号のいずれかを入力してください" in empty.text
        searched = client.post(
            f"/console/requests/{request_id}/search?lang=en",
            data={"csrf": csrf, "name": "山田 太郎", "birth_date": "1980-04-02"},
            follow_redirects=True,
        )
        assert "the name and the date of birth agree" in searched.text
    assert _row(workspace, request_id).subjects == [found, other]
    linked_entries = [b for b in _audit_bodies(workspace) if b["action"] == "request.subject_linked"]
    assert [(b["actor"], b["subjects"]) for b in linked_entries] == [("staff:pm01", [other])]


def test_appi_33_the_api_and_the_cli_show_candidates_and_link_by_hand(workspace: Workspace) -> None:
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from mamoru.cli.main import app
    from mamoru.server import create_app
    from tests.demo_copies import demo_copy
    from tests.tokens_helpers import bearer, staff_token, system_token

    demo_copy(workspace, 8)
    found = _person(workspace, NO_EMAIL)
    other = _person(workspace, {"name": "山田 次郎"})
    request_id = _verified(workspace, phone="03-5555-0101")
    office = bearer(staff_token(workspace, "pm01"), purpose="subject_request")
    call_centre = bearer(system_token(workspace, "callcentre", "requests"), purpose="subject_request")
    with TestClient(create_app(workspace)) as client:
        shown = client.get(f"/api/v1/requests/{request_id}/candidates", headers=call_centre)
        assert shown.status_code == 200
        body = shown.json()
        assert body["identity"] == "needed" and body["identity_needs"] == ["weak_match"]
        assert [
            (c["subject_id"], c["confidence"], c["reasons"], c["linked"]) for c in body["candidates"]
        ] == [(found, "medium", ["name", "phone"], True)]
        # Deciding who the request is about is the office's, not a system's.
        refused = client.post(
            f"/api/v1/requests/{request_id}/links", json={"subject_id": other}, headers=call_centre
        )
        assert refused.status_code == 403
        linked = client.post(
            f"/api/v1/requests/{request_id}/links", json={"subject_id": other}, headers=office
        )
        assert linked.status_code == 200 and {c["subject_id"] for c in linked.json()["candidates"]} == {
            found,
            other,
        }
        unknown = client.post(
            f"/api/v1/requests/{request_id}/links", json={"subject_id": str(uuid.uuid4())}, headers=office
        )
        assert unknown.status_code == 422
    runner = CliRunner()
    unlinked = runner.invoke(app, ["requests", "unlink", request_id, other, "--by", "staff:pm02"])
    assert unlinked.exit_code == 0, unlinked.output
    listed = runner.invoke(app, ["requests", "candidates", request_id])
    assert listed.exit_code == 0 and '"linked": false' in listed.output and "山田" not in listed.output
    assert (
        runner.invoke(app, ["requests", "link", request_id, "no-such-person", "--by", "staff:pm02"]).exit_code
        == 2
    )
    actions = [
        (b["action"], b["actor"])
        for b in _audit_bodies(workspace)
        if b["action"].startswith("request.subject_")
    ]
    assert actions == [("request.subject_linked", "staff:pm01"), ("request.subject_unlinked", "staff:pm02")]


def test_appi_33_the_office_searches_by_details_given_another_way_and_the_audit_keeps_no_value(
    workspace: Workspace,
) -> None:
    subject = _person(workspace, NO_EMAIL)
    request_id = _verified(workspace, name="名前 不明")
    assert _row(workspace, request_id).subjects == []
    with workspace.db.session() as session:
        request = service.get(session, request_id)
        with pytest.raises(Invalid) as refused:
            service.search_candidates(session, workspace.vault, request, actor=OFFICER, name="山田 太郎")
        assert refused.value.problems[0].type == "search_needs_identifier"
        found = service.search_candidates(
            session, workspace.vault, request, actor=OFFICER, name="山田太郎", birth_date=date(1980, 4, 2)
        )
        assert [(c.subject_id, c.reasons) for c in found] == [(subject, ["name_birth_date"])]
        assert request.subjects == []  # a candidate only: the office links by hand
        service.link(
            session, workspace.vault, workspace.policy.policy, request, subject, actor=OFFICER, now=NOW
        )
        assert request.subjects == [subject] and request.identity_needs == ["weak_match"]
    searched = [b for b in _audit_bodies(workspace) if b["action"] == "request.candidates_searched"]
    assert [(b["actor"], b["reasons"]) for b in searched] == [(OFFICER, ["found:1"])]
    assert "山田" not in repr(_audit_bodies(workspace)) and "1980" not in repr(searched)


def test_appi_33_approval_itself_refuses_a_request_whose_identity_document_is_not_accepted(
    workspace: Workspace,
) -> None:
    """Belt and braces: even a request marked verified (a status set by other means) is not approved while
    it needs an identity document nobody accepted."""
    _person(workspace, NO_EMAIL)
    request_id = _verified(workspace, phone="03-5555-0101")
    with workspace.db.session() as session:
        request = service.get(session, request_id)
        request.status = Status.VERIFIED.value
        with pytest.raises(RequestConflict, match="identity document"):
            service.approve(session, request, actor=OFFICER, now=NOW, fee_received=True)
