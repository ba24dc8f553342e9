"""Incident rules (接处警): taking calls, accepting, dispatching, following units, closing.

Every function takes keyword-only arguments, checks the actor's permission and jurisdiction,
flushes and never commits: the request, CLI command or job owns the transaction.

Stages: received → accepted (签收) → dispatched (派警) → departed (出警) → arrived (到场) →
resolved (处置完毕) → closed (结警). Each stage reached is stamped on the incident (the read
model) and written as a :class:`StageEvent` with actor and time. Steps of a unit's assignment are
stage events too, carrying the assignment id and the unit's call sign; the first unit to depart or
arrive moves the incident's stage.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.config import get_settings
from pingan.db.types import utcnow
from pingan.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from pingan.geo import service as geo_service
from pingan.geo.spatial import haversine_m
from pingan.incident import repository
from pingan.incident.dispatch import eta_seconds
from pingan.incident.models import (
    ASSIGNMENT_TRANSITIONS,
    INCIDENT_TRANSITIONS,
    Assignment,
    AssignmentStatus,
    Call,
    Callback,
    Disposition,
    Incident,
    Satisfaction,
    Stage,
    StageEvent,
)
from pingan.incident.schemas import (
    ASSIGNMENT_LABELS,
    DISPOSITION_LABELS,
    EVENT_CALL,
    EVENT_CALLBACK,
    EVENT_ESCALATED,
    EVENT_MERGED,
    SATISFACTION_LABELS,
    STAGE_LABELS,
    CallCreate,
    IncidentCreate,
)
from pingan.org import repository as org_repository
from pingan.org.models import DutyUnit, UnitStatus

# Priorities whose incidents escalate when not accepted in time (一级、二级警情).
ESCALATED_PRIORITIES = (1, 2)

UNIT_TAKEN = ("该警力已被其他调度员派出", "unit already taken")
_STAGE_TIME = {
    Stage.ACCEPTED: "accepted_at",
    Stage.DISPATCHED: "dispatched_at",
    Stage.DEPARTED: "departed_at",
    Stage.ARRIVED: "arrived_at",
    Stage.RESOLVED: "resolved_at",
    Stage.CLOSED: "closed_at",
}


@lru_cache
def _local_zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def incident_number(incident_id: int, received_at: datetime) -> str:
    """警情编号: 'JJ' + local date (yyyymmdd) + a 6-digit sequence from the id."""
    return f"JJ{received_at.astimezone(_local_zone()):%Y%m%d}{incident_id % 1_000_000:06d}"


def jurisdiction_root_id(actor: Actor) -> int:
    """The org unit at the top of the actor's jurisdiction (the bureau for a command centre)."""
    return int(actor.org_path.strip("/").split("/")[-1])


def _not_found() -> NotFound:
    return NotFound("警情不存在或不在辖区内", "No such incident in your jurisdiction")


def _load(db: Session, actor: Actor, incident_id: int, *, for_update: bool = True) -> Incident:
    incident = repository.get_incident(db=db, actor=actor, incident_id=incident_id, for_update=for_update)
    if incident is None:
        raise _not_found()
    return incident


def _event(db: Session, incident: Incident, stage: str, *, actor: Actor | None, at: datetime,
           assignment_id: int | None = None, note: str | None = None) -> StageEvent:
    event = StageEvent(incident_id=incident.id, assignment_id=assignment_id, org_unit_id=incident.org_unit_id,
                       stage=str(stage), at=at, actor_id=actor.user_id if actor else None,
                       note=note[:255] if note else None)
    db.add(event)
    return event


def _refuse(incident: Incident, to: Stage) -> InvalidTransition:
    now_zh, now_en = STAGE_LABELS[incident.stage]
    to_zh, to_en = STAGE_LABELS[to]
    return InvalidTransition(f"警情当前为「{now_zh}」，不能变为「{to_zh}」",
                             f"An incident that is {now_en} cannot become {to_en}")


def _advance(db: Session, actor: Actor, incident: Incident, to: Stage, *, at: datetime,
             note: str | None = None, write_event: bool = True) -> None:
    """Move the incident to stage ``to`` if the transition table allows it, stamping the time."""
    if to not in INCIDENT_TRANSITIONS[incident.stage]:
        raise _refuse(incident, to)
    incident.stage = to
    column = _STAGE_TIME.get(to)
    if column and getattr(incident, column) is None:
        setattr(incident, column, at)
    if write_event:
        _event(db, incident, to, actor=actor, at=at, note=note)


