"""Queries of the incident domain (接处警), always within what the actor may see.

An incident is visible to an actor when its responsible org unit is in the actor's subtree
(:func:`pingan.org.repository.subtree_ids`). A patrol officer also sees the incidents their
own duty unit was sent to, wherever they are, so they can follow and report on them.
Caller names and phones leave this module unmasked only through :func:`get_caller_contact`,
which requires a purpose and writes the read to the audit log.

Every read builds on one statement per entity (decision 0016): :func:`readable_incidents`, and
for an incident's calls, assignments, callbacks and stage events :func:`readable_of`, which joins
the readable incident. Functions named ``*_unscoped`` serve a caller that has already read the
incident through them (or the escalation job, which runs bureau-wide). Duty units are the org
package's (their status too): read and claimed through :mod:`pingan.org.repository`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import ColumnElement, Row, Select, and_, func, literal, literal_column, or_, select, true, update
from sqlalchemy.orm import Session, joinedload

from pingan.audit.mechanism import insert_new, record_read, record_updates
from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.db.types import utcnow
from pingan.errors import NotFound, ValidationFailed
from pingan.geo import repository as geo_repository
from pingan.incident.models import (
    OPEN_STAGES,
    Assignment,
    Call,
    Callback,
    Incident,
    IncidentCategory,
    Stage,
    StageEvent,
)
from pingan.org import repository as org_repository
from pingan.org.repository import subtree_ids

# --- visibility ----------------------------------------------------------------------------


def _own_incident_ids(actor: Actor) -> Select:
    """Ids of the incidents the actor's own duty unit was (ever) sent to."""
    return select(Assignment.incident_id).where(Assignment.unit_id.in_(org_repository.operated_unit_ids(actor)))


def _operates_units(actor: Actor) -> bool:
    return actor.user_id is not None and actor.can(Perm.ASSIGNMENT_OWN)


def incident_visible(actor: Actor) -> ColumnElement[bool]:
    """SQL condition: the actor may see this incident."""
    cond = Incident.org_unit_id.in_(subtree_ids(actor))
    if _operates_units(actor):
        cond = or_(cond, Incident.id.in_(_own_incident_ids(actor)))
    return cond


def _require_read(actor: Actor) -> None:
    actor.require(Perm.INCIDENT_READ)


def readable_incidents(actor: Actor) -> Select:
    """The incidents the actor may see: every incident read builds on this."""
    return select(Incident).where(incident_visible(actor))


def readable_events(actor: Actor) -> Select:
    """The stage events the actor may see by the org unit each was recorded in (the live stream
    reads them without a join: an event keeps the unit the incident had then)."""
    cond = StageEvent.org_unit_id.in_(subtree_ids(actor))
    if _operates_units(actor):
        cond = or_(cond, StageEvent.incident_id.in_(_own_incident_ids(actor)))
    return select(StageEvent).where(cond)


def readable_of(entity, actor: Actor) -> Select:
    """The rows of ``entity`` (Call, Assignment, Callback or StageEvent: an incident's parts) that
    belong to an incident the actor may see."""
    return select(entity).join(Incident, Incident.id == entity.incident_id).where(incident_visible(actor))


# --- incidents -----------------------------------------------------------------------------


def get_incident(*, db: Session, actor: Actor, incident_id: int, for_update: bool = False) -> Incident | None:
    """One incident the actor may see; ``for_update`` locks its row (PostgreSQL) and reloads it."""
    stmt = readable_incidents(actor).where(Incident.id == incident_id)
    if for_update:
        stmt = stmt.with_for_update(of=Incident).execution_options(populate_existing=True)
    else:
        stmt = stmt.options(joinedload(Incident.category))
    return db.scalar(stmt)


def find_by_idempotency_key(*, db: Session, actor: Actor, key: str) -> tuple[Incident | None, bool]:
    """(incident, visible) for an idempotency key; (None, False) when the key is new.

    An incident created under this key outside the actor's jurisdiction comes back as
    (None, True): the key is taken, but its record is not the actor's to see.
    """
    row = db.execute(
        select(Incident, incident_visible(actor).label("visible")).where(Incident.idempotency_key == key)
    ).first()
    if row is None:
        return None, False
    incident, visible = row
    return (incident, True) if visible else (None, True)


