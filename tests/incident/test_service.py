"""Incident rules: stages and their stamps, refused transitions, merge, idempotency, escalation,
callbacks, masking and the audited caller read."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import Text, cast, inspect, select, text

from pingan.audit.models import AuditAction, AuditLog
from pingan.db.types import utcnow
from pingan.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from pingan.incident import repository, service
from pingan.incident.models import (
    Assignment,
    AssignmentStatus,
    Call,
    Disposition,
    Incident,
    Satisfaction,
    Stage,
    StageEvent,
)
from pingan.incident.schemas import IncidentCreate, IncidentRead, normalize_phone
from pingan.org.models import DutyUnit, UnitStatus


def stages_of(db, incident_id: int) -> list[str]:
    return list(db.scalars(select(StageEvent.stage).where(StageEvent.incident_id == incident_id)
                           .order_by(StageEvent.id)))


# --- intake --------------------------------------------------------------------------------


def test_create_locates_numbers_and_writes_call_and_received_event(db, world, actors, make_incident):
    incident = make_incident("a")
    assert incident.stage == Stage.RECEIVED
    assert incident.org_unit_id == world.grids["a"].org_unit_id == world.org["office_a"].id
    assert incident.grid_id == world.grids["a"].id and incident.zone_class == "centre"
    assert incident.address_id == world.addresses[0].id
    assert (incident.lat, incident.lon) == (world.addresses[0].lat, world.addresses[0].lon)
    assert re.fullmatch(r"JJ\d{8}\d{6}", incident.number)
    assert incident.number.endswith(f"{incident.id % 1_000_000:06d}")
    calls = db.scalars(select(Call).where(Call.incident_id == incident.id)).all()
    assert len(calls) == 1 and calls[0].caller_phone == "13812345678"
    assert calls[0].taker_id == world.users["dispatcher"].id
    events = db.scalars(select(StageEvent).where(StageEvent.incident_id == incident.id)).all()
    assert [(e.stage, e.actor_id, e.org_unit_id) for e in events] == [
        ("received", world.users["dispatcher"].id, world.org["office_a"].id)]


def _column_values(obj) -> dict:
    return {c.key: getattr(obj, c.key) for c in inspect(type(obj)).column_attrs}


def _audit_text(db, entity: str, entity_id: int) -> str:
    """The stored JSON of a create entry, as text, with the record's own ids blanked."""
    stored = db.execute(select(cast(AuditLog.changes, Text)).where(
        AuditLog.entity == entity, AuditLog.entity_id == str(entity_id),
        AuditLog.action == AuditAction.CREATE)).scalar_one()
    return re.sub(r'"(id|incident_id|number)": ("[^"]*"|\d+)', r'"\1": _', stored)


def test_taking_a_call_writes_what_a_flush_would_write_in_one_insert(db, world, actors, make_incident,
                                                                    recorded_statements):
    """The hot path (ids first, then the rows and their audit rows together, outside the flush)
    stores the same rows and the same audit entries, byte for byte, as adding the same objects
    and flushing; on PostgreSQL its writes are one statement."""
    db.info.update(actor=actors["dispatcher"], request_id="req-same")
    made: list = []
    statements = recorded_statements(lambda: made.append(make_incident("a")))
    (incident,) = made
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "WITH"))]
    assert len(writes) == (1 if db.get_bind().dialect.name == "postgresql" else 4)
    call = db.scalars(select(Call).where(Call.incident_id == incident.id)).one()
    event_ = db.scalars(select(StageEvent).where(StageEvent.incident_id == incident.id)).one()

    # the same three records again, through the ORM's flush
    flushed_incident = Incident(**{**_column_values(incident), "id": None, "number": incident.number + "-F"})
    db.add(flushed_incident)
    db.flush()
    flushed_call = Call(**{**_column_values(call), "id": None, "incident_id": flushed_incident.id})
    flushed_event = StageEvent(**{**_column_values(event_), "id": None, "incident_id": flushed_incident.id})
    db.add_all([flushed_call, flushed_event])
    db.flush()
    db.expire_all()
    for original, flushed in ((incident, flushed_incident), (call, flushed_call), (event_, flushed_event)):
        cls = type(original)
        stored = db.get(cls, original.id)
        again = db.get(cls, flushed.id)
        differ = {"id", "number", "incident_id"}
        assert ({k: v for k, v in _column_values(stored).items() if k not in differ}
                == {k: v for k, v in _column_values(again).items() if k not in differ})
    assert _audit_text(db, "incident", incident.id) == _audit_text(db, "incident", flushed_incident.id)
    assert _audit_text(db, "call", call.id) == _audit_text(db, "call", flushed_call.id)
    entry = db.scalars(select(AuditLog).where(AuditLog.entity == "incident",
                                              AuditLog.entity_id == str(incident.id))).one()
    assert (entry.actor_id, entry.actor_name, entry.request_id) == (world.users["dispatcher"].id, "dispatcher",
                                                                    "req-same")
    assert entry.changes["after"]["caller_phone"] == "138****5678"
    assert entry.changes["after"]["caller_name"] == "张*丰"
    assert entry.changes["after"]["received_at"] == incident.received_at.isoformat()


