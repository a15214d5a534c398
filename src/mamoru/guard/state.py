"""The state the guard decides on: the actor's roles, pledge and training, and each subject's
acquisitions, consents and cessations, read from the database or served from a cache per engine.

The cache holds what was read under the stamps of ``store.versions``; a changed stamp empties the area's
part of it, so a role taken away, a consent withdrawn or a use stopped is seen by the next decision (in
another process, within ``versions.CHECK_SECONDS``). A subject's state also carries the time until which
it holds (the next consent, withdrawal or cessation that takes effect later), and is read again after it.
A transaction that has itself written such state is never served from the cache: it reads its own."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from mamoru.guard.engine import ANY, ActorState, SubjectState
from mamoru.ledger.consent import ConsentScope
from mamoru.ledger.tables import Acquisition, Cessation, Consent, DataSubject, PurposeNotice
from mamoru.people.tables import Staff
from mamoru.policy.tables import PurposeVersion
from mamoru.store import versions

STAFF_PREFIX = "staff:"
#: the most subjects one process keeps (about 1 KiB each); past it the subjects' part starts again
MAX_SUBJECTS = 200_000


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


def _later(current: datetime | None, moment: datetime | None, now: datetime) -> datetime | None:
    """The earliest of ``current`` and ``moment`` that is still to come after ``now``."""
    if moment is None or moment <= now:
        return current
    return moment if current is None or moment < current else current


class _VersionClock:
    """Which version of each purpose was in force at a moment (the publications that put each in force)."""

    def __init__(self, session: Session) -> None:
        self.published: dict[str, list[tuple[datetime, int]]] = {}
        for purpose, version, at in session.execute(
            select(PurposeVersion.purpose_id, PurposeVersion.version, PurposeVersion.published_at).where(
                PurposeVersion.version > 1
            )
        ):
            self.published.setdefault(purpose, []).append((at, version))

    def at(self, purpose: str, moment: datetime) -> int:
        return max((v for at, v in self.published.get(purpose, ()) if at <= moment), default=1)


def _raise(versions: dict[str, int], purpose: str, version: int) -> None:
    if version > versions.get(purpose, 1):
        versions[purpose] = version


def load_subjects_until(
    session: Session, subject_ids: Sequence[str], now: datetime
) -> list[tuple[SubjectState, datetime | None]]:
    """Each subject's state at ``now`` and the time it holds until (None: until something is written)."""
    ids = list(dict.fromkeys(subject_ids))
    known = {row.id: row for row in session.scalars(select(DataSubject).where(DataSubject.id.in_(ids)))}
    notified: dict[str, dict[str, set[str]]] = {i: {} for i in ids}
    opt_out: dict[str, set[str]] = {i: set() for i in ids}
    retain: dict[str, dict[str, date | None]] = {i: {} for i in ids}
    until: dict[str, datetime | None] = dict.fromkeys(ids)
    clock = _VersionClock(session)
    told: dict[str, dict[str, int]] = {i: {} for i in ids}
    agreed: dict[str, dict[str, int]] = {i: {} for i in ids}
    for acq in session.scalars(select(Acquisition).where(Acquisition.subject_id.in_(ids))):
        if clock.published:
            for purpose in acq.purposes_notified:
                # acquired under the text in force then: told of it and agreed to it (APPI Art. 21(1))
                version = clock.at(purpose, acq.acquired_at)
                _raise(told[acq.subject_id], purpose, version)
                _raise(agreed[acq.subject_id], purpose, version)
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
    for consent in session.scalars(select(Consent).where(Consent.subject_id.in_(ids))):
        sid = consent.subject_id
        until[sid] = _later(_later(until[sid], consent.given_at, now), consent.withdrawn_at, now)
        if consent.given_at > now or (consent.withdrawn_at is not None and consent.withdrawn_at <= now):
            continue
        if consent.scope == ConsentScope.BEYOND_PURPOSE:
            beyond[sid].add(consent.purpose or ANY)
            if consent.purpose and clock.published:
                # a consent to the purpose as it reads when given: also to a change not related (Art. 17(2))
                _raise(agreed[sid], consent.purpose, clock.at(consent.purpose, consent.given_at))
            continue
        if consent.scope == ConsentScope.THIRD_PARTY and consent.recipient:
            keys: tuple[str, ...] = (consent.recipient,)
        elif consent.scope == ConsentScope.FOREIGN_THIRD_PARTY and consent.recipient:
            # Given after the APPI Art. 28 information: good for a foreign and a domestic provision.
            keys = (consent.recipient, f"foreign:{consent.recipient}")
        else:
            continue
        provision[sid].update(keys)
        for key in keys:
            scope[sid].setdefault(f"{key}|{consent.purpose or ANY}", []).append(
                frozenset(consent.categories or ())
            )
    stopped_use: dict[str, set[str]] = {i: set() for i in ids}
    stopped_provision: dict[str, set[str]] = {i: set() for i in ids}
    for stop in session.scalars(select(Cessation).where(Cessation.subject_id.in_(ids))):
        sid = stop.subject_id
        until[sid] = _later(_later(until[sid], stop.effective_at, now), stop.lifted_at, now)
        if stop.effective_at > now or (stop.lifted_at is not None and stop.lifted_at <= now):
            continue
        if stop.kind == "stop_use":
            stopped_use[sid].add(stop.purpose or ANY)
        else:
            stopped_provision[sid].add(stop.recipient or ANY)
    if clock.published:
        delivered = select(PurposeNotice).where(
            PurposeNotice.subject_id.in_(ids),
            PurposeNotice.kind == "notice",
            PurposeNotice.delivered_at.is_not(None),
        )
        for notice in session.scalars(delivered):
            if notice.delivered_at is not None and notice.delivered_at <= now:
                _raise(told[notice.subject_id], notice.purpose_id, notice.version)
    return [
        (
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
                purpose_told=told[i],
                purpose_agreed=agreed[i],
            ),
            until[i],
        )
        for i in subject_ids
    ]


