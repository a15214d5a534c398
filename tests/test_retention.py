"""Retention that runs (APPI-22, APPI-29r, APPI-30r): events start their rules, single ledger entries and
fields end while the person stays, provision and receipt records are purged on their date."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mamoru.errors import Invalid, NotFound
from mamoru.ledger import entries as ledger
from mamoru.ledger.acquisition import SourceType, acquire, activate_channel, attest_channel, create_channel
from mamoru.ledger.retention import (
    EventKind,
    due_for_disposal,
    partly_due,
    record_event,
)
from mamoru.ledger.tables import Acquisition, DisposalRecord, RetentionEvent
from mamoru.transfers import expiry
from mamoru.transfers.records import (
    Basis,
    ProvisionIn,
    ReceiptIn,
    RecordMode,
    record_provision,
    record_receipt,
)
from mamoru.transfers.tables import ProvisionRecord, ReceiptRecord
from mamoru.vault.service import SubjectErased
from mamoru.workspace import Workspace
from tests.test_ledger import ACTOR, NOW, entry_data, notice_id, person, setup_channel

FAR = date(2100, 1, 1)


def _employee(ws: Workspace, *, at: datetime = NOW - timedelta(days=400)) -> str:
    """A person acquired under the personnel ledger entry, whose rule starts when employment ends."""
    setup_channel(ws)  # L-hr, personnel_records: 5 years from the end of employment
    with ws.db.session() as session:
        row = acquire(
            session,
            ws.vault,
            ws.policy.policy,
            person(notice_shown=notice_id(ws), subject_kind="employee"),
            actor=ACTOR,
            now=at,
        )
        return row.subject_id


def _sweep(ws: Workspace, today: date, **kw: bool) -> expiry.SweepReport:
    return expiry.sweep(
        ws.db, ws.vault, ws.policy.policy, actor="system:retention", today=today, now=NOW, **kw
    )


def test_appi_22_an_event_started_rule_never_runs_until_its_event_is_recorded_then_does(
    workspace: Workspace,
) -> None:
    subject = _employee(workspace)
    with workspace.db.session() as session:
        assert due_for_disposal(session, FAR) == []  # waiting for the end of employment
        result = record_event(
            session,
            workspace.policy.policy,
            subject,
            EventKind.END_OF_EMPLOYMENT,
            date(2026, 1, 31),
            actor=ACTOR,
            source="console",
            now=NOW,
        )
        # Five years from 31 January 2026, the day itself not counted, end on 31 January 2031.
        assert list(result.started.values()) == [date(2031, 1, 31)]
        assert due_for_disposal(session, date(2031, 1, 31)) == []
        assert due_for_disposal(session, date(2031, 2, 1)) == [subject]
    assert _sweep(workspace, date(2031, 1, 31)).subjects == []
    report = _sweep(workspace, date(2031, 2, 1))
    assert report.subjects == [subject] and len(report.disposed) == 1
    with workspace.db.session() as session, pytest.raises(SubjectErased):
        workspace.vault.decrypt(session, subject)


def test_appi_22_a_later_event_moves_the_end_later_and_data_acquired_after_the_event_waits(
    workspace: Workspace,
) -> None:
    subject = _employee(workspace)
    with workspace.db.session() as session:
        policy = workspace.policy.policy
        first = record_event(
            session,
            policy,
            subject,
            "end_of_employment",
            date(2026, 2, 28),
            actor=ACTOR,
            source="api",
            now=NOW,
        )
        assert list(first.started.values()) == [date(2031, 2, 28)]
        earlier = record_event(
            session,
            policy,
            subject,
            "end_of_employment",
            date(2026, 1, 5),
            actor=ACTOR,
            source="cli",
            now=NOW,
        )
        assert list(earlier.started.values()) == [date(2031, 2, 28)]  # never earlier
        later = acquire(
            session,
            workspace.vault,
            policy,
            person(notice_shown=notice_id(workspace), subject_id=subject, values={"phone": "03-0000-0000"}),
            actor=ACTOR,
            now=NOW,
        )
        again = record_event(
            session, policy, subject, "end_of_contract", date(2026, 3, 1), actor=ACTOR, source="api", now=NOW
        )
        assert again.started == {}  # no rule of this person starts at the end of a contract
        assert later.retain_until is None  # came in after the event: waits for the next one


@pytest.mark.parametrize(
    ("kind", "on", "subject", "field"),
    [
        ("end_of_employment", NOW.date() + timedelta(days=1), None, "occurred_on"),
        ("retired", NOW.date(), None, "kind"),
        ("end_of_employment", NOW.date(), "no-such-person", None),
    ],
)
def test_appi_22_a_wrong_event_is_refused_and_changes_nothing(
    workspace: Workspace, kind: str, on: date, subject: str | None, field: str | None
) -> None:
    real = _employee(workspace)
    with workspace.db.session() as session:
        expected = Invalid if field else NotFound
        with pytest.raises(expected) as caught:
            record_event(
                session,
                workspace.policy.policy,
                subject or real,
                kind,
                on,
                actor=ACTOR,
                source="api",
                now=NOW,
            )
        if field:
            assert field in {p.field for p in caught.value.problems}  # type: ignore[attr-defined]
    with workspace.db.session() as session:
        assert session.scalar(select(func.count()).select_from(RetentionEvent)) == 0
        assert session.scalar(select(Acquisition.retain_until)) is None


def _second_entry(ws: Workspace) -> None:
    """A second ledger entry for the same person: applications, erased 6 months after acquisition."""
    with ws.db.session() as session:
        ledger.create_entry(
            session,
            ws.policy.policy,
            entry_data(
                code="L-app", name="応募書類", data_items=["identity", "contact"], retention_rule="applicants"
            ),
            ACTOR,
        )
        create_channel(
            session,
            channel_id="ch-app",
            name="応募フォーム",
            ledger_code="L-app",
            source_type=SourceType.DIRECT_WRITTEN,
            notice_in_advance=True,
            actor=ACTOR,
        )
        attest_channel(session, "ch-app", actor="staff:pm01", now=NOW)
        activate_channel(session, "ch-app", actor="staff:pm01")


def test_appi_22_one_ledger_entry_and_its_fields_end_while_the_person_is_kept(workspace: Workspace) -> None:
    at = NOW - timedelta(days=400)
    subject = _employee(workspace, at=at)  # name and e-mail under L-hr: waits for the end of employment
    _second_entry(workspace)
    with workspace.db.session() as session:
        acquire(
            session,
            workspace.vault,
            workspace.policy.policy,
            person(
                channel_id="ch-app",
                subject_id=subject,
                values={"phone": "090-0000-0000"},
                categories=["contact"],
                notice_shown=notice_id(workspace),
            ),
            actor=ACTOR,
            now=at,
        )
    # Contact data also comes under L-hr, so phone stays: only what no live acquisition holds goes.
    with workspace.db.session() as session:
        (row,) = session.scalars(select(Acquisition).where(Acquisition.channel_id == "ch-hr"))
        row.categories = ["identity"]
    with workspace.db.session() as session:
        assert due_for_disposal(session, NOW.date()) == []
        (parts,) = partly_due(session, NOW.date()).values()
        assert len(parts) == 1
    report = _sweep(workspace, NOW.date())
    assert report.subjects == [] and report.partial == [subject] and len(report.disposed) == 1
    with workspace.db.session() as session:
        fields = set(workspace.vault.field_names(session, subject))
        assert "name" in fields and "phone" not in fields and "email" not in fields
        (record,) = session.scalars(select(DisposalRecord))
        assert (record.method, record.ledger_entries, record.categories) == (
            "field_delete",
            ["L-app"],
            ["contact"],
        )
        assert record.details["fields"] == ["email", "phone"]
        assert "090" not in repr(vars(record))
        assert partly_due(session, NOW.date()) == {}
    assert _sweep(workspace, NOW.date()).disposed == []  # idempotent


@pytest.mark.parametrize(
    ("mode", "created", "last", "kept_until"),
    [
        (RecordMode.EACH, date(2018, 2, 1), None, date(2021, 2, 1)),
        (RecordMode.CONTRACT_SUBSTITUTE, date(2025, 7, 1), date(2025, 6, 30), date(2026, 6, 30)),
        (RecordMode.BULK, date(2025, 12, 31), date(2025, 12, 31), date(2028, 12, 31)),
    ],
)
def test_appi_29r_provision_records_are_purged_by_the_sweep_on_their_date_with_a_disposal_record(
    workspace: Workspace, mode: RecordMode, created: date, last: date | None, kept_until: date
) -> None:
    with workspace.db.session() as session:
        row = record_provision(
            session,
            ProvisionIn(
                "s-1",
                "event_cosponsor",
                Basis.OPT_OUT,
                ["contact"],
                mode=mode,
                provided_on=last or created,
                period_first=last,
                period_last=last,
            ),
            actor=ACTOR,
            today=created,
        )
        assert row.purge_after == kept_until
    assert _sweep(workspace, kept_until, dry_run=False).records == []  # blocked on the last day kept
    report = _sweep(workspace, kept_until + timedelta(days=1))
    assert report.records == [f"provision_record:{row.id}"] and len(report.disposed) == 1
    with workspace.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ProvisionRecord)) == 0
        (record,) = session.scalars(select(DisposalRecord))
        assert (record.reason, record.subject_id, record.categories) == (
            "provision_record_expired",
            "s-1",
            ["contact"],
        )
        assert record.details == {
            "record": f"provision_record:{row.id}",
            "kept_until": kept_until.isoformat(),
        }


def test_appi_30r_a_receipt_record_is_kept_three_years_then_purged_by_the_sweep(workspace: Workspace) -> None:
    with workspace.db.session() as session:
        row = record_receipt(
            session,
            ReceiptIn(
                "s-3",
                Basis.CONSENT,
                ["contact"],
                "株式会社例示",
                "東京都千代田区1-1",
                "本人から書面で取得",
                "contract:2",
                provider_representative="代表取締役 例示太郎",
            ),
            actor=ACTOR,
            today=date(2025, 3, 1),
        )
        assert row.purge_after == date(2028, 3, 1)
        assert expiry.records_due(session, date(2028, 3, 1)) == []
        blocked = expiry.purge_record(
            session, f"receipt_record:{row.id}", actor=ACTOR, today=date(2028, 3, 1), now=NOW
        )
        assert blocked is None  # purging before the date is refused
    report = _sweep(workspace, date(2028, 3, 2))
    assert report.records == [f"receipt_record:{row.id}"]
    with workspace.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ReceiptRecord)) == 0
        (record,) = session.scalars(select(DisposalRecord))
        assert record.reason == "receipt_record_expired" and record.method == "delete"


def test_appi_22_an_operator_scripts_events_and_the_sweep_from_the_command_line(workspace: Workspace) -> None:
    import orjson
    from typer.testing import CliRunner

    from mamoru.cli.main import app

    subject = _employee(workspace)
    runner = CliRunner()
    future = runner.invoke(app, ["retention", "event", subject, "end_of_employment", "--on", "2999-01-01"])
    assert future.exit_code == 2 and "occurred_on" in future.output
    wrong = runner.invoke(app, ["retention", "event", subject, "end_of_employment", "--on", "31/01/2026"])
    assert wrong.exit_code == 2
    made = runner.invoke(
        app, ["retention", "event", subject, "end_of_employment", "--on", "2026-01-31", "--json"]
    )
    assert made.exit_code == 0, made.output
    assert list(orjson.loads(made.output)["started"].values()) == ["2031-01-31"]
    kept = runner.invoke(app, ["retention", "sweep", "--today", "2031-01-31", "--dry-run", "--json"])
    assert orjson.loads(kept.output)["due"] == []
    swept = runner.invoke(app, ["retention", "sweep", "--today", "2031-02-01", "--json"])
    assert swept.exit_code == 0 and orjson.loads(swept.output)["due"] == [subject]


def test_appi_22_events_from_a_connector_file_are_recorded_all_or_none(
    workspace: Workspace, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from mamoru.cli.main import app

    subject = _employee(workspace)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"subject_id,kind,occurred_on\n{subject},end_of_employment,2026-01-31\nno-one,end_of_contract,2026-01-31\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    refused = runner.invoke(app, ["retention", "import", str(bad), "--connector", "hr"])
    assert refused.exit_code == 2 and "rows.2.subject_id" in refused.output
    with workspace.db.session() as session:
        assert session.scalar(select(func.count()).select_from(RetentionEvent)) == 0
    good = tmp_path / "good.csv"
    good.write_text(
        f"subject_id,kind,occurred_on\n{subject},end_of_employment,2026-01-31\n", encoding="utf-8"
    )
    done = runner.invoke(app, ["retention", "import", str(good), "--connector", "hr"])
    assert done.exit_code == 0, done.output
    with workspace.db.session() as session:
        (event,) = session.scalars(select(RetentionEvent))
        assert event.source == "connector:hr"
        assert session.scalar(select(Acquisition.retain_until)) == date(2031, 1, 31)


def test_appi_22_the_demo_records_events_so_its_event_started_people_come_due(workspace: Workspace) -> None:
    from mamoru.demo import load_demo
    from mamoru.ledger.retention import held

    with workspace.db.session() as session:
        load_demo(session, workspace.vault, workspace.policy.policy, 3)
        ended = set(session.scalars(select(RetentionEvent.subject_id)))
        due = set(due_for_disposal(session, FAR))
        waiting = {
            s
            for s in session.scalars(select(Acquisition.subject_id))
            if any(h.waiting_for for h in held(session, workspace.policy.policy, s))
        }
    assert ended and ended <= due  # every person whose contract or employment ended comes due
    assert not ended & waiting and waiting  # the others are still customers, collaborators or staff
