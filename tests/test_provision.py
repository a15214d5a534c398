"""Issue 24 items 3-5: opt-out provision (APPI-27b), the foreign recipient's information and consent
(APPI-28), the confirmation on receipt (APPI-30) and personally referable information (APPI-31), each
from the page, the API or the command line a person uses, down to the guard and the records."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from mamoru.audit.query import entries_for
from mamoru.cli.main import app as cli
from mamoru.demo import DemoPlan
from mamoru.errors import Invalid
from mamoru.guard.decision import Action, Reason
from mamoru.guard.service import decide_and_record
from mamoru.law.requests import RequestKind
from mamoru.ledger.consent import ConsentScope, give_consent
from mamoru.ledger.tables import Consent
from mamoru.people.auth import set_password
from mamoru.policy.errors import PolicyError
from mamoru.policy.load import LoadedPolicy, parse_policy
from mamoru.policy.service import publish
from mamoru.server import create_app
from mamoru.transfers import optout
from mamoru.transfers.gate import TransferIn, TransferRefused, TransferType, transfer
from mamoru.transfers.records import Basis, ReceiptIn, record_receipt
from mamoru.transfers.tables import ProvisionRecord, ReceiptRecord
from mamoru.workspace import Workspace
from tests.requests_helpers import approve_and_run, load_office, package_json, verified
from tests.test_console import csrf_of, sign_in
from tests.tokens_helpers import staff_token

NOW = datetime.now(UTC)
OPT_OUT_NOTICE = {
    "acquisition_method": {
        "ja": "本人からの申込書により取得します。",
        "en": "From the person's application form.",
    },
    "provision_method": {
        "ja": "電子ファイルを暗号化して送付します。",
        "en": "As an encrypted electronic file.",
    },
    "request_method": {"ja": "お問い合わせ窓口で受け付けます。", "en": "At our contact desk."},
    "update_method": {
        "ja": "毎月末に最新の内容に更新します。",
        "en": "Brought up to date at the end of every month.",
    },
    "starts_on": "2026-01-05",
}
LIST_BROKER = {
    "id": "list_broker",
    "name": {"ja": "名簿事業者", "en": "List broker"},
    "basis": "opt_out",
    "purposes": ["services"],
    "categories": ["identity", "contact"],
    "opt_out": OPT_OUT_NOTICE,
}
SINGAPORE = {
    "id": "sg_partner",
    "name": {"ja": "シンガポールの提携先", "en": "Partner in Singapore"},
    "country": "SG",
    "basis": "consent",
    "purposes": ["announcements"],
    "categories": ["identity", "contact"],
    "foreign": {
        "route": "consent",
        "version": 2,
        "country_system": {
            "ja": "シンガポールには個人データ保護法（PDPA）があります。",
            "en": "Singapore has the Personal Data Protection Act (PDPA).",
        },
        "recipient_measures": {
            "ja": "提供先は暗号化とアクセス制御を行います。",
            "en": "The recipient encrypts the data and controls access.",
        },
    },
}
AD_PARTNER = {
    "id": "ad_partner",
    "name": {"ja": "広告配信事業者", "en": "Advertising partner"},
    "basis": "consent",
    "purposes": ["services"],
    "categories": ["usage_log"],
    "links_referable": True,
}


def _variant(reference: LoadedPolicy, *recipients: dict[str, Any], version: str = "2026.12-provision") -> str:
    data = yaml.safe_load(reference.source)
    data["version"] = version
    data["recipients"].extend(recipients)
    return yaml.safe_dump(data, allow_unicode=True)


@pytest.fixture
def office(reference: LoadedPolicy, workspace: Workspace) -> Iterator[tuple[Workspace, DemoPlan]]:
    """A demo office whose policy adds an opt-out recipient, a recipient abroad and one that links
    referable data; opt-out provision turned on. The workspace is opened again on the changed policy
    file; the demo is loaded once per process for that policy and copied (tests/demo_copies.py)."""
    workspace.close()
    workspace.settings.resolved_policy_file.write_text(
        _variant(reference, LIST_BROKER, SINGAPORE, AD_PARTNER), encoding="utf-8"
    )
    ws = Workspace.open(workspace.settings)
    ws.settings = ws.settings.model_copy(update={"transfer_opt_out_enabled": True})
    try:
        yield ws, load_office(ws)
    finally:
        ws.close()


def _customers(plan: DemoPlan) -> list[str]:
    return [p.subject_id for p in plan.subjects if p.kind == "customer"]


def _email(plan: DemoPlan, subject: str) -> str:
    return next(p.values["email"] for p in plan.subjects if p.subject_id == subject)


def _opt_out(ws: Workspace, subjects: list[str]) -> Any:
    data = TransferIn(
        type=TransferType.OPT_OUT,
        party="list_broker",
        purpose="services",
        subjects=subjects,
        categories=["identity", "contact"],
    )
    with ws.db.session() as session:
        return transfer(session, ws, data, actor="staff:sa01", now=datetime.now(UTC))


# --- APPI-27b: opt-out provision ---


@pytest.mark.parametrize("item", optout_items := ["update_method", "request_method", "starts_on"])
def test_appi_27b_a_notice_missing_an_item_cannot_be_published(reference: LoadedPolicy, item: str) -> None:
    broker = {**LIST_BROKER, "opt_out": {k: v for k, v in OPT_OUT_NOTICE.items() if k != item}}
    with pytest.raises(PolicyError, match=item.replace("_", " ")):
        parse_policy(_variant(reference, broker), "variant.yaml")


def test_appi_27b_special_care_data_is_never_declared_for_opt_out(reference: LoadedPolicy) -> None:
    broker = {**LIST_BROKER, "categories": ["identity", "health"]}
    with pytest.raises(PolicyError, match="special care-required"):
        parse_policy(_variant(reference, broker), "variant.yaml")


def test_appi_27b_opt_out_goes_only_after_the_filing_is_published_and_stops_at_the_persons_request(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    first, second = _customers(plan)[:2]
    with pytest.raises(TransferRefused, match="not filed") as refused:
        _opt_out(ws, [first, second])
    assert refused.value.problems[0].type == "opt_out_not_filed"
    with ws.db.session() as session:
        filing = optout.record_filing(
            session,
            ws.policy.policy,
            "list_broker",
            filed_on=date(2026, 1, 5),
            filing_ref="ppc:1",
            actor="staff:pm01",
        )
        filing_id = filing.id
    with pytest.raises(TransferRefused, match="not published"):
        _opt_out(ws, [first, second])
    with ws.db.session() as session:
        optout.record_publication(
            session,
            filing_id,
            ppc_publication_ref="ppc-pub:1",
            published_on=date(2026, 1, 20),
            actor="staff:pm01",
        )
    # The notice in force is still the reference pack's, which does not carry these items.
    with pytest.raises(TransferRefused, match="notice in force"):
        _opt_out(ws, [first, second])
    with ws.db.session() as session:
        publish(session, ws.policy, "staff:pm01")
    result = _opt_out(ws, [first, second])
    assert sorted(result.provided) == sorted([first, second])
    with ws.db.session() as session:
        records = list(session.scalars(select(ProvisionRecord).where(ProvisionRecord.id.in_(result.records))))
    assert {(r.basis, r.provided_on) for r in records} == {("opt_out", datetime.now(UTC).date())}

    # The person asks to stop: the gate honours it; the other person still goes.
    approve_and_run(
        ws, verified(ws, RequestKind.STOP_PROVISION, _email(plan, first), grounds=["rights_harmed"])
    )
    ws.settings = ws.settings.model_copy(update={"transfer_partial": "filter"})
    after = _opt_out(ws, [first, second])
    assert after.provided == [second] and after.refused == {first: ["use_stopped"]}

    # Turned off (the default), nothing goes, filing or not.
    ws.settings = ws.settings.model_copy(update={"transfer_opt_out_enabled": False})
    with pytest.raises(TransferRefused, match="turned off"):
        _opt_out(ws, [second])


def test_appi_27b_changed_items_need_a_new_filing(
    office: tuple[Workspace, DemoPlan], reference: LoadedPolicy
) -> None:
    ws, _plan = office
    policy = ws.policy.policy
    with ws.db.session() as session:
        row = optout.record_filing(
            session, policy, "list_broker", filed_on=date(2026, 1, 5), filing_ref="ppc:1", actor="staff:pm01"
        )
        optout.record_publication(
            session, row.id, ppc_publication_ref="p", published_on=date(2026, 1, 6), actor="staff:pm01"
        )
        assert optout.opt_out_problems(session, policy, "list_broker", date(2026, 2, 1)) == []
        changed_notice = {
            **OPT_OUT_NOTICE,
            "update_method": {"ja": "毎年更新します。", "en": "Updated yearly."},
        }
        changed = parse_policy(
            _variant(reference, {**LIST_BROKER, "opt_out": changed_notice}), "variant.yaml"
        ).policy
        assert optout.opt_out_problems(session, changed, "list_broker", date(2026, 2, 1)) == [
            "opt_out_items_changed"
        ]
        assert optout.opt_out_problems(session, policy, "list_broker", date(2026, 1, 1)) == [
            "opt_out_not_started",
            "opt_out_not_published",
        ]


def test_appi_27b_data_itself_received_by_opt_out_is_never_provided_by_opt_out(
    office: tuple[Workspace, DemoPlan],
) -> None:
    from mamoru.ledger.tables import Acquisition

    ws, plan = office
    first, second = _customers(plan)[:2]
    with ws.db.session() as session:
        row = optout.record_filing(
            session,
            ws.policy.policy,
            "list_broker",
            filed_on=date(2026, 1, 5),
            filing_ref="f",
            actor="staff:pm01",
        )
        optout.record_publication(
            session, row.id, ppc_publication_ref="p", published_on=date(2026, 1, 6), actor="staff:pm01"
        )
        publish(session, ws.policy, "staff:pm01")
        acquisition = session.scalars(select(Acquisition).where(Acquisition.subject_id == first)).first()
        assert acquisition is not None
        acquisition.source_type = "opt_out"  # as if this person's data had come from an opt-out provider
    ws.settings = ws.settings.model_copy(update={"transfer_partial": "filter"})
    result = _opt_out(ws, [first, second])
    assert result.provided == [second] and result.refused == {first: ["provision_needs_consent"]}


def test_appi_27b_the_portal_shows_the_nine_items_and_how_to_stop(office: tuple[Workspace, DemoPlan]) -> None:
    ws, _plan = office
    with TestClient(create_app(ws)) as client:
        page = client.get("/opt-out?lang=ja")
        assert page.status_code == 200
        text = page.text
        for expected in (
            "名簿事業者",
            ws.policy.policy.organization.representative.ja,
            "第三者への提供を利用目的とします",
            OPT_OUT_NOTICE["acquisition_method"]["ja"],
            OPT_OUT_NOTICE["provision_method"]["ja"],
            "提供を停止します",
            OPT_OUT_NOTICE["request_method"]["ja"],
            OPT_OUT_NOTICE["update_method"]["ja"],
            "2026年1月5日",
            "/requests/new?kind=stop_provision",
        ):
            assert expected in text, expected
        ws.settings = ws.settings.model_copy(update={"transfer_opt_out_enabled": False})
    with TestClient(create_app(ws)) as client:
        off = client.get("/opt-out?lang=en").text
        assert (
            "We do not provide personal data to third parties by opt-out" in off and "List broker" not in off
        )


def test_appi_27b_console_records_the_filing_and_its_publication(office: tuple[Workspace, DemoPlan]) -> None:
    ws, _plan = office
    with ws.db.session() as session:
        set_password(session, "po01", "correct horse battery", actor="test")
    runner = CliRunner()
    with TestClient(create_app(ws)) as client:
        assert sign_in(client, "po01", "correct horse battery") == 303
        page = client.get("/console/transfers?lang=en")
        assert "No filing with the PPC recorded" in page.text
        csrf = csrf_of(page.text)
        bad = client.post(
            "/console/transfers/opt-out-filings?lang=en",
            data={"csrf": csrf, "recipient": "list_broker", "filing_ref": " "},
            follow_redirects=False,
        )
        assert bad.status_code == 303 and "error=filing_ref" in bad.headers["location"]
        done = client.post(
            "/console/transfers/opt-out-filings?lang=en",
            data={"csrf": csrf, "recipient": "list_broker", "filing_ref": "ppc:7", "filed_on": "2026-01-05"},
            follow_redirects=False,
        )
        assert done.status_code == 303
        (filing,) = [f for f in client.get("/console/transfers?lang=en").text.split("opt-out-filings/")[1:2]]
        filing_id = int(filing.split("/")[0])
        client.post(
            f"/console/transfers/opt-out-filings/{filing_id}/publication?lang=en",
            data={"csrf": csrf, "ppc_publication_ref": "ppc-pub:7", "published_on": "2026-01-20"},
        )
    status = runner.invoke(cli, ["transfers", "opt-out-status", "--json"])
    assert status.exit_code == 0, status.output  # filed and published: nothing stops it
    assert '"problems": []' in status.output


# --- APPI-28: foreign recipients ---


def test_appi_28_the_person_reads_the_information_then_consents_with_the_version_recorded(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    subject = _customers(plan)[0]
    office_headers = {"Authorization": f"Bearer {staff_token(ws, 'po01')}"}
    with TestClient(create_app(ws)) as client:
        info = client.get("/api/v1/foreign-information/sg_partner?lang=ja", headers=office_headers).json()
        assert info["country"] == "シンガポール" and info["version"] == 2
        made = client.post(
            "/api/v1/foreign-consent-invitations",
            headers=office_headers,
            json={"subject_id": subject, "recipient": "sg_partner", "purpose": "announcements"},
        )
        assert made.status_code == 201, made.text
        link = made.json()["link"]
        page = client.get(f"{link}?lang=ja")
        assert page.status_code == 200
        text = page.text
        # The country, its system and the recipient's measures come before the question.
        question = text.index("同意されますか")
        for shown in ("シンガポール", "個人データ保護法（PDPA）", "暗号化とアクセス制御"):
            assert -1 < text.index(shown) < question
        assert 'name="version" value="2"' in text
        stale = client.post(f"{link}?lang=ja", data={"version": "1", "answer": "agree"})
        assert stale.status_code == 422  # read version 1; version 2 is in force: no consent
        assert "お読みいただいた後に情報が更新されました" in stale.text and 'value="2"' in stale.text
        with ws.db.session() as session:
            assert session.scalar(select(Consent).where(Consent.recipient == "sg_partner")) is None
        agreed = client.post(f"{link}?lang=ja", data={"version": "2", "answer": "agree"})
        assert agreed.status_code == 200 and "同意を記録しました" in agreed.text
        assert client.get(f"{link}?lang=ja").status_code == 404  # answered: the link is closed
    with ws.db.session() as session:
        consent = session.scalar(select(Consent).where(Consent.recipient == "sg_partner"))
        assert consent is not None and consent.scope == ConsentScope.FOREIGN_THIRD_PARTY
        assert consent.evidence_ref.startswith("foreign-info:v2;sha256:")
        assert consent.subject_id == subject


def test_appi_28_the_public_page_lists_every_party_abroad_with_a_way_to_ask(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, _plan = office
    with TestClient(create_app(ws)) as client:
        text = client.get("/foreign?lang=en").text
    assert "Singapore" in text and "Personal Data Protection Act" in text
    assert "United States" in text and "California Consumer Privacy Act" in text  # the processor abroad
    assert "/requests/new?kind=foreign_information" in text


def test_appi_28_3_a_persons_request_for_the_information_is_answered_with_each_party_abroad(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    subject = _customers(plan)[0]
    with ws.db.session() as session:
        give_consent(  # the person is on the announcements list
            session,
            subject_id=subject,
            scope=ConsentScope.BEYOND_PURPOSE,
            channel="web_form",
            evidence_ref="form:test",
            actor="test",
            now=NOW - timedelta(minutes=1),
            purpose="announcements",
        )
        from mamoru.ledger.tables import Acquisition

        acquisition = session.scalars(select(Acquisition).where(Acquisition.subject_id == subject)).first()
        assert acquisition is not None
        acquisition.purposes_notified = [*acquisition.purposes_notified, "announcements"]
    request_id = verified(ws, RequestKind.FOREIGN_INFORMATION, _email(plan, subject))
    approve_and_run(ws, request_id)
    data = package_json(ws, request_id)
    parties = {p["party"]: p for p in data["foreign_parties"]}
    assert {"processor:mail_delivery", "recipient:sg_partner"} <= set(parties)
    assert parties["processor:mail_delivery"]["country"] == "US"
    assert parties["processor:mail_delivery"]["route"] == "conforming_system"
    assert parties["recipient:sg_partner"]["measures"]["en"].startswith("The recipient encrypts")


# --- APPI-30: the confirmation on receipt ---


def test_appi_30_a_corporate_provider_without_its_representative_is_refused(workspace: Workspace) -> None:
    receipt = ReceiptIn(
        "s-1", Basis.CONSENT, ["contact"], "株式会社例示", "東京都千代田区1-1", "本人から書面で取得", "c:1"
    )
    with workspace.db.session() as session, pytest.raises(Invalid) as refused:
        record_receipt(session, receipt, actor="staff:pm01", today=date(2026, 11, 25))
    assert [(p.field, p.type) for p in refused.value.problems] == [
        ("provider_representative", "representative_needed")
    ]
    from dataclasses import replace

    with workspace.db.session() as session:
        individual = record_receipt(
            session,
            replace(receipt, provider_is_corporation=False),
            actor="staff:pm01",
            today=date(2026, 11, 25),
        )
        assert individual.provider_representative is None


def test_appi_30_the_confirmation_through_the_api_the_console_and_the_cli(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    subject = _customers(plan)[0]
    with ws.db.session() as session:
        set_password(session, "po01", "correct horse battery", actor="test")
    headers = {"Authorization": f"Bearer {staff_token(ws, 'po01')}"}
    body = {
        "subject_id": subject,
        "basis": "consent",
        "categories": ["contact"],
        "provider_name": "株式会社例示",
        "provider_address": "東京都千代田区1-1",
        "acquisition_history": "",
        "evidence_ref": "contract:2026-1",
    }
    with TestClient(create_app(ws)) as client:
        missing = client.post("/api/v1/receipts", headers=headers, json=body)
        assert missing.status_code == 422
        fields = {e["loc"][0] for e in missing.json()["detail"]}
        assert fields == {"acquisition_history", "provider_representative"}
        done = client.post(
            "/api/v1/receipts",
            headers=headers,
            json={
                **body,
                "acquisition_history": "本人から書面で同意を得て取得",
                "provider_representative": "代表取締役 例示太郎",
            },
        )
        assert done.status_code == 201, done.text
        assert sign_in(client, "po01", "correct horse battery") == 303
        csrf = csrf_of(client.get("/console/transfers?lang=ja").text)
        form = {
            "csrf": csrf,
            "subject_id": subject,
            "categories": "contact",
            "provider_name": "株式会社例示",
            "provider_address": "東京都千代田区1-1",
            "provider_kind": "corporation",
            "acquisition_history": "本人から取得",
            "evidence_ref": "contract:2026-2",
        }
        back = client.post("/console/transfers/receipts?lang=ja", data=form, follow_redirects=False)
        assert back.status_code == 303 and "error=provider_representative" in back.headers["location"]
        shown = client.get(back.headers["location"]).text
        assert "法人の提供元は代表者の氏名を確認して入力してください" in shown
        ok = client.post(
            "/console/transfers/receipts?lang=ja",
            data={**form, "provider_representative": "代表取締役 例示太郎"},
            follow_redirects=False,
        )
        assert ok.status_code == 303 and "done=receipt" in ok.headers["location"]
    runner = CliRunner()
    args = ["transfers", "receipt", "--subject", subject, "--category", "contact", "--provider", "例示商会"]
    args += ["--address", "大阪市", "--evidence", "decl:1", "--by", "staff:pm01", "--individual"]
    refused = runner.invoke(cli, [*args, "--history", " "])
    assert refused.exit_code == 2 and "acquisition_history" in refused.output
    assert runner.invoke(cli, [*args, "--history", "公開情報から取得"]).exit_code == 0
    with ws.db.session() as session:
        rows = list(session.scalars(select(ReceiptRecord).where(ReceiptRecord.subject_id == subject)))
    assert len(rows) == 3 and {r.provider_name for r in rows} == {"株式会社例示", "例示商会"}


# --- APPI-31: personally referable information ---


def test_appi_31_provision_waits_for_the_recipients_consent_confirmation_and_the_refusal_is_a_decision(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    first, second = _customers(plan)[:2]
    with ws.db.session() as session:
        for subject in (first, second):
            give_consent(
                session,
                subject_id=subject,
                scope=ConsentScope.THIRD_PARTY,
                channel="web_form",
                evidence_ref="form:test",
                actor="test",
                now=NOW - timedelta(minutes=1),
                purpose="services",
                recipient="ad_partner",
                categories=["usage_log"],
            )
    with ws.db.session() as session:
        (refused,) = decide_and_record(
            session,
            ws.policy,
            actor="staff:sa01",
            purpose="services",
            subjects=[first],
            categories=["usage_log"],
            action=Action.PROVIDE,
            recipient="ad_partner",
            now=datetime.now(UTC),
        )
    assert refused.reasons == (Reason.REFERABLE_NOT_CONFIRMED,)
    with ws.db.session() as session:
        decisions = [
            e.body for e in entries_for(session, "subject", first) if e.body["action"] == "decision.provide"
        ]
    assert decisions[-1]["decision"] == "deny"
    assert "referable_not_confirmed" in decisions[-1]["reasons"]

    headers = {"Authorization": f"Bearer {staff_token(ws, 'po01')}"}
    with TestClient(create_app(ws)) as client:
        confirmed = client.post(
            "/api/v1/referable-confirmations",
            headers=headers,
            json={
                "recipient": "ad_partner",
                "subject_ids": [first],
                "method": "declaration",
                "evidence_ref": "decl:1",
            },
        )
        assert confirmed.status_code == 201, confirmed.text
    result = CliRunner().invoke(
        cli,
        [
            "transfers",
            "confirm-referable",
            "event_cosponsor",
            "--subject",
            second,
            "--method",
            "x",
            "--evidence",
            "y",
            "--by",
            "staff:pm01",
        ],
    )
    assert result.exit_code == 2  # that recipient does not link referable data: nothing to confirm
    ws.settings = ws.settings.model_copy(update={"transfer_partial": "filter"})
    data = TransferIn(
        type=TransferType.CONSENT,
        party="ad_partner",
        purpose="services",
        subjects=[first, second],
        categories=["usage_log"],
    )
    with ws.db.session() as session:
        done = transfer(session, ws, data, actor="staff:sa01", now=datetime.now(UTC))
    assert done.provided == [first] and done.refused == {second: ["referable_not_confirmed"]}


def test_appi_31_the_reason_has_words_in_both_languages() -> None:
    from mamoru.words import word

    for lang in ("ja", "en"):
        text = word("reason_referable_not_confirmed", lang)
        assert text and not re.search(r"[a-z]+_[a-z]+", text)


def test_appi_30_data_from_another_business_is_taken_in_only_after_the_confirmation(
    office: tuple[Workspace, DemoPlan],
) -> None:
    from mamoru.ledger.acquisition import SourceType, activate_channel, attest_channel, create_channel
    from mamoru.ledger.errors import AcquisitionRefused
    from mamoru.ledger.tables import Acquisition, DataSubject, LedgerEntry

    ws, plan = office
    customer = _customers(plan)[0]
    with ws.db.session() as session:
        acquired = session.scalars(select(Acquisition).where(Acquisition.subject_id == customer)).first()
        assert acquired is not None
        entry = session.get(LedgerEntry, acquired.ledger_entry_id)
        assert entry is not None
        code, purpose = entry.code, acquired.purposes_notified[0]
        create_channel(
            session,
            channel_id="partner-list",
            name="List from a partner",
            ledger_code=code,
            source_type=SourceType.THIRD_PARTY,
            notice_in_advance=True,
            actor="staff:pm01",
        )
        attest_channel(session, "partner-list", actor="staff:pm01", now=NOW)
        activate_channel(session, "partner-list", actor="staff:pm01")
        subjects_before = len(list(session.scalars(select(DataSubject.id))))
    headers = {"Authorization": f"Bearer {staff_token(ws, 'po01')}", "X-Mamoru-Purpose": purpose}
    body = {
        "channel_id": "partner-list",
        "subject_kind": "customer",
        "values": {"email": "partner-sent@example.jp"},
        "categories": ["contact"],
        "purposes": [purpose],
    }
    receipt = {
        "provider_name": "株式会社例示",
        "provider_address": "東京都千代田区1-1",
        "provider_representative": "代表取締役 例示太郎",
        "acquisition_history": "本人から書面で同意を得て取得",
        "evidence_ref": "contract:2026-9",
    }
    with TestClient(create_app(ws)) as client:
        refused = client.post("/api/v1/acquisitions", json=body, headers=headers)
        assert refused.status_code in (409, 422) and "APPI Art. 30" in refused.text
        unconfirmed = client.post(
            "/api/v1/acquisitions",
            json={**body, "receipt": {**receipt, "acquisition_history": " "}},
            headers=headers,
        )
        assert unconfirmed.status_code == 422 and "acquisition_history" in unconfirmed.text
        with ws.db.session() as session:
            assert len(list(session.scalars(select(DataSubject.id)))) == subjects_before  # nothing taken in
            assert session.scalar(select(ReceiptRecord)) is None
        made = client.post("/api/v1/acquisitions", json={**body, "receipt": receipt}, headers=headers)
        assert made.status_code == 201, made.text
        subject = made.json()["subject_id"]
    with ws.db.session() as session:
        (row,) = session.scalars(select(ReceiptRecord).where(ReceiptRecord.subject_id == subject))
        assert row.provider_representative == "代表取締役 例示太郎" and row.categories == ["contact"]
    with ws.db.session() as session, pytest.raises(AcquisitionRefused, match="another business"):
        from mamoru.ledger.acquisition import AcquisitionIn, acquire

        acquire(
            session,
            ws.vault,
            ws.policy.policy,
            AcquisitionIn("partner-list", "customer", {"email": "x@example.jp"}, ["contact"], [purpose]),
            actor="staff:pm01",
            now=NOW,
        )