# --- taking calls --------------------------------------------------------------------------


def _responsible_org_unit(db: Session, actor: Actor, org_unit_id: int | None) -> int:
    """The grid's org unit; with no grid, the top of the actor's own jurisdiction."""
    if org_unit_id is None:
        return jurisdiction_root_id(actor)
    path = org_repository.org_unit_path_unscoped(db=db, org_unit_id=org_unit_id)
    if path is None:
        return jurisdiction_root_id(actor)
    if not path.startswith(actor.org_path):
        raise ValidationFailed("案发地点属于其他单位辖区，请转警", "The location is in another unit's jurisdiction; "
                               "transfer the call", field="location_text")
    return org_unit_id


def request_hash(data: IncidentCreate) -> str:
    """SHA-256 of a call's validated body without its idempotency key: its canonical JSON, the
    fields in their declared order, values as validated (a phone normalised, text trimmed), so
    that a retry spelled differently but meaning the same is the same request."""
    return hashlib.sha256(data.model_dump_json(exclude={"idempotency_key"}).encode()).hexdigest()


def _replayed(existing: Incident, fingerprint: str | None) -> Incident:
    """The incident created under a key, for a retry of the same request; a different request
    with that key is refused (as Stripe and the IETF Idempotency-Key draft do)."""
    if existing.idempotency_hash is not None and existing.idempotency_hash != fingerprint:
        raise ValidationFailed("幂等键已用于另一个不同的请求", "Idempotency-Key reused with a different request",
                               field="idempotency_key")
    return existing


def create_incident(*, db: Session, actor: Actor, data: IncidentCreate) -> tuple[Incident, bool]:
    """Take a call and open an incident (接警). Returns (incident, created).

    With an idempotency key seen before, the incident created under it is returned with
    ``created`` False; two requests racing with one key get the same incident. The key sent
    again with a different body (``request_hash``) is a 422.
    """
    actor.require(Perm.INCIDENT_CREATE)
    key = data.idempotency_key
    fingerprint = request_hash(data) if key else None
    if key:
        existing, taken = repository.find_by_idempotency_key(db=db, actor=actor, key=key)
        if existing is not None:
            return _replayed(existing, fingerprint), False
        if taken:
            raise Conflict("该幂等键已用于其他单位的警情", "This idempotency key belongs to another incident",
                           field="idempotency_key")
    # The new rows' ids are taken in the same round trip as the address is read, when one is.
    taken: list[repository.NewIncidentIds] = []

    def read_address_and_take_ids(*, db: Session, actor: Actor, address_id: int):
        ids, row = repository.new_incident_ids(db=db, actor=actor, address_id=address_id)
        taken.append(ids)
        return row

    # A chosen standard address wins over the text, so the text is matched only without one.
    location = geo_service.locate(db=db, actor=actor, text=None if data.address_id else data.location_text,
                                  lat=data.lat, lon=data.lon, address_id=data.address_id,
                                  read_address=read_address_and_take_ids)
    # A standard address comes back only if the actor may see it, so its grid is in the actor's
    # jurisdiction; a bare point's grid has to be checked.
    if location.address_id is not None and location.org_unit_id is not None:
        org_unit_id = location.org_unit_id
    else:
        org_unit_id = _responsible_org_unit(db, actor, location.org_unit_id)
    now = utcnow()
    # The ids are taken first so that the rows go in whole, number included (no follow-up UPDATE).
    ids = taken[0] if taken else repository.new_incident_ids(db=db)[0]
    incident_id = ids.incident
    incident = Incident(
        id=incident_id, number=incident_number(incident_id, now), idempotency_key=key, idempotency_hash=fingerprint,
        category_code=data.category_code, priority=data.priority, stage=Stage.RECEIVED,
        description=data.description, location_text=data.location_text, address_id=location.address_id,
        lat=location.lat, lon=location.lon, grid_id=location.grid_id, zone_class=location.zone_class,
        org_unit_id=org_unit_id, division_code=location.division_code, caller_phone=data.caller_phone,
        caller_name=data.caller_name, call_count=1, received_at=now, created_by_id=actor.user_id, version=1,
    )
    call = Call(id=ids.call, incident_id=incident_id, received_at=now, caller_phone=data.caller_phone,
                caller_name=data.caller_name, location_text=data.location_text, description=data.description,
                taker_id=actor.user_id)
    received = StageEvent(id=ids.event, incident_id=incident_id, org_unit_id=org_unit_id, stage=str(Stage.RECEIVED), at=now,
                          actor_id=actor.user_id)
    if key:
        try:
            with db.begin_nested():
                repository.insert_new_incident_unscoped(db=db, incident=incident, call=call, received=received)
        except IntegrityError:
            existing, taken = repository.find_by_idempotency_key(db=db, actor=actor, key=key)
            if existing is not None:
                return _replayed(existing, fingerprint), False
            if taken:
                raise Conflict("该幂等键已用于其他单位的警情", "This idempotency key belongs to another incident",
                               field="idempotency_key") from None
            raise
    else:
        repository.insert_new_incident_unscoped(db=db, incident=incident, call=call, received=received)
    return incident, True


