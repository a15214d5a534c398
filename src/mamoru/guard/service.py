"""The guard around the engine: takes actor and subject state (``guard.state``: cached, invalidated by
version), decides, and writes the decisions to the audit log (grouped, in the caller's transaction or
through the group-commit writer)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from itertools import chain
from operator import attrgetter
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamoru.audit.chain import append
from mamoru.audit.entry import AuditEvent, BadAuditEvent
from mamoru.audit.writer import AuditWriteFailed, AuditWriter
from mamoru.errors import MamoruError
from mamoru.guard.decision import Action, Decision
from mamoru.guard.engine import (
    ActorState,
    CompiledPolicy,
    Request,
    StatutoryException,
    SubjectState,
    compile_policy,
    decide,
    decide_each,
)
from mamoru.guard.state import STAFF_PREFIX as STAFF_PREFIX
from mamoru.guard.state import CachedStates, state_for
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


_OUTCOME = attrgetter("allow", "reasons", "rule")
_SUBJECTS = attrgetter("subjects")


def audit_events(decisions: Sequence[Decision], recipient: str | None = None) -> list[AuditEvent]:
    """Decisions grouped by outcome: one audit entry per (allow, reasons, rule) with its subjects."""
    if not decisions:
        return []
    outcomes = list(map(_OUTCOME, decisions))
    groups: dict[tuple[bool, tuple[str, ...], str], list[str]]
    if outcomes.count(outcomes[0]) == len(outcomes):  # the usual batch: one outcome for all
        groups = {outcomes[0]: list(chain.from_iterable(map(_SUBJECTS, decisions)))}
    else:
        groups = {}
        for outcome, d in zip(outcomes, decisions, strict=True):
            groups.setdefault(outcome, []).extend(d.subjects)
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


class Question(NamedTuple):
    """One use of personal data to decide on (what ``decide_and_record`` takes, for many at once).

    Immutable (a named tuple: one is built for every call of the API)."""

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


_PARTY_ACTIONS = frozenset({Action.ENTRUST, Action.PROVIDE})


def _reads_nothing_more(question: Question) -> bool:
    """Whether a question needs nothing but the actor's and subjects' state: no processor supervision
    or recipient check (entrust or provide to a named party) and no referable-data confirmation."""
    return question.recipient is None or question.action not in _PARTY_ACTIONS


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
    committed by the group-commit writer; no thread and no pooled connection is held while it waits.

    The calls that one event loop makes while it runs are decided together (``_Flush``): the same
    decisions as one by one, each at its own ``now``, audited with one submission to the writer."""
    if all(_reads_nothing_more(q) for q in questions):
        answers = await _join(db, writer, (loaded, actor, purpose, None, questions, now, opt_out_enabled))
        if answers is not None:
            return answers  # type: ignore[return-value]
    return await _recorded_in_session(db, loaded, actor, purpose, questions, now, writer, opt_out_enabled)


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
    if _reads_nothing_more(question):
        decisions = await _join(db, writer, (loaded, actor, purpose, question, (), now, opt_out_enabled))
        if decisions is not None:
            return decisions  # type: ignore[return-value]
    (decisions,) = await _recorded_in_session(
        db, loaded, actor, purpose, (question,), now, writer, opt_out_enabled
    )
    return decisions


async def _recorded_in_session(
    db: Database,
    loaded: LoadedPolicy,
    actor: str,
    purpose: str,
    questions: Sequence[Question],
    now: datetime,
    writer: AuditWriter,
    opt_out_enabled: bool,
) -> list[list[Decision]]:
    """Decided on state read in a worker thread (the cache lacks some of it, or the question needs more
    than state), and returned once the audit entries are committed."""
    answers = await asyncio.to_thread(
        _decide_in_session, db, loaded, actor, purpose, questions, now, opt_out_enabled
    )
    events = [
        e
        for q, decisions in zip(questions, answers, strict=True)
        for e in audit_events(decisions, q.recipient)
    ]
    await writer.submit_async(events)
    return answers


#: one call waiting in a flush: the policy, actor, purpose, its one question (None when it asks many),
#: its questions (when it asks many), now, and the opt-out setting
_Ask = tuple[LoadedPolicy, str, str, Question | None, Sequence[Question], datetime, bool]
#: what a call gets: the decisions on its one question, or on each of its questions
_Answers = list[Decision] | list[list[Decision]]
_NOT_YET: list[Decision] = []
#: per (event loop, database, writer): the flush that the calls made now join
_FLUSHES: dict[tuple[asyncio.AbstractEventLoop, Database, AuditWriter], _Flush] = {}
#: the most calls one flush takes: the writer commits one flush while the loop decides the next
FLUSH_CALLS = 256


