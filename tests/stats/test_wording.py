"""Figures in words: changes, percentage points for rates, zero and missing baselines, and the
issued document's quieter wording, durations and Chinese dates."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from pingan.stats.engine import change
from pingan.stats.facts import SOURCES
from pingan.stats.metrics import METRICS, Kind, Metric
from pingan.stats.period import Period, PeriodKind, parse_period
from pingan.stats.wording import (
    amount,
    change_cell,
    change_phrase,
    claims_zero,
    comparisons,
    duration,
    multiple_of,
    multiple_words,
    number,
    period_words,
    relative_words,
    says_something,
    sentence,
    span_words,
    statement,
    year_basis,
    year_change_words,
)


def test_numbers_carry_their_unit():
    assert number(1234, "起") == "1,234 起"
    assert number(98.14, "%") == "98.1%"
    assert number(45.25, "秒") == "45.2 秒"
    assert number(None, "起") == "无数据"


def test_a_count_changes_by_a_percentage():
    assert change_phrase(change(1032, 1000), basis="last_year", rate=False) == "同比上升 3.2%"
    assert change_phrase(change(990, 1000), basis="previous", rate=False) == "环比下降 1.0%"
    assert change_phrase(change(1000, 1000), basis="last_year", rate=False) == "同比持平"


def test_a_rate_changes_by_percentage_points():
    assert change_phrase(change(98.5, 97.3), basis="last_year", rate=True) == "同比上升 1.2 个百分点"
    assert change_phrase(change(90.0, 92.0), basis="previous", rate=True) == "环比下降 2.0 个百分点"


def test_a_zero_or_missing_baseline_is_said_so():
    assert change_phrase(change(5, 0), basis="last_year", rate=False) == "去年同期为零"
    assert change_phrase(change(0, 0), basis="last_year", rate=False) == "同比持平"
    assert change_phrase(change(5, None), basis="last_year", rate=False) == "无去年同期数据"
    assert change_phrase(None, basis="previous", rate=False) == "无上期数据"
    assert change_phrase(change(None, 80.0), basis="last_year", rate=True) == "去年同期为 80，本期无数据"


def test_a_sentence_for_the_summary():
    received = METRICS["incidents_received"]
    assert (sentence(received, 1032, last_year=change(1032, 1000), previous=change(1032, 1040))
            == "接警总数 1,032 起，同比上升 3.2%，环比下降 0.8%")
    satisfaction = METRICS["satisfaction_rate"]
    assert sentence(satisfaction, 96.0, last_year=change(96.0, 96.0)) == "回访满意率 96.0%，同比持平"


def test_a_rate_from_zero_changes_by_points():
    assert change_phrase(change(25.0, 0.0), basis="last_year", rate=True) == "同比上升 25.0 个百分点"
    assert change_phrase(change(0.0, 0.0), basis="previous", rate=True) == "环比持平"


# --- the issued document's wording ---------------------------------------------------------------


def test_durations_in_minutes_and_seconds():
    assert duration(45.25) == "45.2秒" and duration(59.94) == "59.9秒"
    assert duration(68.75) == "1分9秒" and duration(120) == "2分" and duration(3725) == "1小时2分5秒"
    assert duration(3600) == "1小时0分" and duration(None) == "无数据"
    assert amount(283.3, "秒") == "4分43秒" and amount(1234, "起") == "1,234 起"


def test_what_is_worth_a_sentence_and_which_comparisons_are_said():
    criminal = METRICS["incidents_criminal"]
    assert not says_something(criminal, 0, last_year=change(0, 0), previous=change(0, None))
    assert says_something(criminal, 0, last_year=change(0, 3))  # a fall to nothing is news
    assert not says_something(METRICS["satisfaction_rate"], None, last_year=change(None, 90.0))
    assert comparisons(criminal, last_year=change(1, 0), previous=change(1, None)) == ["去年同期为零"]
    assert statement(criminal, 1, last_year=change(1, None), previous=change(1, 1)) == "刑事警情 1 起，环比持平"
    assert statement(METRICS["mean_arrive_seconds"], 283.3, last_year=change(283.3, 170.0)) == (
        "平均到场用时 4分43秒，同比上升 66.6%")


def test_changes_in_a_table_cell():
    assert change_cell(change(1032, 1000), rate=False) == "+3.2%"
    assert change_cell(change(990, 1000), rate=False) == "-1.0%"
    assert change_cell(change(5, 0), rate=False) == "基数为零" and change_cell(change(0, 0), rate=False) == "持平"
    assert change_cell(change(90.0, 91.2), rate=True) == "-1.2个百分点"
    assert change_cell(change(5, None), rate=False) == "—" and change_cell(None, rate=True) == "—"


def test_periods_and_spans_in_chinese_dates():
    assert [period_words(parse_period(p)) for p in ("2026", "2026-Q3", "2026-07", "2026-W05", "2026-07-15",
                                                    "2025-12-01..2026-02-28", "2026-03-01..2026-06-30")] == [
        "2026年", "2026年第三季度", "2026年7月", "2026年第5周", "2026年7月15日", "2025年12月1日至2026年2月28日",
        "2026年3月1日至6月30日"]
    assert span_words(parse_period("2026")) == "2026年1月1日至12月31日"
    assert span_words(parse_period("2026-07-15")) == "2026年7月15日"
    to_date = Period(PeriodKind.YEAR, date(2026, 1, 1), date(2027, 1, 1), until=datetime(2026, 11, 23, 10, 30))
    assert span_words(to_date) == "2026年1月1日至11月23日10时30分"
    assert span_words(to_date.last_year()) == "2025年1月1日至11月23日10时30分"
    midnight = Period(PeriodKind.YEAR, date(2026, 1, 1), date(2027, 1, 1), until=datetime(2026, 11, 23))
    assert span_words(midnight) == "2026年1月1日至11月22日"  # counting stopped at midnight: the 22nd is the last day
    today = Period(PeriodKind.DAY, date(2026, 7, 15), date(2026, 7, 16), until=datetime(2026, 7, 15, 8, 0))
    assert span_words(today) == "2026年7月15日0时至8时"


# --- what a KPI claims beyond 同比 / 环比 (stats.comparisons) ------------------------------------------


def _claiming(kind, *claims: str) -> Metric:
    rate = kind is Kind.RATE
    return Metric(slug="test_claiming", zh="盗窃警情" if not rate else "破案率", en="Thefts" if not rate else "Clearance",
                  unit="%" if rate else "起", unit_en="%" if rate else "incidents", source=SOURCES["incident"],
                  kind=kind, definition_zh="测试", definition_en="test", numerator="TRUE",
                  denominator="TRUE" if rate else None, claims=claims)


def test_a_count_claiming_multiples_says_them_from_twice_its_baseline():
    count = _claiming(Kind.COUNT, "multiple")
    assert comparisons(count, last_year=change(25, 10), previous=change(25, 5)) == ["是去年同期的 2.5 倍",
                                                                                   "是上期的 5 倍"]
    assert comparisons(count, last_year=change(15, 10)) == ["同比上升 50.0%"]  # less than twice: a rise
    assert comparisons(count, last_year=change(3, 0)) == ["去年同期为零"]  # no multiple of nothing
    assert multiple_of(change(1257, 100)) == pytest.approx(12.57) and multiple_of(change(5, 0)) is None
    assert multiple_words(12.57, ("2017年", "2017")) == "是2017年的 12.57 倍"
    assert multiple_words(3.0, ("2017年", "2017"), lang="en") == "3 times 2017"
    # the same change of a KPI that claims nothing is said as before
    assert comparisons(METRICS["incidents_received"], last_year=change(25, 10)) == ["同比上升 150.0%"]


def test_a_rate_claiming_its_relative_change_says_it_beside_the_points():
    rate = _claiming(Kind.RATE, "relative")
    # 22.7 % → 23.9 %: 1.2 points, 1.2 / 22.7 = 5.3 % of itself
    assert comparisons(rate, last_year=change(23.9, 22.7)) == ["同比上升 1.2 个百分点，相对上升 5.3%"]
    assert relative_words(change(23.9, 22.7), lang="en") == "a relative rise of 5.3%"
    assert relative_words(change(20.0, 0.0)) is None  # from 0 % there is no relative change
    assert comparisons(rate, last_year=change(50.0, 50.0)) == ["同比持平"]
    assert comparisons(METRICS["satisfaction_rate"], last_year=change(23.9, 22.7)) == ["同比上升 1.2 个百分点"]


def test_a_zero_the_kpi_claims_is_said_not_left_out():
    zero = _claiming(Kind.COUNT, "zero")
    assert claims_zero(zero, 0) and not claims_zero(zero, 1) and not claims_zero(METRICS["incidents_criminal"], 0)
    assert statement(zero, 0, last_year=change(0, 0), previous=change(0, 0)) == "盗窃警情零发生"
    assert statement(zero, 0, last_year=change(0, 3), previous=change(0, 0)) == "盗窃警情零发生，去年同期为 3 起"
    assert statement(zero, 2, last_year=change(2, 1)) == "盗窃警情 2 起，同比上升 100.0%"
    # says_something keeps its rule; the zero's claim is a separate question (the summary asks both)
    assert not says_something(zero, 0, last_year=change(0, 0))


def test_a_baseline_year_is_named_after_the_period():
    assert year_basis(parse_period("2026"), 2017) == ("2017年", "2017")
    to_date = Period(PeriodKind.YEAR, date(2026, 1, 1), date(2027, 1, 1), until=datetime(2026, 11, 23, 10, 30))
    assert year_basis(to_date, 2017) == ("2017年同期", "the same span of 2017")
    count = _claiming(Kind.COUNT)
    basis = ("2017年", "2017")
    assert year_change_words(count, change(16, 100), basis=basis) == "较2017年下降 84.0%"
    assert year_change_words(count, change(16, 100), basis=basis, lang="en") == "down 84.0% on 2017"
    assert year_change_words(count, change(5, 0), basis=basis) == "2017年为零"
    assert year_change_words(count, change(0, 0), basis=basis, lang="en") == "flat on 2017"
    assert year_change_words(count, change(5, None), basis=basis) == ""
    # "2022年刑事破案率65.22%，同比2017年提升21.86个百分点"
    rate = _claiming(Kind.RATE)
    assert year_change_words(rate, change(65.22, 43.36), basis=basis) == "较2017年上升 21.9 个百分点"
