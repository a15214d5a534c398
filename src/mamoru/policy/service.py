"""Publishing the notice: each published version is kept with its hash and effective date."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import MamoruError, NotFound
from mamoru.policy.load import LoadedPolicy
from mamoru.policy.notice import ensure_publishable, render_notice
from mamoru.policy.tables import PublishedNotice


class VersionConflict(MamoruError):
    """The same version label was already published with different content."""

    http_status = 409


def publish(session: Session, loaded: LoadedPolicy, published_by: str) -> PublishedNotice:
    """Publish the notice of ``loaded``; publishing the same text again returns the existing version."""
    policy = loaded.policy
    ensure_publishable(policy)
    same = session.scalar(select(PublishedNotice).where(PublishedNotice.policy_sha256 == loaded.sha256))
    if same is not None:
        return same
    clash = session.scalar(select(PublishedNotice).where(PublishedNotice.policy_version == policy.version))
    if clash is not None:
        raise VersionConflict(
            f"version '{policy.version}' was already published with other content "
            f"(sha256 {clash.policy_sha256[:12]}…); give the changed policy a new version"
        )
    assert policy.revised_on is not None  # ensured above
    notice = PublishedNotice(
        policy_version=policy.version,
        policy_sha256=loaded.sha256,
        effective_from=policy.effective_from,
        revised_on=policy.revised_on,
        published_by=published_by,
        source=loaded.source,
        html_ja=render_notice(policy, "ja", "html"),
        html_en=render_notice(policy, "en", "html"),
    )
    session.add(notice)
    session.flush()
    append(
        session,
        [
            AuditEvent(
                actor=published_by,
                action="notice.publish",
                objects=(f"notice:{notice.id}", f"policy-sha256:{loaded.sha256[:32]}"),
                policy_version=policy.version,
            )
        ],
    )
    return notice


def current_notice(session: Session) -> PublishedNotice | None:
    """The version in force: the latest published one."""
    return session.scalar(select(PublishedNotice).order_by(PublishedNotice.id.desc()).limit(1))


def notice_versions(session: Session) -> list[PublishedNotice]:
    """Every published version, newest first."""
    return list(session.scalars(select(PublishedNotice).order_by(PublishedNotice.id.desc())))


def notice_version(session: Session, notice_id: int) -> PublishedNotice:
    notice = session.get(PublishedNotice, notice_id)
    if notice is None:
        raise NotFound(f"no published notice with id {notice_id}")
    return notice


def is_current(session: Session, loaded: LoadedPolicy) -> bool:
    """Whether the published notice matches the policy being enforced (a stale notice is a finding)."""
    current = current_notice(session)
    return current is not None and current.policy_sha256 == loaded.sha256
