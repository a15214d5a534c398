"""Group commit: many callers' audit entries share one transaction, and signed checkpoints follow.

Identical guard decisions that arrive in the same batch share one entry: the same actor, action, purpose,
objects, outcome, reasons and policy version, with the subjects of every call in it and ``counts.calls``
saying how many calls it holds. They would carry the same timestamp anyway (a batch has one), so the
entry says all they said: who, for what, about whom, when, and why it was allowed or refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from mamoru.audit import merkle
from mamoru.audit.chain import append, head
from mamoru.audit.entry import AuditEvent, check_no_personal_values
from mamoru.audit.proofs import latest_checkpoint, make_checkpoint
from mamoru.audit.query import build_index
from mamoru.audit.signing import Signer
from mamoru.errors import MamoruError
from mamoru.store.db import Database, make_engine

log = logging.getLogger(__name__)


class AuditWriteFailed(MamoruError):
    """The batch holding this entry could not be committed; the entry is not in the log."""

    http_status = 503


class _Ticket:
    """One batch's commit, shared by every caller whose entries are in it: a thread waits on ``done``, a
    coroutine on a future of its own (the writer settles all of one event loop's with one call)."""

    __slots__ = ("done", "error", "futures", "seqs")

    def __init__(self) -> None:
        self.done = threading.Event()
        #: the sequence number of each submitted event's entry, in the order submitted
        self.seqs: list[int] = []
        self.error: BaseException | None = None
        #: per event loop: each waiting coroutine's future, and where its events are in the batch
        self.futures: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[list[int]], int, int]]] = {}

    def settle(self) -> None:
        self.done.set()
        for loop, futures in self.futures.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits there any more
                loop.call_soon_threadsafe(_settle, self, futures)


def _settle(ticket: _Ticket, futures: list[tuple[asyncio.Future[list[int]], int, int]]) -> None:
    error, seqs = ticket.error, ticket.seqs
    for future, offset, count in futures:
        if future.done():  # a cancelled caller's future is done already
            continue
        if error is None:
            future.set_result(seqs[offset : offset + count])
        else:
            failed = AuditWriteFailed("the audit batch could not be committed")
            failed.__cause__ = error
            future.set_exception(failed)


#: what a guard decision's entry may count besides its subjects: how many calls it holds
_CALLS = "calls"


def _merge_key(event: AuditEvent) -> tuple[object, ...] | None:
    """The fields that must be equal for two decisions to share an entry (all but the subjects and the
    number of calls), or None for an event that keeps an entry of its own."""
    if event.decision is None or not event.action.startswith("decision."):
        return None
    if event.counts and (len(event.counts) != 1 or _CALLS not in event.counts):
        return None
    return (
        event.actor,
        event.action,
        event.purpose,
        event.objects,
        event.decision,
        event.reasons,
        event.policy_version,
    )


def merge_decisions(batch: Sequence[AuditEvent]) -> tuple[list[AuditEvent], list[int]]:
    """The entries to write for ``batch`` and, for each event of it, the index of its entry: identical
    decisions become one entry with all their subjects (``counts.calls``: how many calls, an event
    that already merged some counting as many); every other event keeps an entry of its own, in the
    order submitted."""
    entries: list[AuditEvent] = []
    where: list[int] = []
    merged: dict[tuple[object, ...], int] = {}
    parts: dict[int, list[AuditEvent]] = {}
    for event in batch:
        key = _merge_key(event)
        if key is None:
            where.append(len(entries))
            entries.append(event)
            continue
        index = merged.get(key)
        if index is None:
            index = merged[key] = len(entries)
            entries.append(event)
            parts[index] = [event]
        else:
            parts[index].append(event)
        where.append(index)
    for index, same in parts.items():
        if len(same) > 1:
            first = same[0]
            entries[index] = AuditEvent(
                actor=first.actor,
                action=first.action,
                purpose=first.purpose,
                subjects=tuple(s for e in same for s in e.subjects),
                objects=first.objects,
                decision=first.decision,
                reasons=first.reasons,
                policy_version=first.policy_version,
                counts={_CALLS: sum(e.counts.get(_CALLS, 1) for e in same)},
            )
    return entries, where


