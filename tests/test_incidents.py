"""Incidents: the classifier's boundary vectors, the clock, the six stages, reports, notices, signals."""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from typing import Any

import orjson
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from mamoru.errors import Invalid
from mamoru.incidents import service as incidents
from mamoru.incidents import signals
from mamoru.incidents.service import ReportKind, Stage
from mamoru.incidents.tables import IncidentNotice
from mamoru.law.breach import BreachCategory, BreachFacts, MyNumberGround, classify, report_clock
from mamoru.outbox import send_due
from mamoru.workspace import Workspace
from tests.conftest import Inbox

AWARE = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("facts", "reportable", "categories"),
    [
        (BreachFacts(affected_count=1000), False, set()),
        (BreachFacts(affected_count=1001), True, {BreachCategory.OVER_THRESHOLD}),
        (BreachFacts(affected_count=1, special_care=True), True, {BreachCategory.SPECIAL_CARE}),
        (BreachFacts(affected_count=1, financial_risk=True), True, {BreachCategory.FINANCIAL}),
        (BreachFacts(affected_count=3, improper_purpose=True), True, {BreachCategory.IMPROPER_PURPOSE}),
        (BreachFacts(affected_count=10), False, set()),
        (BreachFacts(affected_count=10, suspected_only=True), False, set()),  # suspicion is no category
    ],
)
def test_appi_26a_reportable_breaches_by_the_rules(
    facts: BreachFacts, reportable: bool, categories: set[BreachCategory]
) -> None:
    c = classify(facts)
    assert c.reportable is reportable and set(c.categories) == categories


@pytest.mark.parametrize(
    "facts",
    [
        BreachFacts(affected_count=1, financial_risk=True),
        BreachFacts(affected_count=1, special_care=True),
        BreachFacts(affected_count=2, improper_purpose=True, my_number="yes"),
        BreachFacts(affected_count=1001),
        BreachFacts(affected_count=101, my_number="yes"),
        BreachFacts(affected_count=5000, encrypted=True),
    ],
    ids=["ii", "i", "iii-mn", "iv", "mn-over-100", "encrypted"],
)
def test_appi_26a_a_breach_that_may_have_occurred_counts_as_one_that_did(facts: BreachFacts) -> None:
    # The same facts, confirmed and only suspected (おそれ): the duty to report is the same, and the
    # classification says which, for the report.
    confirmed, suspected = classify(facts), classify(replace(facts, suspected_only=True))
    assert (suspected.reportable, suspected.categories) == (confirmed.reportable, confirmed.categories)
    assert (suspected.my_number_reportable, suspected.my_number_grounds, suspected.exemption) == (
        confirmed.my_number_reportable,
        confirmed.my_number_grounds,
        confirmed.exemption,
    )
    assert suspected.suspected_only and not confirmed.suspected_only


def test_appi_26a_a_suspected_financial_breach_of_one_person_is_reportable() -> None:
    c = classify(BreachFacts(affected_count=1, financial_risk=True, suspected_only=True))
    assert c.reportable and c.categories == {BreachCategory.FINANCIAL} and c.suspected_only
    # Confirming that nothing leaked ends the suspicion and the duty; the record stays.
    cleared = classify(
        BreachFacts(affected_count=1, financial_risk=True, suspected_only=True, not_a_leak=True)
    )
    assert not cleared.any_reportable and not cleared.suspected_only and cleared.exemption == "not_a_leak"


def test_appi_26a_more_than_1000_persons_is_reportable() -> None:
    assert not classify(BreachFacts(affected_count=1000)).reportable
    assert classify(BreachFacts(affected_count=1001)).reportable


def test_appi_26b_encryption_exempts_only_while_the_key_is_safe() -> None:
    exempt = classify(BreachFacts(affected_count=5000, encrypted=True))
    assert not exempt.reportable and exempt.exemption == "advanced_encryption"
    exposed = classify(BreachFacts(affected_count=5000, encrypted=True, key_compromised=True))
    assert exposed.reportable and exposed.exemption is None
    assert classify(BreachFacts(special_care=True, pseudonymized_only=True)).exemption == "pseudonymized"