SEARCH_WINDOW = timedelta(days=90)


def _filtered_incidents(
    actor: Actor, *, stages=None, priority=None, category=None, since=None, until=None, q=None
) -> Select:
    _require_read(actor)
    stmt = readable_incidents(actor)
    if stages:
        stmt = stmt.where(Incident.stage.in_(list(stages)))
    if priority is not None:
        stmt = stmt.where(Incident.priority == priority)
    if category:
        # a top-level code ('20') takes its sub-categories ('2001' …) too
        stmt = stmt.where(or_(Incident.category_code == category,
                              Incident.category_code.in_(
                                  select(IncidentCategory.code).where(IncidentCategory.parent_code == category))))
    if since is not None:
        stmt = stmt.where(Incident.received_at >= since)
    if until is not None:
        stmt = stmt.where(Incident.received_at < until)
    if q:
        q = q.strip()
        # Free text is matched by scanning, so without a start date it looks at the last
        # SEARCH_WINDOW only (a city has a million incidents); an exact number is found at any age.
        text_from = since if since is not None else utcnow() - SEARCH_WINDOW
        stmt = stmt.where(or_(Incident.number == q,
                              and_(Incident.received_at >= text_from,
                                   or_(Incident.location_text.contains(q, autoescape=True),
                                       Incident.description.contains(q, autoescape=True)))))
    return stmt


def list_incidents(
    *, db: Session, actor: Actor, stages: list[Stage] | None = None, priority: int | None = None,
    category: str | None = None, since: datetime | None = None, until: datetime | None = None,
    q: str | None = None, limit: int = 50, offset: int = 0,
) -> tuple[list[Incident], int]:
    """A page of incidents, newest first, and the total matching."""
    stmt = _filtered_incidents(actor, stages=stages, priority=priority, category=category, since=since,
                               until=until, q=q)
    total = db.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    newest_first = (Incident.received_at.desc(), Incident.id.desc())
    # The page's ids first (from the (org_unit_id, received_at) index alone), then those rows:
    # sorting whole rows of a city's million incidents to keep fifty would read every one.
    page_ids = stmt.with_only_columns(Incident.id).order_by(*newest_first).limit(limit).offset(offset)
    rows = db.scalars(select(Incident).options(joinedload(Incident.category))
                      .where(Incident.id.in_(page_ids.scalar_subquery())).order_by(*newest_first))
    return list(rows), total


def list_by_ids(*, db: Session, actor: Actor, ids: list[int]) -> list[Incident]:
    """The incidents of ``ids`` the actor may see, in the order given (the records behind a
    statistic, whose ids come from the statistics store)."""
    _require_read(actor)
    if not ids:
        return []
    rows = db.scalars(readable_incidents(actor).options(joinedload(Incident.category)).where(Incident.id.in_(ids)))
    by_id = {row.id: row for row in rows}
    return [by_id[i] for i in ids if i in by_id]


def list_open_for_board(*, db: Session, actor: Actor, limit: int = 500) -> list[Incident]:
    """Incidents not yet closed, newest first, for the dispatcher's board (指挥调度台).

    The open incidents are a few hundred whatever the table's size, and the query names them
    twice so that SQLite reads only them with or without statistics: as the stages of the
    (stage, received_at) index — what its planner takes without statistics — and as the
    condition of their partial index ``ix_incident_open``, repeated word for word, which it takes
    once ``ANALYZE`` has counted that index. With statistics and the stages alone it took the org
    unit's or the time's index and read every incident the bureau ever took: 7 ms became 0.7–8 s
    on the city demo (``tests/incident/test_repository.py`` checks both plans)."""
    _require_read(actor)
    stmt = (readable_incidents(actor).options(joinedload(Incident.category))
            .where(Incident.stage.in_(OPEN_STAGES),
                   Incident.stage != literal_column(f"'{Stage.CLOSED.value}'"))
            .order_by(Incident.received_at.desc(), Incident.id.desc()).limit(limit))
    return list(db.scalars(stmt))


def list_categories_unscoped(*, db: Session) -> list[IncidentCategory]:
    """The category code table (reference data, the same for everyone)."""
    return list(db.scalars(select(IncidentCategory).order_by(IncidentCategory.sort, IncidentCategory.code)))


class NewIncidentIds(NamedTuple):
    incident: int
    call: int
    event: int


