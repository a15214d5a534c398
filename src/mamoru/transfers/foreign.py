"""Provision to a third party in a foreign country by consent (APPI Art. 28): what the person is told
first (the country, its system for protecting personal information, the recipient's measures), the
consent that records the version of that information it was given after, and the portal link through
which the office asks a person for it."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from babel import Locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.errors import Invalid, NotFound, Problem, problem
from mamoru.ledger.consent import ConsentScope, give_consent
from mamoru.ledger.tables import Consent, DataSubject
from mamoru.policy.model import Policy, Recipient
from mamoru.transfers.tables import ForeignConsentInvitation

#: How long a consent link stays open.
INVITATION_DAYS = 30
#: The evidence of a foreign consent: the version of the information and the digest of the text shown.
EVIDENCE_PREFIX = "foreign-info:v"


def foreign_recipient(policy: Policy, recipient_id: str) -> Recipient:
    """A recipient abroad that the policy declares, or :class:`Invalid`."""
    recipient = next((r for r in policy.recipients if r.id == recipient_id), None)
    if recipient is None or recipient.foreign is None:
        raise Invalid(
            [problem("recipient", f"'{recipient_id}' is not a foreign recipient of the policy", "not_abroad")]
        )
    return recipient


def country_name(code: str, lang: str) -> str:
    return str(Locale(lang).territories.get(code, code))


@dataclass(frozen=True)
class ForeignInformation:
    """The APPI Art. 28(2) information about one recipient, in one language (Rules Art. 17(2))."""

    recipient: str
    recipient_name: str
    country: str
    country_system: str
    recipient_measures: str
    source: str | None
    version: int
    route: str

    def text(self, lang: str) -> str:
        """The information as one text: what is shown, and what a consent's digest is taken over."""
        if lang == "ja":
            return (
                f"提供先: {self.recipient_name}\n提供先の国: {self.country}\n"
                f"当該国の個人情報保護制度: {self.country_system}\n"
                f"提供先が講ずる措置: {self.recipient_measures}"
            )
        return (
            f"Recipient: {self.recipient_name}\nCountry: {self.country}\n"
            f"The country's protection system: {self.country_system}\n"
            f"The recipient's measures: {self.recipient_measures}"
        )


def information(policy: Policy, recipient_id: str, lang: str) -> ForeignInformation:
    """What a person must be told about a recipient abroad, in ``lang``, with its version."""
    recipient = foreign_recipient(policy, recipient_id)
    foreign = recipient.foreign
    assert foreign is not None
    return ForeignInformation(
        recipient=recipient.id,
        recipient_name=recipient.name.in_(lang),
        country=country_name(recipient.country, lang),
        country_system=foreign.country_system.in_(lang),
        recipient_measures=foreign.recipient_measures.in_(lang),
        source=foreign.source.in_(lang) if foreign.source else None,
        version=foreign.version,
        route=foreign.route,
    )


def parties_abroad(policy: Policy, lang: str) -> list[ForeignInformation]:
    """The Art. 28 information about every recipient and every processor abroad the policy declares
    (entrustment abroad is provision to a foreign third party too, APPI Art. 28(1))."""
    out = [information(policy, r.id, lang) for r in policy.recipients if r.foreign is not None]
    for p in policy.processors:
        if p.foreign is not None:
            out.append(
                ForeignInformation(
                    recipient=p.id,
                    recipient_name=p.name.in_(lang),
                    country=country_name(p.country, lang),
                    country_system=p.foreign.country_system.in_(lang),
                    recipient_measures=p.foreign.recipient_measures.in_(lang),
                    source=p.foreign.source.in_(lang) if p.foreign.source else None,
                    version=p.foreign.version,
                    route=p.foreign.route,
                )
            )
    return out


def foreign_information(policy: Policy, recipient_id: str, lang: str) -> str:
    """What a person must be told before consenting to provision abroad (APPI Art. 28(2), Rules Art. 17)."""
    return information(policy, recipient_id, lang).text(lang)


