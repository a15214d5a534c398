"""A changed purpose (APPI-17b, APPI-21c) and the improper-use assessment before a purpose is in force
(APPI-19): the rules of the policy file, the guard's refusals, and the way from a changed file through
publication and the per-person notice queue to the use."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from mamoru.guard.decision import Reason
from mamoru.guard.engine import compile_policy, decide
from mamoru.ledger.consent import ConsentScope, give_consent
from mamoru.ledger.purposes import affected_subjects, change_statuses, publish_policy, record_delivery
from mamoru.ledger.tables import Acquisition, PurposeNotice
from mamoru.policy.errors import PolicyError
from mamoru.policy.load import LoadedPolicy, parse_policy
from mamoru.policy.service import PolicyNotPublished, current_notice, purpose_versions
from mamoru.workspace import Workspace
from tests.demo_copies import demo_copy
from tests.test_guard import CUSTOMER, NOW, SALES, read
from tests.test_guard_service import ask, customer

NEW_TEXT = {
    "ja": "製品・サービスの提供、料金の請求・回収、決済、売上の記録、これらの運営管理及び利用状況に応じたサポートの案内",
    "en": "To provide our products and services, bill and collect charges, settle accounts, record sales, run "
    "these operations and offer support suited to how they are used",
}


def changed(
    source: str, *, related: bool, purpose: str = "services", assessed: bool = True, label: str = "2026.12"
) -> str:
    """The policy text with ``purpose`` at version 2 (its change recorded) under a new version label."""
    data: dict[str, Any] = yaml.safe_load(source)
    data["version"] = label
    data["revised_on"] = "2026-12-01"
    entry = next(p for p in data["purposes"] if p["id"] == purpose)
    previous = entry["text"]
    entry["text"] = NEW_TEXT
    entry["version"] = 2
    entry["changes"] = [
        {
            "version": 2,
            "related": related,
            "justification": {
                "ja": "サービス提供に付随する案内であり、変更前の目的から本人が通常予期できる範囲である。",
                "en": "Support that goes with the service is what a person would expect from the previous purpose.",
            },
            "previous_text": previous,
            "changed_on": "2026-11-28",
        }
    ]
    if assessed:
        entry["improper_use"] = dict(entry["improper_use"], version=2, assessed_on="2026-11-29")
    else:
        entry.pop("improper_use")
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


# --- the rules of the policy file ---


def test_appi_17b_a_new_purpose_version_without_its_change_record_is_refused(reference: LoadedPolicy) -> None:
    data = yaml.safe_load(changed(reference.source, related=True))
    next(p for p in data["purposes"] if p["id"] == "services").pop("changes")
    with pytest.raises(PolicyError) as refused:
        parse_policy(yaml.safe_dump(data, allow_unicode=True), "changed.yaml")
    assert any(
        i.field == "purposes[0].changes" and "reasonably related" in i.message for i in refused.value.issues
    )


def test_appi_19_a_purpose_without_its_improper_use_assessment_cannot_be_put_in_force(
    reference: LoadedPolicy,
) -> None:
    source = changed(reference.source, related=True, assessed=False)
    with pytest.raises(PolicyError) as refused:
        parse_policy(source, "changed.yaml")
    assert [i.field for i in refused.value.issues] == ["purposes[0].improper_use"]
    assert "APPI Art. 19" in refused.value.issues[0].message


def test_appi_19_an_assessment_of_an_earlier_version_does_not_cover_the_changed_purpose(
    reference: LoadedPolicy,
) -> None:
    data = yaml.safe_load(changed(reference.source, related=True))
    next(p for p in data["purposes"] if p["id"] == "services")["improper_use"]["version"] = 1
    with pytest.raises(PolicyError, match="assess the purpose as it now reads"):
        parse_policy(yaml.safe_dump(data, allow_unicode=True), "changed.yaml")


def test_appi_19_the_guard_refuses_a_purpose_without_its_assessment(reference: LoadedPolicy) -> None:
    """Even a policy loaded for a check only (not publishable) is never used for an unassessed purpose."""
    policy = parse_policy(
        changed(reference.source, related=True, assessed=False), for_publication=False
    ).policy
    (decision,) = decide(compile_policy(policy), read(), [CUSTOMER], NOW)
    assert not decision.allow
    assert decision.reasons == (Reason.PURPOSE_NOT_ASSESSED,) and decision.rule == "purpose.improper_use"


# --- the guard (pure) ---


@pytest.fixture(scope="module")
def related_tables(reference: LoadedPolicy) -> Any:
    return compile_policy(parse_policy(changed(reference.source, related=True)).policy)


@pytest.fixture(scope="module")
def unrelated_tables(reference: LoadedPolicy) -> Any:
    return compile_policy(parse_policy(changed(reference.source, related=False)).policy)


def test_appi_21c_a_related_change_is_not_used_for_a_person_before_they_are_told(related_tables: Any) -> None:
    (before,) = decide(related_tables, read(), [CUSTOMER], NOW)
    assert before.reasons == (Reason.PURPOSE_CHANGE_NOT_NOTIFIED,) and not before.allow
    told = replace(CUSTOMER, purpose_told={"services": 2})
    (after,) = decide(related_tables, read(), [told], NOW)
    assert after.allow and after.reasons == (Reason.ALLOWED,)


def test_appi_17b_an_unrelated_change_needs_the_persons_consent(unrelated_tables: Any) -> None:
    (before,) = decide(unrelated_tables, read(), [CUSTOMER], NOW)
    assert before.reasons == (Reason.PURPOSE_CHANGE_NEEDS_CONSENT,) and not before.allow
    # being told is not enough when the change is not related
    (told,) = decide(unrelated_tables, read(), [replace(CUSTOMER, purpose_told={"services": 2})], NOW)
    assert told.reasons == (Reason.PURPOSE_CHANGE_NEEDS_CONSENT,)
    (agreed,) = decide(unrelated_tables, read(), [replace(CUSTOMER, purpose_agreed={"services": 2})], NOW)
    assert agreed.allow


def test_appi_17b_a_change_leaves_other_purposes_and_the_actors_checks_alone(related_tables: Any) -> None:
    (other,) = decide(related_tables, read(actor=replace(SALES, pledge_signed=False)), [CUSTOMER], NOW)
    assert other.reasons == (Reason.PLEDGE_MISSING,)


# --- from the changed file to the use, over the database ---


@pytest.fixture
def demo(workspace: Workspace) -> Workspace:
    demo_copy(workspace, 4)
    return workspace


def _write(ws: Workspace, text: str) -> LoadedPolicy:
    ws.settings.resolved_policy_file.write_text(text, encoding="utf-8")
    return ws.policy_file()


def test_appi_21c_publishing_a_changed_purpose_updates_the_notice_and_queues_one_notice_per_person(
    demo: Workspace,
) -> None:
    subject = customer(demo)
    with demo.db.session() as session:
        affected = affected_subjects(session, "services", datetime.now(UTC))
        published_before = current_notice(session)
    assert subject in affected and len(affected) > 1
    loaded = _write(demo, changed(demo.policy.source, related=True))
    with pytest.raises(
        PolicyNotPublished
    ) as refused:  # drift: the file is not enforced before it is published
        demo.reload_policy()
    assert "+    version: 2" in refused.value.diff
    assert demo.policy.policy.version == "2026.11"

    with demo.db.session() as session:
        done = publish_policy(session, loaded, by="staff:pm01")
    assert done.queued == {"services:2": len(affected)}
    with demo.db.session() as session:
        notice = current_notice(session)
        assert notice is not None and published_before is not None
        assert notice.policy_sha256 == loaded.sha256 != published_before.policy_sha256
        assert NEW_TEXT["ja"] in notice.html_ja
        assert session.query(PurposeNotice).filter_by(purpose_id="services", version=2).count() == len(
            affected
        )
        (version,) = purpose_versions(session, "services")[:1]
        assert (version.version, version.related, version.approved_by) == (2, True, "staff:pm01")
        assert version.justification_en is not None
    demo.reload_policy()

    assert ask(demo, subject).reasons == (Reason.PURPOSE_CHANGE_NOT_NOTIFIED,)
    with demo.db.session() as session:
        count = record_delivery(
            session,
            purpose_id="services",
            version=2,
            channel="email",
            by="staff:pm01",
            now=datetime.now(UTC) - timedelta(seconds=1),
            subject_ids=[subject],
        )
    assert count == 1
    assert ask(demo, subject).allow
    others = [s for s in affected if s != subject]
    assert ask(demo, others[0]).reasons == (Reason.PURPOSE_CHANGE_NOT_NOTIFIED,)
    with demo.db.session() as session:
        (status,) = change_statuses(session)
    assert (status.kind, status.pending, status.delivered) == ("notice", len(affected) - 1, 1)


def test_appi_17b_an_unrelated_change_is_used_only_for_persons_who_consented(demo: Workspace) -> None:
    subject = customer(demo)
    loaded = _write(demo, changed(demo.policy.source, related=False))
    with demo.db.session() as session:
        done = publish_policy(session, loaded, by="staff:pm01")
        kinds = set(session.scalars(select(PurposeNotice.kind)))
    assert kinds == {"consent"} and done.queued["services:2"] > 0
    demo.reload_policy()
    assert ask(demo, subject).reasons == (Reason.PURPOSE_CHANGE_NEEDS_CONSENT,)
    with demo.db.session() as session:  # the consent request went out: still not consent
        record_delivery(
            session, purpose_id="services", version=2, channel="post", by="staff:pm01", now=datetime.now(UTC)
        )
    assert ask(demo, subject).reasons == (Reason.PURPOSE_CHANGE_NEEDS_CONSENT,)
    with demo.db.session() as session:
        give_consent(
            session,
            subject_id=subject,
            scope=ConsentScope.BEYOND_PURPOSE,
            purpose="services",
            channel="web",
            evidence_ref="form:purpose-v2",
            actor="staff:po01",
            now=datetime.now(UTC),
        )
    assert ask(demo, subject).allow


def test_appi_17b_data_acquired_after_the_change_is_used_under_the_new_text(demo: Workspace) -> None:
    loaded = _write(demo, changed(demo.policy.source, related=False))
    with demo.db.session() as session:
        publish_policy(session, loaded, by="staff:pm01")
    demo.reload_policy()
    subject = customer(demo)
    with demo.db.session() as session:  # the person gave their data again after the change (shown v2)
        acquisition = session.scalar(select(Acquisition).where(Acquisition.subject_id == subject).limit(1))
        assert acquisition is not None
        acquisition.acquired_at = datetime.now(UTC)
    assert ask(demo, subject).allow


def test_appi_17b_recording_a_delivery_refuses_an_unknown_channel_and_changes_nothing(
    demo: Workspace,
) -> None:
    from mamoru.errors import Invalid

    loaded = _write(demo, changed(demo.policy.source, related=True))
    with demo.db.session() as session:
        publish_policy(session, loaded, by="staff:pm01")
    with pytest.raises(Invalid, match="channel"), demo.db.session() as session:
        record_delivery(
            session,
            purpose_id="services",
            version=2,
            channel="pigeon",
            by="staff:pm01",
            now=datetime.now(UTC),
        )
    with demo.db.session() as session:
        assert session.query(PurposeNotice).filter(PurposeNotice.delivered_at.is_not(None)).count() == 0


@pytest.mark.parametrize(
    "reason",
    [Reason.PURPOSE_NOT_ASSESSED, Reason.PURPOSE_CHANGE_NOT_NOTIFIED, Reason.PURPOSE_CHANGE_NEEDS_CONSENT],
)
def test_appi_17b_the_new_refusals_have_words_in_both_languages_and_are_documented(reason: Reason) -> None:
    from pathlib import Path

    from mamoru.words import catalog

    assert catalog("ja")[f"reason_{reason.value}"] != catalog("en")[f"reason_{reason.value}"]
    guard_doc = (Path(__file__).resolve().parents[1] / "docs" / "guard.md").read_text(encoding="utf-8")
    assert f"`{reason.value}`" in guard_doc


def test_appi_21c_every_delivery_channel_has_its_words() -> None:
    from mamoru.ledger.purposes import CHANNELS
    from tests.test_i18n import DYNAMIC

    assert set(DYNAMIC["pc_channel_"]) == CHANNELS
