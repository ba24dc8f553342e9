"""Figures in words on the English pages: the same rules as the summary's Chinese."""

from __future__ import annotations

from pingan.stats.engine import change
from pingan.stats.wording import change_words


def test_changes_in_english():
    assert change_words(change(1032, 1000), basis="last_year", rate=False, lang="en") == "up 3.2% year on year"
    assert (change_words(change(90.0, 92.0), basis="previous", rate=True, lang="en")
            == "down 2.0 points on the previous period")
    assert change_words(change(1000, 1000), basis="last_year", rate=False, lang="en") == "flat year on year"


def test_a_zero_or_missing_baseline_in_english():
    assert change_words(change(5, 0), basis="last_year", rate=False, lang="en") == "zero a year earlier"
    assert change_words(change(0, 0), basis="previous", rate=False, lang="en") == "flat on the previous period"
    assert change_words(change(25.0, 0.0), basis="last_year", rate=True, lang="en") == "up 25.0 points year on year"
    assert (change_words(change(5, None), basis="last_year", rate=False, lang="en")
            == "no data for the same period last year")
    assert change_words(change(None, 80.0), basis="last_year", rate=True, lang="en") == "80 a year earlier, no data now"


def test_chinese_is_the_summarys_wording():
    assert change_words(change(1032, 1000), basis="last_year", rate=False) == "同比上升 3.2%"
    assert change_words(change(98.5, 97.3), basis="last_year", rate=True, lang="zh") == "同比上升 1.2 个百分点"
