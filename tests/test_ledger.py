"""The ledger (JIS-1), acquisition (APPI-20a, 20b, 21a, 21b), consents, retention and disposal (APPI-22)."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from mamoru.errors import Invalid
from mamoru.ledger import entries as ledger
from mamoru.ledger.acquisition import (
    AcquisitionIn,
    SourceType,
    SpecialCareException,
    acquire,
    activate_channel,
    attest_channel,
    create_channel,
    is_overdue,
    mark_notified,
    notifications_due,
)
from mamoru.ledger.consent import ConsentScope, consents_in_force, give_consent, withdraw_consent
from mamoru.ledger.errors import AcquisitionRefused, NothingToNotify
from mamoru.ledger.retention import due_for_disposal, sweep
from mamoru.ledger.tables import DisposalRecord
from mamoru.policy.service import current_notice
from mamoru.vault.service import SubjectErased
from mamoru.words import word
from mamoru.workspace import Workspace

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ACTOR = "staff:po01"


def entry_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": "L-hr",
        "name": "人事給与システム",
        "data_items": ["identity", "contact", "health"],
        "purposes": ["personnel"],
        "storage_location": "人事給与システム",
        "storage_method": "暗号化データベース",
        "access_roles": ["department_user:human_resources"],
        "use_until": "退職まで",
        "retention_rule": "personnel_records",
        "subject_kinds": ["employee", "applicant"],
    }
    data.update(changes)
    return data


def setup_channel(
    ws: Workspace,
    *,
    source: SourceType | None = SourceType.DIRECT_WRITTEN,
    in_advance: bool = True,
    **entry: Any,
) -> None:
    with ws.db.session() as session:
        ledger.create_entry(session, ws.policy.policy, entry_data(**entry), ACTOR)
        create_channel(
            session,
            channel_id="ch-hr",
            name="採用応募フォーム",
            ledger_code=entry.get("code", "L-hr"),
            source_type=source,
            notice_in_advance=in_advance,
            actor=ACTOR,
        )
        attest_channel(session, "ch-hr", actor="staff:pm01", now=NOW)
        activate_channel(session, "ch-hr", actor="staff:pm01")


def notice_id(ws: Workspace) -> int:
    with ws.db.session() as session:
        notice = current_notice(session)
        assert notice is not None
        return notice.id


def person(**changes: Any) -> AcquisitionIn:
    data: dict[str, Any] = {
        "channel_id": "ch-hr",
        "subject_kind": "applicant",
        "values": {"name": "試験 花子", "email": "hanako@example.jp"},
        "categories": ["identity", "contact"],
        "purposes": ["personnel"],
    }
    data.update(changes)
    return AcquisitionIn(**data)


# --- JIS-1 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "column", ["data_items", "purposes", "storage_location", "storage_method", "access_roles", "use_until"]
)
def test_jis_1_entry_missing_a_required_column_is_invalid(workspace: Workspace, column: str) -> None:
    data = entry_data()
    del data[column]
    with pytest.raises(Invalid) as caught:
        ledger.validate_entry(data, workspace.policy.policy)
    assert column in {p.field for p in caught.value.problems}


def test_jis_1_entry_without_any_retention_is_invalid(workspace: Workspace) -> None:
    with pytest.raises(Invalid, match="retention"):
        ledger.validate_entry(entry_data(retention_rule=None), workspace.policy.policy)


def test_appi_17a_ledger_entry_without_a_purpose_is_invalid(workspace: Workspace) -> None:
    with pytest.raises(Invalid, match="purposes"):
        ledger.validate_entry(entry_data(purposes=[]), workspace.policy.policy)


def test_jis_1_entry_naming_undeclared_categories_or_purposes_is_invalid(workspace: Workspace) -> None:
    with pytest.raises(Invalid) as caught:
        ledger.validate_entry(
            entry_data(data_items=["blood_type"], purposes=["marketing"]), workspace.policy.policy
        )
    fields = {p.field for p in caught.value.problems}
    assert {"data_items", "purposes"} <= fields


def test_jis_1_entry_not_reviewed_in_365_days_is_flagged(workspace: Workspace) -> None:
    with workspace.db.session() as session:
        row = ledger.create_entry(session, workspace.policy.policy, entry_data(), ACTOR)
        assert ledger.status(row, workspace.policy.policy, NOW).review_overdue  # never reviewed
        ledger.review_entry(session, "L-hr", "staff:pm01", NOW - timedelta(days=365))
        assert not ledger.status(row, workspace.policy.policy, NOW).review_overdue
        ledger.review_entry(session, "L-hr", "staff:pm01", NOW - timedelta(days=366))
        assert ledger.status(row, workspace.policy.policy, NOW).review_overdue


def test_jis_1_status_derives_special_care_and_my_number(workspace: Workspace) -> None:
    with workspace.db.session() as session:
        row = ledger.create_entry(session, workspace.policy.policy, entry_data(), ACTOR)
        status = ledger.status(row, workspace.policy.policy, NOW)
    assert status.special_care and not status.my_number and status.missing == ()


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_jis_1_ledger_exports_to_csv_and_excel_with_every_column(workspace: Workspace, lang: str) -> None:
    from openpyxl import load_workbook

    with workspace.db.session() as session:
        ledger.create_entry(
            session,
            workspace.policy.policy,
            entry_data(acquisition_method="direct_written", medium="electronic"),
            ACTOR,
        )
        rows = ledger.list_entries(session)
        text = ledger.export_csv(rows, workspace.policy.policy, lang, NOW)
        book = load_workbook(io.BytesIO(ledger.export_xlsx(rows, workspace.policy.policy, lang, NOW)))
    headers = [word(f"ledger_col_{key}", lang) for key in ledger.COLUMNS]
    assert text.startswith("\ufeff") and text.splitlines()[0].lstrip("\ufeff") == ",".join(headers)
    sheet = book.active
    assert sheet is not None
    assert [c.value for c in sheet[1]] == headers
    assert sheet.cell(row=2, column=1).value == "L-hr"
    assert "人事給与システム" in text
    # who may open it, how it came in and what it is kept on: in words, not codes
    assert not re.search(r"department_user|human_resources|direct_written|electronic", text), text
    assert word("dept_human_resources", lang) in text and word("ledger_source_direct_written", lang) in text


# --- APPI-20a/b, 21a/b: acquisition --------------------------------------------------------------


def test_appi_20a_channel_without_source_type_cannot_go_live(workspace: Workspace) -> None:
    with workspace.db.session() as session:
        ledger.create_entry(session, workspace.policy.policy, entry_data(), ACTOR)
        create_channel(
            session,
            channel_id="ch-x",
            name="x",
            ledger_code="L-hr",
            source_type=None,
            notice_in_advance=True,
            actor=ACTOR,
        )
        attest_channel(session, "ch-x", actor="staff:pm01", now=NOW)
        with pytest.raises(Invalid, match="source_type"):
            activate_channel(session, "ch-x", actor="staff:pm01")


def test_appi_20a_channel_without_legality_attestation_cannot_go_live(workspace: Workspace) -> None:
    with workspace.db.session() as session:
        ledger.create_entry(session, workspace.policy.policy, entry_data(), ACTOR)
        create_channel(
            session,
            channel_id="ch-x",
            name="x",
            ledger_code="L-hr",
            source_type=SourceType.THIRD_PARTY,
            notice_in_advance=True,
            actor=ACTOR,
        )
        with pytest.raises(Invalid, match="legality"):
            activate_channel(session, "ch-x", actor="staff:pm01")


def test_appi_20b_special_care_without_prior_consent_is_refused_and_nothing_is_stored(
    workspace: Workspace,
) -> None:
    setup_channel(workspace)
    with pytest.raises(AcquisitionRefused, match=r"Art\. 20"), workspace.db.session() as session:
        acquire(
            session,
            workspace.vault,
            workspace.policy.policy,
            person(
                categories=["identity", "health"],
                values={"name": "試験 花子", "medical_history": "喘息"},
                notice_shown=notice_id(workspace),
            ),
            actor=ACTOR,
            now=NOW,
        )
    with workspace.db.session() as session:
        assert due_for_disposal(session, date(2100, 1, 1)) == []
        assert notifications_due(session, NOW.date()) == []


def test_appi_20b_special_care_with_a_consent_given_before_is_accepted(workspace: Workspace) -> None:
    setup_channel(workspace)
    nid = notice_id(workspace)
    with workspace.db.session() as session:
        first = acquire(
            session, workspace.vault, workspace.policy.policy, person(notice_shown=nid), actor=ACTOR, now=NOW
        )
        give_consent(
            session,
            subject_id=first.subject_id,
            scope=ConsentScope.SPECIAL_CARE,
            channel="paper",
            evidence_ref="doc:consent-7",
            actor=ACTOR,
            now=NOW + timedelta(minutes=1),
        )
        later = acquire(
            session,
            workspace.vault,
            workspace.policy.policy,
            person(
                subject_id=first.subject_id,
                categories=["health"],
                values={"medical_history": "喘息"},
                notice_shown=nid,
            ),
            actor=ACTOR,
            now=NOW + timedelta(minutes=2),
        )
        assert later.consent_id is not None
        with pytest.raises(AcquisitionRefused):
            acquire(
                session,
                workspace.vault,
                workspace.policy.policy,
                person(
                    subject_id=first.subject_id,
                    categories=["health"],
                    values={"checkup": "要再検査"},
                    notice_shown=nid,
                ),
                actor=ACTOR,
                now=NOW,  # before the consent was given
            )


def test_appi_20b_a_special_care_field_is_refused_whatever_categories_the_caller_declares(
    workspace: Workspace,
) -> None:
    setup_channel(workspace)
    nid = notice_id(workspace)
    # The caller declares only identity and contact; what it writes is a medical history.
    sneaked = person(values={"name": "試験 花子", "medical_history": "喘息"}, notice_shown=nid)
    with pytest.raises(AcquisitionRefused, match=r"Art\. 20"), workspace.db.session() as session:
        acquire(session, workspace.vault, workspace.policy.policy, sneaked, actor=ACTOR, now=NOW)
    with workspace.db.session() as session:
        assert due_for_disposal(session, date(2100, 1, 1)) == []


def test_appi_20b_a_field_without_a_category_or_outside_the_ledger_entry_is_refused(
    workspace: Workspace,
) -> None:
    setup_channel(workspace, data_items=["identity", "contact"])  # this entry holds no health data
    nid = notice_id(workspace)
    for values, said in (
        ({"name": "試験 花子", "diagnosis_note": "喘息"}, "no category"),
        ({"name": "試験 花子", "checkup": "要再検査"}, "not an item of ledger entry"),
    ):
        with pytest.raises(Invalid, match=said) as caught, workspace.db.session() as session:
            acquire(
                session,
                workspace.vault,
                workspace.policy.policy,
                person(values=values, notice_shown=nid),
                actor=ACTOR,
                now=NOW,
            )
        assert {p.field for p in caught.value.problems} == {"values"}
        assert "喘息" not in str(caught.value) and "要再検査" not in str(caught.value)
    with workspace.db.session() as session:
        assert due_for_disposal(session, date(2100, 1, 1)) == []


def test_appi_20b_a_consented_special_care_field_is_recorded_under_its_own_category(
    workspace: Workspace,
) -> None:
    setup_channel(workspace)
    nid = notice_id(workspace)
    with workspace.db.session() as session:
        first = acquire(
            session, workspace.vault, workspace.policy.policy, person(notice_shown=nid), actor=ACTOR, now=NOW
        )
        give_consent(
            session,
            subject_id=first.subject_id,
            scope=ConsentScope.SPECIAL_CARE,
            channel="paper",
            evidence_ref="doc:consent-8",
            actor=ACTOR,
            now=NOW + timedelta(minutes=1),
        )
        later = acquire(
            session,
            workspace.vault,
            workspace.policy.policy,
            person(
                subject_id=first.subject_id,
                categories=["contact"],
                values={"checkup": "異常なし"},
                notice_shown=nid,
            ),
            actor=ACTOR,
            now=NOW + timedelta(minutes=2),
        )
        assert later.consent_id is not None and later.categories == ["contact", "health"]


def test_appi_20b_special_care_under_a_statutory_exception_needs_a_justification(
    workspace: Workspace,
) -> None:
    setup_channel(workspace)
    nid = notice_id(workspace)
    base = person(
        categories=["health"],
        values={"checkup": "異常なし"},
        notice_shown=nid,
        exception_code=SpecialCareException.LAW,
    )
    with pytest.raises(Invalid, match="justification"), workspace.db.session() as session:
        acquire(session, workspace.vault, workspace.policy.policy, base, actor=ACTOR, now=NOW)
    base.exception_justification = "労働安全衛生法第66条の健康診断"
    with workspace.db.session() as session:
        row = acquire(session, workspace.vault, workspace.policy.policy, base, actor=ACTOR, now=NOW)
        assert row.exception_code == "law"


def test_appi_21a_no_notice_in_advance_creates_a_notification_task_overdue_on_day_n_plus_1(
    workspace: Workspace,
) -> None:
    setup_channel(workspace, source=SourceType.THIRD_PARTY, in_advance=False)
    with workspace.db.session() as session:
        from dataclasses import replace

        # From another business: its confirmation on receipt is recorded (APPI Art. 30, tests/test_provision.py).
        received = replace(person(), receipt_recorded=True)
        row = acquire(
            session, workspace.vault, workspace.policy.policy, received, actor=ACTOR, now=NOW, notice_days=5
        )
        assert row.notice_id is None and row.notification_due == NOW.date() + timedelta(days=5)
        (task,) = notifications_due(session, NOW.date())
        assert not is_overdue(task, NOW.date() + timedelta(days=5))
        assert is_overdue(task, NOW.date() + timedelta(days=6))


def test_appi_21a_notice_published_in_advance_is_recorded_with_its_version(workspace: Workspace) -> None:
    setup_channel(workspace, source=SourceType.DIRECT_OTHER, in_advance=True)
    with workspace.db.session() as session:
        row = acquire(session, workspace.vault, workspace.policy.policy, person(), actor=ACTOR, now=NOW)
        assert row.notice_id == notice_id(workspace) and row.notification_due is None


def test_appi_21a_an_acquisition_under_a_notice_in_advance_has_no_notice_to_mark(
    workspace: Workspace,
) -> None:
    setup_channel(workspace, source=SourceType.DIRECT_OTHER, in_advance=True)
    with workspace.db.session() as session:
        row = acquire(session, workspace.vault, workspace.policy.policy, person(), actor=ACTOR, now=NOW)
        with pytest.raises(NothingToNotify):
            mark_notified(session, row.id, actor=ACTOR, now=NOW)
        assert row.notified_at is None


def test_appi_21b_written_acquisition_without_the_notice_version_shown_is_rejected(
    workspace: Workspace,
) -> None:
    setup_channel(workspace, source=SourceType.DIRECT_WRITTEN)
    with pytest.raises(AcquisitionRefused, match="purpose_version_shown"), workspace.db.session() as session:
        acquire(session, workspace.vault, workspace.policy.policy, person(), actor=ACTOR, now=NOW)
    with workspace.db.session() as session:
        row = acquire(
            session,
            workspace.vault,
            workspace.policy.policy,
            person(notice_shown=notice_id(workspace)),
            actor=ACTOR,
            now=NOW,
        )
        assert row.notice_id == notice_id(workspace) and row.purposes_notified == ["personnel"]


def test_acquisition_outside_the_ledger_entry_is_refused(workspace: Workspace) -> None:
    setup_channel(workspace)
    with pytest.raises(Invalid) as caught, workspace.db.session() as session:
        acquire(
            session,
            workspace.vault,
            workspace.policy.policy,
            person(purposes=["services"], categories=["payment"], notice_shown=notice_id(workspace)),
            actor=ACTOR,
            now=NOW,
        )
    assert {"purposes", "categories"} <= {p.field for p in caught.value.problems}


# --- consents --------------------------------------------------------------------------------


def test_consent_withdrawal_is_effective_at_once(workspace: Workspace) -> None:
    setup_channel(workspace)
    with workspace.db.session() as session:
        row = acquire(
            session,
            workspace.vault,
            workspace.policy.policy,
            person(notice_shown=notice_id(workspace)),
            actor=ACTOR,
            now=NOW,
        )
        consent = give_consent(
            session,
            subject_id=row.subject_id,
            scope=ConsentScope.BEYOND_PURPOSE,
            purpose="research",
            channel="web",
            evidence_ref="form:1",
            actor=ACTOR,
            now=NOW,
        )
        assert consents_in_force(
            session, row.subject_id, ConsentScope.BEYOND_PURPOSE, NOW, purpose="research"
        )
        withdraw_consent(session, consent.id, channel="web", actor=ACTOR, now=NOW + timedelta(seconds=1))
        assert not consents_in_force(
            session,
            row.subject_id,
            ConsentScope.BEYOND_PURPOSE,
            NOW + timedelta(seconds=1),
            purpose="research",
        )


def test_provision_consent_must_name_its_recipient_and_carry_evidence(workspace: Workspace) -> None:
    setup_channel(workspace)
    with workspace.db.session() as session:
        row = acquire(
            session,
            workspace.vault,
            workspace.policy.policy,
            person(notice_shown=notice_id(workspace)),
            actor=ACTOR,
            now=NOW,
        )
        with pytest.raises(Invalid) as caught:
            give_consent(
                session,
                subject_id=row.subject_id,
                scope=ConsentScope.THIRD_PARTY,
                channel="web",
                evidence_ref=" ",
                actor=ACTOR,
                now=NOW,
            )
    assert {"recipient", "evidence_ref"} <= {p.field for p in caught.value.problems}


# --- APPI-22: retention and disposal ---------------------------------------------------------


def test_appi_22_expired_records_are_queued_then_crypto_erased_with_a_disposal_record(
    workspace: Workspace,
) -> None:
    yesterday = NOW.date() - timedelta(days=1)
    setup_channel(workspace, retention_rule=None, retention_until=yesterday)
    with workspace.db.session() as session:
        row = acquire(
            session,
            workspace.vault,
            workspace.policy.policy,
            person(notice_shown=notice_id(workspace)),
            actor=ACTOR,
            now=NOW - timedelta(days=30),
        )
        subject = row.subject_id
        assert due_for_disposal(session, NOW.date()) == [subject]
    report = sweep(
        workspace.db,
        workspace.vault,
        workspace.policy.policy,
        actor="system:retention",
        today=NOW.date(),
        now=NOW,
    )
    assert report.subjects == [subject] and len(report.disposed) == 1
    with workspace.db.session() as session:
        with pytest.raises(SubjectErased):
            workspace.vault.decrypt(session, subject)
        (record,) = session.scalars(select(DisposalRecord))
        assert (record.method, record.reason, record.performed_by) == (
            "crypto_erase",
            "retention_expired",
            "system:retention",
        )
        assert record.ledger_entries == ["L-hr"]
        assert "花子" not in repr(vars(record)) and "hanako" not in repr(vars(record))
        assert due_for_disposal(session, NOW.date()) == []
    again = sweep(
        workspace.db,
        workspace.vault,
        workspace.policy.policy,
        actor="system:retention",
        today=NOW.date(),
        now=NOW,
    )
    assert again.disposed == []


def test_appi_22_records_within_retention_are_kept(workspace: Workspace) -> None:
    setup_channel(workspace, retention_rule="applicants")  # 6 months from acquisition
    with workspace.db.session() as session:
        row = acquire(
            session,
            workspace.vault,
            workspace.policy.policy,
            person(notice_shown=notice_id(workspace)),
            actor=ACTOR,
            now=NOW,
        )
        assert row.retain_until == date(2027, 5, 25)
        assert due_for_disposal(session, date(2027, 5, 25)) == []
        assert due_for_disposal(session, date(2027, 5, 26)) == [row.subject_id]
