"""Fixtures of the incident tests: actors of the world's users, an incident maker, and a separate
committed database for the tests that need real concurrent transactions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pingan.auth.actor import Actor
from pingan.incident import service
from pingan.incident.schemas import IncidentCreate
from tests._db import fresh_database, migrated_engine
from tests.factories import actor_of


@pytest.fixture
def actors(db, world) -> dict[str, Actor]:
    return {name: actor_of(db, world, name) for name in world.users}


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


@pytest.fixture(scope="module")
def committed_engine(engine) -> Iterator:
    """A migrated database of its own whose transactions really commit (dropped afterwards).

    ``engine`` is requested only so that the session-wide settings (secret key, var dir) exist.
    """
    url, drop = fresh_database("pingan_test_race")
    eng = migrated_engine(url)
    yield eng
    eng.dispose()
    drop()
