"""The one audit mechanism: every change of an auditable record, with actor and request id."""

from __future__ import annotations

from sqlalchemy import select

from pingan.audit.mechanism import record_read
from pingan.audit.models import AuditAction, AuditLog
from pingan.auth.actor import Actor
from pingan.org.models import Officer


def _entries(db, entity, entity_id):
    return list(db.scalars(select(AuditLog).where(AuditLog.entity == entity, AuditLog.entity_id == str(entity_id))
                           .order_by(AuditLog.id)))


def test_create_update_delete_are_logged_with_actor_request_and_masked_personal_fields(db, world):
    user = world.users["admin"]
    db.info["actor"] = Actor.for_user(user, world.org["bureau"].path)
    db.info["request_id"] = "req-123"
    officer = Officer(badge_no="100001", name="张三", org_unit_id=world.org["station_a"].id, phone="13812345678")
    db.add(officer)
    db.flush()
    officer.phone = "13900001111"
    officer.name = "张三丰"
    db.flush()
    db.delete(officer)
    db.flush()

    created, updated, deleted = _entries(db, "officer", officer.id)
    assert [created.action, updated.action, deleted.action] == [AuditAction.CREATE, AuditAction.UPDATE,
                                                                 AuditAction.DELETE]
    assert created.actor_id == user.id and created.request_id == "req-123"
    assert created.changes["after"]["badge_no"] == "100001"
    assert created.changes["after"]["phone"] == "138****5678"  # personal field stored masked
    assert updated.changes == {"before": {"name": "张三", "phone": "138****5678"},
                               "after": {"name": "张三丰", "phone": "139****1111"}}
    assert deleted.changes["before"]["name"] == "张三丰"


def test_an_unchanged_flush_writes_nothing(db, world):
    unit = world.units["红旗巡1"]
    before = len(_entries(db, "duty_unit", unit.id))
    unit.call_sign = unit.call_sign
    db.flush()
    assert len(_entries(db, "duty_unit", unit.id)) == before


def test_personal_read_is_logged_with_purpose(db, world):
    db.info["actor"] = Actor.for_user(world.users["dispatcher"], world.org["bureau"].path)
    record_read(db, entity="incident", entity_id=42, fields=["caller_phone"], purpose="回拨核实")
    (entry,) = _entries(db, "incident", 42)
    assert entry.action == AuditAction.READ and entry.purpose == "回拨核实"
    assert entry.changes == {"fields": ["caller_phone"]} and entry.actor_name == "dispatcher"
