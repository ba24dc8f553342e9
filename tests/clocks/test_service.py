"""Clocks in the database: started with their due time, paused and resumed, extended, met, and
recomputed when the holiday table changes (the change audited); the flagging job."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from pingan.audit.models import AuditLog
from pingan.clocks import jobs, repository, service
from pingan.clocks.models import ClockState
from pingan.clocks.rules import DayKind, Unit
from pingan.errors import Forbidden, InvalidTransition


def test_the_seed_holds_the_package_years_and_no_later_one(db):
    years = repository.holiday_years_unscoped(db=db)
    assert 2026 in years and 2027 not in years
    national_day = {h.day: h for h in repository.holidays_of_year_unscoped(db=db, year=2026)}
    assert national_day[date(2026, 10, 1)].name == "国庆节"
    assert national_day[date(2026, 10, 10)].kind is DayKind.WORKDAY  # the make-up Saturday


def test_a_clock_is_stored_with_its_due_time_and_explanation(db, make_clock):
    # 3 days from 09-30 18:00 (Beijing time): 10-01..10-03; held → end of 10-03; released
    # (the example) → 10-03 is in National Day, the first working day is 10-08 → end of 10-08
    held = make_clock("criminal_detention", datetime(2026, 9, 30, 18))
    assert held.state is ClockState.RUNNING and not held.calendar_dependent
    assert service.local(held.due_at) == datetime(2026, 10, 4)
    assert "因在押不顺延" in held.explanation_zh and held.warn_at == held.due_at - timedelta(hours=12)
    released = make_clock("criminal_detention", datetime(2026, 9, 30, 18), in_custody=False)
    assert released.calendar_dependent and service.local(released.due_at) == datetime(2026, 10, 9)
    assert released.explanation_zh.startswith("自2026年9月30日18时起算，3日")
    assert "遇国庆节假期顺延至10月8日" in released.explanation_zh


def test_a_holiday_change_is_audited_and_recomputes_the_open_clocks(db, actors, make_clock):
    # 5 working days from Thursday 2026-10-08 → 10-09, 10-10 (make-up Saturday), 10-12, 10-13, 10-14
    clock = make_clock("service_limit", datetime(2026, 10, 8, 9))
    met = make_clock("service_limit", datetime(2026, 10, 8, 9))
    service.meet(db=db, clock=met, at=service.instant(datetime(2026, 10, 9, 10)))
    assert service.local(clock.due_at) == datetime(2026, 10, 15)
    # the admin declares 10-13 a holiday: 10-09, 10-10, 10-12, 10-14, 10-15 → end of 10-15
    service.set_holiday(db=db, actor=actors["admin"], day=date(2026, 10, 13), kind=DayKind.HOLIDAY, name="特别假日")
    db.refresh(clock)
    db.refresh(met)
    assert service.local(clock.due_at) == datetime(2026, 10, 16)
    assert service.local(met.due_at) == datetime(2026, 10, 15)  # a met clock is not recomputed
    audit = db.scalars(select(AuditLog).where(AuditLog.entity == "holiday")).all()
    assert [a.action.value for a in audit][-1:] == ["create"]
    # removing it again restores the first due time
    service.remove_holiday(db=db, actor=actors["admin"], day=date(2026, 10, 13))
    db.refresh(clock)
    assert service.local(clock.due_at) == datetime(2026, 10, 15)
    with pytest.raises(Forbidden):
        service.set_holiday(db=db, actor=actors["chief_a"], day=date(2026, 10, 13), kind=DayKind.HOLIDAY, name="x")


def test_clocks_written_in_bulk_get_their_due_times_from_a_full_recompute(db, make_clock):
    from pingan.clocks.models import Clock

    held = make_clock("criminal_detention", datetime(2026, 9, 30, 18))
    db.execute(Clock.__table__.update().where(Clock.__table__.c.id == held.id).values(due_at=None, warn_at=None))
    assert service.recompute_open_clocks(db=db) == 0  # not calendar-dependent: left alone
    assert service.recompute_open_clocks(db=db, calendar_only=False) >= 1
    db.refresh(held)
    assert service.local(held.due_at) == datetime(2026, 10, 4)


def test_pause_resume_and_extension(db, actors, make_clock):
    clock = make_clock("service_limit", datetime(2026, 3, 2, 9))  # due end of 03-09 (see test_rules)
    chief = actors["chief_a"]
    service.pause(db=db, actor=chief, clock=clock, reason="鉴定", at=service.instant(datetime(2026, 3, 4, 10)))
    assert clock.state is ClockState.PAUSED and clock.due_at is None
    with pytest.raises(InvalidTransition):
        service.pause(db=db, actor=chief, clock=clock, reason="again")
    service.resume(db=db, actor=chief, clock=clock, at=service.instant(datetime(2026, 3, 6, 10)))
    assert service.local(clock.due_at) == datetime(2026, 3, 12)  # + 48 hours
    service.extend(db=db, actor=chief, clock=clock, amount=10, unit=Unit.WORKING_DAYS, reason="材料补正",
                   basis="办事指南第3条")
    # 10 working days from 03-02: 03-03..03-06 (4), 03-09..03-13 (9), 03-16 (10) → 03-17 00:00, + 48 h
    assert service.local(clock.due_at) == datetime(2026, 3, 19)
    assert "延长至10个工作日" in clock.explanation_zh
    with pytest.raises(Forbidden):
        service.pause(db=db, actor=actors["dispatcher"], clock=clock, reason="x")


def test_the_flagging_job_turns_clocks_due_soon_then_overdue(db, make_clock):
    clock = make_clock("summons", datetime(2026, 3, 10, 8))  # due 20:00, lead 2 hours
    assert jobs.turning(db=db, now=service.instant(datetime(2026, 3, 10, 17))) == []
    at_18 = service.instant(datetime(2026, 3, 10, 18, 30))
    ids = jobs.turning(db=db, now=at_18)
    assert ids == [clock.id]
    assert jobs.flag(db=db, ids=ids, now=at_18) == [clock.id]
    assert jobs.flag(db=db, ids=ids, now=at_18) == []  # idempotent
    db.refresh(clock)
    assert clock.state is ClockState.DUE_SOON
    at_21 = service.instant(datetime(2026, 3, 10, 21))
    assert jobs.flag(db=db, ids=jobs.turning(db=db, now=at_21), now=at_21) == [clock.id]
    db.refresh(clock)
    assert clock.state is ClockState.OVERDUE
    service.meet(db=db, clock=clock, at=at_21)
    assert clock.state is ClockState.MET_LATE
    assert jobs.turning(db=db, now=at_21) == []


def test_a_clock_is_superseded_by_a_later_act(db, make_clock):
    detention = make_clock("criminal_detention", datetime(2026, 2, 13, 20))
    arrest = make_clock("administrative_case", datetime(2026, 2, 16, 10))
    service.supersede(db=db, clock=detention, by=arrest)
    assert detention.state is ClockState.SUPERSEDED and detention.superseded_by_id == arrest.id
    with pytest.raises(InvalidTransition):
        service.meet(db=db, clock=detention)
