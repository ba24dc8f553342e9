"""The request's transaction commits before the response starts, and rolls back on error."""

from __future__ import annotations

import threading

from fastapi import Depends
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.app import create_app
from pingan.errors import Conflict
from pingan.org.models import OrgKind, OrgUnit
from pingan.web.deps import get_db


def _app_with_probe(events: list[str]):
    app = create_app(background_jobs=False)

    @app.post("/probe/{code}")  # app.router.route_class is UnitOfWorkRoute
    def probe(code: str, fail: bool = False, db: Session = Depends(get_db)):
        db.add(OrgUnit(code=code, name="probe", kind=OrgKind.TEAM, path="/x/"))
        db.flush()
        if fail:
            raise Conflict("冲突", "conflict")
        return {"ok": True}

    async def outer(scope, receive, send):
        async def send_marking(message):
            if message["type"] == "http.response.start":
                events.append("response")
            await send(message)

        await app(scope, receive, send_marking)

    return app, outer


def test_commit_happens_before_the_response_is_sent(db, monkeypatch):
    events: list[str] = []
    original_commit = Session.commit

    def commit(self):
        events.append("commit")
        return original_commit(self)

    monkeypatch.setattr(Session, "commit", commit)
    app, outer = _app_with_probe(events)
    with TestClient(outer) as client:
        assert client.post("/probe/P-1").status_code == 200
    assert events.index("commit") < events.index("response")
    assert db.scalar(select(OrgUnit).where(OrgUnit.code == "P-1")) is not None


def test_a_sync_handler_commits_in_its_own_thread_and_an_async_one_after_it(db, monkeypatch):
    threads: dict[str, int] = {}
    original_commit = Session.commit

    def commit(self):
        threads.setdefault("commit", threading.get_ident())
        return original_commit(self)

    monkeypatch.setattr(Session, "commit", commit)
    app, outer = _app_with_probe([])

    @app.post("/probe-async/{code}")
    async def probe_async(code: str, db: Session = Depends(get_db)):
        db.add(OrgUnit(code=code, name="probe", kind=OrgKind.TEAM, path="/x/"))
        return {"ok": True}

    original_flush = Session.flush

    def flush(self, *args, **kwargs):
        threads.setdefault("handler", threading.get_ident())
        return original_flush(self, *args, **kwargs)

    monkeypatch.setattr(Session, "flush", flush)
    with TestClient(outer) as client:
        assert client.post("/probe/P-3").status_code == 200
        assert threads["commit"] == threads["handler"]
        assert client.post("/probe-async/P-4").status_code == 200
    assert db.scalar(select(OrgUnit).where(OrgUnit.code == "P-3")) is not None
    assert db.scalar(select(OrgUnit).where(OrgUnit.code == "P-4")) is not None


def test_a_failing_request_writes_nothing(db):
    app, outer = _app_with_probe([])
    with TestClient(outer) as client:
        resp = client.post("/probe/P-2", params={"fail": True}, headers={"accept": "application/json"})
    assert resp.status_code == 409
    assert resp.json()["error"]["message"] == "冲突"
    assert db.scalar(select(OrgUnit).where(OrgUnit.code == "P-2")) is None


def test_every_route_commits_before_responding(app):
    """Every API and page route uses UnitOfWorkRoute (routers come from web.routing.api_router)."""
    from fastapi.routing import APIRoute

    from pingan.web.routing import UnitOfWorkRoute

    def walk(routes):
        for route in routes:
            inner = getattr(route, "original_router", None) or getattr(route, "router", None)
            if inner is not None and hasattr(inner, "routes") and not isinstance(route, APIRoute):
                yield from walk(inner.routes)
            elif isinstance(route, APIRoute):
                yield route

    routes = list(walk(app.router.routes))
    assert len(routes) > 20
    assert [r.path for r in routes if not isinstance(r, UnitOfWorkRoute)] == []


def test_end_read_lets_go_of_the_sqlite_write_lock_a_read_took(tmp_path):
    """A read-only unit of work can end its transaction before long work on the statistics store:
    on SQLite the transaction took the write lock at BEGIN (decision 0003); after end_read a
    writer gets in at once, and the session reads on in a transaction of its own."""
    import pytest
    from sqlalchemy import text

    from pingan.db.session import make_engine
    from pingan.db.unit_of_work import end_read

    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    reader = Session(bind=engine)
    assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 0  # BEGIN IMMEDIATE: holds the lock
    other = engine.raw_connection()
    other.execute("PRAGMA busy_timeout=0")
    with pytest.raises(Exception, match="locked"):
        other.execute("BEGIN IMMEDIATE")
    end_read(reader)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1)")
    other.execute("COMMIT")
    assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 1
    reader.add(OrgUnit(code="x", name="x", kind=OrgKind.TEAM, path="/x/"))
    with pytest.raises(RuntimeError, match="not only read"):
        end_read(reader)
    reader.rollback()
    reader.close()
    other.close()
    engine.dispose()
