"""The one place that makes test databases and counts what they are sent.

The suite runs on SQLite by default and on PostgreSQL when ``PINGAN_TEST_DATABASE_URL`` points at
a server. Every database a test needs — the suite's own (tests/conftest.py), the browser tests'
server, the demo generator's, the committed one of the concurrency tests, the statistics
process's — comes from ``fresh_database``: a new SQLite file, or a new PostgreSQL database that
``drop()`` removes. ``migrated_engine`` builds its schema with the real migrations.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

TEST_DATABASE_ENV = "PINGAN_TEST_DATABASE_URL"


def fresh_database(prefix: str = "pingan_test") -> tuple[str, Callable[[], None]]:
    """(url, drop) of an empty database of the backend the suite runs on."""
    base = os.environ.get(TEST_DATABASE_ENV)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    if not base:
        folder = tempfile.mkdtemp(prefix=f"{prefix}-")
        path = os.path.join(folder, f"{name}.db")

        def remove() -> None:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)

        return f"sqlite:///{path}", remove
    url = make_url(base)
    _autocommit(url, f'CREATE DATABASE "{name}"')
    return (url.set(database=name).render_as_string(hide_password=False),
            lambda: _autocommit(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _autocommit(url, statement: str) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(statement))
    finally:
        admin.dispose()


def migrated_engine(url: str) -> Engine:
    """An engine (the application's own settings) on ``url``, migrated to the head."""
    from pingan.db.migrate import upgrade
    from pingan.db.session import make_engine

    engine = make_engine(url)
    upgrade(engine)
    return engine


def statements_during(engine: Engine, work: Callable[[], Any]) -> tuple[list[str], Any]:
    """(the SQL statements ``work()`` sent through ``engine``, what it returned)."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        result = work()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return statements, result


def count_statements(engine: Engine, work: Callable[[], Any]) -> tuple[int, Any]:
    """(how many SQL statements ``work()`` sent through ``engine``, what it returned)."""
    statements, result = statements_during(engine, work)
    return len(statements), result


def savepoint_sessions(connection) -> sessionmaker:
    """Sessions inside ``connection``'s transaction: each one's commit releases a savepoint, so a
    test (or a matrix case) that rolls the transaction back undoes what the app committed."""
    return sessionmaker(bind=connection, expire_on_commit=False, autoflush=False,
                        join_transaction_mode="create_savepoint")


def serve_sessions_from(monkeypatch, factory) -> None:
    """Make the application's sessions (requests, units of work) come from ``factory``."""
    import pingan.db.session as session_mod
    import pingan.db.unit_of_work as uow_mod
    import pingan.web.deps as deps_mod

    for module in (session_mod, uow_mod, deps_mod):
        monkeypatch.setattr(module, "get_sessionmaker", lambda: factory)
