"""Fixtures of the demo generator tests.

The generator commits, so these tests do not use the rolled-back ``db`` fixture: each demo is
written into its own database — a temporary SQLite file, or a fresh PostgreSQL database when
PINGAN_TEST_DATABASE_URL is set (tests/_db.py) — created, migrated and dropped here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from pingan.db.types import utcnow
from tests._db import fresh_database, migrated_engine, serve_sessions_from

SEED = 7


@dataclass
class Demo:
    url: str
    engine: Engine
    result: object  # pingan.demo.generator.DemoResult


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
    url, drop = fresh_database("pingan_demo")
    built = build_demo(url, seed=SEED, now=demo_now)
    yield built
    built.engine.dispose()
    drop()


@pytest.fixture
def fresh_url() -> Iterator[str]:
    url, drop = fresh_database("pingan_demo")
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

    from pingan.app import create_app

    serve_sessions_from(monkeypatch, sessionmaker(bind=demo.engine, expire_on_commit=False, autoflush=False))
    with TestClient(create_app(background_jobs=False), base_url="http://testserver") as client:
        yield client
    from pingan.geo import matcher, spatial

    matcher.invalidate()  # the process-wide indexes saw the demo database: forget it
    spatial.invalidate()