def test_mn_9_more_than_100_persons_with_my_numbers_is_reportable() -> None:
    assert not classify(BreachFacts(affected_count=100, my_number="yes")).my_number_reportable
    over = classify(BreachFacts(affected_count=101, my_number="yes"))
    assert over.my_number_reportable and over.my_number_grounds == {MyNumberGround.OVER_THRESHOLD}
    assert not over.reportable  # 101 is far from the APPI's 1,000
    viewable = classify(BreachFacts(affected_count=1, my_number="yes", mn_publicly_viewable=True))
    assert viewable.my_number_reportable
    not_a_leak = classify(BreachFacts(affected_count=1, my_number="yes", not_a_leak=True))
    assert not not_a_leak.any_reportable and not_a_leak.exemption == "not_a_leak"


def test_appi_26c_the_clock_with_both_readings_of_the_final_deadline() -> None:
    k = report_clock(AWARE, improper_purpose=False)
    assert (k.prelim_warning, k.prelim_due) == (date(2026, 5, 4), date(2026, 5, 6))
    assert (k.final_conservative, k.final_lenient) == (date(2026, 5, 30), date(2026, 5, 31))
    k3 = report_clock(AWARE, improper_purpose=True)
    assert (k3.final_conservative, k3.final_lenient) == (date(2026, 6, 29), date(2026, 6, 30))


def _open(ws: Workspace, **fields: object):  # type: ignore[no-untyped-def]
    with ws.db.session() as session:
        incident = incidents.open_incident(
            session, ws.vault, aware_at=AWARE, actor="staff:pm01", now=AWARE + timedelta(hours=2), **fields
        )
        return incident.ref


def test_appi_26h_an_incident_cannot_be_closed_with_a_stage_empty(workspace: Workspace) -> None:
    ref = _open(workspace, overview="USBメモリの紛失", affected_count=10)
    with workspace.db.session() as session:
        incident = incidents.get(session, ref)
        for stage in list(Stage)[:-1]:
            incidents.complete_stage(
                session, workspace.vault, incident, stage, note="done", actor="staff:pm01", now=AWARE
            )
        with pytest.raises(Invalid, match="contact"):
            incidents.close(session, incident, actor="staff:pm01", now=AWARE)
        with pytest.raises(Invalid, match="note"):
            incidents.complete_stage(
                session, workspace.vault, incident, Stage.CONTACT, note=" ", actor="staff:pm01", now=AWARE
            )
        incidents.complete_stage(
            session,
            workspace.vault,
            incident,
            Stage.CONTACT,
            note="本人へ連絡済み",
            actor="staff:pm01",
            now=AWARE,
        )
        incidents.close(session, incident, actor="staff:pm01", now=AWARE)
        assert incident.status == "closed"


def test_appi_26d_final_report_needs_all_nine_items_and_a_preliminary_one_does_not(
    workspace: Workspace,
) -> None:
    ref = _open(
        workspace,
        overview="委託先サーバーへの不正アクセス",
        data_items="氏名、メールアドレス",
        affected_count=1500,
    )
    with workspace.db.session() as session:
        incident = incidents.get(session, ref)
        incidents.submit_report(
            session, workspace, incident, ReportKind.PPC_PRELIM, actor="staff:pm01", now=AWARE
        )
        with pytest.raises(Invalid, match="cause"):
            incidents.submit_report(
                session, workspace, incident, ReportKind.PPC_FINAL, actor="staff:pm01", now=AWARE
            )
        incidents.update(
            session,
            workspace.vault,
            incident,
            actor="staff:pm01",
            cause="脆弱性の放置",
            secondary_damage="なし",
            response_to_individuals="通知済み",
            publication="公表済み",
            prevention="パッチ適用の手順化",
            other="なし",
        )
        incidents.submit_report(
            session, workspace, incident, ReportKind.PPC_FINAL, actor="staff:pm01", now=AWARE
        )


def test_appi_26e_routing_sends_unknown_my_number_to_the_my_number_path_and_the_reporter_is_the_entity(
    workspace: Workspace,
) -> None:
    ref = _open(workspace, my_number="unknown", affected_count=2000)
    with workspace.db.session() as session:
        content = incidents.report_content(
            workspace, session, incidents.get(session, ref), ReportKind.PPC_PRELIM
        )
    assert content["routing"]["q1_contains_my_number"] == "yes"
    assert content["reporter_entity_name"] == workspace.policy.policy.organization.name.ja
    assert "staff:" not in orjson.dumps(content).decode()