# The three ids a new incident needs (its number is made from the first).
def _new_id_columns(dialect: str) -> list:
    tables = (("incident_id", Incident), ("call_id", Call), ("event_id", StageEvent))
    if dialect == "postgresql":
        return [func.nextval(func.pg_get_serial_sequence(t.__tablename__, "id")).label(name) for name, t in tables]
    return [select(func.coalesce(func.max(t.id), 0) + 1).scalar_subquery().label(name) for name, t in tables]


@lru_cache
def _new_ids_statement(dialect: str) -> Select:
    return select(*_new_id_columns(dialect))


@lru_cache
def _new_ids_and_address_statement(dialect: str, address_statement: Select) -> Select:
    located = address_statement.subquery("located")
    one = select(literal(1).label("one")).subquery("one")
    return select(*_new_id_columns(dialect), *located.c).select_from(one).outerjoin(located, true())


def new_incident_ids(*, db: Session, actor: Actor | None = None,
                     address_id: int | None = None) -> tuple[NewIncidentIds, Row | None]:
    """Take the ids of a new incident, its first call and its ``received`` event before inserting
    them, so that the rows (the number included) and their audit rows go in whole, in one statement.
    Given an address, read its location in the same round trip, as
    :func:`pingan.geo.repository.address_location` does (None when the actor may not see it).

    PostgreSQL: from the tables' own sequences. SQLite: one past the highest ids — safe because
    every SQLite transaction here holds the write lock from BEGIN IMMEDIATE.
    """
    connection = db.connection()
    dialect = connection.dialect.name
    if address_id is None:
        return NewIncidentIds(*connection.execute(_new_ids_statement(dialect)).one()), None
    statement = _new_ids_and_address_statement(dialect, geo_repository.address_location_statement(actor))
    row = connection.execute(statement, geo_repository.address_location_params(actor, address_id)).one()
    return NewIncidentIds(*row[:3]), (row if row.id is not None else None)


def insert_new_incident_unscoped(*, db: Session, incident: Incident, call: Call, received: StageEvent) -> None:
    """Write a new incident with its first call and ``received`` event, and their audit rows,
    without the unit of work's bookkeeping (taking a call is the hot path): one statement on
    PostgreSQL, given the ids from :func:`new_incident_ids`. The service has placed the incident
    in the actor's jurisdiction."""
    insert_new(db, (incident, call, received))


# --- timeline, calls, assignments, callbacks of one visible incident ------------------------


def timeline(*, db: Session, actor: Actor, incident_id: int) -> list[StageEvent]:
    """The stage events of an incident in order (时间轴)."""
    _require_read(actor)
    stmt = (readable_of(StageEvent, actor).where(StageEvent.incident_id == incident_id)
            .order_by(StageEvent.at, StageEvent.id))
    return list(db.scalars(stmt))


def assignments_of(*, db: Session, actor: Actor, incident_id: int) -> list[Assignment]:
    _require_read(actor)
    stmt = (readable_of(Assignment, actor).where(Assignment.incident_id == incident_id)
            .order_by(Assignment.dispatched_at, Assignment.id))
    return list(db.scalars(stmt))


def assignment_units(*, db: Session, actor: Actor, incident_id: int) -> dict:
    """The duty units sent to a visible incident, by unit id (for call signs on its timeline),
    read from the org package, wherever they belong, in one statement."""
    _require_read(actor)
    unit_ids = readable_of(Assignment, actor).with_only_columns(Assignment.unit_id).where(
        Assignment.incident_id == incident_id)
    return org_repository.units_by_ids_unscoped(db=db, ids=unit_ids)


def calls_of(*, db: Session, actor: Actor, incident_id: int) -> list[Call]:
    """The calls of an incident. Caller fields are raw here: read schemas mask them."""
    _require_read(actor)
    stmt = readable_of(Call, actor).where(Call.incident_id == incident_id).order_by(Call.received_at, Call.id)
    return list(db.scalars(stmt))


def callbacks_of(*, db: Session, actor: Actor, incident_id: int) -> list[Callback]:
    _require_read(actor)
    stmt = (readable_of(Callback, actor).where(Callback.incident_id == incident_id)
            .order_by(Callback.at, Callback.id))
    return list(db.scalars(stmt))


