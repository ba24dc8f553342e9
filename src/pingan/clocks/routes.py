"""JSON API: clocks within the actor's jurisdiction, and the holiday table."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Path, Query, Response
from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.clocks import repository, service
from pingan.clocks.models import Clock
from pingan.clocks.schemas import (
    ClockDetail, ClockRead, ExtensionCreate, HolidayRead, HolidayWrite, HolidayYear, PauseCreate,
)
from pingan.db.types import MAX_ID
from pingan.errors import not_found
from pingan.web.deps import get_db, require
from pingan.web.routing import api_router

router = api_router(tags=["clocks"])

ClockId = Annotated[int, Path(ge=1, le=MAX_ID)]
Year = Annotated[int, Query(ge=2000, le=2100)]


def holiday_year(db: Session, year: int) -> HolidayYear:
    days = repository.holidays_of_year_unscoped(db=db, year=year)
    return HolidayYear(year=year, has_data=bool(days), days=[HolidayRead.model_validate(d) for d in days])


@router.get("/clocks/holidays", response_model=HolidayYear)
def list_holidays(year: Year, actor: Actor = Depends(require(Perm.CLOCK_READ)), db: Session = Depends(get_db)):
    return holiday_year(db, year)


@router.put("/clocks/holidays/{day}", response_model=HolidayRead)
def put_holiday(day: date, body: HolidayWrite, actor: Actor = Depends(require(Perm.CALENDAR_MANAGE)),
                db: Session = Depends(get_db)):
    return service.set_holiday(db=db, actor=actor, day=day, kind=body.kind, name=body.name)


@router.delete("/clocks/holidays/{day}", status_code=204)
def delete_holiday(day: date, actor: Actor = Depends(require(Perm.CALENDAR_MANAGE)), db: Session = Depends(get_db)):
    service.remove_holiday(db=db, actor=actor, day=day)
    return Response(status_code=204)


@router.get("/clocks", response_model=list[ClockRead])
def list_clocks(owner_module: str | None = Query(None, max_length=32), entity: str | None = Query(None, max_length=32),
                entity_id: int | None = Query(None, ge=1, le=MAX_ID),
                actor: Actor = Depends(require(Perm.CLOCK_READ)), db: Session = Depends(get_db)):
    return repository.list_clocks(db=db, actor=actor, owner_module=owner_module, entity=entity, entity_id=entity_id)


def _readable(db: Session, actor: Actor, clock_id: int) -> Clock:
    clock = repository.get_clock(db=db, actor=actor, clock_id=clock_id)
    if clock is None:
        raise not_found(Clock)
    return clock


def _detail(db: Session, clock: Clock) -> ClockDetail:
    return ClockDetail.model_validate({
        **ClockRead.model_validate(clock).model_dump(),
        "pauses": repository.pauses_unscoped(db=db, clock_id=clock.id),
        "extensions": repository.extensions_unscoped(db=db, clock_id=clock.id),
    })


@router.get("/clocks/{clock_id}", response_model=ClockDetail)
def get_clock(clock_id: ClockId, actor: Actor = Depends(require(Perm.CLOCK_READ)), db: Session = Depends(get_db)):
    return _detail(db, _readable(db, actor, clock_id))


@router.post("/clocks/{clock_id}/pause", response_model=ClockDetail)
def pause_clock(clock_id: ClockId, body: PauseCreate, actor: Actor = Depends(require(Perm.CLOCK_MANAGE)),
                db: Session = Depends(get_db)):
    clock = service.pause(db=db, actor=actor, clock=_readable(db, actor, clock_id), reason=body.reason)
    return _detail(db, clock)


@router.post("/clocks/{clock_id}/resume", response_model=ClockDetail)
def resume_clock(clock_id: ClockId, actor: Actor = Depends(require(Perm.CLOCK_MANAGE)), db: Session = Depends(get_db)):
    return _detail(db, service.resume(db=db, actor=actor, clock=_readable(db, actor, clock_id)))


@router.post("/clocks/{clock_id}/extend", response_model=ClockDetail)
def extend_clock(clock_id: ClockId, body: ExtensionCreate, actor: Actor = Depends(require(Perm.CLOCK_MANAGE)),
                 db: Session = Depends(get_db)):
    clock = service.extend(db=db, actor=actor, clock=_readable(db, actor, clock_id), amount=body.amount,
                           unit=body.unit, reason=body.reason, basis=body.basis)
    return _detail(db, clock)
