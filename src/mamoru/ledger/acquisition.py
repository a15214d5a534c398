"""Acquisition: personal data comes in through a channel, with its purposes notified (APPI Arts. 20, 21).

Every acquisition records the channel, the source type, the purposes notified and the exact notice
version shown, or, where the purposes were not published in advance, a notification due date.
Special care-required data needs a prior consent or one of the statutory exceptions.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import Invalid, NotFound
from mamoru.law.periods import period_end
from mamoru.law.retention import ACQUISITION_NOTICE_DAYS
from mamoru.ledger.consent import ConsentScope, consents_in_force
from mamoru.ledger.entries import get_entry
from mamoru.ledger.errors import AcquisitionRefused, NothingToNotify
from mamoru.ledger.tables import Acquisition, Channel, DataSubject, LedgerEntry
from mamoru.mail import CONTROL_IN_ADDRESS, has_control
from mamoru.policy.model import Policy, RetentionStart
from mamoru.policy.tables import PublishedNotice
from mamoru.vault.service import Vault


class SourceType(StrEnum):
    DIRECT_WRITTEN = "direct_written"  # from the person, in writing or a web form (Art. 21(2))
    DIRECT_OTHER = "direct_other"  # from the person, otherwise (by phone, in person)
    THIRD_PARTY = "third_party"  # from another business (see transfers: receipt confirmation)
    PUBLIC = "public"  # from a public source (gazettes, registers)
    OPT_OUT = "opt_out"  # from an opt-out provider (Art. 27(2))


class SpecialCareException(StrEnum):
    """APPI Art. 20(2): when special care-required data may be acquired without prior consent."""

    LAW = "law"
    LIFE_BODY_PROPERTY = "life_body_property"
    PUBLIC_HEALTH_CHILDREN = "public_health_children"
    STATE_COOPERATION = "state_cooperation"
    ACADEMIC_RESEARCH = "academic_research"
    PUBLISHED = "published"  # made public by the person, a state body or the press


def create_channel(
    session: Session,
    *,
    channel_id: str,
    name: str,
    ledger_code: str,
    source_type: SourceType | None,
    notice_in_advance: bool,
    actor: str,
) -> Channel:
    """A channel starts as a draft; it takes data only once :func:`activate_channel` let it go live."""
    entry = get_entry(session, ledger_code)
    if session.get(Channel, channel_id) is not None:
        raise Invalid([("channel_id", f"a channel '{channel_id}' already exists")])
    channel = Channel(
        id=channel_id,
        name=name,
        ledger_entry_id=entry.id,
        source_type=source_type.value if source_type else None,
        notice_in_advance=notice_in_advance,
    )
    session.add(channel)
    session.flush()
    append(session, [AuditEvent(actor=actor, action="channel.create", objects=(f"channel:{channel_id}",))])
    return channel


def attest_channel(session: Session, channel_id: str, *, actor: str, now: datetime) -> Channel:
    """Record that ``actor`` attests the channel acquires lawfully, without deceit (APPI Art. 20(1))."""
    channel = _channel(session, channel_id)
    channel.legality_attested_by = actor
    channel.legality_attested_at = now
    append(session, [AuditEvent(actor=actor, action="channel.attest", objects=(f"channel:{channel_id}",))])
    return channel


def activate_channel(session: Session, channel_id: str, *, actor: str) -> Channel:
    """Let a channel go live: it needs a source type and a legality attestation (APPI-20a)."""
    channel = _channel(session, channel_id)
    problems = []
    if channel.source_type is None:
        problems.append(("source_type", "a channel must say where its data comes from before it goes live"))
    if channel.legality_attested_at is None:
        problems.append(
            ("legality_attested_by", "a channel needs a legality attestation before it goes live")
        )
    if problems:
        raise Invalid(problems)
    channel.active = True
    append(session, [AuditEvent(actor=actor, action="channel.activate", objects=(f"channel:{channel_id}",))])
    return channel


def _channel(session: Session, channel_id: str) -> Channel:
    channel = session.get(Channel, channel_id)
    if channel is None:
        raise NotFound(f"no channel '{channel_id}'")
    return channel


@dataclass
class AcquisitionIn:
    """One acquisition as a channel reports it."""

    channel_id: str
    subject_kind: str
    values: dict[str, str]
    categories: list[str]
    purposes: list[str]
    subject_id: str | None = None  # an existing subject; None for a new one
    new_subject_id: str | None = None  # the id to give a new subject (imports, the demo); random if None
    notice_shown: int | None = None  # id of the published notice version the person saw
    exception_code: SpecialCareException | None = None
    exception_justification: str | None = None
    #: Set only by ``transfers.inbound.receive``, in the same transaction, after it recorded the
    #: confirmation on receipt (APPI Art. 30): data from another business is never taken in without it.
    receipt_recorded: bool = False


#: Channels whose data comes from another business: taken in only with the confirmation on receipt.
FROM_ANOTHER_BUSINESS = frozenset({SourceType.THIRD_PARTY.value, SourceType.OPT_OUT.value})


def retention_until(entry: LedgerEntry, policy: Policy, acquired_on: date) -> date | None:
    """When data acquired on ``acquired_on`` for this ledger entry is due for disposal, if known now."""
    if entry.retention_until is not None:
        return entry.retention_until
    rule = next((r for r in policy.retention if r.id == entry.retention_rule), None)
    if rule is None or rule.starting is not RetentionStart.ACQUISITION:
        return None  # starts at an event still to come (end of contract, of employment …)
    return period_end(acquired_on, years=rule.years, months=rule.months, days=rule.days)


def acquire(
    session: Session,
    vault: Vault,
    policy: Policy,
    data: AcquisitionIn,
    *,
    actor: str,
    now: datetime,
    notice_days: int = ACQUISITION_NOTICE_DAYS,
) -> Acquisition:
    """Record personal data coming in, or refuse it with the reason; nothing is stored on refusal."""
    channel = _channel(session, data.channel_id)
    if not channel.active:
        raise AcquisitionRefused(f"channel '{channel.id}' is not live; it cannot take personal data")
    if channel.source_type in FROM_ANOTHER_BUSINESS and not data.receipt_recorded:
        raise AcquisitionRefused(
            f"channel '{channel.id}' takes data from another business: confirm and record the provider, its "
            "representative and how it obtained the data first (APPI Art. 30; transfers.inbound.receive)"
        )
    entry = session.get(LedgerEntry, channel.ledger_entry_id)
    assert entry is not None
    problems: list[tuple[str, str]] = []
    if not data.purposes:
        problems.append(("purposes", "an acquisition states the purposes notified (APPI Art. 21)"))
    for purpose in data.purposes:
        if purpose not in entry.purposes:
            problems.append(("purposes", f"'{purpose}' is not a purpose of ledger entry {entry.code}"))
    for category in data.categories:
        if category not in entry.data_items:
            problems.append(("categories", f"'{category}' is not an item of ledger entry {entry.code}"))
    # What is written decides, not what the caller declares: each field's category comes from the
    # policy (a field without one is refused: it could be special care-required), and a special
    # care-required field counts for the consent check below and must be an item of the ledger entry.
    written: list[str] = []
    for name in sorted(data.values):
        of_field = policy.fields.get(name)
        if of_field is None:
            problems.append(("values", f"field '{name}' has no category in the policy; it cannot be stored"))
        elif not policy.category(of_field).special_care or of_field in data.categories:
            continue
        elif of_field not in entry.data_items:
            problems.append(
                ("values", f"field '{name}' is {of_field}, not an item of ledger entry {entry.code}")
            )
        elif of_field not in written:
            written.append(of_field)
    if data.subject_kind not in {k.id for k in policy.subject_kinds}:
        problems.append(("subject_kind", f"'{data.subject_kind}' is not a subject kind of the policy"))
    if has_control(data.values.get("email", "")):
        problems.append(("values.email", CONTROL_IN_ADDRESS))
    if problems:
        raise Invalid(problems)

    notice: PublishedNotice | None = None
    if data.notice_shown is not None:
        notice = session.get(PublishedNotice, data.notice_shown)
        if notice is None:
            raise Invalid([("notice_shown", f"no published notice version {data.notice_shown}")])
    elif channel.source_type == SourceType.DIRECT_WRITTEN:
        raise AcquisitionRefused(
            "data taken from the person in writing needs the purposes stated in advance: "
            "give the notice version shown (purpose_version_shown, APPI Art. 21(2))"
        )
    elif channel.notice_in_advance:
        notice = session.scalar(select(PublishedNotice).order_by(PublishedNotice.id.desc()).limit(1))

    subject_id = data.subject_id or data.new_subject_id or str(uuid.uuid4())
    new_subject = data.subject_id is None
    if not new_subject and session.get(DataSubject, subject_id) is None:
        raise NotFound(f"no subject {subject_id}")

    categories = {c.id: c for c in policy.categories}
    acquired = [*data.categories, *written]
    consent_id = None
    if any(categories[c].special_care for c in acquired if c in categories):
        consents = (
            [] if new_subject else consents_in_force(session, subject_id, ConsentScope.SPECIAL_CARE, now)
        )
        if consents:
            consent_id = consents[0].id
        elif data.exception_code is None:
            raise AcquisitionRefused(
                "special care-required data needs the person's prior consent or a statutory exception "
                "(APPI Art. 20(2))"
            )
        elif not (data.exception_justification or "").strip():
            raise Invalid([("exception_justification", "an exception needs a justification")])

    if new_subject:
        session.add(DataSubject(id=subject_id, kind=data.subject_kind, created_at=now))
        session.flush()
    vault.store(session, subject_id, data.values, new=new_subject)
    acquisition = Acquisition(
        subject_id=subject_id,
        channel_id=channel.id,
        ledger_entry_id=entry.id,
        source_type=channel.source_type or "",
        categories=acquired,
        purposes_notified=list(data.purposes),
        notice_id=notice.id if notice else None,
        acquired_at=now,
        notification_due=None if notice else period_end(now.date(), days=notice_days),
        consent_id=consent_id,
        exception_code=data.exception_code.value if data.exception_code else None,
        exception_justification=data.exception_justification,
        retain_until=retention_until(entry, policy, now.date()),
    )
    session.add(acquisition)
    session.flush()
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="acquisition.record",
                subjects=(subject_id,),
                objects=(f"acquisition:{acquisition.id}", f"channel:{channel.id}", f"ledger:{entry.code}"),
                reasons=tuple(f"purpose:{p}" for p in data.purposes),
                counts={"fields": len(data.values)},
                policy_version=policy.version,
            )
        ],
    )
    return acquisition


def channel_names(session: Session) -> dict[str, str]:
    """Every channel's name by its id (what a page shows instead of the id)."""
    return {c.id: c.name for c in session.scalars(select(Channel))}


