"""Clocks: start one, pause / resume / extend / meet / supersede it, and the holiday table's
edits, after which every open clock depending on the calendar is recomputed. Services flush,
never commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.clocks import repository, system
from pingan.clocks.models import CLOCK_STATES, Clock, ClockExtension, ClockPause, ClockState, Holiday
from pingan.clocks.rules import Calendar, DayKind, Due, Extension, Pause, Rule, Unit, compute_due
from pingan.clocks.types import clock_type
from pingan.config import get_settings
from pingan.db.types import utcnow
from pingan.errors import NotFound, ValidationFailed


@lru_cache(maxsize=4)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local(t: datetime) -> datetime:
    """A UTC instant as the bureau's local wall time (naive), as the rules count."""
    return t.astimezone(_zone(get_settings().timezone)).replace(tzinfo=None)


def instant(t: datetime) -> datetime:
    """The bureau's local wall time (naive) as a UTC instant."""
    return t.replace(tzinfo=_zone(get_settings().timezone)).astimezone(UTC)


def rule_of(clock) -> Rule:
    return Rule(clock.amount, Unit(clock.unit), bool(clock.legal), bool(clock.in_custody))


def due_of(clock, calendar: Calendar, pauses: Sequence = (), extensions: Sequence = ()) -> Due:
    """The due time of a stored clock (its rows of pauses and extensions), in local time."""
    return compute_due(
        local(clock.started_at), rule_of(clock), calendar,
        [Pause(local(p.started_at), local(p.ended_at) if p.ended_at else None, p.reason) for p in pauses],
        [Extension(Rule(e.amount, Unit(e.unit)), e.approver, e.reason, e.basis) for e in extensions])


def _times(clock_type_name: str, due: Due) -> dict:
    """The stored columns of a computed due time."""
    if due.due_at is None:
        return {"due_at": None, "warn_at": None, "provisional": due.provisional, "zh": due.zh, "en": due.en}
    at = instant(due.due_at)
    return {"due_at": at, "warn_at": at - clock_type(clock_type_name).lead, "provisional": due.provisional,
            "zh": due.zh[:1000], "en": due.en[:1000]}


def _apply(clock: Clock, times: dict) -> None:
    clock.due_at, clock.warn_at, clock.provisional = times["due_at"], times["warn_at"], times["provisional"]
    clock.explanation_zh, clock.explanation_en = times["zh"], times["en"]


def _refresh(db: Session, clock: Clock, calendar: Calendar | None = None) -> None:
    calendar = calendar or system.calendar_unscoped(db=db)
    due = due_of(clock, calendar, repository.pauses_unscoped(db=db, clock_id=clock.id),
                 repository.extensions_unscoped(db=db, clock_id=clock.id))
    _apply(clock, _times(clock.clock_type, due))


def start_clock(*, db: Session, owner_module: str, entity: str, entity_id: int, org_unit_id: int,
                clock_type_name: str, started_at: datetime, in_custody: bool | None = None) -> Clock:
    """Start a clock of a declared type for a module's record (called by the owning module's service)."""
    kind = clock_type(clock_type_name)
    rule = kind.rule if in_custody is None else Rule(kind.rule.amount, kind.rule.unit, kind.rule.legal, in_custody)
    clock = Clock(owner_module=owner_module, entity=entity, entity_id=entity_id, org_unit_id=org_unit_id,
                  clock_type=kind.name, started_at=started_at, amount=rule.amount, unit=rule.unit,
                  legal=rule.legal, in_custody=rule.in_custody, calendar_dependent=rule.depends_on_calendar(),
                  state=ClockState.RUNNING)
    db.add(clock)
    db.flush()
    _refresh(db, clock)
    db.flush()
    return clock


def pause(*, db: Session, actor: Actor, clock: Clock, reason: str, at: datetime | None = None) -> Clock:
    CLOCK_STATES.check("pause", actor, clock)
    db.add(ClockPause(clock_id=clock.id, started_at=at or utcnow(), reason=reason))
    clock.state = ClockState.PAUSED
    db.flush()
    _refresh(db, clock)
    db.flush()
    return clock


def resume(*, db: Session, actor: Actor, clock: Clock, at: datetime | None = None) -> Clock:
    CLOCK_STATES.check("resume", actor, clock)
    at = at or utcnow()
    open_pause = repository.pauses_unscoped(db=db, clock_id=clock.id)[-1]
    if at < open_pause.started_at:
        raise ValidationFailed("恢复时间早于中止时间", "A clock cannot resume before it was paused", field="at")
    open_pause.ended_at = at
    clock.state = ClockState.RUNNING
    db.flush()
    _refresh(db, clock)
    _restate(clock, utcnow())
    db.flush()
    return clock


