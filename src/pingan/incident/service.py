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
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.config import get_settings
from pingan.db.types import utcnow
from pingan.errors import Conflict, Forbidden, ValidationFailed, not_found
from pingan.geo import service as geo_service
from pingan.geo.spatial import haversine_m
from pingan.incident import repository
from pingan.incident.dispatch import eta_seconds
from pingan.incident.models import (
    ASSIGNMENT_STATES,
    INCIDENT_STAGES,
    OPEN_STAGES,
    Assignment,
    AssignmentStatus,
    Call,
    Callback,
    Disposition,
    Incident,
    Satisfaction,
    Stage,
    StageEvent,
    TimelineEvent,
    UnitTask,
)
from pingan.incident.schemas import CallCreate, IncidentCreate
from pingan.org import repository as org_repository
from pingan.org.models import UNIT_STATES, DutyUnit, UnitStatus

# Priorities whose incidents escalate when not accepted in time (一级、二级警情).
ESCALATED_PRIORITIES = (1, 2)

# Open incidents a further call may be about (可合并的警情): of the last hour, at the same
# standard address or within 300 m.
NEARBY_METRES = 300.0
NEARBY_WINDOW = timedelta(hours=1)
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


def _load(db: Session, actor: Actor, incident_id: int, *, for_update: bool = True) -> Incident:
    incident = repository.get_incident(db=db, actor=actor, incident_id=incident_id, for_update=for_update)
    if incident is None:
        raise not_found(Incident)
    return incident


def _event(db: Session, incident: Incident, stage: str, *, actor: Actor | None, at: datetime,
           assignment_id: int | None = None, note: str | None = None) -> StageEvent:
    event = StageEvent(incident_id=incident.id, assignment_id=assignment_id, org_unit_id=incident.org_unit_id,
                       stage=str(stage), at=at, actor_id=actor.user_id if actor else None,
                       note=note[:255] if note else None)
    db.add(event)
    return event


def _advance(db: Session, actor: Actor | None, incident: Incident, name: str, *, at: datetime,
             note: str | None = None, write_event: bool = True, step: bool = False) -> None:
    """Take the incident's transition ``name`` (INCIDENT_STAGES) if it may, stamping the time of
    the stage it reaches. ``step``: a step of another action (its permission already checked)."""
    to = INCIDENT_STAGES.check(name, None if step else actor, incident).target
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
    INCIDENT_STAGES.check("add_call", actor, incident)
    now = utcnow()
    call = Call(incident_id=incident.id, received_at=now, caller_phone=data.caller_phone,
                caller_name=data.caller_name, location_text=data.location_text, description=data.description,
                taker_id=actor.user_id)
    db.add(call)
    incident.call_count += 1
    _event(db, incident, TimelineEvent.CALL, actor=actor, at=now, note=f"第 {incident.call_count} 次来电")
    db.flush()
    return call


@dataclass(frozen=True)
class MergeCandidate:
    """An open incident a further call may be about: at the same standard address, or this far away."""

    incident: Incident
    same_address: bool
    distance_m: float | None


def merge_candidates(*, db: Session, actor: Actor, lat: float | None, lon: float | None,
                     address_id: int | None) -> list[MergeCandidate]:
    """The open incidents of the last hour at the same standard address or within 300 m of the
    point (可合并的警情), nearest first: what the call-taker may add a call to instead of opening
    another incident."""
    if address_id is None and (lat is None or lon is None):
        return []
    rows, _ = repository.list_incidents(db=db, actor=actor, stages=OPEN_STAGES, since=utcnow() - NEARBY_WINDOW,
                                        limit=200)
    found = []
    for incident in rows:
        same = address_id is not None and incident.address_id == address_id
        distance = None
        if None not in (incident.lat, incident.lon, lat, lon):
            distance = haversine_m(lat, lon, incident.lat, incident.lon)
        if same or (distance is not None and distance <= NEARBY_METRES):
            found.append(MergeCandidate(incident, same, 0.0 if same else distance))
    found.sort(key=lambda c: (c.distance_m, -c.incident.id))
    return found


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
    INCIDENT_STAGES.check("merge_into", actor, target, field="target")
    INCIDENT_STAGES.check("merge_away", actor, source, field="source_id")
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
    _event(db, source, TimelineEvent.MERGED, actor=actor, at=now, note=f"并入 {target.number}")
    _event(db, source, Stage.CLOSED, actor=actor, at=now, note=Disposition.DUPLICATE.zh)
    _event(db, target, TimelineEvent.MERGED, actor=actor, at=now, note=f"{source.number} 并入本警情（{len(calls)} 次来电）")
    db.flush()
    return target


