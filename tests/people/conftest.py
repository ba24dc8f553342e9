"""Fixtures of the people tests: actors of the world's users, valid citizen ids and a person maker."""

from __future__ import annotations

import pytest

from pingan.people import idnumber, service
from pingan.people.service import PersonData
from tests.factories import actor_of


def citizen_id(prefix: str = "410702", born: str = "19850312", sequence: str = "123") -> str:
    """A valid 18-character citizen id (its check character computed)."""
    first17 = prefix + born + sequence
    return first17 + idnumber.check_character(first17)


@pytest.fixture
def actors(db, world):
    return {name: actor_of(db, world, name) for name in world.users}


@pytest.fixture
def make_person(db, world, actors):
    """make_person(side='a'|'b', **fields) -> Person, registered by the admin at station A or B."""

    def _make(side: str = "a", *, by: str = "admin", **fields):
        data = {"name": "张三丰", "phones": ["13812345678"], "org_unit_id": world.org[f"station_{side}"].id}
        data.update(fields)
        return service.create(db=db, actor=actors[by], data=PersonData(**data))

    return _make
