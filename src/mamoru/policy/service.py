"""Publishing the notice: each published version is kept with its hash and effective date."""

from __future__ import annotations

import difflib

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import MamoruError, NotFound
from mamoru.policy.load import LoadedPolicy
from mamoru.policy.notice import ensure_publishable, render_notice
from mamoru.policy.tables import PublishedNotice, PurposeVersion


class PolicyNotPublished(MamoruError):
    """The policy file differs from the published version: it is enforced only once it is published."""

    http_status = 409

    def __init__(self, file: str, version: str, sha256: str, published: PublishedNotice | None, diff: str):
        self.file, self.version, self.sha256, self.published, self.diff = (
            file,
            version,
            sha256,
            published,
            diff,
        )
        if published is None:
            head = f"{file} (version {version}, sha256 {sha256[:12]}…) has never been published"
        else:
            head = (
                f"{file} (version {version}, sha256 {sha256[:12]}…) differs from the published version "
                f"{published.policy_version} (sha256 {published.policy_sha256[:12]}…, published "
                f"{published.published_at:%Y-%m-%d})"
            )
        super().__init__(
            f"{head}; the server enforces only a published policy: publish it (`mamoru policy publish`, "
            "or Policy in the console) or restore the published file"
        )


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
    _record_purpose_versions(session, loaded, notice, published_by)
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


def _record_purpose_versions(
    session: Session, loaded: LoadedPolicy, notice: PublishedNotice, approved_by: str
) -> list[PurposeVersion]:
    """The purpose versions this publication puts in force for the first time (APPI Arts. 17(2), 19):
    the publisher approves each change as the policy file records it."""
    known = {(p, v) for p, v in session.execute(select(PurposeVersion.purpose_id, PurposeVersion.version))}
    added = []
    for purpose in loaded.policy.purposes:
        if (purpose.id, purpose.version) in known:
            continue
        assessment = purpose.improper_use
        assert assessment is not None  # ensure_publishable refuses a purpose without it
        change = purpose.change(purpose.version)
        row = PurposeVersion(
            purpose_id=purpose.id,
            version=purpose.version,
            notice_id=notice.id,
            text_ja=purpose.text.ja,
            text_en=purpose.text.en,
            related=change.related if change else None,
            justification_ja=change.justification.ja if change else None,
            justification_en=change.justification.en if change else None,
            approved_by=approved_by,
            assessed_by=assessment.assessed_by,
            assessed_on=assessment.assessed_on,
            published_at=notice.published_at,
        )
        session.add(row)
        added.append(row)
    session.flush()
    return added


def purpose_versions(session: Session, purpose_id: str | None = None) -> list[PurposeVersion]:
    """Every purpose version put in force, newest first (one purpose's with ``purpose_id``)."""
    query = select(PurposeVersion).order_by(PurposeVersion.id.desc())
    if purpose_id is not None:
        query = query.where(PurposeVersion.purpose_id == purpose_id)
    return list(session.scalars(query))


def difference(session: Session, loaded: LoadedPolicy) -> str:
    """The unified difference from the published version to ``loaded`` (empty when they are the same)."""
    current = current_notice(session)
    if current is not None and current.policy_sha256 == loaded.sha256:
        return ""
    before = current.source if current is not None else ""
    label = f"published {current.policy_version}" if current is not None else "(nothing published)"
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            loaded.source.splitlines(keepends=True),
            fromfile=label,
            tofile=f"{loaded.file} (version {loaded.policy.version})",
        )
    )


def ensure_published(session: Session, loaded: LoadedPolicy) -> PublishedNotice:
    """The published version ``loaded`` is; :class:`PolicyNotPublished`, with the difference, if it is not
    the version in force. The server starts and reloads only through this."""
    current = current_notice(session)
    if current is None or current.policy_sha256 != loaded.sha256:
        raise PolicyNotPublished(
            loaded.file, loaded.policy.version, loaded.sha256, current, difference(session, loaded)
        )
    return current
