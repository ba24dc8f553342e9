"""Test fixtures.

The suite runs on SQLite by default, and on PostgreSQL when PINGAN_TEST_DATABASE_URL points
at a server: a fresh database is created for the run and dropped after it. The schema is
built by the real migrations. Each test runs inside a transaction that is rolled back, and
the app's sessions join it through a savepoint, so route tests see and undo the same data.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

# Keep generated secrets and files out of the working tree.
_TMP = tempfile.mkdtemp(prefix="pingan-test-")
os.environ.setdefault("PINGAN_VAR_DIR", _TMP)
os.environ.setdefault("PINGAN_SECRET_KEY", "test-secret-" + uuid.uuid4().hex)


def _create_database() -> tuple[str, callable]:
    base = os.environ.get("PINGAN_TEST_DATABASE_URL")
    if not base:
        path = os.path.join(_TMP, f"test-{uuid.uuid4().hex[:8]}.db")
        return f"sqlite:///{path}", lambda: None
    url = make_url(base)
    name = f"pingan_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()

    def drop():
        eng = create_engine(url, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        eng.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url, drop = _create_database()
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
    factory = sessionmaker(bind=connection, expire_on_commit=False, autoflush=False,
                           join_transaction_mode="create_savepoint")
    import pingan.db.session as session_mod

    monkeypatch.setattr(session_mod, "get_sessionmaker", lambda: factory)
    import pingan.db.unit_of_work as uow_mod
    import pingan.web.deps as deps_mod

    monkeypatch.setattr(uow_mod, "get_sessionmaker", lambda: factory)
    monkeypatch.setattr(deps_mod, "get_sessionmaker", lambda: factory)
    session = factory()
    yield session
    session.close()


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
    from tests.factories import PASSWORD

    def _login(username: str) -> dict:
        resp = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert resp.status_code == 200, resp.text
        return {"Authorization": f"Bearer {resp.json()['token']}"}

    return _login


@pytest.fixture
def recorded_statements(db):
    """recorded_statements(work) -> the SQL statements ``work()`` sent through the test's engine."""
    from sqlalchemy import event

    def _record(work) -> list[str]:
        statements: list[str] = []

        def record(_conn, _cursor, statement, *_args):
            statements.append(statement)

        engine = db.get_bind().engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            work()
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return statements

    return _record


@pytest.fixture
def sign_in(client):
    """sign_in(username) -> CSRF token; the client then carries that user's session cookie (pages
    are used as a browser uses them: cookie session, CSRF token in every form)."""
    from tests.factories import PASSWORD

    def _sign_in(username: str) -> str:
        client.cookies.clear()
        resp = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert resp.status_code == 200, resp.text
        return resp.json()["csrf_token"]

    return _sign_in
