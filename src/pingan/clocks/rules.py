"""The due time of a clock, computed purely from its start, its rule, the calendar, its pauses
and its extensions, with an explanation in words a legal officer can check.

Times are local (the bureau's zone, naive ``datetime``); the caller converts. The legal rule
(刑事诉讼法第105条, 公安机关办理行政案件程序规定 on 期间) is: the starting hour or day is not
counted; a period whose last day is a holiday ends on the first working day after it, except
while the person is in custody (在押 / 被限制人身自由), when it ends on its last day. A period
ending "on day D" expires at 24:00 of D, returned as 00:00 of the next day.

Pauses stop the clock: their length (a pause still open makes the clock paused, with no due
time) is added to the end of the period before the holiday rule is applied. An extension sets a
new period (amount and unit) counted from the same start. A day the calendar has no data for
(the State Council publishes each year's arrangement late in the year before) is never guessed:
the result names the missing years and is ``provisional``; the due time then treats such days by
their weekday only, and is recomputed once the year is entered.
"""

from __future__ import annotations

import calendar as _cal
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from pingan.db.enum import LabelledEnum


class Unit(LabelledEnum):
    MINUTES = "minutes", "分钟", "minutes"
    HOURS = "hours", "小时", "hours"
    DAYS = "days", "日", "days"
    WORKING_DAYS = "working_days", "个工作日", "working days"
    MONTHS = "months", "个月", "months"


class DayKind(LabelledEnum):
    HOLIDAY = "holiday", "节假日", "holiday"
    WORKDAY = "workday", "调休上班", "make-up working day"


@dataclass(frozen=True)
class Calendar:
    """The official calendar: ``days`` maps a date to (kind, name); ``years`` are the years with
    data. A date of a year without data is a working day by its weekday, and noted as missing."""

    days: Mapping[date, tuple[DayKind, str]]
    years: frozenset[int]

    def is_working_day(self, day: date, missing: set[int]) -> bool:
        if day.year not in self.years:
            missing.add(day.year)
            return day.weekday() < 5
        entry = self.days.get(day)
        if entry is not None:
            return entry[0] is DayKind.WORKDAY
        return day.weekday() < 5

    def name_of(self, day: date) -> str | None:
        entry = self.days.get(day)
        return entry[1] if entry is not None and entry[0] is DayKind.HOLIDAY else None


@dataclass(frozen=True)
class Rule:
    amount: int
    unit: Unit
    legal: bool = False  # the statutory period rules above
    in_custody: bool = False  # no holiday extension while the person is held

    def depends_on_calendar(self) -> bool:
        return self.unit is Unit.WORKING_DAYS or (
            self.legal and not self.in_custody and self.unit in (Unit.DAYS, Unit.MONTHS))


@dataclass(frozen=True)
class Pause:
    start: datetime
    end: datetime | None
    reason: str


@dataclass(frozen=True)
class Extension:
    rule: Rule
    approver: str
    reason: str
    basis: str


@dataclass(frozen=True)
class Due:
    due_at: datetime | None  # None while a pause is open
    zh: str
    en: str
    missing_years: frozenset[int] = field(default_factory=frozenset)

    @property
    def provisional(self) -> bool:
        return bool(self.missing_years)


def _zh_time(t: datetime) -> str:
    s = f"{t.year}年{t.month}月{t.day}日{t.hour}时"
    return s + (f"{t.minute}分" if t.minute else "")


def _en_time(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


def _zh_day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, _cal.monthrange(year, month)[1]))


