"""Database engine, sessions, the declarative base and the Alembic migrations."""

from mamoru.store.db import Base, Database, utcnow

__all__ = ["Base", "Database", "utcnow"]
