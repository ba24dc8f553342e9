"""HTML: the holiday table (节假日表, a year at a time, edited by the bureau admin) and a clock's
explanation, a fragment other modules' pages include (``hx-get="/clocks/<id>/explanation"``).
Every edit runs through ``web.actions``; the page never touches the transaction."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.clocks import repository, service
from pingan.clocks.models import Clock
from pingan.clocks.rules import DayKind
from pingan.db.types import MAX_ID, utcnow
from pingan.errors import DomainError, ValidationFailed, not_found
from pingan.web.actions import form_action
from pingan.web.deps import get_db, require
from pingan.web.routing import api_router
from pingan.web.templating import render

router = api_router()


def _year_page(request: Request, db: Session, year: int, *, form: dict | None = None,
               error: DomainError | None = None, status: int = 200):
    return render(request, "clocks/holidays.html", {
        "year": year, "days": repository.holidays_of_year_unscoped(db=db, year=year),
        "years": repository.holiday_years_unscoped(db=db), "kinds": DayKind,
        "form": form or {}, "error": error,
    }, status_code=status)


@router.get("/clocks/holidays")
def holidays_page(request: Request, year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
                  actor: Actor = Depends(require(Perm.CALENDAR_MANAGE)), db: Session = Depends(get_db)):
    return _year_page(request, db, year or service.local(utcnow()).year)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed("日期格式应为 YYYY-MM-DD", "A date is written YYYY-MM-DD", field="day") from None


def _kind(text: str) -> DayKind:
    try:
        return DayKind(text)
    except ValueError:
        raise ValidationFailed("请选择类型", "Choose a kind", field="kind") from None


@router.post("/clocks/holidays")
def holiday_submit(request: Request, day: str = Form("", max_length=10), kind: str = Form("", max_length=16),
                   name: str = Form("", max_length=40), actor: Actor = Depends(require(Perm.CALENDAR_MANAGE)),
                   db: Session = Depends(get_db)):
    """添加或修改一天."""
    form = {"day": day, "kind": kind, "name": name}
    shown = day[:4] if day[:4].isdigit() else str(service.local(utcnow()).year)
    return form_action(
        db, lambda: service.set_holiday(db=db, actor=actor, day=_day(day), kind=_kind(kind), name=name),
        done=lambda row: RedirectResponse(f"/clocks/holidays?year={row.day.year}", status_code=303),
        refused=lambda exc: _year_page(request, db, int(shown), form=form, error=exc, status=exc.status_code))


@router.post("/clocks/holidays/{day}/delete")
def holiday_delete(request: Request, day: date, actor: Actor = Depends(require(Perm.CALENDAR_MANAGE)),
                   db: Session = Depends(get_db)):
    """删除一天."""
    return form_action(
        db, lambda: service.remove_holiday(db=db, actor=actor, day=day),
        done=lambda _none: RedirectResponse(f"/clocks/holidays?year={day.year}", status_code=303),
        refused=lambda exc: _year_page(request, db, day.year, error=exc, status=exc.status_code))


@router.get("/clocks/{clock_id}/explanation")
def clock_explanation(request: Request, clock_id: Annotated[int, PathParam(ge=1, le=MAX_ID)],
                      actor: Actor = Depends(require(Perm.CLOCK_READ)), db: Session = Depends(get_db)):
    """A clock's state, due time and the words explaining it: a fragment to include."""
    clock = repository.get_clock(db=db, actor=actor, clock_id=clock_id)
    if clock is None:
        raise not_found(Clock)
    return render(request, "clocks/_explanation.html", {
        "clock": clock, "extensions": repository.extensions_unscoped(db=db, clock_id=clock.id),
    })