def give_foreign_consent(
    session: Session,
    policy: Policy,
    *,
    subject_id: str,
    recipient: str,
    shown: str,
    lang: str,
    purpose: str,
    channel: str,
    actor: str,
    now: datetime,
    version_shown: int | None = None,
) -> Consent:
    """Record a consent to provision abroad, valid only if what the person was shown carried the country,
    its protection system and the recipient's measures (APPI Art. 28(2)), in the version now in force;
    the consent's evidence names that version and the digest of the text."""
    info = information(policy, recipient, lang)
    version = info.version if version_shown is None else version_shown
    missing = [
        name
        for name, text in (
            ("country", info.country),
            ("country_system", info.country_system),
            ("recipient_measures", info.recipient_measures),
        )
        if text not in shown
    ]
    if missing:
        raise Invalid(
            [
                (
                    "shown",
                    f"the consent is invalid: what was shown lacks {', '.join(missing)} (APPI Art. 28(2))",
                )
            ]
        )
    if version != info.version:
        raise Invalid(
            [
                problem(
                    "version",
                    f"the information shown was version {version}; version {info.version} is in force, "
                    "so the person must read it again before consenting (APPI Art. 28(2))",
                    "information_changed",
                )
            ]
        )
    digest = hashlib.sha256(shown.encode("utf-8")).hexdigest()
    party = foreign_recipient(policy, recipient)
    return give_consent(
        session,
        subject_id=subject_id,
        scope=ConsentScope.FOREIGN_THIRD_PARTY,
        channel=channel,
        evidence_ref=f"{EVIDENCE_PREFIX}{version};sha256:{digest}",
        actor=actor,
        now=now,
        purpose=purpose,
        recipient=recipient,
        categories=list(party.categories),
    )


def version_of(consent: Consent) -> int | None:
    """The version of the Art. 28 information a foreign consent was given after, if it says."""
    ref = consent.evidence_ref or ""
    if not ref.startswith(EVIDENCE_PREFIX):
        return None
    number = ref.removeprefix(EVIDENCE_PREFIX).split(";", 1)[0]
    return int(number) if number.isdigit() else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invite(
    session: Session,
    policy: Policy,
    *,
    subject_id: str,
    recipient: str,
    purpose: str,
    actor: str,
    now: datetime,
    days: int = INVITATION_DAYS,
) -> tuple[ForeignConsentInvitation, str]:
    """Open a portal link for one person to read the information about ``recipient`` and answer; the token
    is returned once (only its digest is kept)."""
    party = foreign_recipient(policy, recipient)
    problems: list[Problem] = []
    if party.foreign is not None and party.foreign.route != "consent":
        problems.append(
            problem(
                "recipient",
                f"'{recipient}' is provided to without consent ({party.foreign.route})",
                "not_by_consent",
            )
        )
    if purpose not in party.purposes:
        problems.append(
            problem(
                "purpose",
                f"'{purpose}' is not a purpose of provision to '{recipient}'",
                "purpose_not_declared",
            )
        )
    if session.get(DataSubject, subject_id) is None:
        problems.append(problem("subject_id", "no such subject", "subject_unknown"))
    if problems:
        raise Invalid(problems)
    token = secrets.token_urlsafe(32)
    row = ForeignConsentInvitation(
        token_sha256=_digest(token),
        subject_id=subject_id,
        recipient=recipient,
        purpose=purpose,
        created_by=actor,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(row)
    session.flush()
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="transfer.foreign_consent_asked",
                subjects=(subject_id,),
                objects=(f"foreign_invitation:{row.id}", f"recipient:{recipient}"),
            )
        ],
    )
    return row, token


def invitation(session: Session, token: str, now: datetime) -> ForeignConsentInvitation:
    """The open invitation of ``token``; :class:`NotFound` when unknown, answered or expired."""
    row = session.scalar(
        select(ForeignConsentInvitation).where(ForeignConsentInvitation.token_sha256 == _digest(token))
    )
    if row is None or row.answered_at is not None or _aware(row.expires_at) <= now:
        raise NotFound("no open consent link")
    return row


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def answer(
    session: Session,
    policy: Policy,
    token: str,
    *,
    agree: bool,
    version_shown: int,
    lang: str,
    now: datetime,
) -> Consent | None:
    """The person's answer through the link: a consent recorded with the version they read, or a refusal
    (recorded, nothing else changes). The text digested is the one the portal showed for that version."""
    row = invitation(session, token, now)
    actor = f"subject:{row.subject_id}"
    consent = None
    if agree:
        consent = give_foreign_consent(
            session,
            policy,
            subject_id=row.subject_id,
            recipient=row.recipient,
            shown=foreign_information(policy, row.recipient, lang),
            lang=lang,
            purpose=row.purpose,
            channel="portal",
            actor=actor,
            now=now,
            version_shown=version_shown,
        )
        row.consent_id = consent.id
    row.answered_at = now
    row.version_shown = version_shown
    append(
        session,
        [
            AuditEvent(
                actor=actor,
                action="transfer.foreign_consent_given" if agree else "transfer.foreign_consent_declined",
                subjects=(row.subject_id,),
                objects=(f"foreign_invitation:{row.id}", f"recipient:{row.recipient}"),
                reasons=(f"information_version:{version_shown}",),
            )
        ],
    )
    return consent
