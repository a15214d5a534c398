"""The guard around the engine: reads actor and subject state fresh from the database, decides, and
writes the decisions to the audit log (grouped, in the caller's transaction or through the writer)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.audit.writer import AuditWriter
from mamoru.errors import MamoruError
from mamoru.guard.decision import Action, Decision
from mamoru.guard.engine import (
    ANY,
    ActorState,
    CompiledPolicy,
    Request,
    StatutoryException,
    SubjectState,
    compile_policy,
    decide,
)
from mamoru.ledger.consent import ConsentScope
from mamoru.ledger.tables import Acquisition, Cessation, Consent, DataSubject
from mamoru.people.tables import Staff
from mamoru.policy.load import LoadedPolicy
from mamoru.policy.model import Policy
from mamoru.transfers.status import party_cleared
from mamoru.vault.service import Vault

STAFF_PREFIX = "staff:"


_COMPILED: dict[str, CompiledPolicy] = {}


def compiled(loaded: LoadedPolicy) -> CompiledPolicy:
    """The compiled tables of a policy, built once per policy text."""
    tables = _COMPILED.get(loaded.sha256)
    if tables is None:
        if len(_COMPILED) > 16:
            _COMPILED.clear()
        tables = _COMPILED[loaded.sha256] = compile_policy(loaded.policy)
    return tables


def load_actor(session: Session, actor: str, today: date) -> ActorState:
    """The actor's roles, pledge and training as they are now; an unknown actor has none of them."""
    login = actor.removeprefix(STAFF_PREFIX)
    staff = session.scalar(select(Staff).where(Staff.login == login))
    if staff is None:
        return ActorState(ref=actor, roles=frozenset(), active=False)
    return ActorState(
        ref=f"{STAFF_PREFIX}{staff.login}",
        roles=frozenset(staff.role_names),
        active=staff.left_on is None or staff.left_on > today,
        pledge_signed=staff.pledge_signed_at is not None,
        training_completed_at=staff.training_completed_at,
    )


def load_subjects(session: Session, subject_ids: Sequence[str], now: datetime) -> list[SubjectState]:
    """Each subject's acquisitions, consents and cessations in force at ``now``, in three queries."""
    ids = list(dict.fromkeys(subject_ids))
    known = {row.id: row for row in session.scalars(select(DataSubject).where(DataSubject.id.in_(ids)))}
    notified: dict[str, dict[str, set[str]]] = {i: {} for i in ids}
    opt_out: dict[str, set[str]] = {i: set() for i in ids}
    retain: dict[str, dict[str, date | None]] = {i: {} for i in ids}
    for acq in session.scalars(select(Acquisition).where(Acquisition.subject_id.in_(ids))):
        if acq.source_type == "opt_out":
            opt_out[acq.subject_id].update(acq.categories)
        for category in acq.categories:
            notified[acq.subject_id].setdefault(category, set()).update(acq.purposes_notified)
            previous = retain[acq.subject_id].get(category, date.min)
            if acq.retain_until is None or previous is None:
                retain[acq.subject_id][category] = None
            else:
                retain[acq.subject_id][category] = max(previous, acq.retain_until)
    beyond: dict[str, set[str]] = {i: set() for i in ids}
    provision: dict[str, set[str]] = {i: set() for i in ids}
    scope: dict[str, dict[str, list[frozenset[str]]]] = {i: {} for i in ids}
    for consent in session.scalars(
        select(Consent).where(
            Consent.subject_id.in_(ids),
            Consent.given_at <= now,
            or_(Consent.withdrawn_at.is_(None), Consent.withdrawn_at > now),
        )
    ):
        if consent.scope == ConsentScope.BEYOND_PURPOSE:
            beyond[consent.subject_id].add(consent.purpose or ANY)
            continue
        if consent.scope == ConsentScope.THIRD_PARTY and consent.recipient:
            keys: tuple[str, ...] = (consent.recipient,)
        elif consent.scope == ConsentScope.FOREIGN_THIRD_PARTY and consent.recipient:
            # Given after the APPI Art. 28 information: good for a foreign and a domestic provision.
            keys = (consent.recipient, f"foreign:{consent.recipient}")
        else:
            continue
        provision[consent.subject_id].update(keys)
        for key in keys:
            scope[consent.subject_id].setdefault(f"{key}|{consent.purpose or ANY}", []).append(
                frozenset(consent.categories or ())
            )
    stopped_use: dict[str, set[str]] = {i: set() for i in ids}
    stopped_provision: dict[str, set[str]] = {i: set() for i in ids}
    for stop in session.scalars(
        select(Cessation).where(
            Cessation.subject_id.in_(ids),
            Cessation.effective_at <= now,
            or_(Cessation.lifted_at.is_(None), Cessation.lifted_at > now),
        )
    ):
        if stop.kind == "stop_use":
            stopped_use[stop.subject_id].add(stop.purpose or ANY)
        else:
            stopped_provision[stop.subject_id].add(stop.recipient or ANY)
    return [
        SubjectState(
            id=i,
            erased=i not in known or known[i].erased_at is not None,
            notified={k: frozenset(v) for k, v in notified[i].items()},
            retain_until=retain[i],
            consents_beyond=frozenset(beyond[i]),
            consents_provision=frozenset(provision[i]),
            provision_scope={k: tuple(v) for k, v in scope[i].items()},
            stopped_use=frozenset(stopped_use[i]),
            stopped_provision=frozenset(stopped_provision[i]),
            opt_out_sourced=frozenset(opt_out[i]),
        )
        for i in subject_ids
    ]