def add_call(*, db: Session, actor: Actor, incident_id: int, data: CallCreate) -> Call:
    """Another call about the same incident (重复来电): recorded, and the call count goes up."""
    actor.require(Perm.INCIDENT_CREATE)
    incident = _load(db, actor, incident_id)
    if incident.stage == Stage.CLOSED:
        raise InvalidTransition("警情已结警，请新建警情", "The incident is closed; open a new one")
    now = utcnow()
    call = Call(incident_id=incident.id, received_at=now, caller_phone=data.caller_phone,
                caller_name=data.caller_name, location_text=data.location_text, description=data.description,
                taker_id=actor.user_id)
    db.add(call)
    incident.call_count += 1
    _event(db, incident, EVENT_CALL, actor=actor, at=now, note=f"第 {incident.call_count} 次来电")
    db.flush()
    return call


def merge_incidents(*, db: Session, actor: Actor, target_id: int, source_id: int) -> Incident:
    """Merge a duplicate (``source``) into ``target`` (警情合并): its calls move over, it is closed
    as a duplicate, and both timelines note it. The target takes the more urgent priority."""
    actor.require(Perm.INCIDENT_DISPATCH)
    if target_id == source_id:
        raise ValidationFailed("警情不能与自身合并", "An incident cannot be merged into itself", field="source_id")
    # lock in id order so that two merges of the same pair cannot deadlock
    first, second = sorted((target_id, source_id))
    locked = {first: _load(db, actor, first), second: _load(db, actor, second)}
    target, source = locked[target_id], locked[source_id]
    for which, incident in (("target", target), ("source", source)):
        if incident.stage == Stage.CLOSED:
            raise InvalidTransition(f"警情 {incident.number} 已结警，不能合并",
                                    f"Incident {incident.number} is closed and cannot be merged", field=which)
    if Stage.CLOSED not in INCIDENT_TRANSITIONS[source.stage]:
        zh, en = STAGE_LABELS[source.stage]
        raise InvalidTransition(f"警情 {source.number} 当前为「{zh}」，不能作为重复警情并入",
                                f"Incident {source.number} is {en} and cannot be merged away as a duplicate",
                                field="source_id")
    now = utcnow()
    calls = repository.calls_for_update_unscoped(db=db, incident_id=source.id)
    for call in calls:
        call.incident_id = target.id
    target.call_count += len(calls)
    target.priority = min(target.priority, source.priority)
    _free_assignments(db, actor, source, at=now)
    source.stage = Stage.CLOSED
    source.closed_at = now
    source.disposition = Disposition.DUPLICATE
    source.disposition_note = f"并入警情 {target.number} / merged into {target.number}"
    _event(db, source, EVENT_MERGED, actor=actor, at=now, note=f"并入 {target.number}")
    _event(db, source, Stage.CLOSED, actor=actor, at=now, note=DISPOSITION_LABELS[Disposition.DUPLICATE][0])
    _event(db, target, EVENT_MERGED, actor=actor, at=now, note=f"{source.number} 并入本警情（{len(calls)} 次来电）")
    db.flush()
    return target


# --- accepting and dispatching ---------------------------------------------------------------


def accept(*, db: Session, actor: Actor, incident_id: int) -> Incident:
    """Accept (签收) a received incident."""
    actor.require(Perm.INCIDENT_DISPATCH)
    incident = _load(db, actor, incident_id)
    _advance(db, actor, incident, Stage.ACCEPTED, at=utcnow())
    db.flush()
    return incident