# --- accepting and dispatching ---------------------------------------------------------------


def accept(*, db: Session, actor: Actor, incident_id: int) -> Incident:
    """Accept (签收) a received incident."""
    actor.require(Perm.INCIDENT_DISPATCH)
    incident = _load(db, actor, incident_id)
    _advance(db, actor, incident, "accept", at=utcnow())
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
    INCIDENT_STAGES.check("assign", actor, incident)
    unit = org_repository.get_unit(db=db, actor=actor, unit_id=unit_id)
    if unit is None:
        raise not_found(DutyUnit, field="unit_id")
    UNIT_STATES.check("claim", actor, unit, field="unit_id")
    if not org_repository.claim_unit_unscoped(db=db, unit_id=unit.id):  # another dispatcher claimed it meanwhile
        raise UNIT_STATES.refusal(UnitStatus.ASSIGNED, UNIT_STATES["claim"], field="unit_id")
    now = utcnow()
    if incident.stage == Stage.RECEIVED:
        _advance(db, actor, incident, "accept", at=now, note="派警时签收 / accepted on dispatch", step=True)
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
        raise UNIT_STATES.refusal(UnitStatus.ASSIGNED, UNIT_STATES["claim"], field="unit_id") from None
    if incident.stage == Stage.ACCEPTED:
        # the assignment's event below is also the incident's 'dispatched' stage event
        _advance(db, actor, incident, "dispatch", at=now, write_event=False, step=True)
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
        unit = org_repository.get_unit_unscoped(db=db, unit_id=assignment.unit_id)
        name = "clear" if assignment.status == AssignmentStatus.ARRIVED else "cancel"
        to = ASSIGNMENT_STATES.check(name, None, assignment).target
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
    step = ASSIGNMENT_STATES.transition_to(to)
    if step is None:
        raise ValidationFailed("目标状态无效", "Invalid target status", field="to")
    if not any(actor.can(p) for p in step.permissions):
        actor.require(step.permissions[0])
    found = repository.get_assignment(db=db, actor=actor, assignment_id=assignment_id)
    if found is None:
        raise not_found(Assignment)
    unit = org_repository.get_unit_unscoped(db=db, unit_id=found.unit_id)
    # lock the incident first, then the assignment (the order every writer uses)
    incident = _load(db, actor, found.incident_id)
    assignment = repository.get_assignment(db=db, actor=actor, assignment_id=assignment_id, for_update=True)
    ASSIGNMENT_STATES.check(step.name, actor, UnitTask.of(assignment, unit))
    now = utcnow()
    call_sign = unit.call_sign if unit else None
    if to in (AssignmentStatus.CLEARED, AssignmentStatus.CANCELLED):
        _release(db, actor, incident, assignment, to, at=now, note=call_sign)
        db.flush()
        if (to == AssignmentStatus.CLEARED and incident.stage == Stage.ARRIVED
                and not repository.active_assignments_unscoped(db=db, incident_id=incident.id)):
            _advance(db, actor, incident, "resolve", at=now, note="警力处置完毕 / units cleared", step=True)
        db.flush()
        return assignment
    assignment.status = to
    if to == AssignmentStatus.DEPARTED:
        assignment.departed_at = now
        if incident.stage == Stage.DISPATCHED:
            _advance(db, actor, incident, "depart", at=now, write_event=False, step=True)
    elif to == AssignmentStatus.ARRIVED:
        assignment.arrived_at = now
        if incident.stage == Stage.DISPATCHED:
            _advance(db, actor, incident, "depart", at=now, write_event=False, step=True)
        if incident.stage == Stage.DEPARTED:
            _advance(db, actor, incident, "arrive", at=now, write_event=False, step=True)
    _event(db, incident, to, actor=actor, at=now, assignment_id=assignment.id, note=call_sign)
    db.flush()
    return assignment


