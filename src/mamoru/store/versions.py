"""Versions of the state that processes keep in memory (who may act, what each person was told and
agreed to): a stamp per area in ``guard_versions``, changed by database triggers (migrations 0028, 0030) with
every committed write to the area's tables, from any process and any statement.

A cache asks :func:`stamps` before it serves anything. Reading the stamps costs one small query, done at
most every ``check_seconds`` per engine, and at once after this process commits a write to a watched
table (a session event bumps the local epoch), so a change made here is seen by the next call here, and a
change made by another process (the CLI, a worker) within ``check_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, String, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from mamoru.store.db import Base

#: area -> the tables whose writes change its stamp (the triggers of migration 0028 watch the same)
AREAS: dict[str, frozenset[str]] = {
    "actors": frozenset({"staff", "staff_roles", "api_clients"}),
    "subjects": frozenset({"data_subjects", "acquisitions", "consents", "cessations", "purpose_notices"}),
}
_WATCHED = frozenset().union(*AREAS.values())
#: how long a process trusts the stamps it read before it reads them again (another process's writes)
CHECK_SECONDS = 0.01
#: session.info key: this transaction wrote watched state, so caches must not serve it
DIRTY = "mamoru.guard_state_dirty"


_READ = "SELECT area, stamp FROM guard_versions"


class GuardVersion(Base):
    __tablename__ = "guard_versions"

    area: Mapped[str] = mapped_column(String(16), primary_key=True)
    stamp: Mapped[str] = mapped_column(String(40))


class _Epoch:
    """Bumped after every commit in this process that wrote a watched table."""

    value = 0


class _Seen:
    __slots__ = ("checked_at", "connection", "epoch", "lock", "stamps")

    def __init__(self) -> None:
        self.stamps: dict[str, str] = {}
        self.checked_at = -1e18
        self.epoch = -1
        self.lock = threading.Lock()
        #: a connection of the engine's kept for this one read (a checkout per read costs more than it)
        self.connection: Any = None

    def read(self, engine: Engine) -> dict[str, str]:
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = engine.raw_connection()
            try:
                cursor = self.connection.cursor()
                try:
                    cursor.execute(_READ)
                    rows = cursor.fetchall()
                finally:
                    cursor.close()
                self.connection.rollback()  # end the read, so that the next one sees later commits
                return {str(area): str(stamp) for area, stamp in rows}
            except Exception:
                broken, self.connection = self.connection, None
                with contextlib.suppress(Exception):
                    broken.invalidate()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


T = TypeVar("T")
_REGISTRIES: weakref.WeakSet[PerEngine[Any]] = weakref.WeakSet()


class PerEngine(Generic[T]):
    """What a process keeps for each database (made by ``factory`` on first use), forgotten when the
    engine is disposed: every cache of this process that must not outlive the database it was read from."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._items: weakref.WeakKeyDictionary[Engine, T] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        _REGISTRIES.add(self)

    def __call__(self, engine: Engine) -> T:
        item = self._items.get(engine)
        if item is None:
            with self._lock:
                item = self._items.get(engine)
                if item is None:
                    item = self._items[engine] = self._factory()
        return item

    def forget(self, engine: Engine) -> T | None:
        with self._lock:
            return self._items.pop(engine, None)


def engine_of(session: Session) -> Engine | None:
    """The engine a session is bound to (None when it is bound to a connection: nothing is cached then)."""
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else None


_SEEN: PerEngine[_Seen] = PerEngine(_Seen)


def stamps(engine: Engine, *, check_seconds: float | None = None) -> dict[str, str]:
    """The current stamp of every area, as of at most ``check_seconds`` ago (or a local commit).

    Past half the interval, the first caller reads them again while the others go on with the stamps
    they have (still within the interval), so that steady traffic seldom waits for the read."""
    seen = _SEEN(engine)
    limit = CHECK_SECONDS if check_seconds is None else check_seconds
    if seen.epoch == _Epoch.value:
        age = time.monotonic() - seen.checked_at
        if age < limit / 2:
            return seen.stamps
        if age < limit:
            if not seen.lock.acquire(blocking=False):
                return seen.stamps
            try:
                return _read_if_older(seen, engine, limit / 2)
            finally:
                seen.lock.release()
    with seen.lock:
        return _read_if_older(seen, engine, limit)


