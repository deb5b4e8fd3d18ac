"""Alembic environment: runs against the engine handed over in the config attributes."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from openssm.store import tables  # noqa: F401  (registers every table)
from openssm.store.metadata import metadata

config = context.config
engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url") or "")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
