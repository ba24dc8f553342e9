"""Fixtures of the incident tests: actors of the world's users, an incident maker, and a separate
committed database for the tests that need real concurrent transactions."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from functools import lru_cache

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from pingan.auth import security
from pingan.auth.actor import Actor
from pingan.incident import service
from pingan.incident.schemas import IncidentCreate
from pingan.org import service as org_service
from pingan.org.system import org_path_of


@lru_cache(maxsize=64)
def _cached_hash(password: str) -> str:
    return security.hash_password(password)


@pytest.fixture(autouse=True)
def _hash_each_password_once(monkeypatch):
    """argon2 is slow by design: hash each distinct test password once per process (the same
    password gets the same real hash, so logins verify exactly as before)."""
    monkeypatch.setattr(org_service, "hash_password", _cached_hash)


def actor_for(db: Session, user) -> Actor:
    return Actor.for_user(user, org_path_of(db=db, org_unit_id=user.org_unit_id))


@pytest.fixture
def actors(db, world) -> dict[str, Actor]:
    return {name: actor_for(db, user) for name, user in world.users.items()}


@pytest.fixture
def make_incident(db, world, actors):
    """make_incident(side='a'|'b', **fields) -> Incident, created by the dispatcher at a standard
    address of station A's grid (side 'a') or station B's (side 'b')."""

    def _make(side: str = "a", *, by: str = "dispatcher", **fields):
        address = world.addresses[0] if side == "a" else world.addresses[2]
        data = {"caller_phone": "13812345678", "caller_name": "张三丰", "location_text": address.full_text,
                "address_id": address.id, "category_code": "2001", "priority": 2, "description": "两人打架"}
        data.update(fields)
        incident, created = service.create_incident(db=db, actor=actors[by], data=IncidentCreate(**data))
        assert created
        return incident

    return _make


# --- a separate, committed database for concurrency tests -----------------------------------


def _new_database() -> tuple[str, callable]:
    base = os.environ.get("PINGAN_TEST_DATABASE_URL")
    if not base:
        path = os.path.join(tempfile.mkdtemp(prefix="pingan-race-"), "race.db")
        return f"sqlite:///{path}", lambda: os.path.exists(path) and os.remove(path)
    url = make_url(base)
    name = f"pingan_test_race_{uuid.uuid4().hex[:10]}"
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


@pytest.fixture(scope="module")
def committed_engine(engine) -> Iterator:
    """A migrated database of its own whose transactions really commit (dropped afterwards).

    ``engine`` is requested only so that the session-wide settings (secret key, var dir) exist.
    """
    from pingan.db.migrate import upgrade
    from pingan.db.session import make_engine

    url, drop = _new_database()
    eng = make_engine(url)
    upgrade(eng)
    yield eng
    eng.dispose()
    drop()
