"""Scratch PostgreSQL databases for tests, made and dropped without making any test wait on the disk.

Two server costs dominated the PostgreSQL run's set-up, both the disk's, not the test's:

- ``CREATE DATABASE … TEMPLATE`` waits for its WAL to be flushed (seconds on a busy disk). A test
  database needs no durability, so the admin connection that creates them commits asynchronously
  (``synchronous_commit = off``; the server still writes everything, it only does not wait).
- ``DROP DATABASE`` forces a checkpoint of the whole server (seconds). The drops go to a thread of
  their own (:data:`JANITOR`), one after another, while the tests go on; the session waits for the
  queue only at its end.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import threading
from typing import Any

ADMIN_URL = os.environ.get(
    "MAMORU_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
).replace("+psycopg", "")

_local = threading.local()
_stale = itertools.count()


def _connect() -> Any:
    import psycopg

    conn = psycopg.connect(ADMIN_URL, autocommit=True)
    conn.execute("SET synchronous_commit = off")
    return conn


def admin(*statements: str) -> None:
    """Run statements on the server's admin database (one kept connection per thread)."""
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = _local.conn = _connect()
    for statement in statements:
        conn.execute(statement)


def terminate(name: str) -> None:
    """End every other connection to database ``name`` (before a rename, say)."""
    admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    )


class Janitor:
    """Drops databases in a background thread, in the order given; :meth:`finish` waits for all."""

    def __init__(self) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def drop(self, name: str) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="pg-janitor", daemon=True)
                self._thread.start()
        self._queue.put(name)

    def finish(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def _run(self) -> None:
        conn = None
        while (name := self._queue.get()) is not None:
            with contextlib.suppress(
                Exception
            ):  # scratch databases: a failed drop leaves litter, not a failure
                if conn is None or conn.closed:
                    conn = _connect()
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if conn is not None:
            conn.close()


JANITOR = Janitor()


def replace(name: str, template: str) -> None:
    """Make database ``name`` a fresh copy of ``template``: the old one is renamed away (a catalog change)
    and dropped in the background, instead of a drop the caller would wait for."""
    stale = f"{name[:50]}_old{next(_stale)}"
    terminate(name)
    admin(f'ALTER DATABASE "{name}" RENAME TO "{stale}"', f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    JANITOR.drop(stale)
