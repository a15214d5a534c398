"""The key store: per-subject data keys and named keys, wrapped by the master key, kept apart from
the main database.

Keeping the keys out of the main database is what makes erasure real: a copy or backup of the
database taken before a subject was erased holds only ciphertexts whose key no longer exists.
The key store is a small SQLite file in the workspace by default (``MAMORU_KEYSTORE_URL`` for
another database); deleted rows are overwritten (``secure_delete``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, LargeBinary, MetaData, String, create_engine, delete, event, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

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


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


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
        """Delete the subject's key for good; True if there was one."""
        with self.session() as session:
            result = session.execute(
                delete(StoredSubjectKey).where(StoredSubjectKey.subject_id == subject_id)
            )
            return bool(getattr(result, "rowcount", 0))

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
