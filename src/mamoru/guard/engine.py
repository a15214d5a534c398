"""The guard's engine: one pure function from compiled policy tables, actor state and subject state
to decisions. No database, no clock (``now`` is given), no I/O. Denies by default.

Rules run in a fixed order and the first that fails decides; each has a name (``rule``) and a
reason code (:class:`Reason`). A rule can only ever remove permission that a later rule would grant:
adding a cessation, withdrawing a consent, removing a role or letting training lapse never turns a
deny into an allow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from mamoru.guard.decision import Action, Decision, Reason
from mamoru.people.permissions import MY_NUMBER, OFFICE
from mamoru.policy.model import Policy

#: Training older than this no longer counts (JIS-7: at least once a year).
TRAINING_VALID_DAYS = 365
_TRAINING_VALID = timedelta(days=TRAINING_VALID_DAYS)
_READ, _PROVIDE, _ENTRUST, _CONTACT = Action.READ, Action.PROVIDE, Action.ENTRUST, Action.CONTACT
(MY_NUMBER_HANDLER,) = (str(r) for r in MY_NUMBER)  # the one role of the table's My Number areas
ANY = "*"
#: The built-in purpose of answering a person's own request (APPI Arts. 32-35). It is not a use of the
#: data for the organization's ends, so it needs no purpose notified at acquisition; it is open only to
#: the privacy office (these system roles), covers every category except the Individual Number, and
#: still needs the actor's pledge and training.
SUBJECT_REQUEST = "subject_request"
REQUEST_OFFICE_ROLES = tuple(sorted(str(r) for r in OFFICE))  # the privacy office of people.permissions
_REQUEST_ACTIONS = frozenset({Action.READ, Action.EXPORT, Action.CORRECT, Action.ERASE})
#: The built-in purpose of telling people of a breach that affects them (APPI Art. 26(2)): the privacy
#: office may read and use their identifying categories (the contact details) to reach them.
BREACH_NOTICE = "breach_notice"
_NOTICE_ACTIONS = frozenset({Action.READ, Action.CONTACT})


class StatutoryException(StrEnum):
    """APPI Art. 18(3) and 27(1): when data may be used beyond its purpose, or provided, without consent."""

    LAW = "law"
    LIFE_BODY_PROPERTY = "life_body_property"
    PUBLIC_HEALTH_CHILDREN = "public_health_children"
    STATE_COOPERATION = "state_cooperation"
    ACADEMIC_RESEARCH = "academic_research"


@dataclass(frozen=True, slots=True)
class ActorState:
    ref: str
    roles: frozenset[str]
    active: bool = True
    pledge_signed: bool = False
    training_completed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SubjectState:
    """What the guard needs to know of one subject (read, or cached under a version stamp, by ``guard.state``)."""

    id: str
    erased: bool = False
    notified: Mapping[str, frozenset[str]] = field(default_factory=dict)  # category -> purposes notified
    retain_until: Mapping[str, date | None] = field(default_factory=dict)  # category -> end (None: open)
    consents_beyond: frozenset[str] = frozenset()  # purposes (or ANY) with a beyond-purpose consent
    consents_provision: frozenset[str] = frozenset()  # recipients with a provision consent
    #: What those consents cover: "recipient|purpose" (purpose ANY when the consent names none) -> the
    #: data categories of each such consent. A provision carries only what one consent covers (APPI
    #: Art. 27(1)), so that its record can name that consent (Art. 29).
    provision_scope: Mapping[str, tuple[frozenset[str], ...]] = field(default_factory=dict)
    stopped_use: frozenset[str] = frozenset()  # purposes (or ANY) the subject stopped
    stopped_provision: frozenset[str] = frozenset()  # recipients (or ANY) the subject stopped
    opt_out_sourced: frozenset[str] = frozenset()  # categories received from an opt-out provider
    #: purpose -> the latest version of its text the person was told of (at acquisition, by a notice of
    #: the change, or when consenting); 1 when absent (acquired before any change)
    purpose_told: Mapping[str, int] = field(default_factory=dict)
    #: purpose -> the latest version the person agreed to (acquired under it, or consented to it)
    purpose_agreed: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Request:
    actor: ActorState
    purpose: str
    categories: tuple[str, ...]
    action: Action
    recipient: str | None = None
    exception: StatutoryException | None = None
    justification: str | None = None
    #: The recipient or processor is cleared today (supervision, foreign checks); the service computes it.
    party_cleared: bool = True
    #: Opt-out provision is a setting, off by default (APPI Art. 27(2)).
    opt_out_enabled: bool = False
    #: The subjects for whom the recipient's consent to receive personally referable information it will
    #: link to them was confirmed (APPI Art. 31); the service reads it only when the question needs it.
    referable_confirmed: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class _Purpose:
    effective_from: date
    categories: frozenset[str]
    affairs: frozenset[str] | None
    assessed: bool = True  # its improper-use assessment covers this version (APPI Art. 19)
    version: int = 1
    consent_since: int = 1  # the latest version that changed it beyond what is related (APPI Art. 17(2))


@dataclass(frozen=True, slots=True)
class _Party:
    basis: str
    purposes: frozenset[str]
    categories: frozenset[str]
    foreign_consent: bool = False  # abroad, by consent: only a consent given after the Art. 28 information
    links_referable: bool = False  # will link personally referable information to people (APPI Art. 31)


@dataclass(frozen=True)
class CompiledPolicy:
    """The policy as lookup tables for the engine."""

    version: str
    purposes: Mapping[str, _Purpose]
    grants: Mapping[str, Mapping[str, frozenset[Action]]]  # role -> purpose -> actions
    my_number: frozenset[str]
    pseudonymized: frozenset[str]
    identifying: frozenset[str]
    recipients: Mapping[str, _Party]
    processors: Mapping[str, _Party]
    training_valid: timedelta = _TRAINING_VALID
    referable: frozenset[str] = frozenset()  # personally referable categories (APPI Art. 2(7))


def compile_policy(policy: Policy) -> CompiledPolicy:
    grants: dict[str, dict[str, frozenset[Action]]] = {}
    for role in policy.roles:
        for purpose in role.purposes:
            current = grants.setdefault(role.id, {}).get(purpose, frozenset())
            grants[role.id][purpose] = current | frozenset(role.actions)
    for office in REQUEST_OFFICE_ROLES:
        grants.setdefault(office, {})[SUBJECT_REQUEST] = _REQUEST_ACTIONS
        grants[office][BREACH_NOTICE] = _NOTICE_ACTIONS
    purposes = {
        p.id: _Purpose(
            p.effective_from,
            frozenset(p.categories),
            frozenset(p.my_number.affairs) if p.my_number else None,
            assessed=p.improper_use is not None and p.improper_use.version == p.version,
            version=p.version,
            consent_since=p.consent_since(),
        )
        for p in policy.purposes
    }
    purposes[SUBJECT_REQUEST] = _Purpose(
        date.min, frozenset(c.id for c in policy.categories if not c.my_number), None
    )
    purposes[BREACH_NOTICE] = _Purpose(
        date.min, frozenset(c.id for c in policy.categories if c.identifying and not c.my_number), None
    )
    return CompiledPolicy(
        version=policy.version,
        purposes=purposes,
        grants=grants,
        my_number=frozenset(c.id for c in policy.categories if c.my_number),
        pseudonymized=frozenset(c.id for c in policy.categories if c.pseudonymized),
        identifying=frozenset(c.id for c in policy.categories if c.identifying),
        recipients={
            r.id: _Party(
                r.basis,
                frozenset(r.purposes),
                frozenset(r.categories),
                r.foreign is not None and r.foreign.route == "consent",
                r.links_referable,
            )
            for r in policy.recipients
        },
        processors={
            p.id: _Party("entrustment", frozenset(p.purposes), frozenset(p.categories))
            for p in policy.processors
        },
        training_valid=timedelta(days=policy.staff.training_valid_days),
        referable=frozenset(c.id for c in policy.categories if c.referable),
    )


def _request_denial(c: CompiledPolicy, req: Request, now: datetime) -> tuple[Reason, str] | None:
    """Checks that do not depend on the subject; None if the request may go on. They read of ``now`` only
    its date and whether the actor's training has lapsed (``decide_each`` relies on it)."""
    purpose = c.purposes.get(req.purpose)
    if purpose is None:
        return Reason.PURPOSE_UNKNOWN, "purpose.exists"
    if purpose.effective_from > now.date():
        return Reason.PURPOSE_NOT_IN_FORCE, "purpose.in_force"
    if not purpose.assessed:
        return Reason.PURPOSE_NOT_ASSESSED, "purpose.improper_use"
    uses_number = not c.my_number.isdisjoint(req.categories)
    if uses_number and purpose.affairs is None:
        return Reason.MY_NUMBER_OUTSIDE_AFFAIRS, "my_number.affairs"
    if not purpose.categories.issuperset(req.categories):
        return Reason.CATEGORY_OUTSIDE_PURPOSE, "purpose.categories"
    if not c.pseudonymized.isdisjoint(req.categories):
        # APPI Art. 41: no re-identification, no contact, no provision to third parties.
        if not c.identifying.isdisjoint(req.categories):
            return Reason.PSEUDONYMIZED_NO_JOIN, "pseudonymized.join"
        if req.action is _CONTACT:
            return Reason.PSEUDONYMIZED_NO_CONTACT, "pseudonymized.contact"
        if req.action is _PROVIDE:
            return Reason.PSEUDONYMIZED_NO_PROVISION, "pseudonymized.provision"
    actor = req.actor
    if not actor.active:
        return Reason.ACTOR_INACTIVE, "actor.active"
    if not actor.pledge_signed:
        return Reason.PLEDGE_MISSING, "actor.pledge"
    if actor.training_completed_at is None or now - actor.training_completed_at > c.training_valid:
        return Reason.TRAINING_LAPSED, "actor.training"
    if uses_number and MY_NUMBER_HANDLER not in actor.roles:
        return Reason.MY_NUMBER_NOT_HANDLER, "my_number.handler"
    grants = c.grants
    for role in actor.roles:
        granted = grants.get(role)
        if granted is not None and req.action in granted.get(req.purpose, ()):
            break
    else:
        return Reason.ROLE_LACKS_PURPOSE, "role.grant"
    if req.exception is not None and not (req.justification or "").strip():
        return Reason.EXCEPTION_NEEDS_JUSTIFICATION, "exception.justification"
    if req.action is _PROVIDE:
        party = c.recipients.get(req.recipient or "")
        if party is None or req.purpose not in party.purposes or not set(req.categories) <= party.categories:
            return Reason.PROVISION_NEEDS_CONSENT, "provision.recipient_declared"
        if uses_number and party.basis != "law":
            return Reason.MY_NUMBER_OUTSIDE_AFFAIRS, "my_number.provision"
        if party.basis == "opt_out" and not req.opt_out_enabled:
            return Reason.PROVISION_NEEDS_CONSENT, "provision.opt_out_disabled"
        if not req.party_cleared:
            return Reason.FOREIGN_CHECK_OVERDUE, "provision.foreign_check"
    if req.action is _ENTRUST:
        party = c.processors.get(req.recipient or "")
        if party is None or req.purpose not in party.purposes or not set(req.categories) <= party.categories:
            return Reason.PROCESSOR_NOT_SUPERVISED, "entrustment.processor"
        if not req.party_cleared:
            return Reason.PROCESSOR_NOT_SUPERVISED, "entrustment.supervision"
    return None


