"""A changed purpose (APPI Arts. 17(2), 21(3)): publishing puts the new version in force and queues one
notice per person whose data was acquired for the purpose (or, for a change that is not reasonably
related, one request for consent); the guard refuses the new use for each person until then."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import Invalid, NotFound
from mamoru.ledger.tables import Acquisition, DataSubject, PurposeNotice
from mamoru.policy.load import LoadedPolicy
from mamoru.policy.service import publish, purpose_versions
from mamoru.policy.tables import PublishedNotice, PurposeVersion

NOTICE, CONSENT = "notice", "consent"
#: how a notice of a change reaches the person (APPI Art. 21(3): notify, or publish)
CHANNELS = frozenset({"email", "post", "portal", "in_person"})


@dataclass(frozen=True)
class Published:
    notice: PublishedNotice
    new_versions: list[PurposeVersion]
    queued: dict[str, int]  # "purpose:version" -> persons queued


def affected_subjects(session: Session, purpose_id: str, before: datetime) -> list[str]:
    """The persons, not erased, whose data was acquired for ``purpose_id`` before ``before``."""
    rows = session.execute(
        select(Acquisition.subject_id, Acquisition.purposes_notified)
        .join(DataSubject, DataSubject.id == Acquisition.subject_id)
        .where(DataSubject.erased_at.is_(None), Acquisition.acquired_at < before)
    )
    return sorted({sid for sid, purposes in rows if purpose_id in (purposes or ())})


def publish_policy(session: Session, loaded: LoadedPolicy, *, by: str) -> Published:
    """Publish ``loaded`` (no-op if published), and queue a notice or consent request for each person
    concerned by each purpose version it puts in force for the first time."""
    before = {(v.purpose_id, v.version) for v in purpose_versions(session)}
    notice = publish(session, loaded, by)
    new = [v for v in purpose_versions(session) if (v.purpose_id, v.version) not in before]
    queued: dict[str, int] = {}
    for version in new:
        if version.version == 1:
            continue
        kind = CONSENT if version.related is False else NOTICE
        subjects = affected_subjects(session, version.purpose_id, version.published_at)
        session.add_all(
            PurposeNotice(
                purpose_id=version.purpose_id,
                version=version.version,
                subject_id=sid,
                kind=kind,
                created_at=version.published_at,
            )
            for sid in subjects
        )
        queued[f"{version.purpose_id}:{version.version}"] = len(subjects)
        append(
            session,
            [
                AuditEvent(
                    actor=by,
                    action="purpose.change",
                    purpose=version.purpose_id,
                    objects=(f"purpose-version:{version.id}", f"notice:{notice.id}"),
                    reasons=("related" if version.related else "not_related",),
                    policy_version=loaded.policy.version,
                    counts={kind: len(subjects)},
                )
            ],
        )
    session.flush()
    return Published(notice, new, queued)


@dataclass(frozen=True)
class ChangeStatus:
    """One purpose version and its queue: how many persons are still to be told (or asked)."""

    version: PurposeVersion
    kind: str
    pending: int
    delivered: int


def change_statuses(session: Session) -> list[ChangeStatus]:
    """Every purpose version after the first, newest first, with its queue's counts."""
    counts: dict[tuple[str, int], tuple[int, int]] = {}
    for purpose, version, pending, total in session.execute(
        select(
            PurposeNotice.purpose_id,
            PurposeNotice.version,
            func.count(PurposeNotice.id).filter(PurposeNotice.delivered_at.is_(None)),
            func.count(PurposeNotice.id),
        ).group_by(PurposeNotice.purpose_id, PurposeNotice.version)
    ):
        counts[(purpose, version)] = (pending, total - pending)
    return [
        ChangeStatus(
            v,
            CONSENT if v.related is False else NOTICE,
            *counts.get((v.purpose_id, v.version), (0, 0)),
        )
        for v in purpose_versions(session)
        if v.version > 1
    ]


def record_delivery(
    session: Session,
    *,
    purpose_id: str,
    version: int,
    channel: str,
    by: str,
    now: datetime,
    subject_ids: Sequence[str] | None = None,
) -> int:
    """Record that the notice (or the consent request) of a purpose version went out, to every person
    still waiting or to ``subject_ids``; returns how many. A notice delivered lets the guard allow the
    related use for that person; a consent request does not: the person's consent does."""
    if channel not in CHANNELS:
        raise Invalid([("channel", f"unknown channel '{channel}'; use one of {', '.join(sorted(CHANNELS))}")])
    found = session.scalar(
        select(PurposeVersion).where(
            PurposeVersion.purpose_id == purpose_id, PurposeVersion.version == version
        )
    )
    if found is None or version < 2:
        raise NotFound(f"no changed purpose '{purpose_id}' at version {version}")
    query = select(PurposeNotice).where(
        PurposeNotice.purpose_id == purpose_id,
        PurposeNotice.version == version,
        PurposeNotice.delivered_at.is_(None),
    )
    if subject_ids is not None:
        query = query.where(PurposeNotice.subject_id.in_(list(subject_ids)))
    rows = list(session.scalars(query))
    for row in rows:
        row.delivered_at, row.channel = now, channel
    if rows:
        append(
            session,
            [
                AuditEvent(
                    actor=by,
                    action="purpose.notice_delivered",
                    purpose=purpose_id,
                    subjects=tuple(r.subject_id for r in rows),
                    objects=(f"purpose-version:{found.id}", f"channel:{channel}"),
                    counts={"delivered": len(rows)},
                )
            ],
        )
    session.flush()
    return len(rows)