def _join(db: Database, writer: AuditWriter, ask: _Ask) -> asyncio.Future[_Answers | None]:
    """A future of the call's decisions (None: its state is not all cached), once they are committed:
    on its one question, or on each of its questions."""
    loop = asyncio.get_running_loop()
    key = (loop, db, writer)
    flush = _FLUSHES.get(key)
    if flush is None or len(flush.asks) >= FLUSH_CALLS:
        flush = _FLUSHES[key] = _Flush(key, db, writer)
        loop.call_soon(flush.run)
    future: asyncio.Future[_Answers | None] = loop.create_future()
    flush.futures.append(future)
    flush.asks.append(ask)
    return future


def _fail(futures: Iterable[asyncio.Future[_Answers | None]], error: BaseException) -> None:
    for future in futures:
        if not future.done():
            future.set_exception(error)


class _Flush:
    """The calls that one event loop made since it last ran this flush, decided together on the cached
    state: the questions asked with the same actor, purpose, categories, action and policy share one
    ``Request`` and ``decide_each`` (one decision per subject at each call's own ``now``, the same as
    ``decide``), and all the decisions go to the writer at once, identical ones merged into one event
    with every subject and ``counts.calls`` (as the writer merges them). Each call gets its decisions
    once the writer has committed them; a call whose state is not all cached gets None and reads it."""

    __slots__ = ("answers", "asks", "db", "futures", "key", "writer")

    def __init__(
        self, key: tuple[asyncio.AbstractEventLoop, Database, AuditWriter], db: Database, writer: AuditWriter
    ) -> None:
        self.key = key
        self.db = db
        self.writer = writer
        self.futures: list[asyncio.Future[_Answers | None]] = []
        self.asks: list[_Ask] = []
        self.answers: list[_Answers | None] = []

    def run(self) -> None:
        if _FLUSHES.get(self.key) is self:
            del _FLUSHES[self.key]
        loop = self.key[0]
        stamps = versions.fresh_stamps(self.db.engine, loop)
        if stamps is None:
            loop.create_task(self._run_once_read())
        else:
            self._decide(stamps)

    async def _run_once_read(self) -> None:
        try:
            stamps = await versions.stamps_async(self.db.engine)
        except Exception as exc:
            _fail(self.futures, exc)
            return
        self._decide(stamps)

    def _decide(self, stamps: dict[str, str]) -> None:
        try:
            events = self._decide_and_audit(CachedStates(self.db.engine, stamps))
        except Exception as exc:  # a call would have raised it; every call of the flush does
            _fail(self.futures, exc)
            return
        if not events:
            self._answer(None)
            return
        try:
            committed = self.writer.submit_future(events)
        except Exception as exc:  # the writer is closed
            _fail(self.futures, exc)
            return
        committed.add_done_callback(self._answer)

    def _decide_and_audit(self, view: CachedStates) -> list[AuditEvent]:
        """Decide the calls whose state is cached (the others are answered None: they read it) and
        return the audit events of their decisions."""
        actors, lookup = view.actors, view.subjects.lookup
        groups: dict[tuple[object, ...], _Group] = {}
        answers: list[_Answers | None] = [None] * len(self.asks)
        futures = self.futures
        for n, (loaded, actor, purpose, one, many, now, opt_out) in enumerate(self.asks):
            if futures[n].done():  # cancelled: nobody is told this decision, so none is made
                continue
            actor_state = actors.get((actor, now.date()))
            if actor_state is None:
                futures[n].set_result(None)
                continue
            questions = many if one is None else (one,)
            found = [lookup(q.subjects, now) for q in questions]
            if not all(map(all, found)):
                futures[n].set_result(None)
                continue
            answers[n] = _NOT_YET if one is not None else [_NOT_YET] * len(questions)
            for i, q in enumerate(questions):
                key: tuple[object, ...] = (id(loaded), id(actor_state), purpose, q.action, q.recipient)
                key += (q.exception, q.justification, opt_out, *q.categories)
                group = groups.get(key)
                if group is None:
                    # what decide_only reads for these questions: cleared (no named party), nothing
                    # referable confirmed
                    request = _request(
                        q,
                        actor_state,
                        purpose,
                        party_cleared=True,
                        opt_out_enabled=opt_out,
                        referable_confirmed=frozenset(),
                    )
                    group = groups[key] = _Group(compiled(loaded), request)
                group.calls.append(n)
                group.indexes.append(-1 if one is not None else i)
                group.subjects.append(found[i])  # type: ignore[arg-type]
                group.nows.append(now)
        for group in groups.values():
            group.answers = decide_each(group.tables, group.request, group.subjects, group.nows)
            for n, i, decisions in zip(group.calls, group.indexes, group.answers, strict=True):
                if i < 0:
                    answers[n] = decisions
                else:
                    answers[n][i] = decisions  # type: ignore[index, call-overload]
        self.answers = answers
        try:
            return [e for group in groups.values() for e in group.events()]
        except BadAuditEvent:  # some call's subject is not a reference: only that call fails
            return self._events_one_by_one()

    def _events_one_by_one(self) -> list[AuditEvent]:
        """Each call's audit events as ``audit_events`` makes them; a call whose events cannot be made
        (a subject that is not a reference) gets the error and no answer, the others go on."""
        events: list[AuditEvent] = []
        for n, answers in enumerate(self.answers):
            if answers is None:
                continue
            _, _, _, one, many, _, _ = self.asks[n]
            asked = [(one, answers)] if one is not None else zip(many, answers, strict=True)
            try:
                events += [e for q, decisions in asked for e in audit_events(decisions, q.recipient)]  # type: ignore[arg-type]
            except BadAuditEvent as exc:
                self.futures[n].set_exception(exc)
                self.answers[n] = None
        return events

    def _answer(self, committed: asyncio.Future[list[int]] | None) -> None:
        """Give each call its decisions, once they are committed."""
        error = None if committed is None else committed.exception()
        for future, answers in zip(self.futures, self.answers, strict=True):
            if answers is None or future.done():
                continue
            if error is None:
                future.set_result(answers)
            else:
                failed = AuditWriteFailed("the audit batch could not be committed")
                failed.__cause__ = error.__cause__ or error
                future.set_exception(failed)


