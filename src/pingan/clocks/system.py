"""Reads and writes of the clocks' tables that serve the machinery (the seed, the recompute after
a holiday change, the flagging job): bureau-wide, no actor."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import and_, bindparam, case, or_, select, true, update
from sqlalchemy.orm import Session

from pingan.clocks.models import OPEN_STATES, Clock, ClockExtension, ClockPause, ClockState, Holiday
from pingan.clocks.rules import Calendar, DayKind, calendar_of


def calendar_unscoped(*, db: Session) -> Calendar:
    return calendar_of(db.execute(select(Holiday.day, Holiday.kind, Holiday.name)).all())


def seed_holidays_unscoped(*, db: Session, rows: Iterable[tuple[date, DayKind, str]]) -> int:
    """Add the package's days the table does not hold yet; a day already there (the package's or
    an admin's) is kept. Returns how many were added."""
    rows = list(rows)
    if not rows:
        return 0
    held = set(db.scalars(select(Holiday.day).where(Holiday.day >= rows[0][0])))
    new = [Holiday(day=d, kind=k, name=n, source="package") for d, k, n in rows if d not in held]
    db.add_all(new)
    db.flush()
    return len(new)


def open_calendar_clocks_unscoped(*, db: Session, after: int = 0, limit: int = 5000,
                                  calendar_only: bool = True) -> list:
    """A page (by id) of the open clocks whose due time depends on the calendar (every open clock
    with ``calendar_only`` False), with what computing it needs: (id, clock_type, started_at, amount, unit, legal, in_custody, due_at,
    warn_at, provisional, state)."""
    return db.execute(
        select(Clock.id, Clock.clock_type, Clock.started_at, Clock.amount, Clock.unit, Clock.legal,
               Clock.in_custody, Clock.due_at, Clock.warn_at, Clock.provisional, Clock.state)
        .where(Clock.calendar_dependent.is_(True) if calendar_only else true(),
               Clock.state.in_(OPEN_STATES), Clock.id > after)
        .order_by(Clock.id).limit(limit)).all()


def pauses_and_extensions_unscoped(*, db: Session, clock_ids: Sequence[int]) -> tuple[dict, dict]:
    """{clock id: [pause rows]}, {clock id: [extension rows]} of ``clock_ids``, in order."""
    pauses: dict[int, list[ClockPause]] = {}
    extensions: dict[int, list[ClockExtension]] = {}
    if not clock_ids:
        return pauses, extensions
    for p in db.scalars(select(ClockPause).where(ClockPause.clock_id.in_(clock_ids)).order_by(ClockPause.id)):
        pauses.setdefault(p.clock_id, []).append(p)
    for e in db.scalars(select(ClockExtension).where(ClockExtension.clock_id.in_(clock_ids))
                        .order_by(ClockExtension.id)):
        extensions.setdefault(e.clock_id, []).append(e)
    return pauses, extensions


def store_due_times_unscoped(*, db: Session, rows: Sequence[dict]) -> None:
    """Write recomputed due times: rows of {id, due_at, warn_at, provisional, zh, en, state}, one
    executemany."""
    if not rows:
        return
    db.connection().execute(
        update(Clock.__table__).where(Clock.__table__.c.id == bindparam("b_id")).values(
            due_at=bindparam("due_at"), warn_at=bindparam("warn_at"), provisional=bindparam("provisional"),
            explanation_zh=bindparam("zh"), explanation_en=bindparam("en"), state=bindparam("state")),
        [{"b_id": r["id"], **{k: v for k, v in r.items() if k != "id"}} for r in rows])


def turning_ids_unscoped(*, db: Session, now: datetime) -> list[int]:
    """The open clocks turning due soon or overdue at ``now`` (the flagging job's ``due``)."""
    return list(db.scalars(select(Clock.__table__.c.id).where(_turning(now))))


def flag_unscoped(*, db: Session, ids: Sequence[int], now: datetime) -> list[int]:
    """Move those of ``ids`` still turning at ``now`` to overdue (past their due time) or due
    soon (past their warning time), in one UPDATE; returns the ids moved."""
    if not ids:
        return []
    c = Clock.__table__.c
    return list(db.execute(update(Clock.__table__).where(c.id.in_(ids), _turning(now)).values(
        state=case((c.due_at <= now, ClockState.OVERDUE.value), else_=ClockState.DUE_SOON.value),
        updated_at=now).returning(c.id)).scalars())


def _turning(now: datetime):
    c = Clock.__table__.c
    return or_(and_(c.state == ClockState.RUNNING.value, c.warn_at <= now),
               and_(c.state.in_((ClockState.RUNNING.value, ClockState.DUE_SOON.value)), c.due_at <= now))