class AuditWriter:
    """Group commit: many callers' entries share one transaction and one fsync.

    The writer has a connection of its own, outside the application's pool: a caller may hold a pooled
    connection while it waits for its entry, and the writer never waits for one (an in-memory SQLite
    database, which exists only on its one connection, is written through the application's engine).

    ``durable=True`` returns once the entry is committed; ``durable=False`` returns at once and the
    entry is committed within one batch's write time (the writer never waits to fill a batch).
    """

    def __init__(
        self,
        db: Database,
        *,
        signer: Signer | None = None,
        checkpoint_every: int = 10_000,
        checkpoint_seconds: float = 60.0,
        max_pending: int = 1_000_000,
        retries: int = 20,
        index_when_idle: bool = True,
    ) -> None:
        self._db = db
        memory = db.url.startswith("sqlite") and (":memory:" in db.url or db.url.rstrip("/") == "sqlite:")
        self._engine = db.engine if memory else make_engine(db.url, poolclass=StaticPool)
        self._signer = signer
        self._checkpoint_every = checkpoint_every
        self._checkpoint_seconds = checkpoint_seconds
        self._frontier = merkle.Frontier()
        self._last_checkpoint_size = -1
        self._last_checkpoint_at = time.monotonic()
        self.index_when_idle = index_when_idle
        #: how long the writer waits with nothing to write before it builds the query index
        self.idle_seconds = 1.0
        self._cond = threading.Condition()
        self._pending: list[AuditEvent] = []
        self._ticket = _Ticket()
        self._closed = False
        self._max_pending = max_pending
        self._retries = retries
        self.batches = 0
        self._thread = threading.Thread(target=self._run, name="mamoru-audit-writer", daemon=True)
        self._thread.start()

    def _enqueue(
        self, events: Sequence[AuditEvent], loop: asyncio.AbstractEventLoop | None = None
    ) -> tuple[_Ticket, int, asyncio.Future[list[int]] | None]:
        for event in events:
            check_no_personal_values(event)
        with self._cond:
            while len(self._pending) >= self._max_pending and not self._closed:
                if loop is not None:  # an event loop is never blocked: its events queue past the limit
                    break
                self._cond.wait()
            if self._closed:
                raise AuditWriteFailed("the audit writer is closed")
            offset = len(self._pending)
            self._pending.extend(events)
            ticket = self._ticket
            future = None
            if loop is not None:
                future = loop.create_future()
                ticket.futures.setdefault(loop, []).append((future, offset, len(events)))
            self._cond.notify_all()
        return ticket, offset, future

    @staticmethod
    def _seqs(ticket: _Ticket, offset: int, count: int) -> list[int]:
        if ticket.error is not None:
            raise AuditWriteFailed("the audit batch could not be committed") from ticket.error
        return ticket.seqs[offset : offset + count]

    def submit(self, events: Sequence[AuditEvent], *, durable: bool = True) -> list[int] | None:
        """Queue ``events``; with ``durable`` wait for the commit and return their entries' sequence
        numbers (identical decisions of one batch share an entry, so share a number)."""
        ticket, offset, _ = self._enqueue(events)
        if not durable:
            return None
        ticket.done.wait()
        return self._seqs(ticket, offset, len(events))

    def submit_future(self, events: Sequence[AuditEvent]) -> asyncio.Future[list[int]]:
        """``submit`` for the running event loop, without waiting: a future of that loop, done with the
        entries' sequence numbers once the events are committed (or with :class:`AuditWriteFailed`)."""
        _, _, future = self._enqueue(events, asyncio.get_running_loop())
        assert future is not None
        return future

    async def submit_async(self, events: Sequence[AuditEvent]) -> list[int]:
        """``submit`` for a coroutine: returns once the events are committed, without holding a thread
        while it waits."""
        return await self.submit_future(events)

    def append(self, event: AuditEvent, *, durable: bool = True) -> int | None:
        seqs = self.submit([event], durable=durable)
        return seqs[0] if seqs else None

    def flush(self) -> None:
        """Wait until everything submitted so far is committed."""
        with self._cond:
            if not self._pending:
                return
            ticket = self._ticket
        ticket.done.wait()

    def close(self) -> None:
        self.flush()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=30)
        if self._engine is not self._db.engine:
            self._engine.dispose()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    if not self._cond.wait(timeout=self._checkpoint_seconds if self._signer else None):
                        break
                if not self._pending:
                    if self._closed:
                        return
                    self._maybe_checkpoint(timed=True)
                    continue
                batch, self._pending = self._pending, []
                ticket, self._ticket = self._ticket, _Ticket()
                self._cond.notify_all()
            try:
                ticket.seqs = self._write(batch)
            except BaseException as exc:  # the callers get the error; the writer keeps serving
                ticket.error = exc
                log.error("audit batch of %d entries failed: %s", len(batch), type(exc).__name__)
            finally:
                ticket.settle()
            self._maybe_checkpoint(timed=False)
            self._index_while_idle()

    def _maybe_checkpoint(self, *, timed: bool) -> None:
        """Sign a checkpoint every ``checkpoint_every`` entries, or after ``checkpoint_seconds`` with news."""
        if self._signer is None:
            return
        try:
            with Session(self._engine) as session, session.begin():
                size, _ = head(session)
                if self._last_checkpoint_size < 0:
                    latest = latest_checkpoint(session)
                    self._last_checkpoint_size = latest.tree_size if latest else 0
                due = size - self._last_checkpoint_size >= self._checkpoint_every or (
                    timed
                    and size > self._last_checkpoint_size
                    and time.monotonic() - self._last_checkpoint_at >= self._checkpoint_seconds
                )
                if not due:
                    return
                cp = make_checkpoint(session, self._signer, frontier=self._frontier)
            self._last_checkpoint_size = cp.tree_size if cp else 0
            self._last_checkpoint_at = time.monotonic()
        except (OperationalError, IntegrityError):
            log.warning("audit checkpoint postponed: the database was busy or another process signed")

    def _index_while_idle(self) -> None:
        """Build the query index only once no entry has come for ``idle_seconds``: an index commit between
        two batches would make the next caller wait for two commits instead of one. (A query builds what
        is missing itself.)"""
        while self.index_when_idle:
            with self._cond:
                if not self._pending and not self._closed:
                    self._cond.wait(timeout=self.idle_seconds)
                if self._pending or self._closed:
                    return
            try:
                with self._engine.begin() as conn:
                    if not build_index(conn, limit=5_000):
                        return
            except OperationalError:
                return

    def _write(self, batch: list[AuditEvent]) -> list[int]:
        entries, where = merge_decisions(batch)
        for attempt in range(self._retries):
            try:
                with self._engine.begin() as conn:
                    seqs = append(conn, entries, _validated=True)
                self.batches += 1
                return [seqs[i] for i in where]
            except OperationalError:
                if attempt == self._retries - 1:
                    raise
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")