def _consent_covers(s: SubjectState, key: str, purpose: str, categories: Sequence[str]) -> bool:
    """One of the subject's provision consents to ``key`` covers this purpose and all these categories."""
    scope = s.provision_scope
    consents = (*scope.get(f"{key}|{ANY}", ()), *scope.get(f"{key}|{purpose}", ()))
    return any(items.issuperset(categories) for items in consents)


def _subject_verdict(
    c: CompiledPolicy, req: Request, s: SubjectState, today: date, uses_number: bool
) -> tuple[bool, tuple[Reason, ...], str]:
    if s.erased:
        return False, (Reason.SUBJECT_ERASED,), "subject.erased"
    if req.purpose == SUBJECT_REQUEST:
        # Answering the person's own request: a stop, a lapsed retention or a purpose never notified
        # does not keep their data from them (APPI Arts. 33-35).
        return True, (Reason.SUBJECT_REQUEST,), "subject.request"
    if req.purpose == BREACH_NOTICE:
        # A duty owed to the person (APPI Art. 26(2)); a stop of use does not silence it.
        return True, (Reason.BREACH_NOTICE,), "subject.breach_notice"
    if ANY in s.stopped_use or req.purpose in s.stopped_use:
        return False, (Reason.USE_STOPPED,), "subject.stopped_use"
    reasons: list[Reason] = []
    if req.action is _PROVIDE:
        recipient = req.recipient or ""
        if ANY in s.stopped_provision or recipient in s.stopped_provision:
            return False, (Reason.USE_STOPPED,), "subject.stopped_provision"
        party = c.recipients[recipient]
        if party.basis == "consent":
            key = f"foreign:{recipient}" if party.foreign_consent else recipient
            if key not in s.consents_provision:
                if req.exception is None or uses_number:
                    rule = "provision.foreign_consent" if party.foreign_consent else "provision.consent"
                    return False, (Reason.PROVISION_NEEDS_CONSENT,), rule
                reasons.append(Reason.STATUTORY_EXCEPTION)
            elif not _consent_covers(s, key, req.purpose, req.categories):
                if req.exception is None or uses_number:
                    return False, (Reason.CONSENT_DOES_NOT_COVER,), "provision.consent_scope"
                reasons.append(Reason.STATUTORY_EXCEPTION)
        elif party.basis == "opt_out" and not s.opt_out_sourced.isdisjoint(req.categories):
            return False, (Reason.PROVISION_NEEDS_CONSENT,), "provision.opt_out_sourced"
        if (
            party.links_referable
            and not c.referable.isdisjoint(req.categories)
            and s.id not in req.referable_confirmed
        ):
            # APPI Art. 31: the recipient will make it personal data; it must hold the person's consent.
            return False, (Reason.REFERABLE_NOT_CONFIRMED,), "provision.referable_confirmation"
    for category in req.categories:
        end = s.retain_until.get(category)
        if end is not None and end < today:
            return False, (Reason.RETENTION_EXPIRED,), "subject.retention"
    for category in req.categories:
        if req.purpose in s.notified.get(category, ()):
            continue
        if category not in s.notified or uses_number:
            # No such data was acquired, or it is the Individual Number: consent can never widen it.
            return False, (Reason.NOT_ACQUIRED_FOR_PURPOSE,), "subject.purpose"
        if ANY in s.consents_beyond or req.purpose in s.consents_beyond:
            reasons.append(Reason.CONSENT_BEYOND_PURPOSE)
        elif req.exception is not None:
            reasons.append(Reason.STATUTORY_EXCEPTION)
        else:
            return False, (Reason.NOT_ACQUIRED_FOR_PURPOSE,), "subject.purpose"
    changed = c.purposes[req.purpose]
    if changed.version > 1 and req.exception is None:
        # APPI Arts. 17(2), 21(3): a changed purpose is used for a person only once they were told of
        # it, and, past a change that is not reasonably related, once they agreed to it.
        agreed = s.purpose_agreed.get(req.purpose, 1)
        if agreed < changed.consent_since:
            return False, (Reason.PURPOSE_CHANGE_NEEDS_CONSENT,), "purpose.change_consent"
        if max(agreed, s.purpose_told.get(req.purpose, 1)) < changed.version:
            return False, (Reason.PURPOSE_CHANGE_NOT_NOTIFIED,), "purpose.change_notice"
    return True, tuple(dict.fromkeys(reasons)) or (Reason.ALLOWED,), "allow"


