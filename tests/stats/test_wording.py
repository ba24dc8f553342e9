"""Figures in words: changes, percentage points for rates, zero and missing baselines."""

from __future__ import annotations

from pingan.stats.engine import change
from pingan.stats.metrics import METRICS
from pingan.stats.wording import change_phrase, number, sentence


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