def test_point_in_station_b_grid_makes_station_b_responsible(world, make_incident):
    incident = make_incident("b", address_id=None, location_text="胜利路口东侧", lat=35.303, lon=113.853)
    assert incident.grid_id == world.grids["b"].id
    assert incident.org_unit_id == world.org["station_b"].id
    assert incident.zone_class == "suburban"


def test_unlocated_call_falls_back_to_the_dispatchers_bureau(world, make_incident):
    incident = make_incident(address_id=None, location_text="高速公路服务区附近")
    assert incident.grid_id is None and incident.lat is None
    assert incident.org_unit_id == world.org["bureau"].id


def test_idempotency_key_returns_the_first_incident(db, actors, world):
    data = IncidentCreate(caller_phone="0373-5551234", location_text=world.addresses[0].full_text,
                          address_id=world.addresses[0].id, category_code="3001", priority=1,
                          idempotency_key="call-0001")
    first, created_first = service.create_incident(db=db, actor=actors["dispatcher"], data=data)
    again, created_again = service.create_incident(db=db, actor=actors["dispatcher"], data=data)
    assert (created_first, created_again) == (True, False)
    assert again.id == first.id
    assert db.scalar(select(Incident.id).where(Incident.idempotency_key == "call-0001")) == first.id
    assert len(db.scalars(select(Call).where(Call.incident_id == first.id)).all()) == 1


def test_idempotency_key_of_another_jurisdiction_is_a_conflict(db, world, actors, make_incident):
    make_incident("b", idempotency_key="k-b")
    # an admin whose jurisdiction is station A only
    narrowed = dataclasses.replace(actors["admin"], org_path=world.org["station_a"].path,
                                   org_unit_id=world.org["station_a"].id)
    with pytest.raises(Conflict) as err:
        service.create_incident(db=db, actor=narrowed, data=IncidentCreate(
            location_text="平原路123号", category_code="2001", priority=2, idempotency_key="k-b"))
    assert err.value.field == "idempotency_key"


@pytest.mark.parametrize("raw,normal", [
    ("13812345678", "13812345678"), ("+86 138 1234 5678", "13812345678"), ("8613812345678", "13812345678"),
    ("0373-5551234", "0373-5551234"), ("03735551234", "0373-5551234"), ("010-66881234", "010-66881234"),
    ("(021)62345678", "021-62345678"), ("", None), (None, None),
])
def test_caller_phone_normalised(raw, normal):
    assert normalize_phone(raw) == normal


@pytest.mark.parametrize("bad", ["110", "120", "119", "12345", "95588", "1381234567", "23812345678", "12812345678",
                                 "0373-123", "abc", "0373-0551234"])
def test_bad_caller_phone_is_refused_naming_the_field_in_both_languages(bad):
    with pytest.raises(ValidationError) as err:
        IncidentCreate(caller_phone=bad, location_text="x", category_code="2001", priority=2)
    first = err.value.errors()[0]
    assert first["loc"] == ("caller_phone",)
    zh, en = str(first["ctx"]["error"]).split(" / ", 1)
    assert "报警人电话" in zh and "mobile" in en


