"""Test fixtures.

The suite runs on SQLite by default, and on PostgreSQL when PINGAN_TEST_DATABASE_URL points
at a server: a fresh database is created for the run and dropped after it (tests/_db.py, the one
place that makes test databases). The schema is built by the real migrations. Each test runs inside a transaction that is rolled back, and
the app's sessions join it through a savepoint, so route tests see and undo the same data.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests._db import fresh_database, savepoint_sessions, serve_sessions_from, statements_during

# Keep generated secrets and files out of the working tree.
_TMP = tempfile.mkdtemp(prefix="pingan-test-")
os.environ.setdefault("PINGAN_VAR_DIR", _TMP)
os.environ.setdefault("PINGAN_SECRET_KEY", "test-secret-" + uuid.uuid4().hex)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url, drop = fresh_database()
    os.environ["PINGAN_DATABASE_URL"] = url
    from pingan.db.session import reset_engine_cache

    reset_engine_cache()
    yield url
    reset_engine_cache()
    drop()


@pytest.fixture(scope="session")
def engine(database_url) -> Iterator[Engine]:
    from pingan.db.migrate import upgrade
    from pingan.db.session import get_engine

    eng = get_engine()
    upgrade(eng)
    yield eng


@pytest.fixture(autouse=True)
def _hash_each_password_once(monkeypatch):
    """argon2 is slow by design: each distinct password is hashed once per process (the same real
    hash for the same password, so logins verify exactly as they would)."""
    from tests.factories import hash_each_password_once

    hash_each_password_once(monkeypatch)


@pytest.fixture
def connection(engine) -> Iterator:
    conn = engine.connect()
    trans = conn.begin()
    yield conn
    trans.rollback()
    conn.close()


@pytest.fixture
def db(connection, monkeypatch) -> Iterator[Session]:
    """A session inside the test's transaction; the app's sessions share it via savepoints."""
    factory = savepoint_sessions(connection)
    serve_sessions_from(monkeypatch, factory)
    session = factory()
    yield session
    session.close()


@pytest.fixture(scope="module")
def matrix(request, engine):
    """The permission matrix of a fragment (tests/<domain>/test_matrix.py; tests/matrix.py): the
    world built once for the module, each request in a savepoint. A fragment that needs a module
    installed beyond pingan.modules names it in ``INSTALL``."""
    from tests.matrix import matrix_world

    yield from matrix_world(engine, getattr(request.module, "INSTALL", ()))


@pytest.fixture
def world(db):
    """A small bureau: see tests/factories.py:build_world."""
    from tests.factories import build_world

    return build_world(db)


@pytest.fixture
def app(db):
    from pingan.app import create_app

    return create_app(background_jobs=False)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def login(client):
    """login(username) -> headers for the JSON API (bearer token)."""
    from tests.factories import log_in

    def _login(username: str) -> dict:
        return {"Authorization": f"Bearer {log_in(client, username)['token']}"}

    return _login


@pytest.fixture
def recorded_statements(db):
    """recorded_statements(work) -> the SQL statements ``work()`` sent through the test's engine."""
    return lambda work: statements_during(db.get_bind().engine, work)[0]


@pytest.fixture
def sign_in(client):
    """sign_in(username) -> CSRF token; the client then carries that user's session cookie (pages
    are used as a browser uses them: cookie session, CSRF token in every form)."""
    from tests.factories import log_in

    def _sign_in(username: str) -> str:
        client.cookies.clear()
        return log_in(client, username)["csrf_token"]

    return _sign_in