def extend(*, db: Session, actor: Actor, clock: Clock, amount: int, unit: Unit, reason: str, basis: str) -> Clock:
    """An extension approved by ``actor``: the new period counted from the clock's start."""
    CLOCK_STATES.check("extend", actor, clock)
    db.add(ClockExtension(clock_id=clock.id, amount=amount, unit=unit, approver=actor.display_name or actor.username,
                          reason=reason, basis=basis, approved_at=utcnow()))
    if unit is Unit.WORKING_DAYS or (clock.legal and not clock.in_custody and unit in (Unit.DAYS, Unit.MONTHS)):
        clock.calendar_dependent = True
    db.flush()
    _refresh(db, clock)
    _restate(clock, utcnow())
    db.flush()
    return clock


def meet(*, db: Session, clock: Clock, at: datetime | None = None) -> Clock:
    """The act the clock waited for happened (called by the owning module)."""
    at = at or utcnow()
    late = clock.state is ClockState.OVERDUE or (clock.due_at is not None and at > clock.due_at)
    CLOCK_STATES.check("meet_late" if clock.state is ClockState.OVERDUE else "meet", None, clock)
    clock.state, clock.met_at = (ClockState.MET_LATE if late else ClockState.MET), at
    db.flush()
    return clock


def supersede(*, db: Session, clock: Clock, by: Clock) -> Clock:
    """A later act replaces the clock (a detention converted to arrest: the arrest's clock)."""
    CLOCK_STATES.check("supersede", None, clock)
    clock.state, clock.superseded_by_id = ClockState.SUPERSEDED, by.id
    db.flush()
    return clock


def _restate(clock: Clock, now: datetime) -> None:
    """An open, ticking clock's state from its (new) times."""
    if clock.state not in (ClockState.RUNNING, ClockState.DUE_SOON, ClockState.OVERDUE) or clock.due_at is None:
        return
    clock.state = (ClockState.OVERDUE if clock.due_at <= now
                   else ClockState.DUE_SOON if clock.warn_at <= now else ClockState.RUNNING)


# --- the holiday table --------------------------------------------------------------------------

class HolidayNotFound(NotFound):
    pass


def set_holiday(*, db: Session, actor: Actor, day: date, kind: DayKind, name: str) -> Holiday:
    """Add or change a day of the official arrangement (audited), then recompute the open clocks."""
    actor.require(Perm.CALENDAR_MANAGE)
    name = name.strip()
    if not name or len(name) > 40:
        raise ValidationFailed("请填写名称（不超过40字）", "Give a name (up to 40 characters)", field="name")
    if kind is DayKind.WORKDAY and day.weekday() < 5:
        raise ValidationFailed("调休上班日应为周六或周日", "A make-up working day is a Saturday or a Sunday",
                               field="kind")
    row = repository.get_holiday_unscoped(db=db, day=day)
    if row is None:
        row = Holiday(day=day, kind=kind, name=name, source="admin")
        db.add(row)
    else:
        row.kind, row.name, row.source = kind, name, "admin"
    db.flush()
    recompute_open_clocks(db=db)
    return row


def remove_holiday(*, db: Session, actor: Actor, day: date) -> None:
    actor.require(Perm.CALENDAR_MANAGE)
    row = repository.get_holiday_unscoped(db=db, day=day)
    if row is None:
        raise HolidayNotFound("节假日表中没有该日期", "That day is not in the holiday table", field="day")
    db.delete(row)
    db.flush()
    recompute_open_clocks(db=db)


def recompute_open_clocks(*, db: Session, now: datetime | None = None, page: int = 5000,
                          calendar_only: bool = True) -> int:
    """Recompute every open clock whose due time depends on the calendar (every open clock with
    ``calendar_only`` False: clocks written in bulk); write those that changed (one executemany
    a page). Returns how many changed."""
    now = now or utcnow()
    calendar = system.calendar_unscoped(db=db)
    changed, after = 0, 0
    while True:
        rows = system.open_calendar_clocks_unscoped(db=db, after=after, limit=page, calendar_only=calendar_only)
        if not rows:
            return changed
        after = rows[-1].id
        pauses, extensions = system.pauses_and_extensions_unscoped(db=db, clock_ids=[r.id for r in rows])
        updates = []
        for r in rows:
            times = _times(r.clock_type, due_of(r, calendar, pauses.get(r.id, ()), extensions.get(r.id, ())))
            if times["due_at"] != r.due_at or times["provisional"] != r.provisional:
                state = ClockState(r.state)
                if state is not ClockState.PAUSED:
                    state = (ClockState.OVERDUE if times["due_at"] <= now
                             else ClockState.DUE_SOON if times["warn_at"] <= now else ClockState.RUNNING)
                updates.append({"id": r.id, **times, "state": state.value})
        system.store_due_times_unscoped(db=db, rows=updates)
        changed += len(updates)


def flag_turning(*, db: Session, ids: Sequence[int], now: datetime) -> list[int]:
    return system.flag_unscoped(db=db, ids=ids, now=now)
