"""Engines and sessions. SQLite runs in WAL mode with foreign keys on."""

from __future__ import annotations

import time
from functools import lru_cache

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from pingan.config import get_settings
from pingan.files import create_private


def _sqlite_pragmas(dbapi_connection, _record):
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str, **kwargs) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            # created 0600 in a 0700 dir; SQLite gives its -wal and -shm the database file's mode
            create_private(parsed.database)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, record):
            # Let SQLAlchemy, not pysqlite, issue BEGIN, so we can make it IMMEDIATE.
            dbapi_connection.isolation_level = None
            _sqlite_pragmas(dbapi_connection, record)

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn):
            # Take the write lock at BEGIN: concurrent writers queue on busy_timeout
            # instead of failing on a read-to-write upgrade.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine)
    return engine


# A connection back from the pool after this long is pinged before use.
IDLE_PING_SECONDS = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection only when it has sat idle for a while (a server restart or an
    idle timeout is what closes connections under us), not on every checkout as
    ``pool_pre_ping`` does: that is one more round trip per request on the hot path. A failed
    ping makes the pool discard the connection and hand out a new one; a connection that dies
    while in use is invalidated, with the rest of the pool, by SQLAlchemy's disconnect handling."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy):
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if not engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise
            alive = False
        if not alive:
            raise DisconnectionError("connection closed while idle in the pool")


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False, autoflush=False)


def flushed_any(session: Session, classes: type | tuple[type, ...]) -> bool:
    """Whether the flush under way (an ``after_flush`` hook) wrote a row of one of ``classes``:
    how in-process memories of those tables (address and grid indexes, remembered sessions)
    learn that they are out of date."""
    return any(isinstance(obj, classes) for rows in (session.new, session.dirty, session.deleted) for obj in rows)


def reset_engine_cache() -> None:
    """Forget the cached engine (tests and CLI switch databases)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    get_sessionmaker.cache_clear()
    get_settings.cache_clear()