def test_appi_26a_the_report_of_a_suspected_breach_says_it_may_have_occurred(workspace: Workspace) -> None:
    ref = _open(
        workspace, overview="不審なログイン", affected_count=1, financial_risk=True, suspected_only=True
    )
    with workspace.db.session() as session:
        incident = incidents.get(session, ref)
        content = incidents.report_content(workspace, session, incident, ReportKind.PPC_PRELIM)
        assert content["reportable"] and content["categories"] == ["ii"] and content["suspected_only"]
        incidents.submit_report(
            session, workspace, incident, ReportKind.PPC_PRELIM, actor="staff:pm01", now=AWARE
        )
        incidents.update(session, workspace.vault, incident, actor="staff:pm01", not_a_leak=True)
        cleared = incidents.report_content(workspace, session, incident, ReportKind.PMARK_FINAL)
    assert not cleared["reportable"] and not cleared["suspected_only"]


def test_jis_8_a_non_reportable_incident_still_gets_its_privacymark_report_due_at_30_days(
    workspace: Workspace,
) -> None:
    ref = _open(workspace, affected_count=10)
    with workspace.db.session() as session:
        incident = incidents.get(session, ref)
        assert not incidents.classification(incident).any_reportable
        (view,) = incidents.open_clocks(session, AWARE.date())
        assert view.state == "not_reportable" and view.pmark_state == "on_track"
        assert view.clock.final_lenient == AWARE.date() + timedelta(days=30)
        (late,) = incidents.open_clocks(session, AWARE.date() + timedelta(days=31))
        assert late.pmark_state == "final_overdue"
        with pytest.raises(Invalid, match="not reportable"):
            incidents.submit_report(
                session, workspace, incident, ReportKind.PPC_PRELIM, actor="staff:pm01", now=AWARE
            )
        incidents.submit_report(
            session, workspace, incident, ReportKind.PMARK_PRELIM, actor="staff:pm01", now=AWARE
        )


def test_appi_26c_stepping_the_clock_day_by_day(workspace: Workspace) -> None:
    _open(workspace, affected_count=1001)
    states = {}
    with workspace.db.session() as session:
        for day in (0, 2, 3, 5, 6, 24, 25, 29, 30):
            (view,) = incidents.open_clocks(session, AWARE.date() + timedelta(days=day))
            states[day] = view.state
    assert states == {
        0: "on_track",
        2: "on_track",
        3: "prelim_warning",
        5: "prelim_warning",
        6: "prelim_overdue",
        24: "prelim_overdue",
        25: "prelim_overdue",
        29: "prelim_overdue",
        30: "prelim_overdue",
    }


def test_appi_26f_notices_reach_every_affected_person_or_the_alternative_measure_covers_them(
    workspace: Workspace,
) -> None:
    from tests.requests_helpers import load_office

    plan = load_office(workspace)
    with_mail = [p for p in plan.subjects if "email" in p.values][:3]
    without = [p for p in plan.subjects if "email" not in p.values][:2]
    ref = _open(
        workspace,
        overview="誤送信",
        data_items="氏名・メールアドレス",
        affected_count=5,
        subjects=[p.subject_id for p in with_mail + without],
    )
    with workspace.db.session() as session:
        incident = incidents.get(session, ref)
        with pytest.raises(Invalid, match="cause"):
            incidents.notify_persons(session, workspace, incident, actor="staff:pm01", now=AWARE)
        incidents.update(
            session,
            workspace.vault,
            incident,
            actor="staff:pm01",
            cause="宛先の選択誤り",
            secondary_damage="確認されていません",
            other="窓口: 03-0000-0000",
        )
        result = incidents.notify_persons(
            session,
            workspace,
            incident,
            actor="staff:pm01",
            now=AWARE,
            alternative_url="https://example.jp/notice/2026-05",
        )
        rows = list(session.scalars(select(IncidentNotice).where(IncidentNotice.incident_id == incident.id)))
    assert sorted(result.emailed) == sorted(p.subject_id for p in with_mail)
    assert sorted(result.alternative) == sorted(p.subject_id for p in without) and result.uncovered == []
    assert {r.subject_id for r in rows} == {p.subject_id for p in with_mail + without}
    # One mail to each person with an address, and to no one else.
    assert len(send_due(workspace).sent) == len(with_mail)
    outbox = [message_from_bytes(f.read_bytes()) for f in workspace.settings.outbox.glob("*.eml")]
    assert sorted(m["To"] for m in outbox) == sorted(str(p.values["email"]) for p in with_mail)