def get_assignment(*, db: Session, actor: Actor, assignment_id: int, for_update: bool = False) -> Assignment | None:
    """An assignment of an incident the actor may see."""
    stmt = readable_of(Assignment, actor).where(Assignment.id == assignment_id)
    if for_update:
        stmt = stmt.with_for_update(of=Assignment).execution_options(populate_existing=True)
    return db.scalar(stmt)


def active_assignments_unscoped(*, db: Session, incident_id: int) -> list[Assignment]:
    """The active assignments of an incident the caller has already checked is visible."""
    return list(db.scalars(select(Assignment).where(Assignment.incident_id == incident_id,
                                                    Assignment.active.is_(True)).order_by(Assignment.id)))


def active_assignment_of_unit_unscoped(*, db: Session, unit_id: int) -> Assignment | None:
    """The one active assignment of a duty unit, if any."""
    return db.scalar(select(Assignment).where(Assignment.unit_id == unit_id, Assignment.active.is_(True)))


def assignment_for_operator(*, db: Session, actor: Actor) -> Assignment | None:
    """The active assignment of the duty unit the actor operates (the patrol page's task)."""
    if actor.user_id is None:
        return None
    stmt = (select(Assignment).where(Assignment.unit_id.in_(org_repository.operated_unit_ids(actor)),
                                     Assignment.active.is_(True))
            .order_by(Assignment.id.desc()))
    return db.scalars(stmt).first()


def active_tasks(actor: Actor) -> Select:
    """(unit_id, assignment_id, assignment_status, incident_id, incident_number) of the active
    assignments of the incidents the actor may see: a duty unit's current task, for the org
    package's units page to join."""
    return (readable_of(Assignment, actor)
            .with_only_columns(Assignment.unit_id, Assignment.id.label("assignment_id"),
                               Assignment.status.label("assignment_status"), Incident.id.label("incident_id"),
                               Incident.number.label("incident_number"))
            .where(Assignment.active.is_(True)))


def calls_for_update_unscoped(*, db: Session, incident_id: int) -> list[Call]:
    """The calls of an incident the caller has already checked is visible (to move them on merge)."""
    return list(db.scalars(select(Call).where(Call.incident_id == incident_id).order_by(Call.id)))


# --- the live stream and jobs ----------------------------------------------------------------


def events_since(*, db: Session, actor: Actor, last_id: int, limit: int = 200) -> list[StageEvent]:
    """Stage events after ``last_id`` that the actor may see, oldest first (for the live stream)."""
    _require_read(actor)
    stmt = readable_events(actor).where(StageEvent.id > last_id).order_by(StageEvent.id).limit(limit)
    return list(db.scalars(stmt))


def latest_event_id_unscoped(*, db: Session) -> int:
    """The highest stage-event id (where a fresh stream starts); reveals no record."""
    return db.scalar(select(func.max(StageEvent.id))) or 0


def flag_unaccepted_unscoped(*, db: Session, cutoffs: dict[int, datetime], now: datetime, limit: int,
                             ids: Sequence[int] | None = None) -> list[Row]:
    """Bureau-wide, for the escalation job only: stamp ``escalated_at`` on up to ``limit``
    incidents (of ``ids`` when given) still ``received``, not yet escalated, received before the
    cutoff of their priority, in one UPDATE, with their audit rows; rows another job holds are
    skipped. Returns (id, org_unit_id, priority) of each, in id order. Incidents loaded in the
    session get the stamp too."""
    if not cutoffs:
        return []
    chosen = select(Incident.id).where(_unaccepted_overdue(cutoffs))
    if ids is not None:
        chosen = chosen.where(Incident.id.in_(list(ids)))
    chosen = chosen.order_by(Incident.id).limit(limit).with_for_update(skip_locked=True)
    stmt = (update(Incident).where(Incident.id.in_(chosen.scalar_subquery()))
            .values(escalated_at=now, updated_at=now)
            .returning(Incident.id, Incident.org_unit_id, Incident.priority))
    rows = sorted(db.execute(stmt, execution_options={"synchronize_session": "fetch"}).all())
    record_updates(db, Incident, (row.id for row in rows), {"escalated_at": None}, {"escalated_at": now})
    return rows


# --- the one unmasked read of the caller ---------------------------------------------------


