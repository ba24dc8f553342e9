"""Reads of clocks within the actor's jurisdiction (the org unit a clock belongs to), and the
holiday table (bureau-wide reference data: its functions say so)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, extract, select
from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.clocks.models import Clock, ClockExtension, ClockPause, Holiday
from pingan.org.repository import subtree_ids


def readable_clocks(actor: Actor) -> Select:
    """The clocks of the actor's subtree: every clock read builds on this."""
    return select(Clock).where(Clock.org_unit_id.in_(subtree_ids(actor)))


def get_clock(*, db: Session, actor: Actor, clock_id: int) -> Clock | None:
    return db.scalar(readable_clocks(actor).where(Clock.id == clock_id))


def list_clocks(*, db: Session, actor: Actor, owner_module: str | None = None, entity: str | None = None,
                entity_id: int | None = None, limit: int = 200) -> list[Clock]:
    stmt = readable_clocks(actor)
    if owner_module is not None:
        stmt = stmt.where(Clock.owner_module == owner_module)
    if entity is not None:
        stmt = stmt.where(Clock.entity == entity)
    if entity_id is not None:
        stmt = stmt.where(Clock.entity_id == entity_id)
    return list(db.scalars(stmt.order_by(Clock.due_at, Clock.id).limit(limit)))


def pauses_unscoped(*, db: Session, clock_id: int) -> list[ClockPause]:
    """The pauses of a clock the caller has already read through ``get_clock``."""
    return list(db.scalars(select(ClockPause).where(ClockPause.clock_id == clock_id).order_by(ClockPause.id)))


def extensions_unscoped(*, db: Session, clock_id: int) -> list[ClockExtension]:
    """The extensions of a clock the caller has already read through ``get_clock``."""
    return list(db.scalars(select(ClockExtension).where(ClockExtension.clock_id == clock_id)
                           .order_by(ClockExtension.id)))


def holidays_of_year_unscoped(*, db: Session, year: int) -> list[Holiday]:
    """The holiday table's days of ``year`` (the calendar is the same for the whole bureau)."""
    return list(db.scalars(select(Holiday).where(extract("year", Holiday.day) == year).order_by(Holiday.day)))


def holiday_years_unscoped(*, db: Session) -> list[int]:
    """The years the table holds data for."""
    return sorted({int(y) for y in db.scalars(select(extract("year", Holiday.day)).distinct())})


def get_holiday_unscoped(*, db: Session, day: date) -> Holiday | None:
    return db.scalar(select(Holiday).where(Holiday.day == day))