class _Group:
    """The questions of one flush that share a ``Request``, as parallel lists (the call, the question's
    place in it, its subjects' state, its ``now``), then their decisions and audit events."""

    __slots__ = ("answers", "calls", "indexes", "nows", "request", "subjects", "tables")

    def __init__(self, tables: CompiledPolicy, request: Request) -> None:
        self.tables = tables
        self.request = request
        self.calls: list[int] = []
        self.indexes: list[int] = []
        self.subjects: list[list[SubjectState]] = []
        self.nows: list[datetime] = []
        self.answers: list[list[Decision]] = []

    def events(self) -> list[AuditEvent]:
        """What ``audit_events`` makes of each question's decisions, merged as the writer merges them:
        one event per outcome with every subject, and ``counts.calls`` the number of questions."""
        subjects: dict[tuple[bool, tuple[str, ...], str], list[str]] = {}
        calls: dict[tuple[bool, tuple[str, ...], str], int] = {}
        for decisions in self.answers:
            if len(decisions) == 1:
                d = decisions[0]
                key = (d.allow, d.reasons, d.rule)
                if key in calls:
                    subjects[key] += d.subjects
                    calls[key] += 1
                else:
                    subjects[key] = list(d.subjects)
                    calls[key] = 1
                continue
            for d in decisions:
                subjects.setdefault((d.allow, d.reasons, d.rule), []).extend(d.subjects)
            for key in {(d.allow, d.reasons, d.rule) for d in decisions}:
                calls[key] = calls.get(key, 0) + 1  # one per question, however many subjects
        req = self.request
        objects = tuple(f"category:{c}" for c in req.categories) + (
            (f"recipient:{req.recipient}",) if req.recipient else ()
        )
        return [
            AuditEvent(
                actor=req.actor.ref,
                action=f"decision.{req.action.value}",
                purpose=req.purpose,
                subjects=tuple(subjects[key]),
                objects=objects,
                decision="allow" if key[0] else "deny",
                reasons=(*key[1], f"rule:{key[2]}"),
                policy_version=self.tables.version,
                counts={"calls": calls[key]} if calls[key] > 1 else {},
            )
            for key in subjects
        ]


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
