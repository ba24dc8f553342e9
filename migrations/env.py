"""Alembic environment: the URL comes from PINGAN_DATABASE_URL (or an explicit connection)."""

from __future__ import annotations

from alembic import context

from pingan.db.session import make_engine
from pingan.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    from pingan.config import get_settings

    context.configure(url=get_settings().database_url, target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from pingan.config import get_settings

    engine = make_engine(get_settings().database_url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
