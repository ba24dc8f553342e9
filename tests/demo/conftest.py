"""Fixtures of the demo generator tests.

The generator commits, so these tests do not use the rolled-back ``db`` fixture: each demo is
written into its own database — a temporary SQLite file, or a fresh PostgreSQL database when
PINGAN_TEST_DATABASE_URL is set — created, migrated and dropped here.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from pingan.db.types import utcnow

SEED = 7


@dataclass
class Demo:
    url: str
    engine: Engine
    result: object  # pingan.demo.generator.DemoResult


def fresh_database() -> tuple[str, Callable[[], None]]:
    """(url, drop) of an empty database of the backend the suite runs on."""
    base = os.environ.get("PINGAN_TEST_DATABASE_URL")
    if not base:
        path = os.path.join(tempfile.mkdtemp(prefix="pingan-demo-test-"), "demo.db")
        return f"sqlite:///{path}", lambda: None
    url = make_url(base)
    name = f"pingan_demo_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()

    def drop() -> None:
        eng = create_engine(url, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        eng.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def migrated_engine(url: str) -> Engine:
    from pingan.db.migrate import upgrade
    from pingan.db.session import make_engine

    engine = make_engine(url)
    upgrade(engine)
    return engine


def build_demo(url: str, *, seed: int, now: datetime, scale: str = "tiny") -> Demo:
    from pingan.demo.generator import generate

    engine = migrated_engine(url)
    return Demo(url=url, engine=engine, result=generate(engine, city_code="410700", scale=scale, seed=seed, now=now))


@pytest.fixture(scope="session")
def demo_now() -> datetime:
    """Today from the clock, taken once so that two runs can be compared."""
    return utcnow()


@pytest.fixture(scope="session")
def demo(demo_now) -> Iterator[Demo]:
    """The tiny demo city (one district, a few dozen grids, about a thousand incidents)."""
    url, drop = fresh_database()
    built = build_demo(url, seed=SEED, now=demo_now)
    yield built
    built.engine.dispose()
    drop()


@pytest.fixture
def fresh_url() -> Iterator[str]:
    url, drop = fresh_database()
    yield url
    from pingan.db.session import reset_engine_cache

    reset_engine_cache()
    drop()


def digest(engine: Engine, tables: tuple[str, ...], exclude: frozenset[str] = frozenset({"password_hash"})) -> dict:
    """{table: sha256 of its rows in primary-key order} (the argon2 salt differs run to run)."""
    from pingan.demo import writer

    out = {}
    with engine.connect() as conn:
        for name in tables:
            t = writer.table(name)
            columns = [c for c in t.c if c.name not in exclude]
            h = hashlib.sha256()
            for row in conn.execute(select(*columns).order_by(*t.primary_key.columns)):
                h.update(repr(tuple(row)).encode())
            out[name] = h.hexdigest()
    return out


@pytest.fixture
def demo_client(demo, monkeypatch):
    """A TestClient whose sessions use the demo database."""
    from fastapi.testclient import TestClient

    import pingan.db.session as session_mod
    import pingan.db.unit_of_work as uow_mod
    import pingan.web.deps as deps_mod
    from pingan.app import create_app

    factory = sessionmaker(bind=demo.engine, expire_on_commit=False, autoflush=False)
    for module in (session_mod, uow_mod, deps_mod):
        monkeypatch.setattr(module, "get_sessionmaker", lambda: factory)
    with TestClient(create_app(background_jobs=False), base_url="http://testserver") as client:
        yield client
    from pingan.geo import matcher, spatial

    matcher.invalidate()  # the process-wide indexes saw the demo database: forget it
    spatial.invalidate()
