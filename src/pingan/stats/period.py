"""Statistical periods (统计周期): day, week, month, quarter, year or a custom range.

A period is a half-open range of local dates ``[start, end)`` in the bureau's time zone
(Asia/Shanghai by default). It knows its previous period (环比: the period of the same kind
just before it; for a custom range, the range of equal length ending the day before) and the
same period last year (同比: the same dates one year earlier; an ISO week takes the same week
number, 29 February becomes 28 February).

Accepted spellings (``parse_period``)::

    2026                      year  (年)
    2026-Q3                   quarter (季度)
    2026-07                   month (月)
    2026-W05                  ISO week (周)
    2026-07-15                day (日)
    2026-03-01..2026-06-30    custom range, both ends inclusive (自定义)

The counting rule at a boundary: a record belongs to the period in which it was *received*
(local time); later stage times of the same record do not move it. An incident received at
23:59:50 on 31 December and accepted a minute later is counted, with its acceptance time, in
the old year.

A period that has not ended yet is counted **to date** (``to_date``): it stops at the current
minute (``until``), and its baselines stop at the same point of theirs — 2026 counted on
23 November 10:00 is compared with 1 January – 23 November 10:00 of 2025, never with the whole
of 2025. The baseline's cut-off moves back by the same calendar step as its start (one year,
one month, three months, or a number of days), clamped to the baseline's own end.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from pingan.errors import ValidationFailed


class PeriodKind(StrEnum):
    DAY = "day"  # 日
    WEEK = "week"  # 周
    MONTH = "month"  # 月
    QUARTER = "quarter"  # 季度
    YEAR = "year"  # 年
    CUSTOM = "custom"  # 自定义


CALENDAR_MONTHS = {PeriodKind.YEAR: 12, PeriodKind.QUARTER: 3, PeriodKind.MONTH: 1}  # a calendar period's length


@dataclass(frozen=True)
class Period:
    """A half-open range of local dates [start, end) and how it was named."""

    kind: PeriodKind
    start: date
    end: date  # exclusive
    # For a period counted to date: the local time (naive) at which counting stops, exclusive,
    # between ``start`` and ``end``. None: the whole period.
    until: datetime | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def begin(self) -> datetime:
        """The first local instant of the period."""
        return datetime.combine(self.start, time())

    @property
    def stop(self) -> datetime:
        """The local instant at which counting stops (exclusive): ``until``, or the end."""
        return self.until if self.until is not None else datetime.combine(self.end, time())

    @property
    def last_day(self) -> date:
        """The last local date with any counted time in it."""
        return (self.stop - timedelta(microseconds=1)).date()

    @property
    def span(self) -> str:
        """The dates counted, in words: '2026-01-01 至 2026-11-23 10:00' (to date) or '… 至 2026-12-31'."""
        if self.until is not None:
            return f"{self.start.isoformat()} 至 {self.until.strftime('%Y-%m-%d %H:%M')}"
        return f"{self.start.isoformat()} 至 {self.last_day.isoformat()}"

    def to_date(self, now: datetime) -> Period:
        """This period counted up to ``now`` (local, naive; to the minute) if ``now`` falls inside
        it; otherwise itself. Its baselines (``previous``, ``last_year``) are cut to match."""
        now = now.replace(second=0, microsecond=0, tzinfo=None)
        if self.until is not None or not self.begin < now < datetime.combine(self.end, time()):
            return self
        return replace(self, until=now)

    def _cut(self, baseline: Period, *, months: int = 0, days: int = 0) -> Period:
        """``baseline`` stopped where this period stops, moved back by the calendar step that
        takes this period's start to the baseline's (``months`` months or ``days`` days)."""
        if self.until is None:
            return baseline
        until = _months_back(self.until, months) if months else self.until - timedelta(days=days)
        return replace(baseline, until=min(until, datetime.combine(baseline.end, time())))

    @property
    def label(self) -> str:
        """The canonical spelling, the one ``parse_period`` reads back."""
        s = self.start
        match self.kind:
            case PeriodKind.YEAR:
                return f"{s.year}"
            case PeriodKind.QUARTER:
                return f"{s.year}-Q{(s.month - 1) // 3 + 1}"
            case PeriodKind.MONTH:
                return f"{s.year}-{s.month:02d}"
            case PeriodKind.WEEK:
                iso = s.isocalendar()
                return f"{iso.year}-W{iso.week:02d}"
            case PeriodKind.DAY:
                return s.isoformat()
        return f"{s.isoformat()}..{(self.end - timedelta(days=1)).isoformat()}"

    def previous(self) -> Period:
        """The period just before (环比基期), cut like this one when counted to date."""
        whole = self._previous_whole()
        if months := CALENDAR_MONTHS.get(self.kind):
            return self._cut(whole, months=months)
        return self._cut(whole, days=(self.start - whole.start).days)

    def last_year(self) -> Period:
        """The same period one year earlier (同比基期), cut like this one when counted to date."""
        whole = self._last_year_whole()
        if self.kind in (PeriodKind.DAY, PeriodKind.WEEK):
            return self._cut(whole, days=(self.start - whole.start).days)
        return self._cut(whole, months=12)

    def _previous_whole(self) -> Period:
        match self.kind:
            case PeriodKind.YEAR:
                return year(self.start.year - 1)
            case PeriodKind.QUARTER:
                q = (self.start.month - 1) // 3
                return quarter(self.start.year - 1, 4) if q == 0 else quarter(self.start.year, q)
            case PeriodKind.MONTH:
                return month(self.start.year - 1, 12) if self.start.month == 1 else month(
                    self.start.year, self.start.month - 1)
            case PeriodKind.WEEK | PeriodKind.DAY:
                return Period(self.kind, self.start - timedelta(days=self.days), self.start)
        return Period(PeriodKind.CUSTOM, self.start - timedelta(days=self.days), self.start)

    def _last_year_whole(self) -> Period:
        match self.kind:
            case PeriodKind.YEAR:
                return year(self.start.year - 1)
            case PeriodKind.QUARTER:
                return quarter(self.start.year - 1, (self.start.month - 1) // 3 + 1)
            case PeriodKind.MONTH:
                return month(self.start.year - 1, self.start.month)
            case PeriodKind.WEEK:
                iso = self.start.isocalendar()
                weeks_then = date(iso.year - 1, 12, 28).isocalendar().week
                return week(iso.year - 1, min(iso.week, weeks_then))
            case PeriodKind.DAY:
                return day(_one_year_back(self.start))
        return Period(PeriodKind.CUSTOM, _one_year_back(self.start),
                      _one_year_back(self.end - timedelta(days=1)) + timedelta(days=1))


def _months_back(moment: datetime, months: int) -> datetime:
    """The same local time ``months`` calendar months earlier, the day clamped to the month's length."""
    index = moment.year * 12 + moment.month - 1 - months
    y, m = divmod(index, 12)
    return moment.replace(year=y, month=m + 1, day=min(moment.day, calendar.monthrange(y, m + 1)[1]))