def test_unknown_category_and_half_a_point_are_refused():
    with pytest.raises(ValidationError) as err:
        IncidentCreate(location_text="x", category_code="9999", priority=2)
    assert err.value.errors()[0]["loc"] == ("category_code",)
    with pytest.raises(ValidationError):
        IncidentCreate(location_text="x", category_code="2001", priority=2, lat=35.3)
    with pytest.raises(ValidationError):
        IncidentCreate(location_text="x", category_code="2001", priority=5)


def test_roles_without_create_permission_cannot_take_calls(db, actors):
    for who in ("chief_a", "patrol_a", "community_a", "auditor"):
        with pytest.raises(Forbidden):
            service.create_incident(db=db, actor=actors[who], data=IncidentCreate(
                location_text="平原路123号", category_code="2001", priority=2))


# --- stages --------------------------------------------------------------------------------


def test_full_lifecycle_stamps_every_stage_with_time_and_actor(db, world, actors, make_incident):
    dispatcher, patrol = actors["dispatcher"], actors["patrol_a"]
    incident = make_incident("a")
    service.accept(db=db, actor=dispatcher, incident_id=incident.id)
    unit = world.units["红旗巡1"]
    assignment = service.assign_unit(db=db, actor=dispatcher, incident_id=incident.id, unit_id=unit.id)
    assert incident.stage == Stage.DISPATCHED and unit.status == UnitStatus.ASSIGNED
    assert assignment.eta_seconds and assignment.eta_seconds > 0
    service.advance_assignment(db=db, actor=patrol, assignment_id=assignment.id, to=AssignmentStatus.DEPARTED)
    assert incident.stage == Stage.DEPARTED
    service.advance_assignment(db=db, actor=patrol, assignment_id=assignment.id, to=AssignmentStatus.ARRIVED)
    assert incident.stage == Stage.ARRIVED
    service.advance_assignment(db=db, actor=patrol, assignment_id=assignment.id, to=AssignmentStatus.CLEARED)
    # the last unit clearing resolves the incident and frees the unit
    assert incident.stage == Stage.RESOLVED
    db.refresh(unit)
    assert unit.status == UnitStatus.AVAILABLE and assignment.active is False
    service.close(db=db, actor=dispatcher, incident_id=incident.id, disposition=Disposition.HANDLED_ON_SCENE,
                  note="双方已调解")
    assert incident.stage == Stage.CLOSED and incident.disposition == Disposition.HANDLED_ON_SCENE
    stamps = [incident.received_at, incident.accepted_at, incident.dispatched_at, incident.departed_at,
              incident.arrived_at, incident.resolved_at, incident.closed_at]
    assert all(stamps) and stamps == sorted(stamps)
    assert stages_of(db, incident.id) == ["received", "accepted", "dispatched", "departed", "arrived", "cleared",
                                          "resolved", "closed"]
    events = repository.timeline(db=db, actor=dispatcher, incident_id=incident.id)
    by_stage = {e.stage: e for e in events}
    assert by_stage["arrived"].actor_id == world.users["patrol_a"].id
    assert by_stage["arrived"].assignment_id == assignment.id and by_stage["arrived"].note == "红旗巡1"
    assert by_stage["closed"].actor_id == world.users["dispatcher"].id


def test_first_assignment_accepts_a_received_incident(db, world, actors, make_incident):
    incident = make_incident("a")
    service.assign_unit(db=db, actor=actors["dispatcher"], incident_id=incident.id,
                        unit_id=world.units["红旗步1"].id)
    assert incident.stage == Stage.DISPATCHED and incident.accepted_at is not None
    assert stages_of(db, incident.id) == ["received", "accepted", "dispatched"]