def assign_unit(*, db: Session, actor: Actor, incident_id: int, unit_id: int) -> Assignment:
    """Send a duty unit to an incident (派警). A unit holds one active assignment.

    The unit is claimed with a conditional UPDATE (available → assigned); if another dispatcher
    claimed it first the UPDATE changes nothing and this raises Conflict. The unique partial
    index on active assignments is the last guard. The first assignment moves the incident to
    ``dispatched``, accepting it on the way if it was still ``received``.
    """
    actor.require(Perm.INCIDENT_DISPATCH)
    incident = _load(db, actor, incident_id)
    if incident.stage in (Stage.RESOLVED, Stage.CLOSED):
        zh, en = STAGE_LABELS[incident.stage]
        raise InvalidTransition(f"警情当前为「{zh}」，不能再派警", f"An incident that is {en} cannot be dispatched to")
    unit = org_repository.get_unit(db=db, actor=actor, unit_id=unit_id)
    if unit is None:
        raise NotFound("警力不存在或不在辖区内", "No such duty unit in your jurisdiction", field="unit_id")
    if unit.status == UnitStatus.OFF_DUTY:
        raise Conflict(f"警力 {unit.call_sign} 不在岗", f"Unit {unit.call_sign} is off duty", field="unit_id")
    if not org_repository.claim_unit_unscoped(db=db, unit_id=unit.id):
        raise Conflict(*UNIT_TAKEN, field="unit_id")
    now = utcnow()
    if incident.stage == Stage.RECEIVED:
        _advance(db, actor, incident, Stage.ACCEPTED, at=now, note="派警时签收 / accepted on dispatch")
    eta = None
    if None not in (incident.lat, incident.lon, unit.lat, unit.lon):
        eta = eta_seconds(haversine_m(incident.lat, incident.lon, unit.lat, unit.lon), unit.kind)
    assignment = Assignment(incident_id=incident.id, unit_id=unit.id, status=AssignmentStatus.DISPATCHED,
                            active=True, dispatcher_id=actor.user_id, eta_seconds=eta, dispatched_at=now)
    try:
        with db.begin_nested():
            db.add(assignment)
            db.flush()
    except IntegrityError:
        raise Conflict(*UNIT_TAKEN, field="unit_id") from None
    if incident.stage == Stage.ACCEPTED:
        # the assignment's event below is also the incident's 'dispatched' stage event
        _advance(db, actor, incident, Stage.DISPATCHED, at=now, write_event=False)
    elif incident.dispatched_at is None:
        incident.dispatched_at = now
    _event(db, incident, AssignmentStatus.DISPATCHED, actor=actor, at=now, assignment_id=assignment.id,
           note=unit.call_sign)
    db.flush()
    return assignment


def _release(db: Session, actor: Actor | None, incident: Incident, assignment: Assignment,
             to: AssignmentStatus, *, at: datetime, note: str | None) -> None:
    assignment.status = to
    assignment.active = False
    assignment.cleared_at = at
    db.flush()  # the unit's active assignment ends before the unit is free again
    org_repository.release_unit_unscoped(db=db, unit_id=assignment.unit_id)
    _event(db, incident, to, actor=actor, at=at, assignment_id=assignment.id, note=note)


def _free_assignments(db: Session, actor: Actor, incident: Incident, *, at: datetime) -> None:
    """End every active assignment of an incident being closed: arrived units clear, others are recalled."""
    for assignment in repository.active_assignments_unscoped(db=db, incident_id=incident.id):
        unit = db.get(DutyUnit, assignment.unit_id)
        to = AssignmentStatus.CLEARED if assignment.status == AssignmentStatus.ARRIVED else AssignmentStatus.CANCELLED
        _release(db, actor, incident, assignment, to, at=at, note=unit.call_sign if unit else None)