def test_appi_35_a_subject_in_a_reportable_incident_gets_the_breach_ground_suggested(
    workspace: Workspace,
) -> None:
    _open(workspace, affected_count=1, special_care=True, subjects=["s-1"])
    _open(workspace, affected_count=1, subjects=["s-2"])
    with workspace.db.session() as session:
        found = incidents.reportable_subjects(session, ["s-1", "s-2", "s-3"])
    assert list(found) == ["s-1"]


def test_appi_35_the_breach_ground_is_found_in_sql_for_the_asked_subjects_only(workspace: Workspace) -> None:
    """The incidents are narrowed in the database (a request's page never reads every incident): an id
    that is a prefix of another, or that a LIKE would read as a pattern, finds only its own incident, and
    many ids at once are all looked for."""
    _open(workspace, affected_count=1, special_care=True, subjects=["s-10", "sx1", "customer:s-7"])
    _open(workspace, affected_count=1, special_care=True, subjects=["s_1"])
    many = [f"n-{i}" for i in range(250)]
    _open(workspace, affected_count=1, special_care=True, subjects=[many[-1]])
    with workspace.db.session() as session:
        assert incidents.reportable_subjects(session, ["s-1", "s", "s-7"]) == {}
        assert list(incidents.reportable_subjects(session, ["s_1"])) == ["s_1"]
        both = incidents.reportable_subjects(session, ["customer:s-7", "s-10"])
        assert sorted(both) == ["customer:s-7", "s-10"]
        assert list(incidents.reportable_subjects(session, many)) == [many[-1]]
        assert incidents.reportable_subjects(session, []) == {}


def test_signals_open_drafts_for_my_number_denials_and_an_unusual_read_volume(workspace: Workspace) -> None:
    from mamoru.audit.chain import append
    from mamoru.audit.entry import AuditEvent

    now = datetime.now(UTC)
    with workspace.db.session() as session:
        append(
            session,
            [
                AuditEvent(
                    actor="staff:sa01",
                    action="decision.read",
                    subjects=("s-9",),
                    decision="deny",
                    reasons=("my_number_not_handler",),
                )
            ],
        )
        for day in range(1, 6):  # a usual day: 3 people
            append(
                session,
                [
                    AuditEvent(
                        actor="staff:hr02",
                        action="decision.read",
                        subjects=tuple(f"h-{day}-{i}" for i in range(3)),
                        decision="allow",
                    )
                ],
                ts_us=int((now - timedelta(days=day)).timestamp() * 1_000_000),
            )
        append(
            session,
            [
                AuditEvent(
                    actor="staff:hr02",
                    action="decision.read",
                    subjects=tuple(f"x-{i}" for i in range(150)),
                    decision="allow",
                )
            ],
        )
        opened = signals.scan(session, workspace.vault, now=now)
        sources = sorted(i.source for i in opened)
        assert sources == ["signal:my_number_denied", "signal:read_volume"]
        assert all(i.status == "draft" for i in opened)
        assert signals.scan(session, workspace.vault, now=now) == []  # the cursor moved on


def test_signals_audit_failure_opens_a_draft(workspace: Workspace) -> None:
    from mamoru.audit.verification import VerifyReport

    bad = VerifyReport(
        ok=False, entries=10, checkpoints_checked=1, first_bad_seq=7, reason="hash mismatch", seconds=0.1
    )
    with workspace.db.session() as session:
        draft = signals.audit_failure(session, workspace.vault, bad, now=datetime.now(UTC))
        assert draft is not None and draft.source == "signal:audit_verify" and draft.status == "draft"