def test_refused_transitions_carry_bilingual_messages(db, world, actors, make_incident):
    dispatcher = actors["dispatcher"]
    incident = make_incident("a")
    with pytest.raises(InvalidTransition) as err:
        service.resolve(db=db, actor=dispatcher, incident_id=incident.id)
    assert "已接警" in err.value.zh and "received" in err.value.en and err.value.status_code == 409
    service.accept(db=db, actor=dispatcher, incident_id=incident.id)
    with pytest.raises(InvalidTransition) as err:
        service.accept(db=db, actor=dispatcher, incident_id=incident.id)
    assert "已签收" in err.value.zh and "accepted" in err.value.en
    with pytest.raises(ValidationFailed) as err:
        service.close(db=db, actor=dispatcher, incident_id=incident.id, disposition=None)
    assert err.value.field == "disposition" and "处警结果" in err.value.zh
    with pytest.raises(InvalidTransition):
        service.record_callback(db=db, actor=dispatcher, incident_id=incident.id,
                                satisfaction=Satisfaction.SATISFIED)
    assignment = service.assign_unit(db=db, actor=dispatcher, incident_id=incident.id,
                                     unit_id=world.units["红旗巡1"].id)
    with pytest.raises(InvalidTransition) as err:
        service.advance_assignment(db=db, actor=dispatcher, assignment_id=assignment.id,
                                   to=AssignmentStatus.CLEARED)
    assert "已派" in err.value.zh and "cleared" in err.value.en


def test_a_unit_holds_one_active_assignment(db, world, actors, make_incident):
    dispatcher = actors["dispatcher"]
    first, second = make_incident("a"), make_incident("a")
    unit = world.units["红旗巡1"]
    service.assign_unit(db=db, actor=dispatcher, incident_id=first.id, unit_id=unit.id)
    with pytest.raises(Conflict) as err:
        service.assign_unit(db=db, actor=dispatcher, incident_id=second.id, unit_id=unit.id)
    assert err.value.zh == "该警力已被其他调度员派出" and err.value.en == "unit already taken"
    assert second.stage == Stage.RECEIVED


def test_unique_index_is_the_last_guard(db, world, actors, make_incident):
    dispatcher = actors["dispatcher"]
    first, second = make_incident("a"), make_incident("a")
    unit = world.units["红旗巡1"]
    service.assign_unit(db=db, actor=dispatcher, incident_id=first.id, unit_id=unit.id)
    # corrupt the unit's status behind the service's back: the partial unique index still refuses
    db.execute(text("UPDATE duty_unit SET status='available' WHERE id=:id"), {"id": unit.id})
    db.expire_all()
    with pytest.raises(Conflict) as err:
        service.assign_unit(db=db, actor=dispatcher, incident_id=second.id, unit_id=unit.id)
    assert err.value.en == "unit already taken"
    assert db.scalar(select(Assignment.id).where(Assignment.incident_id == second.id)) is None


def test_off_duty_and_foreign_units_cannot_be_assigned(db, world, actors, make_incident):
    incident = make_incident("a")
    unit = world.units["红旗巡2"]
    unit.status = UnitStatus.OFF_DUTY
    db.flush()
    with pytest.raises(Conflict) as err:
        service.assign_unit(db=db, actor=actors["dispatcher"], incident_id=incident.id, unit_id=unit.id)
    assert "不在岗" in err.value.zh
    with pytest.raises(NotFound):  # station B's unit is outside chief A's jurisdiction
        service.assign_unit(db=db, actor=actors["chief_a"], incident_id=incident.id,
                            unit_id=world.units["卫滨巡1"].id)


def test_patrol_moves_only_its_own_units_assignments_and_cannot_cancel(db, world, actors, make_incident):
    dispatcher = actors["dispatcher"]
    incident = make_incident("a")
    own = service.assign_unit(db=db, actor=dispatcher, incident_id=incident.id, unit_id=world.units["红旗巡1"].id)
    other = service.assign_unit(db=db, actor=dispatcher, incident_id=incident.id, unit_id=world.units["红旗巡2"].id)
    with pytest.raises(Forbidden) as err:
        service.advance_assignment(db=db, actor=actors["patrol_a"], assignment_id=other.id,
                                   to=AssignmentStatus.DEPARTED)
    assert "本人" in err.value.zh
    with pytest.raises(Forbidden):
        service.advance_assignment(db=db, actor=actors["patrol_a"], assignment_id=own.id,
                                   to=AssignmentStatus.CANCELLED)
    with pytest.raises(Forbidden):
        service.advance_assignment(db=db, actor=actors["community_a"], assignment_id=own.id,
                                   to=AssignmentStatus.DEPARTED)
    moved = service.advance_assignment(db=db, actor=actors["patrol_a"], assignment_id=own.id,
                                       to=AssignmentStatus.DEPARTED)
    assert moved.status == AssignmentStatus.DEPARTED and moved.departed_at is not None
    # the dispatcher may cancel the other unit, which frees it
    service.advance_assignment(db=db, actor=dispatcher, assignment_id=other.id, to=AssignmentStatus.CANCELLED)
    db.refresh(world.units["红旗巡2"])
    assert world.units["红旗巡2"].status == UnitStatus.AVAILABLE


