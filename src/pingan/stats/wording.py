"""Figures in words (表述): how the work summary writes a KPI and its changes.

"接处警 1,234 起，同比上升 3.2%，环比下降 1.0%"; a rate changes by percentage points
("上升 1.2 个百分点"), not by a percentage of itself; a zero or missing baseline is said so
("去年同期为零", "无去年同期数据"), never written as an infinite rise.
"""

from __future__ import annotations

from pingan.stats.engine import Change
from pingan.stats.metrics import Kind, Metric

BASIS = {"last_year": ("同比", "去年同期"), "previous": ("环比", "上期")}


def number(value: float | None, unit: str) -> str:
    """A value with its unit: counts with thousands separators, the rest to one decimal."""
    if value is None:
        return "无数据"
    if unit == "%":
        return f"{value:.1f}%"
    if float(value).is_integer():
        return f"{int(value):,} {unit}".rstrip()
    return f"{value:,.1f} {unit}".rstrip()


def change_phrase(change: Change | None, *, basis: str, rate: bool) -> str:
    """'同比上升 3.2%' / '环比下降 1.2 个百分点' / '同比持平' / '去年同期为零' / '无去年同期数据'."""
    word, baseline_name = BASIS[basis]
    if change is None or change.note == "baseline_missing":
        return f"无{baseline_name}数据"
    if change.note == "value_missing":
        return f"{baseline_name}为 {change.baseline:g}，本期无数据" if change.baseline is not None else "本期无数据"
    if change.note == "baseline_zero":
        return f"{word}持平" if not change.absolute else f"{baseline_name}为零"
    if rate:
        points = round(change.absolute or 0.0, 1)
        if points == 0:
            return f"{word}持平"
        return f"{word}{'上升' if points > 0 else '下降'} {abs(points):.1f} 个百分点"
    percent = round(change.percent or 0.0, 1)
    if percent == 0:
        return f"{word}持平"
    return f"{word}{'上升' if percent > 0 else '下降'} {abs(percent):.1f}%"


BASIS_EN = {"last_year": ("year on year", "the same period last year", "a year earlier"),
            "previous": ("on the previous period", "the previous period", "in the previous period")}


def change_words(change: Change | None, *, basis: str, rate: bool, lang: str = "zh") -> str:
    """``change_phrase`` in a page's language: Chinese as the summary writes it, or English by
    the same rules ('up 3.2% year on year', 'down 1.2 points on the previous period', 'flat year
    on year', 'zero a year earlier', 'no data for the same period last year')."""
    if lang != "en":
        return change_phrase(change, basis=basis, rate=rate)
    word, baseline_name, earlier = BASIS_EN[basis]
    if change is None or change.note == "baseline_missing":
        return f"no data for {baseline_name}"
    if change.note == "value_missing":
        return f"{change.baseline:g} {earlier}, no data now" if change.baseline is not None else "no data now"
    if change.note == "baseline_zero" and not rate:  # a rate from 0 % still changes by points
        return f"flat {word}" if not change.absolute else f"zero {earlier}"
    amount = round((change.absolute if rate else change.percent) or 0.0, 1)
    if amount == 0:
        return f"flat {word}"
    return f"{'up' if amount > 0 else 'down'} {abs(amount):.1f}{' points' if rate else '%'} {word}"


def sentence(metric: Metric, value: float | None, *, last_year: Change | None = None,
             previous: Change | None = None) -> str:
    """'{name} {value}，同比…，环比…' for one figure."""
    rate = metric.kind is Kind.RATE
    parts = [f"{metric.zh} {number(value, metric.unit)}"]
    if last_year is not None or previous is None:
        parts.append(change_phrase(last_year, basis="last_year", rate=rate))
    if previous is not None:
        parts.append(change_phrase(previous, basis="previous", rate=rate))
    return "，".join(parts)