def test_appi_26c_the_api_and_the_console_show_the_warnings_on_the_right_dates(workspace: Workspace) -> None:
    from fastapi.testclient import TestClient

    from mamoru.people.auth import set_password
    from mamoru.server import create_app
    from tests.requests_helpers import load_office
    from tests.test_console import PASSWORD, csrf_of, sign_in
    from tests.tokens_helpers import bearer, staff_token

    load_office(workspace)
    with workspace.db.session() as session:
        set_password(session, "pm01", PASSWORD, actor="test")
    headers = bearer(staff_token(workspace, "pm01"))
    day0 = datetime.now(UTC) - timedelta(hours=1)
    with TestClient(create_app(workspace)) as client:
        created = client.post(
            "/api/v1/incidents",
            headers=headers,
            json={
                "aware_at": day0.isoformat(),
                "facts": {"affected_count": 1001, "overview": "名簿の誤送信"},
            },
        )
        assert created.status_code == 201, created.text
        ref = created.json()["ref"]
        assert created.json()["categories"] == ["iv"]
        expected = {0: "on_track", 3: "prelim_warning", 5: "prelim_warning", 6: "prelim_overdue"}
        for day, state in expected.items():
            at = (day0 + timedelta(days=day)).date().isoformat()
            (listed,) = client.get(f"/api/v1/incidents?at={at}", headers=headers).json()
            assert (listed["ref"], listed["ppc_state"]) == (ref, state), day
        assert sign_in(client, "pm01") == 303
        warning = client.get(f"/console/incidents?at={(day0 + timedelta(days=3)).date()}&lang=en")
        assert "preliminary report due soon" in warning.text
        overdue = client.get(f"/console/incidents?at={(day0 + timedelta(days=6)).date()}&lang=en")
        assert "preliminary report overdue" in overdue.text
        page = client.get(f"/console/incidents/{ref}?lang=en")
        assert page.status_code == 200 and "名簿の誤送信" in page.text
        assert "A preliminary report to the review body is due" in page.text  # JIS-8, category iv
        assert created.json()["privacymark_prelim_required"] is True
        done = client.post(
            f"/console/incidents/{ref}/stage?lang=en",
            data={"csrf": csrf_of(page.text), "stage": "escalation", "note": "保護管理者へ報告"},
            follow_redirects=False,
        )
        assert done.status_code == 303
        report = client.get(f"/api/v1/incidents/{ref}/reports/ppc_final", headers=headers).json()
        assert "cause" in report["missing"] and report["reporter_entity_name"]
        refused = client.post(f"/api/v1/incidents/{ref}/reports/ppc_final", headers=headers)
        assert refused.status_code == 422 and "cause" in refused.text
        assert client.post(f"/api/v1/incidents/{ref}/reports/ppc_prelim", headers=headers).status_code == 201
        html = client.get(f"/api/v1/incidents/{ref}/reports/ppc_prelim/html", headers=headers)
        assert "個人情報保護委員会への報告（速報）" in html.text
        assert client.post(f"/api/v1/incidents/{ref}/close", headers=headers).status_code == 422
        dashboard = client.get("/console/?lang=en")
        assert ref in dashboard.text