def _one_year_back(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def year(y: int) -> Period:
    return Period(PeriodKind.YEAR, date(y, 1, 1), date(y + 1, 1, 1))


def quarter(y: int, q: int) -> Period:
    start = date(y, 3 * (q - 1) + 1, 1)
    end = date(y + 1, 1, 1) if q == 4 else date(y, 3 * q + 1, 1)
    return Period(PeriodKind.QUARTER, start, end)


def month(y: int, m: int) -> Period:
    end = date(y + 1, 1, 1) if m == 12 else date(y, m + 1, 1)
    return Period(PeriodKind.MONTH, date(y, m, 1), end)


def week(y: int, w: int) -> Period:
    start = date.fromisocalendar(y, w, 1)
    return Period(PeriodKind.WEEK, start, start + timedelta(days=7))


def day(d: date) -> Period:
    return Period(PeriodKind.DAY, d, d + timedelta(days=1))


# ASCII digits only: ``\d`` would take "２０２６" and "٢٠٢٦".
_YEAR = re.compile(r"^([0-9]{4})$")
_QUARTER = re.compile(r"^([0-9]{4})-Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")
_WEEK = re.compile(r"^([0-9]{4})-W([0-9]{2})$", re.IGNORECASE)
_DAY = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
# Every spelling above, for the API's documentation (a request outside it is refused before the
# handler runs); parse_period still checks the values (month 13, week 54, the years).
PERIOD_PATTERN = (r"^\s*[0-9]{4}(-[Qq][1-4]|-[Ww][0-9]{2}|-[0-9]{2}(-[0-9]{2}"
                  r"(\s*\.\.\s*[0-9]{4}-[0-9]{2}-[0-9]{2})?)?)?\s*$")
MAX_CUSTOM_DAYS = 3660  # ten years


def _invalid(text: str, field: str) -> ValidationFailed:
    return ValidationFailed(
        f"{field}：统计周期格式无效（{text[:40]}），应为 2026、2026-Q3、2026-07、2026-W05、2026-07-15 或 "
        "2026-03-01..2026-06-30",
        f"{field}: invalid period ({text[:40]}); use 2026, 2026-Q3, 2026-07, 2026-W05, 2026-07-15 "
        "or 2026-03-01..2026-06-30",
        field=field,
    )


def _date(text: str, field: str) -> date:
    m = _DAY.match(text)
    if not m:
        raise _invalid(text, field)
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise _invalid(text, field) from None


def parse_period(text: str, *, field: str = "period") -> Period:
    """Read a period from its spelling (see the module docstring); 422 naming ``field`` if invalid."""
    text = (text or "").strip()
    period = _parse(text, field)
    if not MIN_YEAR <= period.start.year <= MAX_YEAR:
        raise _invalid(text, field)
    return period


MIN_YEAR, MAX_YEAR = 1971, 2999


def _parse(text: str, field: str) -> Period:
    try:
        if "." in text:
            first, sep, last = text.partition("..")
            if not sep:
                raise _invalid(text, field)
            start, end = _date(first.strip(), field), _date(last.strip(), field)
            if end < start or (end - start).days >= MAX_CUSTOM_DAYS:
                raise _invalid(text, field)
            return Period(PeriodKind.CUSTOM, start, end + timedelta(days=1))
        if m := _YEAR.match(text):
            return year(int(m[1]))
        if m := _QUARTER.match(text):
            return quarter(int(m[1]), int(m[2]))
        if m := _MONTH.match(text):
            if not 1 <= int(m[2]) <= 12:
                raise _invalid(text, field)
            return month(int(m[1]), int(m[2]))
        if m := _WEEK.match(text):
            return week(int(m[1]), int(m[2]))
        if _DAY.match(text):
            return day(_date(text, field))
    except (ValueError, OverflowError):  # week 54, year 0, a day after 9999-12-31 …
        raise _invalid(text, field) from None
    raise _invalid(text, field)