@dataclass(frozen=True)
class CallerContact:
    incident_id: int
    caller_name: str | None
    caller_phone: str | None
    # (call id, name, phone) of every call of the incident
    calls: list[tuple[int, str | None, str | None]] = field(default_factory=list)


def get_caller_contact(*, db: Session, actor: Actor, incident_id: int, purpose: str) -> CallerContact:
    """The caller's name and phone unmasked (报警人联系方式). Needs Perm.PERSONAL_READ and a
    purpose; the read is written to the audit log with that purpose."""
    actor.require(Perm.PERSONAL_READ)
    purpose = (purpose or "").strip()
    if len(purpose) < 2:
        raise ValidationFailed("请填写查看事由", "A purpose is required", field="purpose")
    incident = db.scalar(readable_incidents(actor).where(Incident.id == incident_id))
    if incident is None:
        raise NotFound("警情不存在或不在辖区内", "No such incident in your jurisdiction")
    calls = db.execute(select(Call.id, Call.caller_name, Call.caller_phone)
                       .where(Call.incident_id == incident_id).order_by(Call.id)).all()
    record_read(db, entity=Incident.__tablename__, entity_id=incident_id,
                fields=["caller_name", "caller_phone", "call.caller_name", "call.caller_phone"],
                purpose=purpose[:200])
    return CallerContact(incident_id=incident.id, caller_name=incident.caller_name,
                         caller_phone=incident.caller_phone, calls=[tuple(c) for c in calls])


# --- the escalation job's due step ---------------------------------------------------------


def _unaccepted_overdue(cutoffs: dict[int, datetime]) -> ColumnElement[bool]:
    """Still ``received``, not yet escalated, received before the cutoff of its priority."""
    by_priority = or_(*(and_(Incident.priority == p, Incident.received_at < cutoff) for p, cutoff in cutoffs.items()))
    return and_(Incident.stage == Stage.RECEIVED, Incident.escalated_at.is_(None), by_priority)


def unaccepted_overdue_ids_unscoped(*, db: Session, cutoffs: dict[int, datetime]) -> list[int]:
    """Bureau-wide, for the escalation job only (its ``due`` step): the ids of every incident
    :func:`flag_unaccepted_unscoped` would flag, in id order."""
    if not cutoffs:
        return []
    return list(db.scalars(select(Incident.id).where(_unaccepted_overdue(cutoffs)).order_by(Incident.id)))


# --- the live stream's poll ------------------------------------------------------------------


class StreamEvent(NamedTuple):
    """A stage event as the live stream's poller reads it: what the board is sent, and what the
    stream needs to decide in memory who may see it (``incident.stream.visible_to``)."""

    id: int
    incident_id: int
    stage: str
    assignment_id: int | None
    at: datetime
    org_path: str | None  # the path of the event's org unit
    operators: frozenset[int]  # users operating a duty unit ever sent to the incident


def stream_events_unscoped(*, db: Session, after: int, limit: int) -> list[StreamEvent]:
    """Bureau-wide, for the live stream's one poller per process, which filters them per stream in
    memory (by the same rule as :func:`_event_visible`): up to ``limit`` stage events after
    ``after``, oldest first, in one statement."""
    events = select(StageEvent.id, StageEvent.incident_id, StageEvent.stage, StageEvent.assignment_id, StageEvent.at)
    events, path = org_repository.join_org_path_unscoped(events, StageEvent.org_unit_id)
    events = events.add_columns(path.label("org_path")).where(StageEvent.id > after).order_by(StageEvent.id).limit(limit).subquery()
    operators_of = org_repository.unit_operators_unscoped().subquery()
    stmt = (select(events, operators_of.c.operator_user_id)
            .outerjoin(Assignment, Assignment.incident_id == events.c.incident_id)
            .outerjoin(operators_of, operators_of.c.unit_id == Assignment.unit_id)
            .order_by(events.c.id))
    rows: dict[int, tuple] = {}
    operators: dict[int, set[int]] = {}
    for row in db.execute(stmt):
        rows.setdefault(row.id, tuple(row)[:6])
        if row.operator_user_id is not None:
            operators.setdefault(row.id, set()).add(row.operator_user_id)
    return [StreamEvent(*fields, frozenset(operators.get(event_id, ()))) for event_id, fields in rows.items()]
