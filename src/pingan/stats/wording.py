"""Figures in words (表述): how the work summary writes a KPI and its changes.

"接处警 1,234 起，同比上升 3.2%，环比下降 1.0%"; a rate changes by percentage points
("上升 1.2 个百分点"), not by a percentage of itself; a zero or missing baseline is said so
("去年同期为零", "无去年同期数据"), never written as an infinite rise. ``lang='en'`` says the same
in English for the English pages ("up 3.2% year on year", "zero a year earlier").
"""

from __future__ import annotations

from pingan.stats.engine import Change
from pingan.stats.metrics import Kind, Metric

BASIS = {"last_year": ("同比", "去年同期"), "previous": ("环比", "上期")}
BASIS_EN = {"last_year": ("year on year", "the same period last year", "a year earlier"),
            "previous": ("on the previous period", "the previous period", "in the previous period")}


def number(value: float | None, unit: str, *, lang: str = "zh") -> str:
    """A value with its unit: counts with thousands separators, the rest to one decimal."""
    if value is None:
        return "no data" if lang == "en" else "无数据"
    if unit == "%":
        return f"{value:.1f}%"
    if float(value).is_integer():
        return f"{int(value):,} {unit}".rstrip()
    return f"{value:,.1f} {unit}".rstrip()


def _movement(change: Change | None, rate: bool) -> tuple[str, float | None]:
    """What a change says, before words: ('missing' | 'value_missing' | 'flat' | 'zero', None) or
    ('up' | 'down', the amount: percentage points for a rate, a percentage otherwise)."""
    if change is None or change.note == "baseline_missing":
        return "missing", None
    if change.note == "value_missing":
        return "value_missing", change.baseline
    if change.note == "baseline_zero":
        return ("flat", None) if not change.absolute else ("zero", None)
    amount = round((change.absolute if rate else change.percent) or 0.0, 1)
    if amount == 0:
        return "flat", None
    return ("up" if amount > 0 else "down"), abs(amount)


def change_phrase(change: Change | None, *, basis: str, rate: bool, lang: str = "zh") -> str:
    """'同比上升 3.2%' / '环比下降 1.2 个百分点' / '同比持平' / '去年同期为零' / '无去年同期数据'
    (``lang='en'``: 'up 3.2% year on year' / 'down 1.2 points on the previous period' / …)."""
    what, amount = _movement(change, rate)
    if lang == "en":
        word, baseline_name, earlier = BASIS_EN[basis]
        if what == "value_missing":
            return f"{amount:g} {earlier}, no data now" if amount is not None else "no data now"
        size = "" if amount is None else f"{amount:.1f} points" if rate else f"{amount:.1f}%"
        return {"missing": f"no data for {baseline_name}", "flat": f"flat {word}", "zero": f"zero {earlier}",
                "up": f"up {size} {word}", "down": f"down {size} {word}"}[what]
    word, baseline_name = BASIS[basis]
    if what == "value_missing":
        return f"{baseline_name}为 {amount:g}，本期无数据" if amount is not None else "本期无数据"
    size = "" if amount is None else f"{amount:.1f} 个百分点" if rate else f"{amount:.1f}%"
    return {"missing": f"无{baseline_name}数据", "flat": f"{word}持平", "zero": f"{baseline_name}为零",
            "up": f"{word}上升 {size}", "down": f"{word}下降 {size}"}[what]


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
