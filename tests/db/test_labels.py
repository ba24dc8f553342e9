"""Labels live on enums and models (decision 0017): every member of a labelled enum carries its
names, the per-page label dicts are gone, and the one 'not found' wording comes from one helper."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import pingan
from pingan.db.enum import LabelledEnum, LabelledIntEnum, from_label, labels_of
from pingan.db.labels import table_labels
from pingan.errors import NotFound, ValidationFailed, not_found
from pingan.geo.models import ZoneClass
from pingan.incident.models import Incident, Priority, Stage
from pingan.org.models import Role, UnitKind, UnitStatus

SRC = Path(pingan.__file__).parent


def _labelled_enums() -> list[type]:
    import pingan.models  # noqa: F401  every installed module's models

    found, todo = [], [LabelledEnum, LabelledIntEnum]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return [e for e in found if e.__module__.startswith("pingan.")]


def test_every_member_of_every_labelled_enum_has_both_names():
    enums = _labelled_enums()
    assert {Stage, Priority, ZoneClass, Role, UnitKind, UnitStatus} <= set(enums)
    for enum_cls in enums:
        for member in enum_cls:
            assert member.zh.strip() and member.en.strip(), member
        assert len({m.zh for m in enum_cls}) == len(enum_cls), f"two members of {enum_cls.__name__} share a name"


def test_a_member_is_its_value_and_reads_in_either_language():
    assert Stage.ACCEPTED == "accepted" and Stage("accepted") is Stage.ACCEPTED
    assert (Stage.ACCEPTED.zh, Stage.ACCEPTED.en, Stage.ACCEPTED.label("en")) == ("已签收", "accepted", "accepted")
    assert Priority(1) == 1 and Priority(1).label() == "一级 · 特急"
    assert labels_of(ZoneClass)["suburban"] == ("城郊及农村", "suburban and rural")
    assert from_label(UnitStatus, "不在岗") is UnitStatus.OFF_DUTY
    assert from_label(UnitKind, "Patrol_Car") is UnitKind.PATROL_CAR
    assert from_label(UnitKind, "Patrol car") is UnitKind.PATROL_CAR and from_label(UnitKind, "轿车") is None


def test_models_carry_their_entity_label():
    labels = table_labels()
    assert labels["incident"] == Incident.__label__ == ("警情", "incident")
    assert {"incident", "call", "assignment", "callback", "duty_unit", "org_unit", "officer", "app_user", "grid",
            "address"} <= set(labels)


def test_no_page_keeps_a_label_dict_of_its_own():
    """A `*_LABELS = {...}` literal outside the enums is a second place for a label. (stats/ is
    being moved into the modules; the aliases it imports are generated from the enums.)"""
    literal = re.compile(r"^\s*\w*_LABELS\s*(:[^=]*)?=\s*\{", re.M)
    offenders = [str(path.relative_to(SRC)) for path in SRC.rglob("*.py")
                 if "stats" not in path.parts and literal.search(path.read_text(encoding="utf-8"))]
    assert offenders == []


@pytest.mark.parametrize("what", [Incident, ("网格", "grid")])
def test_not_found_has_one_wording(what):
    error = not_found(what, field="x")
    zh, en = getattr(what, "__label__", what)
    assert isinstance(error, NotFound) and error.status_code == 404 and error.field == "x"
    assert (error.zh, error.en) == (f"{zh}不存在或不在辖区内", f"No such {en} in your jurisdiction")
    assert not_found(what, error=ValidationFailed).status_code == 422

