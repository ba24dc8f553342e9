"""The due-time rules, worked by hand on the 2026 arrangement (chinese-calendar 1.11):
National Day 10-01..10-07 (make-up Saturdays 09-20 Sun, 10-10 Sat), Mid-autumn 09-25..09-27,
Spring Festival 02-15..02-23 (make-up 02-14 Sat, 02-28 Sat)."""

from datetime import date, datetime

import chinese_calendar
import pytest

from pingan.clocks import types
from pingan.clocks.reference import package_days
from pingan.clocks.rules import Calendar, Extension, Pause, Rule, Unit, calendar_of, compute_due

CAL = calendar_of(package_days(2026))


def test_criminal_detention_across_national_day_is_not_extended_while_in_custody():
    # 3 days from 2026-09-30 18:00: 09-30 not counted → 10-01, 10-02, 10-03; 10-03 is a holiday
    # but the person is held: expires at the end of 10-03 (= 10-04 00:00).
    due = compute_due(datetime(2026, 9, 30, 18), types.CRIMINAL_DETENTION.rule, CAL)
    assert due.due_at == datetime(2026, 10, 4)
    assert "因在押不顺延" in due.zh and "2026年10月3日24时届满" in due.zh


def test_a_legal_period_out_of_custody_across_national_day_runs_to_the_next_working_day():
    # the example: 3 days from 09-30 18:00 ends 10-03, a holiday; 10-04..10-07 are holidays,
    # 10-08 (Thursday) is the first working day → end of 10-08 (= 10-09 00:00).
    due = compute_due(datetime(2026, 9, 30, 18), Rule(3, Unit.DAYS, legal=True), CAL)
    assert due.due_at == datetime(2026, 10, 9)
    assert due.zh.startswith("自2026年9月30日18时起算，3日")
    assert "遇国庆节假期顺延至10月8日" in due.zh


def test_criminal_detention_across_spring_festival_extended_by_four_days():
    # detained 2026-02-13 20:00; 3 days → 02-14..02-16 → end of 02-16; extended to 7 days
    # (刑诉法第91条, 1 to 4 more days) → 02-14..02-20 → end of 02-20, a holiday, but held: no extension.
    start = datetime(2026, 2, 13, 20)
    assert compute_due(start, types.CRIMINAL_DETENTION.rule, CAL).due_at == datetime(2026, 2, 17)
    ext = Extension(Rule(7, Unit.DAYS), "王局长", "流窜作案", "刑事诉讼法第91条第2款")
    due = compute_due(start, types.CRIMINAL_DETENTION.rule, CAL, extensions=[ext])
    assert due.due_at == datetime(2026, 2, 21)
    assert "延长至7日" in due.zh and "王局长" in due.zh and "extended to 7 days" in due.en


def test_summons_of_12_and_24_hours_the_starting_hour_not_counted():
    # summoned 2026-03-10 14:20: the hour 14 is not counted, counting from 15:00;
    # 12 hours → 03:00 on 03-11; 24 hours → 15:00 on 03-11.
    start = datetime(2026, 3, 10, 14, 20)
    assert compute_due(start, types.SUMMONS.rule, CAL).due_at == datetime(2026, 3, 11, 3)
    assert compute_due(start, Rule(24, Unit.HOURS, legal=True, in_custody=True), CAL).due_at == datetime(2026, 3, 11, 15)
    # on the hour nothing is dropped: 12 hours from 08:00 → 20:00
    assert compute_due(datetime(2026, 3, 10, 8), types.SUMMONS.rule, CAL).due_at == datetime(2026, 3, 10, 20)


def test_administrative_cases_of_30_and_60_days():
    # accepted 2026-08-20 10:00; day 1 = 08-21; 30 days → 09-19 (Saturday: a rest day) →
    # 09-20 is a make-up working day (Sunday) → ends at the end of 09-20 (= 09-21 00:00).
    start = datetime(2026, 8, 20, 10)
    due = compute_due(start, types.ADMINISTRATIVE_CASE.rule, CAL)
    assert due.due_at == datetime(2026, 9, 21)
    # extended to 60 days → 10-19 (Monday, a working day) → end of 10-19.
    ext = Extension(Rule(60, Unit.DAYS), "李所长", "案情复杂", "治安管理处罚法第99条")
    assert compute_due(start, types.ADMINISTRATIVE_CASE.rule, CAL, extensions=[ext]).due_at == datetime(2026, 10, 20)


