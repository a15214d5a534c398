"""The guard for coroutines (what ``POST /api/v1/decisions`` runs): the calls that one event loop makes
together are decided together on the cached state and audited with one submission, and each call still
gets exactly the decisions it would get alone, each subject's decision in the log, once it is durable."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from mamoru.audit.entry import BadAuditEvent
from mamoru.audit.query import entries_for
from mamoru.guard.decision import Action, Decision
from mamoru.guard.service import (
    Question,
    audit_events,
    decide_and_record_async,
    decide_many_and_record_async,
    decide_only,
)
from mamoru.ledger.tables import Acquisition
from mamoru.store.db import Database
from mamoru.workspace import Workspace
from tests.demo_copies import demo_copy


@pytest.fixture
def demo(workspace: Workspace) -> Workspace:
    demo_copy(workspace, 4)
    return workspace


def customers(ws: Workspace, n: int) -> list[str]:
    with ws.db.session() as session:
        # the first n distinct subjects in the order they were acquired (PostgreSQL refuses DISTINCT with
        # an ORDER BY on a column it does not select: the order is taken here)
        rows = session.scalars(
            select(Acquisition.subject_id)
            .where(Acquisition.channel_id == "ch-services")
            .order_by(Acquisition.id)
        )
        return [str(s) for s in dict.fromkeys(rows)][:n]


#: questions that differ in what a flush groups by, some allowed and some denied
ASKED = [
    ("staff:sa01", "services", ["contact"], Action.READ),
    ("staff:sa01", "services", ["contact", "identity"], Action.READ),
    ("staff:sa01", "services", ["contact"], Action.ERASE),  # the role lacks the action
    ("staff:sa01", "research", ["contact"], Action.READ),  # not the actor's purpose
    ("staff:nobody", "services", ["contact"], Action.READ),  # no such staff
]


def alone(ws: Workspace, actor: str, purpose: str, question: Question, now: datetime) -> list[Decision]:
    with ws.db.session() as session:
        return decide_only(session, ws.policy, actor=actor, purpose=purpose, question=question, now=now)


def test_calls_made_together_get_what_each_would_alone_and_the_log_holds_every_one(demo: Workspace) -> None:
    people = customers(demo, 6)
    calls = []
    for i in range(60):
        actor, purpose, categories, action = ASKED[i % len(ASKED)]
        chosen = [people[i % 6]] if i % 7 else people[: 1 + i % 3]  # some ask about several subjects
        questions = [Question(chosen, categories, action)]
        if i % 11 == 0:  # one call, several questions: the same again, and one of another group
            _, _, other_categories, other_action = ASKED[(i + 2) % len(ASKED)]
            questions += [questions[0], Question(chosen, other_categories, other_action)]
        calls.append((actor, purpose, questions))

    async def together() -> list[list[list[Decision]]]:
        await asyncio.gather(*(ask(*call) for call in calls[:5]))  # the state read once, then cached
        return await asyncio.gather(*(ask(*call) for call in calls))

    async def ask(actor: str, purpose: str, questions: list[Question]) -> list[list[Decision]]:
        return await decide_many_and_record_async(
            demo.db,
            demo.policy,
            actor=actor,
            purpose=purpose,
            questions=questions,
            now=now,
            writer=demo.audit_writer,
        )

    now = datetime.now(UTC)
    with demo.db.session() as session:
        before = {e.seq for e in entries_for(session, "actor", "staff:sa01", limit=100_000)}
    answers = asyncio.run(together())
    expected = []
    for (actor, purpose, questions), got in zip(calls, answers, strict=True):
        for question, decisions in zip(questions, got, strict=True):
            assert decisions == alone(demo, actor, purpose, question, now)
            expected += audit_events(decisions)
    assert any(d.allow for a in answers for q in a for d in q)
    assert any(not d.allow for a in answers for q in a for d in q)

    # another engine reads them: durable when the calls returned
    other = Database(demo.db.url)
    with other.session() as session:
        bodies = [
            e.body
            for actor in ("staff:sa01", "staff:nobody")
            for e in entries_for(session, "actor", actor, limit=100_000)
            if e.seq not in before and e.body["action"].startswith("decision.")
        ]
    other.dispose()

    def outcome(actor: str, action: str, purpose: object, objects: object, decision: object, reasons: object):  # type: ignore[no-untyped-def]
        return (actor, action, purpose, tuple(objects), decision, tuple(reasons))  # type: ignore[arg-type]

    logged_subjects: Counter[tuple[object, ...]] = Counter()
    logged_calls: Counter[tuple[object, ...]] = Counter()
    for b in bodies:
        key = outcome(b["actor"], b["action"], b["purpose"], b["objects"], b["decision"], b["reasons"])
        logged_calls[key] += b.get("counts", {}).get("calls", 1)
        for s in b["subjects"]:
            logged_subjects[(*key, s)] += 1
    wanted_subjects: Counter[tuple[object, ...]] = Counter()
    wanted_calls: Counter[tuple[object, ...]] = Counter()
    for e in expected:
        key = outcome(e.actor, e.action, e.purpose, e.objects, e.decision, e.reasons)
        wanted_calls[key] += 1
        for s in e.subjects:
            wanted_subjects[(*key, s)] += 1
    warmup = 5  # the first five calls were logged too, each once more
    for actor, purpose, questions in calls[:warmup]:
        for question in questions:
            for e in audit_events(alone(demo, actor, purpose, question, now)):
                key = outcome(e.actor, e.action, e.purpose, e.objects, e.decision, e.reasons)
                wanted_calls[key] += 1
                for s in e.subjects:
                    wanted_subjects[(*key, s)] += 1
    assert logged_subjects == wanted_subjects
    assert logged_calls == wanted_calls


def test_a_call_whose_subject_is_no_reference_fails_alone(demo: Workspace) -> None:
    (person,) = customers(demo, 1)
    not_a_reference = "Yamada Taro"

    async def ask(subject: str) -> list[Decision]:
        return await decide_and_record_async(
            demo.db,
            demo.policy,
            actor="staff:sa01",
            purpose="services",
            question=Question([subject], ["contact"], Action.READ),
            now=datetime.now(UTC),
            writer=demo.audit_writer,
        )

    async def main() -> list[list[Decision] | BaseException]:
        await ask(person)
        with pytest.raises(BadAuditEvent):  # read in a worker thread: refused there, and now cached
            await ask(not_a_reference)
        return await asyncio.gather(ask(person), ask(not_a_reference), ask(person), return_exceptions=True)

    first, refused, last = asyncio.run(main())
    assert isinstance(refused, BadAuditEvent)
    assert not isinstance(first, BaseException) and not isinstance(last, BaseException)
    assert first[0].allow and last[0].allow
    with demo.db.session() as session:
        assert entries_for(session, "subject", not_a_reference) == []


def test_a_caller_that_gives_up_leaves_the_others_their_answers(demo: Workspace) -> None:
    people = customers(demo, 3)

    async def ask(subject: str) -> list[Decision]:
        return await decide_and_record_async(
            demo.db,
            demo.policy,
            actor="staff:sa01",
            purpose="services",
            question=Question([subject], ["contact"], Action.READ),
            now=datetime.now(UTC),
            writer=demo.audit_writer,
        )

    async def main() -> list[list[Decision] | BaseException]:
        await asyncio.gather(*(ask(p) for p in people))
        tasks = [asyncio.ensure_future(ask(p)) for p in people]
        await asyncio.sleep(0)  # every call has joined the flush
        tasks[1].cancel()
        return await asyncio.gather(*tasks, return_exceptions=True)

    first, cancelled, last = asyncio.run(main())
    assert isinstance(cancelled, asyncio.CancelledError)
    assert not isinstance(first, BaseException) and first[0].allow
    assert not isinstance(last, BaseException) and last[0].allow