def notifications_due(session: Session, today: date) -> list[Acquisition]:
    """Acquisitions whose purposes still have to be notified; overdue ones have a due date before today."""
    return list(
        session.scalars(
            select(Acquisition)
            .where(Acquisition.notification_due.is_not(None), Acquisition.notified_at.is_(None))
            .order_by(Acquisition.notification_due)
        )
    )


def is_overdue(acquisition: Acquisition, today: date) -> bool:
    return (
        acquisition.notified_at is None
        and acquisition.notification_due is not None
        and today > acquisition.notification_due
    )


def mark_notified(session: Session, acquisition_id: int, *, actor: str, now: datetime) -> Acquisition:
    """Record that the person was notified of the purposes (or that they were published) after an
    acquisition without a notice in advance (APPI Art. 21(1)); the task is then no longer due.

    Marking it again changes nothing and is not audited again; an acquisition whose purposes were
    published in advance has no notice to mark.
    """
    acquisition = session.get(Acquisition, acquisition_id)
    if acquisition is None:
        raise NotFound(f"no acquisition {acquisition_id}")
    if acquisition.notification_due is None:
        raise NothingToNotify(f"acquisition {acquisition_id} was made under a notice published in advance")
    if acquisition.notified_at is not None:
        return acquisition
    acquisition.notified_at = now
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="acquisition.notified",
                subjects=(acquisition.subject_id,),
                objects=(f"acquisition:{acquisition_id}",),
            )
        ],
    )
    return acquisition