def test_demo_incidents_and_the_cli(workspace: Workspace) -> None:
    from typer.testing import CliRunner

    from mamoru.cli.main import app
    from mamoru.demo.incidents import load_demo_incidents
    from tests.requests_helpers import load_office

    plan = load_office(workspace)
    refs = load_demo_incidents(workspace, plan, datetime.now(UTC))
    runner = CliRunner()
    listed = runner.invoke(app, ["incidents", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    states = {r["ref"]: r["status"] for r in orjson.loads(listed.output)}
    assert set(states.values()) == {"draft", "open"} and len(states) == len(refs) - 1  # one is closed
    shown = runner.invoke(app, ["incidents", "show", refs[2]])
    assert shown.exit_code == 0 and '"ppc_prelim"' in shown.output
    html = runner.invoke(app, ["incidents", "report", refs[4], "pmark_final", "--format", "html"])
    assert html.exit_code == 0 and "プライバシーマーク事故報告" in html.output
    assert runner.invoke(app, ["incidents", "signals"]).exit_code == 0
    late = runner.invoke(
        app, ["incidents", "list", "--at", (datetime.now(UTC) + timedelta(days=90)).date().isoformat()]
    )
    assert late.exit_code == 1


def test_appi_26g_a_processor_breach_notice_opens_an_incident_draft(workspace: Workspace) -> None:
    from typer.testing import CliRunner

    from mamoru.cli.main import app

    result = CliRunner().invoke(
        app,
        [
            "transfers",
            "breach-notice",
            "hosting",
            "--aware-at",
            "2026-11-01T09:00+09:00",
            "--notified-at",
            "2026-11-08T09:00+09:00",
            "--by",
            "staff:pm01",
        ],
    )
    assert result.exit_code == 0 and "LATE" in result.output
    with workspace.db.session() as session:
        views = incidents.open_clocks(session, date(2026, 11, 8))
    assert [v.incident.source for v in views] == ["signal:processor_notice"]
    assert views[0].incident.processor == "hosting"


class _RefusingInbox(Inbox):
    """A real SMTP server that refuses one recipient for good (550), as a server does for a dead mailbox."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: set[str] = set()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refused:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_appi_26f_a_notice_batch_is_idempotent_per_person_and_one_refused_address_fails_only_its_notice(
    workspace: Workspace,
) -> None:
    from tests.requests_helpers import load_office

    plan = load_office(workspace)
    people = [p for p in plan.subjects if "email" in p.values][:4]
    bad, good = people[0], people[1:]
    ref = _open(
        workspace,
        overview="誤送信",
        data_items="氏名・メールアドレス",
        cause="宛先の選択誤り",
        secondary_damage="確認されていません",
        other="窓口: 03-0000-0000",
        affected_count=4,
        subjects=[p.subject_id for p in people],
    )
    inbox = _RefusingInbox()
    inbox.refused.add(str(bad.values["email"]))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    workspace.settings = workspace.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_timeout": 5}
    )

    def notify() -> list[str]:
        with workspace.db.session() as session:
            incident = incidents.get(session, ref)
            return incidents.notify_persons(
                session, workspace, incident, actor="staff:pm01", now=AWARE
            ).emailed

    def states() -> dict[str, str]:
        with workspace.db.session() as session:
            return incidents.notice_states(session, incidents.get(session, ref))

    def delivered() -> list[str]:
        return sorted(str(m["To"]) for m in inbox.messages)

    try:
        assert sorted(notify()) == sorted(p.subject_id for p in people)
        report = send_due(workspace)
        assert len(report.sent) == 3 and len(report.failed) == 1 and report.retrying == []
        assert delivered() == sorted(str(p.values["email"]) for p in good)
        assert states() == {bad.subject_id: "failed", **{p.subject_id: "sent" for p in good}}

        # A retry queues only the failed notice; the sent ones are never sent again.
        assert notify() == [bad.subject_id]
        assert len(send_due(workspace).failed) == 1
        assert delivered() == sorted(str(p.values["email"]) for p in good)

        # The mailbox works again: the retry reaches that person, once; then there is nothing left to send.
        inbox.refused.clear()
        assert notify() == [bad.subject_id]
        assert len(send_due(workspace).sent) == 1
        assert delivered() == sorted(str(p.values["email"]) for p in people)
        assert set(states().values()) == {"sent"}
        assert notify() == [] and send_due(workspace).sent == []
        assert len(inbox.messages) == 4
    finally:
        controller.stop()


@pytest.mark.parametrize(
    "facts",
    [
        {"affected_count": 1, "special_care": True},
        {"affected_count": 1, "special_care": True, "suspected_only": True},  # おそれ counts
        {"affected_count": 1, "financial_risk": True, "suspected_only": True},
        {"affected_count": 2, "improper_purpose": True},
        {"affected_count": 1001},
        {"affected_count": 101, "my_number": "yes"},
    ],
)
def test_jis_8_the_privacymark_preliminary_report_is_due_for_the_four_categories_and_my_number(
    workspace: Workspace, facts: dict[str, Any]
) -> None:
    """A special care-required breach is no longer "on track" for the review body on day 7: its first
    report was due by day 5 (JIS-8), beside the final one; a suspected case (おそれ) counts the same."""
    ref = _open(workspace, **facts)
    with workspace.db.session() as session:
        incident = incidents.get(session, ref)
        states = {
            day: incidents.open_clocks(session, AWARE.date() + timedelta(days=day))[0].pmark_state
            for day in (2, 3, 5, 6, 7)
        }
        assert states == {
            2: "on_track",
            3: "prelim_warning",
            5: "prelim_warning",
            6: "prelim_overdue",
            7: "prelim_overdue",
        }
        assert incidents.classification(incident).privacymark_prelim_required
        incidents.submit_report(
            session, workspace, incident, ReportKind.PMARK_PRELIM, actor="staff:pm01", now=AWARE
        )
        (after,) = incidents.open_clocks(session, AWARE.date() + timedelta(days=7))
        assert after.pmark_state == "on_track"
        (late,) = incidents.open_clocks(session, AWARE.date() + timedelta(days=61))
        assert late.pmark_state == "final_overdue"  # 30 days, 60 for an improper purpose


def test_jis_8_a_non_reportable_incident_has_no_privacymark_preliminary_report(workspace: Workspace) -> None:
    ref = _open(workspace, affected_count=10, suspected_only=True)
    with workspace.db.session() as session:
        assert not incidents.classification(incidents.get(session, ref)).privacymark_prelim_required
        (view,) = incidents.open_clocks(session, AWARE.date() + timedelta(days=7))
        assert view.pmark_state == "on_track"
