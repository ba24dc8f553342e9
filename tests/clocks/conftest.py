"""Fixtures of the clock tests: actors of the world's users and a clock maker."""

from __future__ import annotations

from datetime import datetime

import pytest

from pingan.clocks import service
from tests.factories import actor_of


@pytest.fixture
def actors(db, world):
    return {name: actor_of(db, world, name) for name in world.users}


@pytest.fixture
def make_clock(db, world):
    """make_clock(type, local start, side='a') -> a clock of station A's (or B's) record."""
    counter = iter(range(1, 10_000))

    def _make(clock_type: str, start: datetime, side: str = "a", **kw):
        return service.start_clock(db=db, owner_module="case", entity="case", entity_id=next(counter),
                                   org_unit_id=world.org[f"station_{side}"].id, clock_type_name=clock_type,
                                   started_at=service.instant(start), **kw)

    return _make
