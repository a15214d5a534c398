"""The guard around the engine: takes actor and subject state (``guard.state``: cached, invalidated by
version), decides, and writes the decisions to the audit log (grouped, in the caller's transaction or
through the group-commit writer)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent
from mamoru.audit.writer import AuditWriter
from mamoru.errors import MamoruError
from mamoru.guard.decision import Action, Decision
from mamoru.guard.engine import (
    ActorState,
    CompiledPolicy,
    Request,
    StatutoryException,
    compile_policy,
    decide,
)
from mamoru.guard.state import STAFF_PREFIX as STAFF_PREFIX
from mamoru.guard.state import cached_state, state_for
from mamoru.guard.state import load_actor as load_actor
from mamoru.guard.state import load_subjects as load_subjects
from mamoru.policy.load import LoadedPolicy
from mamoru.policy.model import Policy
from mamoru.store import versions
from mamoru.store.db import Database
from mamoru.transfers.status import party_cleared
from mamoru.transfers.tables import ReferableConfirmation
from mamoru.vault.service import Vault

_COMPILED: dict[str, CompiledPolicy] = {}


def compiled(loaded: LoadedPolicy) -> CompiledPolicy:
    """The compiled tables of a policy, built once per policy text."""
    tables = _COMPILED.get(loaded.sha256)
    if tables is None:
        if len(_COMPILED) > 16:
            _COMPILED.clear()
        tables = _COMPILED[loaded.sha256] = compile_policy(loaded.policy)
    return tables


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


def _referable_confirmed(session: Session, policy: Policy, question: Question) -> frozenset[str]:
    """The subjects whose consent the recipient was confirmed to hold (APPI Art. 31), read only for a
    provision of personally referable data to a recipient that will link it to people."""
    if question.action is not Action.PROVIDE or question.recipient is None:
        return frozenset()
    party = next((r for r in policy.recipients if r.id == question.recipient), None)
    referable = {c.id for c in policy.categories if c.referable}
    if party is None or not party.links_referable or referable.isdisjoint(question.categories):
        return frozenset()
    return frozenset(
        session.scalars(
            select(ReferableConfirmation.subject_id).where(
                ReferableConfirmation.recipient == question.recipient,
                ReferableConfirmation.subject_id.in_(list(question.subjects)),
            )
        )
    )


@dataclass(frozen=True)
class Question:
    """One use of personal data to decide on (what ``decide_and_record`` takes, for many at once)."""

    subjects: Sequence[str]
    categories: Sequence[str]
    action: Action
    recipient: str | None = None
    exception: StatutoryException | None = None
    justification: str | None = None


def decide_only(
    session: Session,
    loaded: LoadedPolicy,
    *,
    actor: str,
    purpose: str,
    question: Question,
    now: datetime,
    opt_out_enabled: bool = False,
) -> list[Decision]:
    """The decisions, not yet audited: the caller records them (``record``) before it acts on one."""
    actor_state, subject_states = state_for(session, actor, question.subjects, now)
    request = _request(
        question,
        actor_state,
        purpose,
        party_cleared=_party_cleared(session, loaded.policy, question.action, question.recipient, now.date()),
        opt_out_enabled=opt_out_enabled,
        referable_confirmed=_referable_confirmed(session, loaded.policy, question),
    )
    return decide(compiled(loaded), request, subject_states, now)


def _request(
    question: Question,
    actor: ActorState,
    purpose: str,
    *,
    party_cleared: bool,
    opt_out_enabled: bool,
    referable_confirmed: frozenset[str],
) -> Request:
    return Request(
        actor=actor,
        purpose=purpose,
        categories=tuple(question.categories),
        action=question.action,
        recipient=question.recipient,
        exception=question.exception,
        justification=question.justification,
        party_cleared=party_cleared,
        opt_out_enabled=opt_out_enabled,
        referable_confirmed=referable_confirmed,
    )


def _reads_nothing_more(question: Question) -> bool:
    """Whether a question needs nothing but the actor's and subjects' state: no processor supervision
    or recipient check (entrust or provide to a named party) and no referable-data confirmation."""
    return question.recipient is None or question.action not in (Action.ENTRUST, Action.PROVIDE)


def decide_cached(
    engine: Engine,
    loaded: LoadedPolicy,
    *,
    actor: str,
    purpose: str,
    question: Question,
    now: datetime,
    stamps: dict[str, str],
    opt_out_enabled: bool = False,
) -> list[Decision] | None:
    """``decide_only`` from cached state alone (no session, no I/O), or None when something would have to
    be read: the caller then decides through a session. The same engine and the same answers."""
    if not _reads_nothing_more(question):
        return None
    found = cached_state(engine, actor, question.subjects, now, stamps)
    if found is None:
        return None
    actor_state, subject_states = found
    # what decide_only reads for these questions: cleared (no named party), nothing referable confirmed
    request = _request(
        question,
        actor_state,
        purpose,
        party_cleared=True,
        opt_out_enabled=opt_out_enabled,
        referable_confirmed=frozenset(),
    )
    return decide(compiled(loaded), request, subject_states, now)


def _decide_in_session(
    db: Database,
    loaded: LoadedPolicy,
    actor: str,
    purpose: str,
    questions: Sequence[Question],
    now: datetime,
    opt_out_enabled: bool,
) -> list[list[Decision]]:
    with db.session() as session:
        return [
            decide_only(
                session,
                loaded,
                actor=actor,
                purpose=purpose,
                question=q,
                now=now,
                opt_out_enabled=opt_out_enabled,
            )
            for q in questions
        ]


async def decide_many_and_record_async(
    db: Database,
    loaded: LoadedPolicy,
    *,
    actor: str,
    purpose: str,
    questions: Sequence[Question],
    now: datetime,
    writer: AuditWriter,
    opt_out_enabled: bool = False,
) -> list[list[Decision]]:
    """``decide_many_and_record`` for a coroutine: decided on cached state in the event loop when the
    cache holds all of it (otherwise read in a worker thread), and returned once the audit entries are
    committed by the group-commit writer; no thread and no pooled connection is held while it waits."""
    stamps = await versions.stamps_async(db.engine)
    answers: list[list[Decision]] = []
    for q in questions:
        decisions = decide_cached(
            db.engine,
            loaded,
            actor=actor,
            purpose=purpose,
            question=q,
            now=now,
            stamps=stamps,
            opt_out_enabled=opt_out_enabled,
        )
        if decisions is None:
            answers = await asyncio.to_thread(
                _decide_in_session, db, loaded, actor, purpose, questions, now, opt_out_enabled
            )
            break
        answers.append(decisions)
    events = [
        e
        for q, decisions in zip(questions, answers, strict=True)
        for e in audit_events(decisions, q.recipient)
    ]
    await writer.submit_async(events)
    return answers


async def decide_and_record_async(
    db: Database,
    loaded: LoadedPolicy,
    *,
    actor: str,
    purpose: str,
    question: Question,
    now: datetime,
    writer: AuditWriter,
    opt_out_enabled: bool = False,
) -> list[Decision]:
    """One question, as :func:`decide_many_and_record_async` decides and audits it."""
    (decisions,) = await decide_many_and_record_async(
        db,
        loaded,
        actor=actor,
        purpose=purpose,
        questions=[question],
        now=now,
        writer=writer,
        opt_out_enabled=opt_out_enabled,
    )
    return decisions


def decide_many_and_record(
    session: Session,
    loaded: LoadedPolicy,
    *,
    actor: str,
    purpose: str,
    questions: Sequence[Question],
    now: datetime,
    writer: AuditWriter,
) -> list[list[Decision]]:
    """Many questions of one actor and purpose, decided and audited in one durable group commit."""
    answers = [
        decide_only(session, loaded, actor=actor, purpose=purpose, question=q, now=now) for q in questions
    ]
    events = [
        e
        for q, decisions in zip(questions, answers, strict=True)
        for e in audit_events(decisions, q.recipient)
    ]
    writer.submit(events, durable=True)
    return answers


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
    decisions = decide_only(
        session,
        loaded,
        actor=actor,
        purpose=purpose,
        question=Question(subjects, categories, action, recipient, exception, justification),
        now=now,
        opt_out_enabled=opt_out_enabled,
    )
    events = audit_events(decisions, recipient)
    if writer is not None:
        writer.submit(events, durable=True)
    else:
        append(session, events)
    return decisions