def test_patrol_sent_across_jurisdictions_sees_and_moves_its_assignment(db, world, actors, make_incident):
    incident = make_incident("a")
    assignment = service.assign_unit(db=db, actor=actors["dispatcher"], incident_id=incident.id,
                                     unit_id=world.units["卫滨巡1"].id)
    patrol_b = actors["patrol_b"]
    assert repository.get_incident(db=db, actor=patrol_b, incident_id=incident.id) is not None
    service.advance_assignment(db=db, actor=patrol_b, assignment_id=assignment.id, to=AssignmentStatus.DEPARTED)
    assert incident.stage == Stage.DEPARTED
    # but not other station A incidents
    unrelated = make_incident("a")
    assert repository.get_incident(db=db, actor=patrol_b, incident_id=unrelated.id) is None


def test_close_frees_active_assignments(db, world, actors, make_incident):
    dispatcher = actors["dispatcher"]
    incident = make_incident("a")
    a1 = service.assign_unit(db=db, actor=dispatcher, incident_id=incident.id, unit_id=world.units["红旗巡1"].id)
    a2 = service.assign_unit(db=db, actor=dispatcher, incident_id=incident.id, unit_id=world.units["红旗步1"].id)
    service.advance_assignment(db=db, actor=dispatcher, assignment_id=a1.id, to=AssignmentStatus.DEPARTED)
    service.advance_assignment(db=db, actor=dispatcher, assignment_id=a1.id, to=AssignmentStatus.ARRIVED)
    service.close(db=db, actor=dispatcher, incident_id=incident.id, disposition="mediated")
    assert incident.stage == Stage.CLOSED and incident.resolved_at is not None
    assert (a1.status, a1.active) == (AssignmentStatus.CLEARED, False)
    assert (a2.status, a2.active) == (AssignmentStatus.CANCELLED, False)
    for name in ("红旗巡1", "红旗步1"):
        db.refresh(world.units[name])
        assert world.units[name].status == UnitStatus.AVAILABLE
    assert repository.active_assignment_of_unit_unscoped(db=db, unit_id=world.units["红旗巡1"].id) is None


def test_an_invalid_call_is_closed_straight_from_received(db, actors, make_incident):
    incident = make_incident("a")
    service.close(db=db, actor=actors["dispatcher"], incident_id=incident.id, disposition=Disposition.INVALID_CALL)
    assert incident.stage == Stage.CLOSED and incident.accepted_at is None


# --- calls and merging -----------------------------------------------------------------------


def test_add_call_counts_and_merge_moves_calls_and_closes_the_duplicate(db, world, actors, make_incident):
    dispatcher = actors["dispatcher"]
    from pingan.incident.schemas import CallCreate

    target = make_incident("a", priority=3)
    source = make_incident("a", priority=1, caller_phone="13900001111")
    service.add_call(db=db, actor=dispatcher, incident_id=source.id, data=CallCreate(caller_phone="13900002222"))
    assert source.call_count == 2
    merged = service.merge_incidents(db=db, actor=dispatcher, target_id=target.id, source_id=source.id)
    assert merged.id == target.id and target.call_count == 3 and target.priority == 1
    assert source.stage == Stage.CLOSED and source.disposition == Disposition.DUPLICATE
    assert target.number in source.disposition_note
    phones = set(db.scalars(select(Call.caller_phone).where(Call.incident_id == target.id)))
    assert phones == {"13812345678", "13900001111", "13900002222"}
    assert "merged" in stages_of(db, target.id)
    assert stages_of(db, source.id)[-2:] == ["merged", "closed"]