def advance_assignment(*, db: Session, actor: Actor, assignment_id: int, to: AssignmentStatus) -> Assignment:
    """Move a unit's assignment on: departed (出发) / arrived (到场) / cleared (完成) / cancelled (撤回).

    Dispatchers move any assignment in their jurisdiction; a patrol officer only those of the
    unit they operate, and may not cancel. Cleared and cancelled free the unit; the last unit
    to clear an incident where units had arrived resolves it.
    """
    try:
        to = AssignmentStatus(to)
    except ValueError:
        raise ValidationFailed("目标状态无效", "Invalid target status", field="to") from None
    dispatcher = actor.can(Perm.INCIDENT_DISPATCH)
    if not dispatcher and not actor.can(Perm.ASSIGNMENT_OWN):
        actor.require(Perm.ASSIGNMENT_OWN)
    found = repository.get_assignment(db=db, actor=actor, assignment_id=assignment_id)
    if found is None:
        raise NotFound("派警任务不存在或不在辖区内", "No such assignment in your jurisdiction")
    unit = db.get(DutyUnit, found.unit_id)
    if not dispatcher:
        if unit is None or unit.operator_user_id is None or unit.operator_user_id != actor.user_id:
            raise Forbidden("只能操作本人所在警力的任务", "You may only move your own unit's assignments")
        if to == AssignmentStatus.CANCELLED:
            raise Forbidden("撤回派警须由调度员操作", "Only a dispatcher can cancel an assignment")
    # lock the incident first, then the assignment (the order every writer uses)
    incident = _load(db, actor, found.incident_id)
    assignment = repository.get_assignment(db=db, actor=actor, assignment_id=assignment_id, for_update=True)
    if to not in ASSIGNMENT_TRANSITIONS[assignment.status]:
        now_zh, now_en = ASSIGNMENT_LABELS[assignment.status]
        to_zh, to_en = ASSIGNMENT_LABELS[to]
        raise InvalidTransition(f"派警任务当前为「{now_zh}」，不能变为「{to_zh}」",
                                f"An assignment that is {now_en} cannot become {to_en}")
    now = utcnow()
    call_sign = unit.call_sign if unit else None
    if to in (AssignmentStatus.CLEARED, AssignmentStatus.CANCELLED):
        _release(db, actor, incident, assignment, to, at=now, note=call_sign)
        db.flush()
        if (to == AssignmentStatus.CLEARED and incident.stage == Stage.ARRIVED
                and not repository.active_assignments_unscoped(db=db, incident_id=incident.id)):
            _advance(db, actor, incident, Stage.RESOLVED, at=now, note="警力处置完毕 / units cleared")
        db.flush()
        return assignment
    assignment.status = to
    if to == AssignmentStatus.DEPARTED:
        assignment.departed_at = now
        if incident.stage == Stage.DISPATCHED:
            _advance(db, actor, incident, Stage.DEPARTED, at=now, write_event=False)
    elif to == AssignmentStatus.ARRIVED:
        assignment.arrived_at = now
        if incident.stage == Stage.DISPATCHED:
            _advance(db, actor, incident, Stage.DEPARTED, at=now, write_event=False)
        if incident.stage == Stage.DEPARTED:
            _advance(db, actor, incident, Stage.ARRIVED, at=now, write_event=False)
    _event(db, incident, to, actor=actor, at=now, assignment_id=assignment.id, note=call_sign)
    db.flush()
    return assignment


# --- resolving, closing, callbacks ---------------------------------------------------------


def resolve(*, db: Session, actor: Actor, incident_id: int, note: str | None = None) -> Incident:
    """Mark an incident handled (处置完毕)."""
    actor.require(Perm.INCIDENT_CLOSE)
    incident = _load(db, actor, incident_id)
    _advance(db, actor, incident, Stage.RESOLVED, at=utcnow(), note=note)
    db.flush()
    return incident


def close(*, db: Session, actor: Actor, incident_id: int, disposition: Disposition | str | None,
          note: str | None = None) -> Incident:
    """Close an incident with its disposition (结警). Units still on it are freed; an incident
    whose units departed or arrived is resolved on the way."""
    actor.require(Perm.INCIDENT_CLOSE)
    if disposition is None or disposition == "":
        raise ValidationFailed("结警须选择处警结果", "A disposition is required to close", field="disposition")
    try:
        disposition = Disposition(disposition)
    except ValueError:
        raise ValidationFailed("处警结果无效", "Invalid disposition", field="disposition") from None
    incident = _load(db, actor, incident_id)
    now = utcnow()
    if incident.stage in (Stage.DEPARTED, Stage.ARRIVED):
        _advance(db, actor, incident, Stage.RESOLVED, at=now, note="结警时处置完毕 / resolved on closing")
    if Stage.CLOSED not in INCIDENT_TRANSITIONS[incident.stage]:
        raise _refuse(incident, Stage.CLOSED)
    _free_assignments(db, actor, incident, at=now)
    incident.disposition = disposition
    incident.disposition_note = note.strip() if note and note.strip() else None
    _advance(db, actor, incident, Stage.CLOSED, at=now, note=DISPOSITION_LABELS[disposition][0])
    db.flush()
    return incident