# --- resolving, closing, callbacks ---------------------------------------------------------

NOTE_LENGTH = 2000  # a closing or callback note (CloseRequest, CallbackCreate)


def _note_fits(note: str | None, name_zh: str) -> None:
    if note is not None and len(note) > NOTE_LENGTH:
        raise ValidationFailed(f"{name_zh}不超过 {NOTE_LENGTH} 字", f"The note may have at most {NOTE_LENGTH} characters",
                               field="note")


def resolve(*, db: Session, actor: Actor, incident_id: int, note: str | None = None) -> Incident:
    """Mark an incident handled (处置完毕)."""
    actor.require(Perm.INCIDENT_CLOSE)
    incident = _load(db, actor, incident_id)
    _advance(db, actor, incident, "resolve", at=utcnow(), note=note)
    db.flush()
    return incident


def close(*, db: Session, actor: Actor, incident_id: int, disposition: Disposition | str | None,
          note: str | None = None) -> Incident:
    """Close an incident with its disposition (结警). Units still on it are freed; an incident
    whose units departed or arrived is resolved on the way."""
    actor.require(Perm.INCIDENT_CLOSE)
    if disposition is None or disposition == "":
        raise ValidationFailed("结警须选择处警结果", "A disposition is required to close", field="disposition")
    _note_fits(note, "结警说明")
    try:
        disposition = Disposition(disposition)
    except ValueError:
        raise ValidationFailed("处警结果无效", "Invalid disposition", field="disposition") from None
    incident = _load(db, actor, incident_id)
    INCIDENT_STAGES.check("close", actor, incident)
    now = utcnow()
    if incident.stage in (Stage.DEPARTED, Stage.ARRIVED):
        _advance(db, actor, incident, "resolve", at=now, note="结警时处置完毕 / resolved on closing", step=True)
    _free_assignments(db, actor, incident, at=now)
    incident.disposition = disposition
    incident.disposition_note = note.strip() if note and note.strip() else None
    _advance(db, actor, incident, "close", at=now, note=disposition.zh, step=True)
    db.flush()
    return incident


def record_callback(*, db: Session, actor: Actor, incident_id: int, satisfaction: Satisfaction | str,
                    note: str | None = None) -> Callback:
    """Record a satisfaction callback to the caller (回访), for a closed incident."""
    actor.require(Perm.INCIDENT_CALLBACK)
    if satisfaction is None or satisfaction == "":
        raise ValidationFailed("请选择回访结果", "Choose the callback result", field="satisfaction")
    _note_fits(note, "回访说明")
    try:
        satisfaction = Satisfaction(satisfaction)
    except ValueError:
        raise ValidationFailed("满意度取值无效", "Invalid satisfaction", field="satisfaction") from None
    incident = _load(db, actor, incident_id)
    INCIDENT_STAGES.check("callback", actor, incident)
    now = utcnow()
    callback = Callback(incident_id=incident.id, at=now, satisfaction=satisfaction,
                        note=note.strip() if note and note.strip() else None, by_id=actor.user_id)
    db.add(callback)
    _event(db, incident, TimelineEvent.CALLBACK, actor=actor, at=now, note=satisfaction.zh)
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
        _event(db, incident, TimelineEvent.ESCALATED, actor=None, at=now,
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
            raise not_found(DutyUnit)
        if not manages:
            raise Forbidden("只能上报本人所在警力的位置", "You may only report your own unit's position")
        unit = visible
    unit.lat, unit.lon, unit.position_at = lat, lon, utcnow()
    db.flush()
    return unit