def test_merge_refusals(db, world, actors, make_incident):
    dispatcher = actors["dispatcher"]
    target, source = make_incident("a"), make_incident("a")
    with pytest.raises(ValidationFailed):
        service.merge_incidents(db=db, actor=dispatcher, target_id=target.id, source_id=target.id)
    a = service.assign_unit(db=db, actor=dispatcher, incident_id=source.id, unit_id=world.units["红旗巡1"].id)
    service.advance_assignment(db=db, actor=dispatcher, assignment_id=a.id, to=AssignmentStatus.DEPARTED)
    with pytest.raises(InvalidTransition) as err:
        service.merge_incidents(db=db, actor=dispatcher, target_id=target.id, source_id=source.id)
    assert err.value.field == "source_id"
    with pytest.raises(NotFound):  # chief A cannot reach station B's incident
        service.merge_incidents(db=db, actor=actors["chief_a"], target_id=target.id,
                                source_id=make_incident("b").id)


def test_add_call_to_a_closed_incident_is_refused(db, actors, make_incident):
    from pingan.incident.schemas import CallCreate

    incident = make_incident("a")
    service.close(db=db, actor=actors["dispatcher"], incident_id=incident.id, disposition="invalid_call")
    with pytest.raises(InvalidTransition):
        service.add_call(db=db, actor=actors["dispatcher"], incident_id=incident.id, data=CallCreate())


# --- escalation and callbacks ------------------------------------------------------------------


def test_priority_incidents_not_accepted_in_time_escalate_once(db, actors, make_incident):
    urgent = make_incident("a", priority=1)
    second = make_incident("a", priority=2)
    routine = make_incident("a", priority=3)
    accepted = make_incident("a", priority=1)
    service.accept(db=db, actor=actors["dispatcher"], incident_id=accepted.id)
    start = urgent.received_at
    assert service.escalate_overdue(db=db, now=start + timedelta(seconds=10)) == []
    flagged = service.escalate_overdue(db=db, now=start + timedelta(seconds=45))
    assert flagged == [urgent.id]  # priority 2's target (60 s) has not passed yet
    flagged = service.escalate_overdue(db=db, now=start + timedelta(hours=1))
    assert flagged == [second.id]  # urgent is not flagged twice; routine priorities never escalate
    assert urgent.escalated_at is not None and routine.escalated_at is None
    assert stages_of(db, urgent.id).count("escalated") == 1
    assert IncidentRead.model_validate(urgent).overdue is True
    assert IncidentRead.model_validate(accepted).overdue is False


def _update_texts(db, entity_id: int) -> list[str]:
    return list(db.execute(select(cast(AuditLog.changes, Text)).where(
        AuditLog.entity == "incident", AuditLog.entity_id == str(entity_id),
        AuditLog.action == AuditAction.UPDATE)).scalars())


def test_escalation_in_one_update_audits_as_a_flush_would(db, actors, make_incident):
    """The job stamps many incidents in one UPDATE, outside the flush: each gets the audit row
    the flush writes for the same change, byte for byte, and its ``escalated`` event."""
    by_job, by_flush = make_incident("a", priority=1), make_incident("a", priority=1)
    now = by_job.received_at + timedelta(hours=1)
    by_flush.escalated_at = now  # the same change through the ORM
    db.flush()
    assert service.escalate_overdue(db=db, now=now) == [by_job.id]
    assert _update_texts(db, by_job.id) == _update_texts(db, by_flush.id) != []
    assert by_job.escalated_at == now  # the loaded object follows the UPDATE
    assert db.scalar(select(Incident.updated_at).where(Incident.id == by_job.id)) == now