def test_a_30_day_case_ending_in_national_day_runs_past_it():
    # accepted 09-05: 30 days → 10-05 (National Day) → 10-08 → end of 10-08.
    assert compute_due(datetime(2026, 9, 5, 9), types.ADMINISTRATIVE_CASE.rule, CAL).due_at == datetime(2026, 10, 9)


def test_working_day_service_limit_across_a_make_up_saturday():
    # applied Thursday 2026-10-08: 5 working days → 10-09 Fri (1), 10-10 Sat make-up (2),
    # 10-12 Mon (3), 10-13 (4), 10-14 Wed (5) → end of 10-14.
    due = compute_due(datetime(2026, 10, 8, 9), types.SERVICE_LIMIT.rule, CAL)
    assert due.due_at == datetime(2026, 10, 15)
    # without the make-up day it would have been 10-15: the calendar counts
    weekends_only = Calendar(days={}, years=frozenset({2026}))
    assert compute_due(datetime(2026, 10, 8, 9), types.SERVICE_LIMIT.rule, weekends_only).due_at == datetime(2026, 10, 16)


def test_a_pause_stops_the_clock_and_its_resumption_adds_its_length():
    # 5 working days from Monday 2026-03-02 09:00 → 03-03..03-09 → end of 03-09 (Monday) = 03-10 00:00.
    start = datetime(2026, 3, 2, 9)
    open_pause = Pause(datetime(2026, 3, 4, 10), None, "等待群众补充材料")
    paused = compute_due(start, types.SERVICE_LIMIT.rule, CAL, pauses=[open_pause])
    assert paused.due_at is None and "暂停计算" in paused.zh
    # resumed after 2 days (03-04 10:00 → 03-06 10:00): 03-10 00:00 + 48 h = 03-12 00:00
    resumed = compute_due(start, types.SERVICE_LIMIT.rule, CAL,
                          pauses=[Pause(datetime(2026, 3, 4, 10), datetime(2026, 3, 6, 10), "鉴定")])
    assert resumed.due_at == datetime(2026, 3, 12)
    assert "不计入期限" in resumed.zh


def test_a_year_without_data_is_named_not_guessed():
    # chinese-calendar has no 2027: the seed cannot read it
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_holiday(date(2027, 1, 4))
    # 5 working days from Tuesday 2026-12-29: 12-30, 12-31 (2026 known), 2027-01-01 (Friday, unknown:
    # by weekday a working day), 01-04, 01-05 → end of 2027-01-05, provisional, 2027 named.
    due = compute_due(datetime(2026, 12, 29, 9), types.SERVICE_LIMIT.rule, CAL)
    assert due.due_at == datetime(2027, 1, 6)
    assert due.provisional and due.missing_years == {2027}
    assert "2027年节假日安排尚无数据" in due.zh and "no holiday data yet for 2027" in due.en
    # a period entirely in a known year is not provisional
    assert not compute_due(datetime(2026, 10, 8, 9), types.SERVICE_LIMIT.rule, CAL).provisional


def test_months_end_on_the_corresponding_day_or_the_month_end():
    # 1 month from 2026-01-31 → 02-28 (Saturday, a make-up working day) → end of 02-28.
    assert compute_due(datetime(2026, 1, 31, 9), Rule(1, Unit.MONTHS, legal=True), CAL).due_at == datetime(2026, 3, 1)
    # not a legal period: the same wall time a month later (the month's last day if shorter)
    assert compute_due(datetime(2026, 1, 31, 9), Rule(1, Unit.MONTHS), CAL).due_at == datetime(2026, 2, 28, 9)
    # minutes are plain: 30 minutes from 09:10 → 09:40
    assert compute_due(datetime(2026, 1, 5, 9, 10), Rule(30, Unit.MINUTES), CAL).due_at == datetime(2026, 1, 5, 9, 40)
