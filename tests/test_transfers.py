"""Provision and receipt records (APPI Arts. 29, 30): required fields and retention (Rules Arts. 21, 25)."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date

import orjson
import pytest

from mamoru.errors import Invalid
from mamoru.transfers.records import (
    Basis,
    ProvisionIn,
    ReceiptIn,
    RecordMode,
    purge_after,
    record_provision,
    record_receipt,
)
from mamoru.transfers.tables import ProvisionRecord
from mamoru.workspace import Workspace


@pytest.mark.parametrize(
    ("mode", "created", "last", "keep_until"),
    [
        (RecordMode.EACH, date(2018, 2, 1), None, date(2021, 2, 1)),  # PPC Q&A 13-35
        (RecordMode.EACH, date(2019, 2, 1), None, date(2022, 2, 1)),
        (RecordMode.CONTRACT_SUBSTITUTE, date(2025, 1, 10), date(2025, 6, 30), date(2026, 6, 30)),
        (RecordMode.BULK, date(2025, 1, 1), date(2025, 12, 31), date(2028, 12, 31)),
    ],
)
def test_appi_29r_record_retention_follows_the_rules(
    mode: RecordMode, created: date, last: date | None, keep_until: date
) -> None:
    assert purge_after(mode, created, last) == keep_until


def test_appi_29_consent_based_provision_record_has_the_four_fields(workspace: Workspace) -> None:
    with workspace.db.session() as session:
        row = record_provision(
            session,
            ProvisionIn("s-1", "event_cosponsor", Basis.CONSENT, ["contact"], consent_id=7),
            actor="staff:pm01",
            today=date(2026, 11, 25),
        )
        stored = session.get(ProvisionRecord, row.id)
        assert stored is not None
        assert (stored.consent_id, stored.recipient, stored.subject_id, stored.categories) == (
            7,
            "event_cosponsor",
            "s-1",
            ["contact"],
        )
        assert stored.purge_after == date(2029, 11, 25)


def test_appi_29_bulk_record_needs_its_period(workspace: Workspace) -> None:
    with workspace.db.session() as session, pytest.raises(Invalid, match="period_first"):
        record_provision(
            session,
            ProvisionIn(
                "s-1", "event_cosponsor", Basis.CONSENT, ["contact"], mode=RecordMode.BULK, consent_id=1
            ),
            actor="staff:pm01",
            today=date(2026, 11, 25),
        )


def test_appi_30_import_without_the_acquisition_history_is_rejected(workspace: Workspace) -> None:
    with workspace.db.session() as session, pytest.raises(Invalid, match="acquisition_history"):
        record_receipt(
            session,
            ReceiptIn(
                "s-2", Basis.CONSENT, ["contact"], "株式会社例示", "東京都千代田区1-1", " ", "contract:1"
            ),
            actor="staff:pm01",
            today=date(2026, 11, 25),
        )


def test_appi_30_opt_out_import_without_the_ppc_publication_is_rejected(workspace: Workspace) -> None:
    with workspace.db.session() as session, pytest.raises(Invalid, match="ppc_publication_ref"):
        record_receipt(
            session,
            ReceiptIn(
                "s-2",
                Basis.OPT_OUT,
                ["contact"],
                "名簿業者",
                "東京都",
                "公開名簿から取得",
                "decl:1",
                provider_representative="代表取締役 例示太郎",
                received_on=date(2026, 11, 1),
            ),
            actor="staff:pm01",
            today=date(2026, 11, 25),
        )


# --- the gate ------------------------------------------------------------------------------------

from datetime import UTC, datetime, timedelta  # noqa: E402

from sqlalchemy import func, select  # noqa: E402

from mamoru.demo import DemoPlan  # noqa: E402
from mamoru.guard.decision import Action, Reason  # noqa: E402
from mamoru.guard.service import decide_and_record  # noqa: E402
from mamoru.ledger.consent import ConsentScope, give_consent  # noqa: E402
from mamoru.policy.errors import PolicyError  # noqa: E402
from mamoru.policy.load import LoadedPolicy, parse_policy  # noqa: E402
from mamoru.transfers import status as party_status  # noqa: E402
from mamoru.transfers import supervision  # noqa: E402
from mamoru.transfers.gate import (  # noqa: E402
    TransferIn,
    TransferRefused,
    TransferType,
    foreign_information,
    give_foreign_consent,
    transfer,
)
from tests.requests_helpers import load_office  # noqa: E402

NOW = datetime.now(UTC)


@pytest.fixture
def office(workspace: Workspace) -> tuple[Workspace, DemoPlan]:
    return workspace, load_office(workspace)


def _customers(plan: DemoPlan) -> list[str]:
    return [p.subject_id for p in plan.subjects if p.kind == "customer"]


def _consenting(ws: Workspace, plan: DemoPlan, n: int) -> list[str]:
    """n customers with a consent to provision to the event co-sponsor (given here)."""
    chosen = _customers(plan)[:n]
    with ws.db.session() as session:
        for subject in chosen:
            give_consent(
                session,
                subject_id=subject,
                scope=ConsentScope.THIRD_PARTY,
                channel="web_form",
                evidence_ref="form:test",
                actor="test",
                now=NOW - timedelta(minutes=1),
                purpose="announcements",
                recipient="event_cosponsor",
                categories=["identity", "contact"],
            )
            give_consent(  # customers were acquired for the services; announcements need their consent too
                session,
                subject_id=subject,
                scope=ConsentScope.BEYOND_PURPOSE,
                channel="web_form",
                evidence_ref="form:test",
                actor="test",
                now=NOW - timedelta(minutes=1),
                purpose="announcements",
            )
    return chosen


def _provide(ws: Workspace, subjects: list[str], **kw: object):  # type: ignore[no-untyped-def]
    data = TransferIn(
        type=kw.pop("type", TransferType.CONSENT),  # type: ignore[arg-type]
        party=kw.pop("party", "event_cosponsor"),  # type: ignore[arg-type]
        purpose=kw.pop("purpose", "announcements"),  # type: ignore[arg-type]
        subjects=subjects,
        categories=kw.pop("categories", ["identity", "contact"]),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )
    with ws.db.session() as session:
        return transfer(session, ws, data, actor="staff:sa01", now=datetime.now(UTC))


def _records(ws: Workspace) -> int:
    with ws.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(ProvisionRecord)) or 0)


def test_appi_27a_a_job_with_one_subject_lacking_consent_is_refused_whole_and_audited(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    consenting = _consenting(ws, plan, 9)
    lacking = next(s for s in _customers(plan) if s not in consenting and _no_consent(ws, s))
    before = _records(ws)
    result = _provide(ws, [*consenting, lacking])
    assert result.refused_whole and result.provided == [] and result.package is None
    assert list(result.refused) == [lacking] and result.refused[lacking] == ["provision_needs_consent"]
    assert _records(ws) == before
    with ws.db.session() as session:
        from mamoru.audit.query import entries_for

        (event,) = [
            e for e in entries_for(session, "subject", lacking) if e.body["action"] == "transfer.refused"
        ]
    assert event.body["counts"] == {"refused": 1, "requested": 10}


def _no_consent(ws: Workspace, subject: str) -> bool:
    from mamoru.ledger.tables import Consent

    with ws.db.session() as session:
        return session.scalar(select(Consent).where(Consent.subject_id == subject)) is None


def test_appi_27a_with_filtering_the_subject_is_left_out_and_one_record_per_provided_subject(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    ws.settings = ws.settings.model_copy(update={"transfer_partial": "filter"})
    consenting = _consenting(ws, plan, 9)
    lacking = next(s for s in _customers(plan) if s not in consenting and _no_consent(ws, s))
    before = _records(ws)
    result = _provide(ws, [*consenting, lacking])
    assert sorted(result.provided) == sorted(consenting) and list(result.refused) == [lacking]
    with ws.db.session() as session:
        recorded = session.scalars(select(ProvisionRecord).where(ProvisionRecord.id.in_(result.records)))
        assert sorted(r.subject_id for r in recorded) == sorted(consenting)  # one each, the left-out none
    assert _records(ws) == before + len(consenting)
    assert result.package is not None
    rows = orjson.loads(zipfile.ZipFile(io.BytesIO(result.package)).read("data.json"))
    assert {r["subject_id"] for r in rows} == set(consenting)


def test_appi_29_entrustment_creates_no_provision_record(office: tuple[Workspace, DemoPlan]) -> None:
    ws, plan = office
    before = _records(ws)
    result = _provide(
        ws,
        _customers(plan)[:3],
        type=TransferType.ENTRUSTMENT,
        party="hosting",
        purpose="services",
        categories=["contact"],
    )
    assert sorted(result.provided) == sorted(_customers(plan)[:3])
    assert result.records == [] and _records(ws) == before


def test_appi_25_entrusting_to_a_processor_without_supervision_is_refused(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    subjects = _consenting(ws, plan, 2)
    # The demo's mailing service is overdue for monitoring.
    result = _provide(ws, subjects, type=TransferType.ENTRUSTMENT, party="mailing")
    assert result.refused_whole and set(map(tuple, result.refused.values())) == {
        ("processor_not_supervised",)
    }
    with ws.db.session() as session:
        status = party_status.processor_status(session, ws.policy.policy, "mailing", NOW.date())
        assert status.problems == ("monitoring_overdue",)
        supervision.record_monitoring(
            session,
            ws.policy.policy,
            "mailing",
            on=NOW.date(),
            satisfactory=True,
            evidence_ref="visit:1",
            actor="staff:pm01",
        )
    assert _provide(ws, subjects, type=TransferType.ENTRUSTMENT, party="mailing").provided


def test_jis_9_a_contract_missing_the_report_frequency_clause_is_refused(workspace: Workspace) -> None:
    clauses = [c for c in party_status.CONTRACT_CLAUSES if c != "report_frequency"]
    with workspace.db.session() as session, pytest.raises(Invalid, match="report_frequency"):
        supervision.record_contract(
            session,
            workspace.policy.policy,
            "hosting",
            signed_on=NOW.date(),
            clauses=clauses,
            evidence_ref="contract:x",
            actor="staff:pm01",
        )
    with workspace.db.session() as session:
        status = party_status.processor_status(session, workspace.policy.policy, "hosting", NOW.date())
    assert "contract_missing" in status.problems and "assessment_missing" in status.problems


def _variant(reference: LoadedPolicy, extra: str) -> str:
    return reference.source + extra


def test_mn_8_my_number_flows_to_a_sub_processor_without_the_original_partys_approval_are_refused(
    reference: LoadedPolicy,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    import yaml

    from mamoru.law.mynumber import NumberCheckDoc, NumberDocument, StatutoryAffair, check_digit
    from mamoru.mynumber import service as mn
    from mamoru.setup import initialize

    data = yaml.safe_load(reference.source)
    data["processors"].append(
        {
            "id": "payroll_sub",
            "name": {"ja": "再委託先の計算センター", "en": "Sub-processor computing centre"},
            "entrusted_work": {"ja": "給与計算の一部", "en": "Part of the payroll computation"},
            "purposes": ["my_number_staff"],
            "categories": ["identity", "my_number"],
            "entrusted_by": "payroll_office",
        }
    )
    initialize(settings)
    settings.resolved_policy_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    ws = Workspace.open(settings)
    try:
        plan = load_office(ws)
        policy = ws.policy.policy
        employees = [p.subject_id for p in plan.all_people() if p.kind == "employee"][:2]
        today = NOW.date()
        with ws.db.session() as session:  # the employees' numbers, collected for the year-end filing
            filing = mn.create_filing(
                session,
                affair=StatutoryAffair.WITHHOLDING_SLIP,
                document=NumberDocument.DEPENDENTS_DECLARATION,
                year=2026,
                due_on=date(2027, 1, 31),
                actor="staff:hr01",
            )
            for subject, base in zip(employees, ("12345678901", "98765432109"), strict=True):
                collected = mn.CollectIn(
                    subject_id=subject,
                    number=base + str(check_digit(base)),
                    filing_id=filing.id,
                    number_check=NumberCheckDoc.MY_NUMBER_CARD,
                    identity=[],
                )
                mn.collect(session, ws, collected, actor="staff:hr01", now=NOW)
        with ws.db.session() as session:
            for processor in ("payroll_office", "payroll_sub"):
                supervision.record_assessment(
                    session,
                    policy,
                    processor,
                    score=90,
                    on=today,
                    valid_days=365,
                    evidence_ref="a",
                    actor="staff:pm01",
                )
                supervision.record_contract(
                    session,
                    policy,
                    processor,
                    signed_on=today,
                    clauses=[*party_status.CONTRACT_CLAUSES, *party_status.MY_NUMBER_CLAUSES],
                    evidence_ref="c",
                    actor="staff:pm01",
                )
            assert party_status.processor_status(session, policy, "payroll_sub", today).problems == (
                "reentrustment_not_approved",
            )

        def entrust(party: str):  # type: ignore[no-untyped-def]
            with ws.db.session() as session:
                return transfer(
                    session,
                    ws,
                    TransferIn(
                        type=TransferType.ENTRUSTMENT,
                        party=party,
                        purpose="my_number_staff",
                        subjects=employees,
                        categories=["my_number"],
                    ),
                    actor="staff:hr01",
                    now=datetime.now(UTC),
                )

        # The first-tier processor is cleared; the number may go to it.
        first = entrust("payroll_office")
        assert sorted(first.provided) == sorted(employees), first.refused
        # Not to its sub-processor until the original entrusting party (us) approves the re-entrustment.
        refused = entrust("payroll_sub")
        assert refused.refused_whole and refused.provided == [] and refused.package is None
        assert refused.refused == {s: ["processor_not_supervised"] for s in employees}
        with ws.db.session() as session:
            supervision.approve_reentrustment(session, policy, "payroll_sub", actor="staff:pm01")
            assert party_status.processor_status(session, policy, "payroll_sub", today).cleared
        assert sorted(entrust("payroll_sub").provided) == sorted(employees)
    finally:
        ws.close()


def test_appi_27b_opt_out_is_off_by_default_and_never_for_special_care_data(
    office: tuple[Workspace, DemoPlan],
    reference: LoadedPolicy,
) -> None:
    import yaml

    ws, plan = office
    with pytest.raises(TransferRefused, match="opt-out"):
        _provide(
            ws, _customers(plan)[:1], type=TransferType.OPT_OUT
        )  # event_cosponsor is consent-based anyway
    data = yaml.safe_load(reference.source)
    data["recipients"].append(
        {
            "id": "list_broker",
            "name": {"ja": "名簿事業者", "en": "List broker"},
            "basis": "opt_out",
            "purposes": ["personnel"],
            "categories": ["identity", "health"],
        }
    )
    with pytest.raises(PolicyError, match="opt-out"):
        parse_policy(yaml.safe_dump(data, allow_unicode=True), "variant.yaml")


def test_appi_27c_joint_use_without_a_published_notice_is_blocked(reference: LoadedPolicy, settings) -> None:  # type: ignore[no-untyped-def]
    import yaml

    from mamoru.setup import initialize

    data = yaml.safe_load(reference.source)
    data["version"] = "2026.12-joint"
    data["recipients"].append(
        {
            "id": "group_foundation",
            "name": {"ja": "関連財団", "en": "Affiliated foundation"},
            "basis": "joint_use",
            "purposes": ["announcements"],
            "categories": ["identity", "contact"],
            "joint_use": {
                "items": ["identity", "contact"],
                "users": {"ja": "当機構及び関連財団", "en": "Us and the affiliated foundation"},
                "purpose": {"ja": "共催イベントのご案内", "en": "Announcing joint events"},
                "manager": {
                    "ja": "当機構（東京都江東区東陽四丁目1番7号、理事長）",
                    "en": "Us (4-1-7 Toyo, Koto-ku, Tokyo; the Chairman)",
                },
            },
        }
    )
    initialize(settings)
    settings.resolved_policy_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    ws = Workspace.open(settings)  # the notice in force is still the reference pack's
    try:
        plan = load_office(ws)
        joint = _consenting(ws, plan, 2)
        with pytest.raises(TransferRefused, match="joint use"):
            _provide(ws, joint, type=TransferType.JOINT_USE, party="group_foundation")
        from mamoru.policy.service import publish

        with ws.db.session() as session:
            publish(session, ws.policy, "staff:pm01")
        result = _provide(ws, joint, type=TransferType.JOINT_USE, party="group_foundation")
        assert sorted(result.provided) == sorted(joint)
        assert result.records == []  # joint use is not provision: no record
    finally:
        ws.close()


def test_appi_28_foreign_consent_is_invalid_without_the_country_and_a_late_check_pauses_transfers(
    workspace: Workspace,
    reference: LoadedPolicy,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    import yaml

    data = yaml.safe_load(reference.source)
    foreign = {
        "route": "consent",
        "country_system": {
            "ja": "シンガポールには個人データ保護法（PDPA）があります。",
            "en": "Singapore has the Personal Data Protection Act (PDPA).",
        },
        "recipient_measures": {
            "ja": "提供先は暗号化とアクセス制御を行います。",
            "en": "The recipient encrypts the data and controls access.",
        },
    }
    data["recipients"].append(
        {
            "id": "sg_partner",
            "name": {"ja": "シンガポールの提携先", "en": "Partner in Singapore"},
            "country": "SG",
            "basis": "consent",
            "purposes": ["announcements"],
            "categories": ["identity", "contact"],
            "foreign": foreign,
        }
    )
    policy = parse_policy(yaml.safe_dump(data, allow_unicode=True), "variant.yaml").policy
    plan = load_office(workspace)
    subject = _customers(plan)[0]
    shown = foreign_information(policy, "sg_partner", "ja")
    assert "シンガポール" in shown
    with workspace.db.session() as session:
        with pytest.raises(Invalid, match="country"):
            give_foreign_consent(
                session,
                policy,
                subject_id=subject,
                recipient="sg_partner",
                shown=shown.replace("シンガポール", "某国"),
                lang="ja",
                purpose="announcements",
                channel="web_form",
                actor="test",
                now=NOW,
            )
        consent = give_foreign_consent(
            session,
            policy,
            subject_id=subject,
            recipient="sg_partner",
            shown=shown,
            lang="ja",
            purpose="announcements",
            channel="web_form",
            actor="test",
            now=NOW - timedelta(seconds=1),
        )
        assert consent.evidence_ref.startswith("foreign-info:v1;sha256:")
    # A conforming-system recipient: transfers pause when the periodic check is overdue.
    foreign_cs = {**foreign, "route": "conforming_system"}
    data["recipients"][-1]["foreign"] = foreign_cs
    data["recipients"][-1]["basis"] = "law"
    policy = parse_policy(yaml.safe_dump(data, allow_unicode=True), "variant.yaml").policy
    with workspace.db.session() as session:
        supervision.record_foreign_check(
            session,
            policy,
            "recipient:sg_partner",
            on=NOW.date() - timedelta(days=400),
            conforming=True,
            evidence_ref="check:1",
            actor="staff:pm01",
        )
        status = party_status.recipient_status(session, policy, "sg_partner", NOW.date())
        assert status.problems == ("foreign_check_overdue",)
        supervision.record_foreign_check(
            session,
            policy,
            "recipient:sg_partner",
            on=NOW.date(),
            conforming=True,
            evidence_ref="check:2",
            actor="staff:pm01",
        )
        assert party_status.recipient_status(session, policy, "sg_partner", NOW.date()).cleared


def test_appi_28_the_guard_pauses_provision_to_a_foreign_recipient_whose_check_is_overdue(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    # The reference pack's foreign processor: the demo checked it 100 days ago; move the clock a year on.
    later = NOW + timedelta(days=300)
    with ws.db.session() as session:
        (ok,) = decide_and_record(
            session,
            ws.policy,
            actor="staff:sa01",
            purpose="announcements",
            subjects=[_customers(plan)[0]],
            categories=["contact"],
            action=Action.ENTRUST,
            recipient="mail_delivery",
            now=NOW,
        )
        (late,) = decide_and_record(
            session,
            ws.policy,
            actor="staff:sa01",
            purpose="announcements",
            subjects=[_customers(plan)[0]],
            categories=["contact"],
            action=Action.ENTRUST,
            recipient="mail_delivery",
            now=later,
        )
    assert late.reasons == (Reason.PROCESSOR_NOT_SUPERVISED,) and late.rule == "entrustment.supervision"
    assert ok.rule != "entrustment.supervision"


def test_appi_31_referable_data_to_a_linking_recipient_needs_a_confirmation(
    reference: LoadedPolicy,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    import yaml

    from mamoru.setup import initialize
    from mamoru.transfers.gate import confirm_referable
    from mamoru.transfers.tables import ReferableConfirmation

    data = yaml.safe_load(reference.source)
    data["recipients"].append(
        {
            "id": "ad_partner",
            "name": {"ja": "広告配信事業者", "en": "Advertising partner"},
            "basis": "consent",
            "purposes": ["services"],
            "categories": ["usage_log"],
            "links_referable": True,
        }
    )
    initialize(settings)
    settings.resolved_policy_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    ws = Workspace.open(settings)
    try:
        plan = load_office(ws)
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
        # Our own consent records are not enough: the recipient, who will link the usage log to the
        # person, must be confirmed to hold the person's consent. Without that, nothing goes.
        before = _records(ws)
        blocked = _provide(
            ws, [first, second], party="ad_partner", purpose="services", categories=["usage_log"]
        )
        assert blocked.refused_whole and blocked.provided == [] and blocked.package is None
        assert blocked.refused == {first: ["referable_not_confirmed"], second: ["referable_not_confirmed"]}
        assert _records(ws) == before

        with ws.db.session() as session, pytest.raises(Invalid, match="linking"):
            confirm_referable(
                session,
                ws.policy.policy,
                recipient="event_cosponsor",  # not declared as linking: nothing to confirm
                subject_ids=[first],
                method="x",
                evidence_ref="y",
                actor="staff:pm01",
                now=NOW,
            )
        with ws.db.session() as session:
            rows = confirm_referable(
                session,
                ws.policy.policy,
                recipient="ad_partner",
                subject_ids=[first],
                method="recipient_declaration",
                evidence_ref="decl:2026-11",
                actor="staff:pm01",
                now=datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
            )
        # The confirmation is itself a record, kept three years like a provision record (Rules Art. 28).
        assert [(r.subject_id, r.purge_after) for r in rows] == [(first, date(2029, 11, 25))]
        ws.settings = ws.settings.model_copy(update={"transfer_partial": "filter"})
        result = _provide(
            ws, [first, second], party="ad_partner", purpose="services", categories=["usage_log"]
        )
        assert result.provided == [first] and result.refused == {second: ["referable_not_confirmed"]}
        with ws.db.session() as session:
            confirmed = set(session.scalars(select(ReferableConfirmation.subject_id)))
        assert confirmed == {first}
    finally:
        ws.close()


def test_appi_35_after_a_stop_of_provision_the_gate_blocks_that_subject(
    office: tuple[Workspace, DemoPlan],
) -> None:
    from mamoru.law.requests import RequestKind
    from tests.requests_helpers import approve_and_run, verified

    ws, plan = office
    consenting = _consenting(ws, plan, 2)
    email = next(p.values["email"] for p in plan.subjects if p.subject_id == consenting[0])
    approve_and_run(ws, verified(ws, RequestKind.STOP_PROVISION, email, grounds=["rights_harmed"]))
    result = _provide(ws, consenting)
    assert result.refused == {consenting[0]: ["use_stopped"]}


def test_appi_27a_the_gate_over_http_and_the_console_page(office: tuple[Workspace, DemoPlan]) -> None:
    import base64

    from fastapi.testclient import TestClient

    from mamoru.people.auth import set_password
    from mamoru.server import create_app
    from mamoru.words import word
    from tests.test_console import csrf_of, sign_in
    from tests.tokens_helpers import staff_token

    ws, plan = office
    consenting = _consenting(ws, plan, 3)
    with ws.db.session() as session:
        set_password(session, "po01", "correct horse battery", actor="test")
    token = staff_token(ws, "sa01")
    headers = {"Authorization": f"Bearer {token}", "X-Mamoru-Purpose": "announcements"}
    office_headers = {"Authorization": f"Bearer {staff_token(ws, 'po01')}"}
    with TestClient(create_app(ws)) as client:
        response = client.post(
            "/api/v1/transfers",
            headers=headers,
            json={
                "type": "consent",
                "party": "event_cosponsor",
                "subjects": consenting,
                "categories": ["contact"],
            },
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert sorted(body["provided"]) == sorted(consenting)
        with ws.db.session() as session:
            recorded = session.scalars(select(ProvisionRecord).where(ProvisionRecord.id.in_(body["records"])))
            assert sorted(r.subject_id for r in recorded) == sorted(consenting)
        assert zipfile.ZipFile(io.BytesIO(base64.b64decode(body["package_zip_base64"]))).namelist()
        bad = client.post(
            "/api/v1/transfers",
            headers=headers,
            json={
                "type": "joint_use",
                "party": "event_cosponsor",
                "subjects": consenting,
                "categories": ["contact"],
            },
        )
        assert bad.status_code == 422 and "joint_use" in bad.text
        parties = {p["party"]: p for p in client.get("/api/v1/parties", headers=office_headers).json()}
        assert parties["processor:mailing"]["problems"] == ["monitoring_overdue"]
        assert parties["processor:mail_delivery"]["cleared"] is True
        records = client.get(
            f"/api/v1/provision-records?subject={consenting[0]}", headers=office_headers
        ).json()
        assert records["provision_records"][-1]["recipient"] == "event_cosponsor"
        assert sign_in(client, "po01") == 303
        page = client.get(f"/console/transfers?subject={consenting[0]}&lang=en")
        # in words: the problem's label and the recipient's name, not their codes
        assert page.status_code == 200 and word("supervision_monitoring_overdue", "en") in page.text
        seen = re.sub(r"<[^>]*>", " ", page.text)  # what a person reads (a filter's option values are codes)
        assert "Co-organizers of joint events" in seen and "event_cosponsor" not in seen
        assert csrf_of(client.get("/console/").text)


def test_jis_9_cli_records_supervision_and_status_exits_1_while_a_processor_is_not_cleared(
    office: tuple[Workspace, DemoPlan],
) -> None:
    from typer.testing import CliRunner

    from mamoru.cli.main import app

    runner = CliRunner()
    assert runner.invoke(app, ["transfers", "status"]).exit_code == 1  # the demo's mailing service
    refused = runner.invoke(
        app,
        [
            "transfers",
            "contract",
            "mailing",
            "--clause",
            "security",
            "--evidence",
            "c:1",
            "--by",
            "staff:pm01",
        ],
    )
    assert refused.exit_code == 2 and "report_frequency" in refused.output
    done = runner.invoke(
        app, ["transfers", "monitor", "mailing", "--evidence", "visit:1", "--by", "staff:pm01"]
    )
    assert done.exit_code == 0
    assert runner.invoke(app, ["transfers", "status", "--json"]).exit_code == 0
    assert runner.invoke(app, ["transfers", "records", "--subject", "nobody"]).exit_code == 0


def test_appi_26g_a_processor_breach_notice_seven_days_after_awareness_is_flagged(
    workspace: Workspace,
) -> None:
    aware = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    with workspace.db.session() as session:
        on_time = supervision.record_breach_notice(
            session,
            workspace.policy.policy,
            "hosting",
            aware_at=aware,
            notified_at=aware + timedelta(days=2),
            actor="staff:pm01",
        )
        assert not on_time.late
        assert (
            party_status.processor_status(session, workspace.policy.policy, "hosting", aware.date()).flags
            == ()
        )
        late = supervision.record_breach_notice(
            session,
            workspace.policy.policy,
            "hosting",
            aware_at=aware,
            notified_at=aware + timedelta(days=7),
            actor="staff:pm01",
        )
        assert late.late
        status = party_status.processor_status(session, workspace.policy.policy, "hosting", aware.date())
        assert status.flags == ("breach_notice_late",)
        with pytest.raises(Invalid, match="notified_at"):
            supervision.record_breach_notice(
                session,
                workspace.policy.policy,
                "hosting",
                aware_at=aware,
                notified_at=aware - timedelta(days=1),
                actor="staff:pm01",
            )


def test_appi_30r_receipt_records_are_kept_three_years(workspace: Workspace) -> None:
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
            actor="staff:pm01",
            today=date(2019, 2, 1),
        )
    assert row.purge_after == date(2022, 2, 1)


def test_jis_9_the_daily_reminder_puts_every_party_not_cleared_in_the_audit_log(
    office: tuple[Workspace, DemoPlan],
) -> None:
    from mamoru.audit.query import entries_for
    from mamoru.work.tasks import TASKS

    ws, _ = office
    assert TASKS["supervision.reminders"](ws, {}) == {"due": 1}  # the demo's mailing service is overdue
    with ws.db.session() as session:
        [reminder] = [
            e
            for e in entries_for(session, "actor", "system:worker", limit=50)
            if e.body["action"] == "supervision.reminder"
        ]
        assert reminder.body["objects"] == ["party:processor:mailing"]
        supervision.record_monitoring(
            session,
            ws.policy.policy,
            "mailing",
            on=datetime.now(UTC).date(),
            satisfactory=True,
            evidence_ref="m",
            actor="staff:pm01",
        )
    assert TASKS["supervision.reminders"](ws, {}) == {"due": 0}


# --- APPI-27a: a provision carries what the consent covers, to whom it covers ---------------------


def _consent_to(
    ws: Workspace, subject: str, recipient: str, categories: list[str], purpose: str = "announcements"
) -> None:
    with ws.db.session() as session:
        give_consent(
            session,
            subject_id=subject,
            scope=ConsentScope.THIRD_PARTY,
            channel="web_form",
            evidence_ref="form:test",
            actor="test",
            now=NOW - timedelta(minutes=1),
            purpose=purpose,
            recipient=recipient,
            categories=categories,
        )


def _refusal_events(ws: Workspace, subject: str) -> list[dict]:  # type: ignore[type-arg]
    from mamoru.audit.query import entries_for

    with ws.db.session() as session:
        return [e.body for e in entries_for(session, "subject", subject) if e.body.get("decision") == "deny"]


def test_appi_27a_a_provision_carries_only_the_items_the_consent_covers(
    office: tuple[Workspace, DemoPlan],
) -> None:
    ws, plan = office
    subjects = _consenting(ws, plan, 2)  # consented to identity and contact
    narrow = next(s for s in _customers(plan) if s not in subjects and _no_consent(ws, s))
    _consent_to(ws, narrow, "event_cosponsor", ["contact"])  # this one to the contact details only
    with ws.db.session() as session:
        give_consent(
            session,
            subject_id=narrow,
            scope=ConsentScope.BEYOND_PURPOSE,
            channel="web_form",
            evidence_ref="form:test",
            actor="test",
            now=NOW - timedelta(minutes=1),
            purpose="announcements",
        )
    before = _records(ws)
    result = _provide(ws, [*subjects, narrow])  # identity and contact
    assert result.refused_whole and result.provided == [] and result.package is None
    assert result.refused == {narrow: ["consent_does_not_cover"]}
    assert _records(ws) == before
    (event,) = _refusal_events(ws, narrow)
    assert event["action"] == "decision.provide" and event["reasons"] == [
        "consent_does_not_cover",
        "rule:provision.consent_scope",
    ]
    # What the consent covers goes, and nothing else: the package holds no name.
    result = _provide(ws, [narrow], categories=["contact"])
    assert result.provided == [narrow] and len(result.records) == 1
    rows = orjson.loads(zipfile.ZipFile(io.BytesIO(result.package or b"")).read("data.json"))
    fields = {r["field"] for r in rows}
    assert fields and fields <= {"email", "phone", "address", "organization"}
    with ws.db.session() as session:
        record = session.get(ProvisionRecord, result.records[0])
        assert record is not None and record.consent_id is not None


def test_appi_27a_a_consent_covers_only_its_recipient_and_its_purpose(
    reference: LoadedPolicy,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    import yaml

    from mamoru.setup import initialize

    data = yaml.safe_load(reference.source)
    data["recipients"].append(
        {
            "id": "book_fair",
            "name": {"ja": "ブックフェアの主催者", "en": "Book fair organizer"},
            "country": "JP",
            "basis": "consent",
            "purposes": ["announcements", "services"],
            "categories": ["identity", "contact"],
        }
    )
    initialize(settings)
    settings.resolved_policy_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    ws = Workspace.open(settings)
    try:
        plan = load_office(ws)
        first, second = [s for s in _customers(plan) if _no_consent(ws, s)][:2]
        _consent_to(ws, first, "event_cosponsor", ["identity", "contact"])
        _consent_to(ws, second, "book_fair", ["identity", "contact"], purpose="announcements")
        wrong_recipient = _provide(ws, [first], party="book_fair", purpose="services")
        assert wrong_recipient.refused == {first: ["provision_needs_consent"]}
        wrong_purpose = _provide(ws, [second], party="book_fair", purpose="services")
        assert wrong_purpose.refused == {second: ["consent_does_not_cover"]}
        assert wrong_purpose.provided == [] and wrong_purpose.package is None
        (event,) = _refusal_events(ws, second)
        assert event["reasons"] == ["consent_does_not_cover", "rule:provision.consent_scope"]
    finally:
        ws.close()


def test_appi_27a_a_provision_consent_must_name_its_items(workspace: Workspace) -> None:
    plan = load_office(workspace)
    with workspace.db.session() as session, pytest.raises(Invalid) as caught:
        give_consent(
            session,
            subject_id=_customers(plan)[0],
            scope=ConsentScope.THIRD_PARTY,
            channel="web_form",
            evidence_ref="form:test",
            actor="test",
            now=NOW,
            purpose="announcements",
            recipient="event_cosponsor",
        )
    assert {p.field for p in caught.value.problems} == {"categories"}
