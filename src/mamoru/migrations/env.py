"""Alembic environment: runs on the engine that mamoru hands over in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from mamoru.schema import metadata

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