def test_escalation_takes_a_batch_at_a_time_oldest_first(db, actors, make_incident):
    made = [make_incident("a", priority=1) for _ in range(5)]
    now = made[-1].received_at + timedelta(hours=1)
    assert service.escalate_overdue(db=db, now=now, limit=2) == [made[0].id, made[1].id]
    assert service.escalate_overdue(db=db, now=now, limit=2) == [made[2].id, made[3].id]
    assert service.escalate_overdue(db=db, now=now, limit=2) == [made[4].id]
    assert service.escalate_overdue(db=db, now=now, limit=2) == []
    assert all(stages_of(db, i.id).count("escalated") == 1 for i in made)


def test_callback_after_close(db, world, actors, make_incident):
    incident = make_incident("a")
    service.close(db=db, actor=actors["dispatcher"], incident_id=incident.id, disposition="assistance_given")
    cb = service.record_callback(db=db, actor=actors["chief_a"], incident_id=incident.id,
                                 satisfaction="satisfied", note="群众表示满意")
    assert cb.satisfaction == Satisfaction.SATISFIED and cb.by_id == world.users["chief_a"].id
    assert repository.callbacks_of(db=db, actor=actors["dispatcher"], incident_id=incident.id)[0].id == cb.id
    assert stages_of(db, incident.id)[-1] == "callback"
    with pytest.raises(Forbidden):
        service.record_callback(db=db, actor=actors["patrol_a"], incident_id=incident.id, satisfaction="satisfied")


# --- personal data -------------------------------------------------------------------------------


def test_reads_are_masked_and_the_unmasked_read_is_audited_with_its_purpose(db, world, actors, make_incident):
    incident = make_incident("a", caller_phone="13812345678", caller_name="张三丰")
    read = IncidentRead.model_validate(incident)
    assert read.caller_phone == "138****5678" and read.caller_name == "张*丰"
    db.info["actor"] = actors["chief_a"]
    contact = repository.get_caller_contact(db=db, actor=actors["chief_a"], incident_id=incident.id,
                                            purpose="回访核实情况")
    assert (contact.caller_phone, contact.caller_name) == ("13812345678", "张三丰")
    assert contact.calls[0][2] == "13812345678"
    row = db.scalar(select(AuditLog).where(AuditLog.action == AuditAction.READ, AuditLog.entity == "incident",
                                           AuditLog.entity_id == str(incident.id)))
    assert row.purpose == "回访核实情况" and row.actor_name == "chief_a"
    assert "caller_phone" in row.changes["fields"]
    with pytest.raises(Forbidden):
        repository.get_caller_contact(db=db, actor=actors["community_a"], incident_id=incident.id, purpose="查看")
    with pytest.raises(NotFound):
        repository.get_caller_contact(db=db, actor=actors["chief_b"], incident_id=incident.id, purpose="查看")
    with pytest.raises(ValidationFailed):
        repository.get_caller_contact(db=db, actor=actors["chief_a"], incident_id=incident.id, purpose=" ")


def test_state_changes_are_audited(db, actors, make_incident):
    db.info["actor"] = actors["dispatcher"]
    incident = make_incident("a")
    service.accept(db=db, actor=actors["dispatcher"], incident_id=incident.id)
    rows = [r for r in db.scalars(select(AuditLog).where(AuditLog.entity == "incident"))
            if r.entity_id == str(incident.id) or (r.changes or {}).get("after", {}).get("id") == incident.id]
    assert {r.action for r in rows} == {AuditAction.CREATE, AuditAction.UPDATE}
    assert all(r.actor_name == "dispatcher" for r in rows)
    assert any(r.changes.get("after", {}).get("stage") == "accepted" for r in rows)


# --- jurisdiction and lists ----------------------------------------------------------------------


def test_jurisdiction_limits_what_each_role_reaches(db, actors, make_incident):
    a, b = make_incident("a"), make_incident("b")
    with pytest.raises(NotFound):
        service.accept(db=db, actor=actors["chief_b"], incident_id=a.id)
    with pytest.raises(Forbidden):
        service.accept(db=db, actor=actors["community_a"], incident_id=a.id)
    service.accept(db=db, actor=actors["chief_b"], incident_id=b.id)
    rows, total = repository.list_incidents(db=db, actor=actors["chief_a"])
    assert [r.id for r in rows] == [a.id] and total == 1
    rows, total = repository.list_incidents(db=db, actor=actors["dispatcher"])
    assert {r.id for r in rows} == {a.id, b.id}
    assert [r.id for r in repository.list_open_for_board(db=db, actor=actors["community_a"])] == [a.id]
    events = repository.events_since(db=db, actor=actors["chief_b"], last_id=0)
    assert {e.incident_id for e in events} == {b.id}