def record_callback(*, db: Session, actor: Actor, incident_id: int, satisfaction: Satisfaction | str,
                    note: str | None = None) -> Callback:
    """Record a satisfaction callback to the caller (回访), for a closed incident."""
    actor.require(Perm.INCIDENT_CALLBACK)
    try:
        satisfaction = Satisfaction(satisfaction)
    except ValueError:
        raise ValidationFailed("满意度取值无效", "Invalid satisfaction", field="satisfaction") from None
    incident = _load(db, actor, incident_id)
    if incident.stage != Stage.CLOSED:
        raise InvalidTransition("警情结警后才能回访", "A callback is recorded only after the incident is closed")
    now = utcnow()
    callback = Callback(incident_id=incident.id, at=now, satisfaction=satisfaction,
                        note=note.strip() if note and note.strip() else None, by_id=actor.user_id)
    db.add(callback)
    _event(db, incident, EVENT_CALLBACK, actor=actor, at=now, note=SATISFACTION_LABELS[satisfaction][0])
    db.flush()
    return callback


# --- the escalation job and unit positions -------------------------------------------------


# Incidents flagged by one call without ids (the job worker hands the escalation job its own
# batches of ids: incident.module).
ESCALATION_BATCH = 50


def escalation_cutoffs(now: datetime) -> dict[int, datetime]:
    """Priority → the reception time before which an incident not yet accepted is overdue at ``now``."""
    targets = get_settings().accept_target_seconds
    return {p: now - timedelta(seconds=targets[p]) for p in ESCALATED_PRIORITIES if p in targets}


def escalate_overdue(*, db: Session, now: datetime, limit: int = ESCALATION_BATCH,
                     ids: Sequence[int] | None = None) -> list[int]:
    """Flag priority-1 and -2 incidents not accepted within their target (超时未签收预警), once each:
    at most ``limit`` of them (of ``ids`` when given: those still overdue), oldest first, in one
    UPDATE, each with its ``escalated`` event.

    Runs as the system (a job), bureau-wide. Returns the ids flagged.
    """
    targets = get_settings().accept_target_seconds
    flagged = repository.flag_unaccepted_unscoped(db=db, cutoffs=escalation_cutoffs(now), now=now,
                                                  limit=limit if ids is None else len(ids), ids=ids)
    for incident in flagged:  # a row with the incident's id and org unit, as _event reads them
        _event(db, incident, EVENT_ESCALATED, actor=None, at=now,
               note=f"超过 {targets[incident.priority]} 秒未签收 / not accepted within "
                    f"{targets[incident.priority]} s")
    db.flush()
    return [incident.id for incident in flagged]


def update_unit_position(*, db: Session, actor: Actor, unit_id: int, lat: float, lon: float) -> DutyUnit:
    """Report a duty unit's position (警力定位): by its own operator, or by whoever manages units
    in its jurisdiction."""
    if not (-90 <= lat <= 90):
        raise ValidationFailed("纬度应在 -90 到 90 之间", "lat must be between -90 and 90", field="lat")
    if not (-180 <= lon <= 180):
        raise ValidationFailed("经度应在 -180 到 180 之间", "lon must be between -180 and 180", field="lon")
    manages, operates = actor.can(Perm.UNIT_MANAGE), actor.can(Perm.ASSIGNMENT_OWN)
    if not manages and not operates:
        actor.require(Perm.UNIT_MANAGE)
    unit = org_repository.get_operated_unit(db=db, actor=actor, unit_id=unit_id) if operates else None
    if unit is None:
        visible = org_repository.get_unit(db=db, actor=actor, unit_id=unit_id)
        if visible is None:
            raise NotFound("警力不存在或不在辖区内", "No such duty unit in your jurisdiction")
        if not manages:
            raise Forbidden("只能上报本人所在警力的位置", "You may only report your own unit's position")
        unit = visible
    unit.lat, unit.lon, unit.position_at = lat, lon, utcnow()
    db.flush()
    return unit