def load_subjects(session: Session, subject_ids: Sequence[str], now: datetime) -> list[SubjectState]:
    """Each subject's acquisitions, consents, cessations and purpose notices in force at ``now``."""
    return [state for state, _ in load_subjects_until(session, subject_ids, now)]


class _Subjects:
    """The subjects' state kept under one stamp: each with the time it holds until, and apart the states
    that hold until something is written (most of them), so that a batch is looked up at C speed."""

    __slots__ = ("held", "open")

    def __init__(self) -> None:
        self.held: dict[str, tuple[SubjectState, datetime | None]] = {}
        self.open: dict[str, SubjectState] = {}

    def put(self, loaded: dict[str, tuple[SubjectState, datetime | None]]) -> None:
        self.held.update(loaded)
        for sid, (state, until) in loaded.items():
            if until is None:
                self.open[sid] = state
            else:
                self.open.pop(sid, None)

    def lookup(self, subject_ids: Sequence[str], now: datetime) -> list[SubjectState | None]:
        """Each subject's state at ``now``, None where it would have to be read."""
        states: list[SubjectState | None] = list(map(self.open.get, subject_ids))
        if all(states):
            return states
        held = self.held
        for i, sid in enumerate(subject_ids):
            if states[i] is None:
                hit = held.get(sid)
                if hit is not None and (hit[1] is None or hit[1] > now):
                    states[i] = hit[0]
        return states


class _Cache:
    __slots__ = ("actors", "actors_stamp", "lock", "subjects", "subjects_stamp")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.actors: dict[tuple[str, date], ActorState] = {}
        self.subjects = _Subjects()
        self.actors_stamp = ""
        self.subjects_stamp = ""

    def sync(self, stamps: dict[str, str]) -> tuple[str, str]:
        actors, subjects = stamps.get("actors", ""), stamps.get("subjects", "")
        if actors != self.actors_stamp or subjects != self.subjects_stamp:
            with self.lock:
                if actors != self.actors_stamp:
                    self.actors, self.actors_stamp = {}, actors
                if subjects != self.subjects_stamp:
                    self.subjects, self.subjects_stamp = _Subjects(), subjects
        return actors, subjects


_CACHES: versions.PerEngine[_Cache] = versions.PerEngine(_Cache)


class _AsksAbout(Protocol):
    @property
    def subjects(self) -> Sequence[str]: ...


class CachedStates:
    """The cache of one engine as of ``stamps`` (current, from ``versions``), synced once for many
    lookups: no session, no connection, no I/O."""

    __slots__ = ("actors", "subjects")

    def __init__(self, engine: Engine, stamps: dict[str, str]) -> None:
        cache = _CACHES(engine)
        cache.sync(stamps)
        self.actors = cache.actors
        self.subjects = cache.subjects

    def get(
        self, actor: str, subject_ids: Sequence[str], now: datetime
    ) -> tuple[ActorState, list[SubjectState]] | None:
        """The actor's and the subjects' state at ``now``, or None when any of it would have to be read."""
        actor_state = self.actors.get((actor, now.date()))
        if actor_state is None:
            return None
        states = self.subjects.lookup(subject_ids, now)
        if not all(states):
            return None
        return actor_state, states  # type: ignore[return-value]

    def get_many(
        self, actor: str, questions: Sequence[_AsksAbout], now: datetime
    ) -> tuple[ActorState, list[list[SubjectState]]] | None:
        """``get`` for the subjects of each question, or None when any of it would have to be read."""
        actor_state = self.actors.get((actor, now.date()))
        if actor_state is None:
            return None
        each: list[list[SubjectState]] = []
        for question in questions:
            states = self.subjects.lookup(question.subjects, now)
            if not all(states):
                return None
            each.append(states)  # type: ignore[arg-type]
        return actor_state, each


def state_for(
    session: Session, actor: str, subject_ids: Sequence[str], now: datetime
) -> tuple[ActorState, list[SubjectState]]:
    """The actor's and the subjects' state at ``now``: from the cache where it holds, read otherwise.

    What is read goes through a short session of its own (the caller's keeps no connection for it),
    unless the caller's transaction has written such state, when it is read there and not cached."""
    engine = versions.engine_of(session)
    if engine is None or versions.dirty(session):
        return load_actor(session, actor, now.date()), load_subjects(session, subject_ids, now)
    cache = _CACHES(engine)
    actors_stamp, subjects_stamp = cache.sync(versions.stamps(engine))
    key = (actor, now.date())
    actor_state = cache.actors.get(key)
    states = cache.subjects.lookup(subject_ids, now)
    if actor_state is not None and all(states):
        return actor_state, states  # type: ignore[return-value]
    missing = [sid for sid, state in zip(subject_ids, states, strict=True) if state is None]
    with Session(engine) as fresh:
        if actor_state is None:
            actor_state = load_actor(fresh, actor, now.date())
            if cache.actors_stamp == actors_stamp:
                cache.actors[key] = actor_state
        loaded = dict(zip(missing, load_subjects_until(fresh, missing, now), strict=True)) if missing else {}
    if loaded and cache.subjects_stamp == subjects_stamp:
        if len(cache.subjects.held) + len(loaded) > MAX_SUBJECTS:
            cache.subjects = _Subjects()
        cache.subjects.put(loaded)
    return actor_state, [
        s if s is not None else loaded[sid][0] for s, sid in zip(states, subject_ids, strict=True)
    ]
