"""Periods: every spelling, its previous period (环比) and the same period last year (同比)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from pingan.errors import ValidationFailed
from pingan.stats.period import PeriodKind, parse_period


@pytest.mark.parametrize("text,kind,start,end,previous,last_year", [
    ("2026", PeriodKind.YEAR, date(2026, 1, 1), date(2027, 1, 1), "2025", "2025"),
    ("2026-Q1", PeriodKind.QUARTER, date(2026, 1, 1), date(2026, 4, 1), "2025-Q4", "2025-Q1"),
    ("2026-q3", PeriodKind.QUARTER, date(2026, 7, 1), date(2026, 10, 1), "2026-Q2", "2025-Q3"),
    ("2026-01", PeriodKind.MONTH, date(2026, 1, 1), date(2026, 2, 1), "2025-12", "2025-01"),
    ("2026-12", PeriodKind.MONTH, date(2026, 12, 1), date(2027, 1, 1), "2026-11", "2025-12"),
    # ISO week 5 of 2026 starts on Monday 26 January; 2021 had a week 53, 2020 had one too
    ("2026-W05", PeriodKind.WEEK, date(2026, 1, 26), date(2026, 2, 2), "2026-W04", "2025-W05"),
    ("2021-W01", PeriodKind.WEEK, date(2021, 1, 4), date(2021, 1, 11), "2020-W53", "2020-W01"),
    ("2026-07-15", PeriodKind.DAY, date(2026, 7, 15), date(2026, 7, 16), "2026-07-14", "2025-07-15"),
    ("2024-02-29", PeriodKind.DAY, date(2024, 2, 29), date(2024, 3, 1), "2024-02-28", "2023-02-28"),
    # a custom range: both ends included; previous = the same number of days just before
    ("2026-03-01..2026-06-30", PeriodKind.CUSTOM, date(2026, 3, 1), date(2026, 7, 1),
     "2025-10-30..2026-02-28", "2025-03-01..2025-06-30"),
])
def test_spellings(text, kind, start, end, previous, last_year):
    period = parse_period(text)
    assert (period.kind, period.start, period.end) == (kind, start, end)
    assert period.previous().label == previous
    assert period.last_year().label == last_year
    assert parse_period(period.label) == period


def test_iso_week_53_compared_with_a_year_without_one():
    # 2020 has 53 ISO weeks, 2019 has 52: week 53's 同比 is 2019's last week
    assert parse_period("2020-W53").last_year().label == "2019-W52"


@pytest.mark.parametrize("text", ["", "26", "2026-13", "2026-Q5", "2026-W54", "2026-02-30", "2026-07-01..2026-06-01",
                                  "2026-01-01...2026-02-01", "0000", "abcd", "2026/07"])
def test_invalid_periods_are_422_naming_the_field(text):
    with pytest.raises(ValidationFailed) as err:
        parse_period(text, field="period")
    assert err.value.status_code == 422 and err.value.field == "period"
    assert "统计周期" in err.value.zh and "invalid period" in err.value.en


def test_a_period_not_yet_ended_is_cut_to_date_and_so_are_its_baselines():
    now = datetime(2026, 11, 23, 10, 0, 42)
    year = parse_period("2026").to_date(now)
    assert year.until == datetime(2026, 11, 23, 10, 0)  # to the minute
    assert year.span == "2026-01-01 至 2026-11-23 10:00" and year.last_day == date(2026, 11, 23)
    # 同比 and 环比 of a year are both 2025, stopped at the same point: 1 January – 23 November 10:00
    assert year.last_year().until == year.previous().until == datetime(2025, 11, 23, 10, 0)
    assert year.last_year().label == "2025"
    month = parse_period("2026-03").to_date(datetime(2026, 3, 31, 8, 0))
    # 31 March 08:00 a month back is 31 February: the day is clamped to February's last
    assert month.previous().until == datetime(2026, 2, 28, 8, 0)
    assert month.previous().span == "2026-02-01 至 2026-02-28 08:00"
    assert month.last_year().until == datetime(2025, 3, 31, 8, 0)
    day = parse_period("2026-11-23").to_date(now)
    assert day.previous().until == datetime(2026, 11, 22, 10, 0)
    assert day.last_year().until == datetime(2025, 11, 23, 10, 0)
    leap = parse_period("2028-02-01..2028-03-31").to_date(datetime(2028, 2, 29, 12, 0))
    assert leap.last_year().until == datetime(2027, 2, 28, 12, 0)
    assert leap.previous().start == date(2027, 12, 3)  # 60 days before, like the range
    assert leap.previous().until == datetime(2027, 12, 31, 12, 0)  # stopped 60 days back too


def test_a_period_already_ended_or_not_begun_is_left_whole():
    now = datetime(2026, 11, 23, 10, 0)
    for text in ("2025", "2026-10", "2027-Q1"):
        period = parse_period(text)
        assert period.to_date(now) is period and period.until is None
        assert period.last_year().until is None and period.previous().until is None