def _read_if_older(seen: _Seen, engine: Engine, limit: float) -> dict[str, str]:
    """Read the stamps unless another caller did within ``limit`` (the caller holds ``seen.lock``)."""
    epoch = _Epoch.value  # read before the query: a commit during it makes the next call look again
    now = time.monotonic()
    if seen.epoch == epoch and now - seen.checked_at < limit:
        return seen.stamps
    current = seen.read(engine)
    seen.stamps, seen.checked_at, seen.epoch = current, now, epoch
    return current


class _Refresh:
    """A read of the stamps in a worker thread, and the coroutines of one event loop that wait for it."""

    __slots__ = ("waiters",)

    def __init__(self) -> None:
        self.waiters: list[asyncio.Future[dict[str, str]]] = []


_REFRESHING: dict[tuple[int, int], _Refresh] = {}


def _start_refresh(engine: Engine, loop: asyncio.AbstractEventLoop) -> _Refresh:
    key = (id(engine), id(loop))
    refresh = _REFRESHING.get(key)
    if refresh is None:
        refresh = _REFRESHING[key] = _Refresh()
        task = loop.create_task(asyncio.to_thread(stamps, engine))

        def done(task: asyncio.Task[dict[str, str]], refresh: _Refresh = refresh) -> None:
            _REFRESHING.pop(key, None)
            for waiter in refresh.waiters:
                if waiter.done():  # its caller was cancelled
                    continue
                if task.cancelled():
                    waiter.cancel()
                elif (error := task.exception()) is not None:
                    waiter.set_exception(error)
                else:
                    waiter.set_result(task.result())

        task.add_done_callback(done)
    return refresh


def fresh_stamps(engine: Engine, loop: asyncio.AbstractEventLoop) -> dict[str, str] | None:
    """The stamps if they are fresh (no I/O: for the event loop ``loop``), else None: the caller awaits
    :func:`stamps_async`. Once half the check interval has passed, a read starts in a worker thread, so
    that steady traffic seldom waits."""
    seen = _SEEN(engine)
    age = time.monotonic() - seen.checked_at
    if seen.epoch == _Epoch.value and age < CHECK_SECONDS:
        if age >= CHECK_SECONDS / 2:
            _start_refresh(engine, loop)
        return seen.stamps
    return None


async def stamps_async(engine: Engine) -> dict[str, str]:
    """:func:`stamps` for a coroutine, without waiting on I/O in the event loop: answered at once while
    fresh (:func:`fresh_stamps`); past the check interval a caller waits for the read in a worker
    thread, one read for every waiter."""
    loop = asyncio.get_running_loop()
    fresh = fresh_stamps(engine, loop)
    if fresh is not None:
        return fresh
    waiter: asyncio.Future[dict[str, str]] = loop.create_future()
    _start_refresh(engine, loop).waiters.append(waiter)
    return await waiter


def dirty(session: Session) -> bool:
    """Whether this session's transaction has written (or is about to write) watched state."""
    if session.info.get(DIRTY):
        return True
    return any(_watched(obj) for obj in (*session.new, *session.dirty, *session.deleted))


def _watched(obj: Any) -> bool:
    table = getattr(obj, "__tablename__", None)
    return table in _WATCHED


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    if not session.info.get(DIRTY) and any(
        _watched(o) for o in (*session.new, *session.dirty, *session.deleted)
    ):
        session.info[DIRTY] = True


@event.listens_for(Session, "do_orm_execute")
def _bulk(state: ORMExecuteState) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in _WATCHED:
            state.session.info[DIRTY] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(DIRTY, False):
        _Epoch.value += 1


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(DIRTY, None)


@event.listens_for(Engine, "engine_disposed")
def _engine_disposed(engine: Engine) -> None:
    for registry in list(_REGISTRIES):
        kept = registry.forget(engine)
        if isinstance(kept, _Seen) and kept.connection is not None:
            with contextlib.suppress(Exception):
                kept.connection.close()
