"""Figures in words (表述): how the work summary writes a KPI and its changes.

"接处警 1,234 起，同比上升 3.2%，环比下降 1.0%"; a rate changes by percentage points
("上升 1.2 个百分点"), not by a percentage of itself (so a rate whose baseline was 0 % still
has a change in points); a count's zero or missing baseline is said so ("去年同期为零",
"无去年同期数据"), never written as an infinite rise.

The issued document (``stats.report``) is quieter: ``statement`` leaves a comparison out when
its baseline does not exist instead of announcing it, and ``says_something`` tells whether a
figure is worth a sentence at all (see there). Durations are written in minutes and seconds
(``duration``), periods and the span counted in Chinese dates (``period_words``, ``span_words``).
"""

from __future__ import annotations

from datetime import date, datetime

from pingan.stats.engine import Change
from pingan.stats.metrics import Kind, Metric
from pingan.stats.period import Period, PeriodKind

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
    if change.note == "baseline_zero" and not rate:
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


# --- the issued document's wording (stats.report) -------------------------------------------------


def duration(seconds: float | None) -> str:
    """A time in words: '45.2秒', '4分43秒', '1小时2分5秒' (whole seconds from a minute up)."""
    if seconds is None:
        return "无数据"
    if seconds < 60:
        return f"{seconds:.1f}秒"
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}小时" if hours else "") + (f"{minutes}分" if minutes or hours else "")
    return text + (f"{secs}秒" if secs or not text else "")


def amount(value: float | None, unit: str) -> str:
    """A value with its unit as the document writes it: durations in minutes and seconds."""
    return duration(value) if unit == "秒" else number(value, unit)


def says_something(metric: Metric, value: float | None, *, last_year: Change | None = None,
                   previous: Change | None = None) -> bool:
    """Whether a figure is worth a sentence. Not when it has no value (a rate with nothing to
    measure, a mean of nothing); not when it is a count of nothing whose baselines are nothing
    too (no "0 起，无去年同期数据"). A count of 0 against a baseline that was not 0 is news."""
    if value is None:
        return False
    if metric.kind is Kind.COUNT and value == 0:
        return any(c is not None and bool(c.baseline) for c in (last_year, previous))
    return True


def comparisons(metric: Metric, *, last_year: Change | None = None, previous: Change | None = None) -> list[str]:
    """The comparisons of a figure worth writing: each whose baseline exists (a baseline that does
    not exist is left out, not announced; a zero one is said: '去年同期为零')."""
    rate = metric.kind is Kind.RATE
    return [change_phrase(c, basis=basis, rate=rate) for basis, c in (("last_year", last_year), ("previous", previous))
            if c is not None and c.note not in ("baseline_missing", "value_missing")]


def statement(metric: Metric, value: float | None, *, last_year: Change | None = None,
              previous: Change | None = None, name: str | None = None) -> str:
    """'接警总数 1,234 起，同比上升 3.2%，环比下降 1.0%' — quiet about missing baselines."""
    return "，".join([f"{name or metric.zh} {amount(value, metric.unit)}",
                     *comparisons(metric, last_year=last_year, previous=previous)])


def change_cell(change: Change | None, *, rate: bool) -> str:
    """A change as a table cell: '+3.2%', '-1.0%', '+1.2个百分点', '持平', '基数为零', '—'."""
    if change is None or change.note in ("baseline_missing", "value_missing"):
        return "—"
    if rate:
        points = round(change.absolute or 0.0, 1)
        return "持平" if points == 0 else f"{points:+.1f}个百分点"
    if change.note == "baseline_zero":
        return "持平" if not change.absolute else "基数为零"
    percent = round(change.percent or 0.0, 1)
    return "持平" if percent == 0 else f"{percent:+.1f}%"


_QUARTERS = "一二三四"


def _day_words(d: date, *, year: bool = True) -> str:
    return (f"{d.year}年" if year else "") + f"{d.month}月{d.day}日"


def _clock_words(moment: datetime) -> str:
    return f"{moment.hour}时" + (f"{moment.minute}分" if moment.minute else "")


def period_words(period: Period) -> str:
    """The period as a title names it: '2026年', '2026年第三季度', '2026年7月', '2026年第5周',
    '2026年7月15日', '2026年3月1日至6月30日'."""
    s = period.start
    match period.kind:
        case PeriodKind.YEAR:
            return f"{s.year}年"
        case PeriodKind.QUARTER:
            return f"{s.year}年第{_QUARTERS[(s.month - 1) // 3]}季度"
        case PeriodKind.MONTH:
            return f"{s.year}年{s.month}月"
        case PeriodKind.WEEK:
            iso = s.isocalendar()
            return f"{iso.year}年第{iso.week}周"
        case PeriodKind.DAY:
            return _day_words(s)
    last = date.fromordinal(period.end.toordinal() - 1)
    return f"{_day_words(s)}至{_day_words(last, year=last.year != s.year)}"


def span_words(period: Period) -> str:
    """The span counted, in words: '2026年1月1日至12月31日'; a period counted to date stops at
    the minute it was counted: '2026年1月1日至11月23日10时30分' (to the day when that is midnight)."""
    start, until = period.start, period.until
    if until is not None and (until.hour or until.minute):
        if until.date() == start:
            return f"{_day_words(start)}0时至{_clock_words(until)}"
        return f"{_day_words(start)}至{_day_words(until.date(), year=until.year != start.year)}{_clock_words(until)}"
    last = period.last_day
    if last == start:
        return _day_words(start)
    return f"{_day_words(start)}至{_day_words(last, year=last.year != start.year)}"