def compute_due(start: datetime, rule: Rule, calendar: Calendar, pauses: Sequence[Pause] = (),
                extensions: Sequence[Extension] = ()) -> Due:
    """The due time of a clock and why, in Chinese and English."""
    missing: set[int] = set()
    zh = [f"自{_zh_time(start)}起算"]
    en = [f"counted from {_en_time(start)}"]
    if extensions:
        last = extensions[-1]
        zh.append(f"原期限{rule.amount}{rule.unit.zh}，经{last.approver}批准延长至{last.rule.amount}{last.rule.unit.zh}"
                  f"（{last.reason}；依据：{last.basis}）")
        en.append(f"originally {rule.amount} {rule.unit.en}, extended to {last.rule.amount} {last.rule.unit.en} "
                  f"approved by {last.approver} ({last.reason}; basis: {last.basis})")
        rule = Rule(last.rule.amount, last.rule.unit, rule.legal, rule.in_custody)
    zh.append(f"{rule.amount}{rule.unit.zh}")
    en.append(f"{rule.amount} {rule.unit.en}")

    # the raw end of the period, and its last day (for the holiday rule)
    last_day: date | None = None
    if rule.unit in (Unit.MINUTES, Unit.HOURS):
        step = timedelta(minutes=rule.amount) if rule.unit is Unit.MINUTES else timedelta(hours=rule.amount)
        begin = start
        if rule.legal and rule.unit is Unit.HOURS and (start.minute or start.second or start.microsecond):
            begin = start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
            zh.append(f"起算之时不计入，自{_zh_time(begin)}起计")
            en.append(f"the starting hour not counted: from {_en_time(begin)}")
        end = begin + step
    elif rule.unit is Unit.WORKING_DAYS:
        day, counted = start.date(), 0
        while counted < rule.amount:
            day += timedelta(days=1)
            if calendar.is_working_day(day, missing):
                counted += 1
        zh.append("起算当日不计入，节假日不计，调休上班日计入")
        en.append("the starting day not counted, holidays skipped, make-up working days counted")
        end, last_day = datetime.combine(day + timedelta(days=1), datetime.min.time()), day
    else:
        first = start.date()
        if rule.legal:
            last_day = first + timedelta(days=rule.amount) if rule.unit is Unit.DAYS else _add_months(first, rule.amount)
            zh.append("起算之日不计入")
            en.append("the starting day not counted")
            end = datetime.combine(last_day + timedelta(days=1), datetime.min.time())
        elif rule.unit is Unit.DAYS:
            end = start + timedelta(days=rule.amount)
        else:
            end = datetime.combine(_add_months(first, rule.amount), start.time())

    paused = timedelta()
    for p in pauses:
        if p.end is None:
            zh.append(f"{_zh_time(p.start)}起中止（{p.reason}），期限暂停计算")
            en.append(f"paused since {_en_time(p.start)} ({p.reason}): the clock is stopped")
            return Due(None, "，".join(zh), "; ".join(en), frozenset(missing))
        paused += p.end - p.start
        zh.append(f"{_zh_time(p.start)}至{_zh_time(p.end)}中止（{p.reason}），不计入期限")
        en.append(f"paused {_en_time(p.start)} to {_en_time(p.end)} ({p.reason}), not counted")
    if paused:
        end += paused
        last_day = (end - timedelta(microseconds=1)).date() if last_day is not None else None

    if last_day is not None and rule.legal and rule.unit is not Unit.WORKING_DAYS:
        if not calendar.is_working_day(last_day, missing):
            if rule.in_custody:
                zh.append(f"期满日{_zh_day(last_day)}为节假日，因在押不顺延")
                en.append(f"the last day {last_day} is a holiday; not extended while in custody")
            else:
                day = last_day
                while not calendar.is_working_day(day, missing):
                    day += timedelta(days=1)
                name = calendar.name_of(last_day)
                zh.append(f"遇{name + '假期' if name else '休息日'}顺延至{day.month}月{day.day}日")
                en.append(f"the last day falls on {name or 'a rest day'}: extended to {day}")
                end = end + (day - last_day)
                last_day = day
    if last_day is not None and end.time() == datetime.min.time():
        shown = end - timedelta(days=1)
        zh.append(f"至{_zh_day(shown.date())}24时届满")
        en.append(f"expires at the end of {shown.date()}")
    else:
        zh.append(f"至{_zh_time(end)}届满")
        en.append(f"expires at {_en_time(end)}")
    if missing:
        years = "、".join(str(y) for y in sorted(missing))
        zh.append(f"注意：{years}年节假日安排尚无数据，暂按周末计算，公布后将重算")
        en.append(f"note: no holiday data yet for {', '.join(str(y) for y in sorted(missing))}; "
                  f"weekends only until it is entered, then recomputed")
    return Due(end, "，".join(zh) + "。", "; ".join(en) + ".", frozenset(missing))


def calendar_of(rows: Iterable[tuple[date, DayKind, str]]) -> Calendar:
    days = {d: (kind, name) for d, kind, name in rows}
    return Calendar(days=days, years=frozenset(d.year for d in days))