def test_list_filters(db, actors, make_incident):
    a = make_incident("a", category_code="3001", priority=1, description="两车相撞")
    b = make_incident("a", category_code="2001", priority=3)
    service.close(db=db, actor=actors["dispatcher"], incident_id=b.id, disposition="invalid_call")
    d = actors["dispatcher"]
    assert [r.id for r in repository.list_incidents(db=db, actor=d, category="30")[0]] == [a.id]
    assert [r.id for r in repository.list_incidents(db=db, actor=d, priority=3)[0]] == [b.id]
    assert [r.id for r in repository.list_incidents(db=db, actor=d, stages=[Stage.CLOSED])[0]] == [b.id]
    assert [r.id for r in repository.list_incidents(db=db, actor=d, q="相撞")[0]] == [a.id]
    assert [r.id for r in repository.list_incidents(db=db, actor=d, q=a.number)[0]] == [a.id]
    later = utcnow() + timedelta(minutes=1)
    assert repository.list_incidents(db=db, actor=d, since=later)[1] == 0
    assert [r.id for r in repository.list_open_for_board(db=db, actor=d)] == [a.id]


def test_text_search_looks_back_90_days_unless_given_a_start_but_a_number_is_found_at_any_age(db, actors,
                                                                                             make_incident):
    old = make_incident("a", description="旧案相撞")
    old.received_at = utcnow() - repository.SEARCH_WINDOW - timedelta(days=1)
    db.flush()
    d = actors["dispatcher"]
    assert repository.list_incidents(db=db, actor=d, q="旧案")[1] == 0
    assert [r.id for r in repository.list_incidents(db=db, actor=d, q=old.number)[0]] == [old.id]
    since = utcnow() - timedelta(days=400)
    assert [r.id for r in repository.list_incidents(db=db, actor=d, q="旧案", since=since)[0]] == [old.id]


def test_pages_are_newest_first_and_do_not_overlap(db, actors, make_incident):
    made = [make_incident("a") for _ in range(5)]
    now = utcnow()
    for i, incident in enumerate(made):  # received in the order b, a, d, c, e (a tie broken by id)
        incident.received_at = now - timedelta(minutes=(1, 2, 0, 0, -1)[i])
    db.flush()
    d = actors["dispatcher"]
    first, total = repository.list_incidents(db=db, actor=d, limit=2)
    second, _ = repository.list_incidents(db=db, actor=d, limit=2, offset=2)
    third, _ = repository.list_incidents(db=db, actor=d, limit=2, offset=4)
    expected = [made[4].id, made[3].id, made[2].id, made[0].id, made[1].id]
    assert total == 5 and [r.id for r in first + second + third] == expected


def test_unit_position_by_operator_or_manager(db, world, actors):
    own, other = world.units["红旗巡1"], world.units["红旗巡2"]
    unit = service.update_unit_position(db=db, actor=actors["patrol_a"], unit_id=own.id, lat=35.31, lon=113.91)
    assert (unit.lat, unit.lon) == (35.31, 113.91) and unit.position_at is not None
    with pytest.raises(Forbidden):
        service.update_unit_position(db=db, actor=actors["patrol_a"], unit_id=other.id, lat=35.31, lon=113.91)
    with pytest.raises(NotFound):
        service.update_unit_position(db=db, actor=actors["chief_a"], unit_id=world.units["卫滨巡1"].id,
                                     lat=35.31, lon=113.91)
    with pytest.raises(Forbidden):
        service.update_unit_position(db=db, actor=actors["dispatcher"], unit_id=own.id, lat=35.31, lon=113.91)
    service.update_unit_position(db=db, actor=actors["chief_a"], unit_id=other.id, lat=35.32, lon=113.92)
    assert db.get(DutyUnit, other.id).lat == 35.32
