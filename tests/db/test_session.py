"""Engines: a pooled PostgreSQL connection is pinged only after sitting idle, and a dead one is
replaced without the caller noticing."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text

import pingan.db.session as session_mod

pytestmark = pytest.mark.skipif(not os.environ.get("PINGAN_TEST_DATABASE_URL"),
                                reason="the idle ping is for a database server (PostgreSQL)")


@pytest.fixture
def pg_engine(database_url):
    engine = session_mod.make_engine(database_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


@pytest.fixture
def pings(pg_engine, monkeypatch) -> list[int]:
    seen: list[int] = []
    original = pg_engine.dialect.do_ping

    def counting(dbapi_connection):
        seen.append(1)
        return original(dbapi_connection)

    monkeypatch.setattr(pg_engine.dialect, "do_ping", counting)
    return seen


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_back_soon_is_not_pinged(pg_engine, pings):
    first = _backend_pid(pg_engine)
    assert _backend_pid(pg_engine) == first  # the same pooled connection, reused at once
    assert pings == []


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced(pg_engine, pings, monkeypatch):
    first = _backend_pid(pg_engine)
    monkeypatch.setattr(session_mod, "IDLE_PING_SECONDS", 0.0)
    assert _backend_pid(pg_engine) == first  # idle, pinged, alive: kept
    assert len(pings) == 1
    killer = create_engine(pg_engine.url, isolation_level="AUTOCOMMIT")
    try:
        with killer.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first}).scalar_one()
    finally:
        killer.dispose()
    # the pooled connection is dead now: the ping finds out, the pool opens a new one
    replaced = _backend_pid(pg_engine)
    assert replaced != first
    with pg_engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
