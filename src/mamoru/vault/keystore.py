"""The key store: per-subject data keys and named keys, wrapped by the master key, kept apart from
the main database.

Keeping the keys out of the main database is what makes erasure real: a copy or backup of the
database taken before a subject was erased holds only ciphertexts whose key no longer exists.
The key store is a small SQLite file in the workspace by default (``MAMORU_KEYSTORE_URL`` for
another database). On SQLite a destroyed key is gone from the files themselves: deleted rows are
overwritten (``secure_delete``) and the write-ahead log is checkpointed into the main file and
truncated before :meth:`KeyStore.destroy_subject_key` returns, so no copy of the files taken after it
(with or without the ``-wal``) holds the wrapped key. On PostgreSQL the row is deleted; what stays on
disk until maintenance is described in docs/operators.md ("Security: erasure on disk").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, LargeBinary, MetaData, String, create_engine, delete, event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from mamoru.errors import MamoruError
from mamoru.store.db import UTCDateTime, utcnow


class KeyBase(DeclarativeBase):
    metadata = MetaData()
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012 (SQLAlchemy reads it)


class StoredSubjectKey(KeyBase):
    __tablename__ = "subject_keys"

    subject_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    kek_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoredNamedKey(KeyBase):
    """Keys that must outlive a master-key rotation (the blind-index key)."""

    __tablename__ = "named_keys"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    kek_id: Mapped[str] = mapped_column(String(16))


BUSY_TIMEOUT_MS = 10000


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


class ErasureNotOnDisk(MamoruError):
    """A destroyed key could not yet be flushed out of the SQLite write-ahead log (a reader held it);
    the key is deleted, and running the erasure again finishes the flush."""

    http_status = 503


def flush_deleted(engine: Engine, *, attempts: int = 3, wait_ms: int | None = None) -> bool:
    """Move every committed change of a SQLite database into its main file and empty its write-ahead
    log (``wal_checkpoint(TRUNCATE)``), so that rows deleted under ``secure_delete`` are overwritten in
    the files on disk. True when done (or not SQLite); False when readers kept it from finishing.

    ``wait_ms`` bounds how long each attempt waits for readers (the connection's busy timeout
    otherwise): a busy main database should not hold its writers back for long.
    """
    if engine.dialect.name != "sqlite":
        return True
    for _ in range(attempts):
        try:
            with engine.connect() as conn:
                if wait_ms is not None:
                    conn.exec_driver_sql(f"PRAGMA busy_timeout={int(wait_ms)}")
                try:
                    busy, _log, _done = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
                finally:
                    if wait_ms is not None:
                        conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except OperationalError:
            continue
        if not busy:
            return True
    return False


class KeyStore:
    """Rows of wrapped keys; it never sees an unwrapped key."""

    def __init__(self, url: str) -> None:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        self.engine: Engine = create_engine(url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _pragmas)
        KeyBase.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def subject_key(self, subject_id: str) -> StoredSubjectKey | None:
        with self.session() as session:
            return session.get(StoredSubjectKey, subject_id)

    def add_subject_key(self, subject_id: str, wrapped: bytes, kek_id: str) -> None:
        with self.session() as session:
            session.add(StoredSubjectKey(subject_id=subject_id, wrapped_key=wrapped, kek_id=kek_id))

    def destroy_subject_key(self, subject_id: str) -> bool:
        """Delete the subject's key for good, from the files on disk too; True if there was one.

        Raises :class:`ErasureNotOnDisk` if the write-ahead log could not be emptied (the row is
        deleted all the same; calling again finishes the flush).
        """
        with self.session() as session:
            result = session.execute(
                delete(StoredSubjectKey).where(StoredSubjectKey.subject_id == subject_id)
            )
            destroyed = bool(getattr(result, "rowcount", 0))
        if not flush_deleted(self.engine):
            raise ErasureNotOnDisk(
                f"the key of {subject_id} is deleted but still in the key store's write-ahead log; "
                "run the erasure again"
            )
        return destroyed

    def named_key(self, name: str) -> StoredNamedKey | None:
        with self.session() as session:
            return session.get(StoredNamedKey, name)

    def add_named_key(self, name: str, wrapped: bytes, kek_id: str) -> None:
        with self.session() as session:
            session.add(StoredNamedKey(name=name, wrapped_key=wrapped, kek_id=kek_id))

    def subject_ids(self) -> list[str]:
        with self.session() as session:
            return list(session.scalars(select(StoredSubjectKey.subject_id)))

    def dispose(self) -> None:
        self.engine.dispose()