def decide(
    c: CompiledPolicy, req: Request, subjects: Sequence[SubjectState], now: datetime
) -> list[Decision]:
    """One decision per subject, in order."""
    categories = tuple(req.categories)
    denial = _request_denial(c, req, now)
    if denial is not None:
        reason, rule = denial
        return [
            Decision(
                False, req.actor.ref, req.purpose, req.action, (s.id,), categories, (reason,), rule, c.version
            )
            for s in subjects
        ]
    uses_number = not c.my_number.isdisjoint(categories)
    mask = ("my_number",) if uses_number and req.action is _READ else ()
    today = now.date()
    out = []
    for s in subjects:
        allow, reasons, rule = _subject_verdict(c, req, s, today, uses_number)
        out.append(
            Decision(
                allow,
                req.actor.ref,
                req.purpose,
                req.action,
                (s.id,),
                categories,
                reasons,
                rule,
                c.version,
                mask if allow else (),
            )
        )
    return out


def decide_each(
    c: CompiledPolicy,
    req: Request,
    subjects: Sequence[Sequence[SubjectState]],
    nows: Sequence[datetime],
) -> list[list[Decision]]:
    """``decide(c, req, subjects[i], nows[i])`` for each ``i``: the same decisions, each at its own
    ``now``. It is ``decide``'s loop with what does not change from one ask to the next worked out once:
    the checks that do not depend on the subject, for the asks that fall on the same day with the same
    state of the actor's training (all that those checks read of ``now``)."""
    categories = tuple(req.categories)
    uses_number = not c.my_number.isdisjoint(categories)
    mask = ("my_number",) if uses_number and req.action is _READ else ()
    ref, purpose, action, version = req.actor.ref, req.purpose, req.action, c.version
    completed = req.actor.training_completed_at
    try:  # lapsed at ``now`` exactly when ``now - completed > training_valid``
        lapses_at = None if completed is None else completed + c.training_valid
    except OverflowError:  # beyond the last date there is: never
        lapses_at = datetime.max.replace(tzinfo=completed.tzinfo if completed else None)
    denials: dict[tuple[date, bool], tuple[Reason, str] | None] = {}
    out = []
    for states, now in zip(subjects, nows, strict=True):
        today = now.date()
        key = (today, lapses_at is None or now > lapses_at)
        if key in denials:
            denial = denials[key]
        else:
            denial = denials[key] = _request_denial(c, req, now)
        if denial is not None:
            reason, rule = denial
            out.append(
                [
                    Decision(False, ref, purpose, action, (s.id,), categories, (reason,), rule, version)
                    for s in states
                ]
            )
            continue
        decisions = []
        for s in states:
            allow, reasons, rule = _subject_verdict(c, req, s, today, uses_number)
            decisions.append(
                Decision(
                    allow,
                    ref,
                    purpose,
                    action,
                    (s.id,),
                    categories,
                    reasons,
                    rule,
                    version,
                    mask if allow else (),
                )
            )
        out.append(decisions)
    return out