def audit_events(decisions: Sequence[Decision], recipient: str | None = None) -> list[AuditEvent]:
    """Decisions grouped by outcome: one audit entry per (allow, reasons, rule) with its subjects."""
    groups: dict[tuple[bool, tuple[str, ...], str], list[str]] = {}
    for d in decisions:
        groups.setdefault((d.allow, tuple(d.reasons), d.rule), []).extend(d.subjects)
    if not decisions:
        return []
    first = decisions[0]
    objects = tuple(f"category:{c}" for c in first.categories) + (
        (f"recipient:{recipient}",) if recipient else ()
    )
    return [
        AuditEvent(
            actor=first.actor,
            action=f"decision.{first.action.value}",
            purpose=first.purpose,
            subjects=tuple(subjects),
            objects=objects,
            decision="allow" if allow else "deny",
            reasons=(*reasons, f"rule:{rule}"),
            policy_version=first.policy_version,
        )
        for (allow, reasons, rule), subjects in groups.items()
    ]


class UnknownFields(MamoruError):
    """Fields the policy does not assign to a category cannot be decided on, so they are not read."""

    http_status = 403


def fields_for_purpose(policy: Policy, stored: Iterable[str], purpose: str) -> list[str]:
    """Of the fields a subject has stored, those whose category the purpose declares (policy ``fields``)."""
    declared = next((set(p.categories) for p in policy.purposes if p.id == purpose), set())
    return sorted(f for f in stored if policy.fields.get(f) in declared)


def read_fields(
    session: Session,
    loaded: LoadedPolicy,
    vault: Vault,
    *,
    actor: str,
    purpose: str,
    subject_id: str,
    fields: Sequence[str],
    now: datetime,
) -> tuple[Decision, dict[str, str] | None]:
    """Decide on the categories of ``fields``, audit it, and decrypt only if allowed (values None if not)."""
    mapping = loaded.policy.fields
    unknown = sorted(f for f in fields if f not in mapping)
    if unknown:
        raise UnknownFields(f"fields without a category in the policy: {', '.join(unknown)}")
    (decision,) = decide_and_record(
        session,
        loaded,
        actor=actor,
        purpose=purpose,
        subjects=[subject_id],
        categories=sorted({mapping[f] for f in fields}),
        action=Action.READ,
        now=now,
    )
    values = (
        vault.read(session, decision, subject_id, fields, categories_of=mapping) if decision.allow else None
    )
    return decision, values


def _party_cleared(session: Session, policy: Policy, action: Action, party: str | None, today: date) -> bool:
    """Supervision of the processor, or the periodic check of a foreign recipient, holds today."""
    if party is None or action not in (Action.ENTRUST, Action.PROVIDE):
        return True
    return party_cleared(session, policy, entrust=action is Action.ENTRUST, party=party, today=today)


def decide_and_record(
    session: Session,
    loaded: LoadedPolicy,
    *,
    actor: str,
    purpose: str,
    subjects: Sequence[str],
    categories: Sequence[str],
    action: Action,
    now: datetime,
    recipient: str | None = None,
    exception: StatutoryException | None = None,
    justification: str | None = None,
    writer: AuditWriter | None = None,
    opt_out_enabled: bool = False,
) -> list[Decision]:
    """Decide for every subject and audit the outcome; with ``writer`` the entries go through group
    commit (durable before this returns), otherwise into the caller's transaction."""
    request = Request(
        actor=load_actor(session, actor, now.date()),
        purpose=purpose,
        categories=tuple(categories),
        action=action,
        recipient=recipient,
        exception=exception,
        justification=justification,
        party_cleared=_party_cleared(session, loaded.policy, action, recipient, now.date()),
        opt_out_enabled=opt_out_enabled,
    )
    decisions = decide(compiled(loaded), request, load_subjects(session, subjects, now), now)
    events = audit_events(decisions, recipient)
    if writer is not None:
        writer.submit(events, durable=True)
    else:
        append(session, events)
    return decisions
