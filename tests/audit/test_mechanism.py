"""The one audit mechanism: every change of an auditable record, with actor and request id."""

from __future__ import annotations

from sqlalchemy import event, func, select, text

from pingan.audit.mechanism import insert_new, record_read
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


def test_insert_new_writes_the_rows_and_the_same_audit_entries_as_a_flush(db, world):
    """The hot path's insert (taking a call) is audited exactly like add + flush, and leaves the
    objects persistent: a later change flushes as an audited update."""
    user = world.users["admin"]
    db.info["actor"] = Actor.for_user(user, world.org["bureau"].path)
    db.info["request_id"] = "req-456"
    flushed = Officer(badge_no="100002", name="李四", org_unit_id=world.org["station_a"].id, phone="13812345678")
    db.add(flushed)
    db.flush()
    inserted = Officer(badge_no="100003", name="李四", org_unit_id=world.org["station_a"].id, phone="13812345678")
    insert_new(db, [inserted])

    assert inserted.id is not None and inserted.id != flushed.id
    assert inserted.created_at is not None  # the Python default was applied and kept on the object
    assert db.scalar(select(Officer.badge_no).where(Officer.id == inserted.id)) == "100003"
    (by_flush,) = _entries(db, "officer", flushed.id)
    (by_insert,) = _entries(db, "officer", inserted.id)
    assert by_insert.action == AuditAction.CREATE and by_insert.request_id == "req-456"
    assert by_insert.actor_id == user.id
    drop = {"id", "badge_no", "created_at", "updated_at"}
    assert ({k: v for k, v in by_insert.changes["after"].items() if k not in drop}
            == {k: v for k, v in by_flush.changes["after"].items() if k not in drop})
    assert by_insert.changes["after"]["phone"] == "138****5678"

    inserted.name = "李思"
    db.flush()
    created, updated = _entries(db, "officer", inserted.id)
    assert updated.action == AuditAction.UPDATE and updated.changes["after"] == {"name": "李思"}
    assert db.scalar(select(Officer.name).where(Officer.id == inserted.id)) == "李思"


def test_insert_new_leaves_nothing_to_load_again(db, world):
    """Every column is set on the object, none expired: reading one issues no query."""
    db.info["actor"] = Actor.for_user(world.users["admin"], world.org["bureau"].path)
    officer = Officer(badge_no="100004", name="王五", org_unit_id=world.org["station_a"].id)
    insert_new(db, [officer])
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert officer.phone is None and officer.name == "王五" and officer.created_at is not None
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements == []


def test_insert_new_with_every_key_given_is_one_statement_on_postgresql(db, world, recorded_statements):
    """Keys taken beforehand: on PostgreSQL the rows and their audit rows go in as one statement,
    with the values a flush would have stored."""
    db.info["actor"] = Actor.for_user(world.users["admin"], world.org["bureau"].path)
    if db.get_bind().dialect.name == "postgresql":
        first = db.scalar(text("SELECT nextval(pg_get_serial_sequence('officer', 'id'))"))
    else:
        first = (db.scalar(select(func.max(Officer.id))) or 0) + 1
    officers = [Officer(id=first + n, badge_no=f"10001{n}", name="赵六", org_unit_id=world.org["station_a"].id,
                        phone="13812345678" if n else None) for n in range(2)]
    statements = recorded_statements(lambda: insert_new(db, officers))
    assert len(statements) == (1 if db.get_bind().dialect.name == "postgresql" else 3)
    db.expire_all()
    stored = db.scalars(select(Officer).where(Officer.id.in_([first, first + 1])).order_by(Officer.id)).all()
    assert [(o.id, o.badge_no, o.name, o.phone, o.is_auxiliary) for o in stored] == [
        (first, "100010", "赵六", None, False), (first + 1, "100011", "赵六", "13812345678", False)]
    assert stored[0].created_at == officers[0].created_at  # to the microsecond, with its zone
    entries = [_entries(db, "officer", o.id) for o in stored]
    assert [[e.action for e in each] for each in entries] == [[AuditAction.CREATE], [AuditAction.CREATE]]
    assert entries[1][0].changes["after"]["phone"] == "138****5678"
    assert entries[0][0].changes["after"]["id"] == first and entries[0][0].changes["after"]["phone"] is None
