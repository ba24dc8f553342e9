"""Figures in words (表述): how the work summary writes a KPI and its changes.

"接处警 1,234 起，同比上升 3.2%，环比下降 1.0%"; a rate changes by percentage points
("上升 1.2 个百分点"), not by a percentage of itself (so a rate whose baseline was 0 % still
has a change in points); a count's zero or missing baseline is said so ("去年同期为零",
"无去年同期数据"), never written as an infinite rise.

The issued document (``stats.report``) is quieter: ``statement`` leaves a comparison out when
its baseline does not exist instead of announcing it, and ``says_something`` tells whether a
figure is worth a sentence at all (see there). Durations are written in minutes and seconds
(``duration``), periods and the span counted in Chinese dates (``period_words``, ``span_words``).

What a KPI claims beyond 同比 / 环比 (``stats.comparisons``) is said here too, in Chinese and in
English: a zero ("刑事警情零发生"), a multiple ("是2017年的 12.57 倍"), a rate's relative change
beside its points ("上升 1.2 个百分点，相对上升 5.3%"), a baseline year ("较2017年下降 84.0%"), a
streak ("连续 35 个月零发生（2024年3月以来）", "连续 14 年保持 100%") and an extreme ("为历史最低").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from pingan.stats.comparisons import MULTIPLE_FROM, Comparison, Finding, claims
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
    return [_claimed_change(metric, c, basis=basis) for basis, c in (("last_year", last_year), ("previous", previous))
            if c is not None and c.note not in ("baseline_missing", "value_missing")]


def _baselines_of_a_zero(metric: Metric, *, last_year: Change | None, previous: Change | None) -> list[str]:
    """Beside a zero said as one: the baselines that were not nothing ('去年同期为 3 起'), not a fall of 100 %."""
    return [f"{BASIS[basis][1]}为 {amount(c.baseline, metric.unit)}"
            for basis, c in (("last_year", last_year), ("previous", previous)) if c is not None and c.baseline]


def _claimed_change(metric: Metric, change: Change, *, basis: str) -> str:
    """``change_phrase``, said as a multiple or with the rate's relative change where the KPI claims it."""
    said = claims(metric)
    times = multiple_of(change) if Comparison.MULTIPLE in said else None
    if times is not None:
        return multiple_words(times, (BASIS[basis][1], BASIS_EN[basis][1]))
    phrase = change_phrase(change, basis=basis, rate=metric.kind is Kind.RATE)
    relative = relative_words(change) if Comparison.RELATIVE in said else None
    return f"{phrase}，{relative}" if relative and "持平" not in phrase else phrase


def statement(metric: Metric, value: float | None, *, last_year: Change | None = None,
              previous: Change | None = None, name: str | None = None) -> str:
    """'接警总数 1,234 起，同比上升 3.2%，环比下降 1.0%' — quiet about missing baselines; a zero
    the KPI claims is said as one: '刑事警情零发生，去年同期为 3 起'."""
    return "，".join(_statement_parts(metric, value, last_year=last_year, previous=previous, name=name))


def _statement_parts(metric: Metric, value: float | None, *, last_year: Change | None, previous: Change | None,
                     name: str | None) -> list[str]:
    name = name or metric.zh
    if claims_zero(metric, value):
        return [f"{name}零发生", *_baselines_of_a_zero(metric, last_year=last_year, previous=previous)]
    return [f"{name} {amount(value, metric.unit)}", *comparisons(metric, last_year=last_year, previous=previous)]


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


# --- comparisons beyond 同比 / 环比 (stats.comparisons) -------------------------------------------------


def claims_zero(metric: Metric, value: float | None) -> bool:
    """Whether a figure is a zero its KPI claims ('零发生'): worth saying even when its baselines
    were nothing too."""
    return value == 0 and Comparison.ZERO in claims(metric)


def multiple_of(change: Change | None) -> float | None:
    """The value as a multiple of its baseline, when it is at least ``MULTIPLE_FROM`` times it."""
    if change is None or change.absolute is None or not change.baseline or change.baseline < 0:
        return None
    times = (change.baseline + change.absolute) / change.baseline
    return times if times >= MULTIPLE_FROM else None


def _times(times: float) -> str:
    return f"{times:.2f}".rstrip("0").rstrip(".")


def multiple_words(times: float, baseline: tuple[str, str], *, lang: str = "zh") -> str:
    """'是2017年的 12.57 倍' / '12.57 times 2017' (``baseline``: its name in Chinese and English)."""
    if lang == "en":
        return f"{_times(times)} times {baseline[1]}"
    return f"是{baseline[0]}的 {_times(times)} 倍"


def relative_words(change: Change | None, *, lang: str = "zh") -> str | None:
    """A rate's change relative to itself, beside its change in points: '相对上升 5.3%' / 'a
    relative rise of 5.3%'; None when the baseline was 0 % or missing, or it rounds to nothing."""
    if change is None or change.percent is None:
        return None
    percent = round(change.percent, 1)
    if percent == 0:
        return None
    if lang == "en":
        return f"a relative {'rise' if percent > 0 else 'fall'} of {abs(percent):.1f}%"
    return f"相对{'上升' if percent > 0 else '下降'} {abs(percent):.1f}%"


def year_basis(period: Period, year: int) -> tuple[str, str]:
    """How a baseline year is named beside ``period``: '2017年' for a whole year, '2017年同期'
    (the same span) otherwise."""
    if period.kind is PeriodKind.YEAR and period.until is None:
        return f"{year}年", f"{year}"
    return f"{year}年同期", f"the same span of {year}"


def year_change_words(metric: Metric, change: Change, *, basis: tuple[str, str], lang: str = "zh") -> str:
    """A change against a baseline year (``basis`` from ``year_basis``): '较2017年上升 84.0%',
    '较2017年下降 21.9 个百分点，相对下降 25.0%' (a rate claiming its relative change), '是2017年的
    12.57 倍' (a count claiming multiples), '与2017年持平', '2017年为零'; in English 'up 84.0% on
    2017', 'down 21.9 points on 2017, a relative fall of 25.0%', '12.57 times 2017', 'flat on
    2017', 'zero in 2017'. '' for a baseline that does not exist."""
    zh, en = basis
    if change.note in ("baseline_missing", "value_missing"):
        return ""
    said, rate = claims(metric), metric.kind is Kind.RATE
    flat = f"flat on {en}" if lang == "en" else f"与{zh}持平"
    if change.note == "baseline_zero" and not rate:
        if not change.absolute:
            return flat
        return f"zero in {en}" if lang == "en" else f"{zh}为零"
    if Comparison.MULTIPLE in said and (times := multiple_of(change)) is not None:
        return multiple_words(times, basis, lang=lang)
    amount_ = round((change.absolute if rate else change.percent) or 0.0, 1)
    if amount_ == 0:
        return flat
    if lang == "en":
        text = f"{'up' if amount_ > 0 else 'down'} {abs(amount_):.1f}{' points' if rate else '%'} on {en}"
    else:
        text = f"较{zh}{'上升' if amount_ > 0 else '下降'} {abs(amount_):.1f}{' 个百分点' if rate else '%'}"
    relative = relative_words(change, lang=lang) if rate and Comparison.RELATIVE in said else None
    return f"{text}, {relative}" if relative and lang == "en" else f"{text}，{relative}" if relative else text


def year_statement(metric: Metric, finding: Finding, *, period: Period, name: str | None = None) -> str:
    """A figure against its baseline year, as the document writes it: '接警总数 1,234 起，较2017年
    上升 84.0%'; a zero the KPI claims: '刑事警情零发生，2017年为 3 起'."""
    name, change = name or metric.zh, finding.change
    basis = year_basis(period, finding.ask.year)
    if claims_zero(metric, finding.value):
        return f"{name}零发生" + (f"，{basis[0]}为 {amount(change.baseline, metric.unit)}" if change.baseline else "")
    return f"{name} {amount(finding.value, metric.unit)}，{year_change_words(metric, change, basis=basis)}"


_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


def streak_words(finding: Finding, *, lang: str = "zh") -> str:
    """A streak: '连续 35 个月零发生（2024年3月以来）', '连续 3 年零发生' (months that make whole
    years are said in years), '连续 14 年保持 100%'; 'zero for 35 months in a row (since March
    2024)', '100% for 14 years in a row'."""
    length, since = finding.length, finding.since or ""
    years = finding.ask.unit == "year" or (since.endswith("-01") and length % 12 == 0)
    if finding.ask.unit != "year" and years:
        length //= 12
    held_zh, held_en = ("零发生", "zero") if finding.ask.kind is Comparison.ZERO_STREAK else ("保持 100%", "100%")
    if lang == "en":
        text = f"{held_en} for {length} {'years' if years else 'months'} in a row"
        if not years:
            y, m = since.split("-")
            text += f" (since {_MONTHS_EN[int(m) - 1]} {y})"
        return text
    if years:
        return f"连续 {length} 年{held_zh}"
    y, m = since.split("-")
    return f"连续 {length} 个月{held_zh}（{y}年{int(m)}月以来）"


def extreme_words(finding: Finding, *, lang: str = "zh") -> str:
    """'为历史最低' / '为历史最高'; for a period counted to date '为历史同期最低'; 'the lowest on
    record', 'the highest on record for the same span'."""
    low = finding.extreme == "lowest"
    if lang == "en":
        return f"the {'lowest' if low else 'highest'} on record" + (" for the same span" if finding.to_date else "")
    return f"为历史{'同期' if finding.to_date else ''}{'最低' if low else '最高'}"


def claimed_statement(metric: Metric, value: float | None, *, last_year: Change | None = None,
                      previous: Change | None = None, findings: Sequence[Finding] = (),
                      name: str | None = None) -> str:
    """``statement`` and what the KPI claims that holds (the findings of its streak and extreme):
    '刑事警情连续 5 个月零发生（2026年3月以来），去年同期为 3 起', '命案破案率连续 14 年保持 100%',
    '接警总数 1,234 起，同比下降 3.2%，为历史最低'. A streak that says the value stands for it."""
    found = {f.ask.kind: f for f in findings if f.claimed and f.ask.kpi == metric.slug}
    parts = _statement_parts(metric, value, last_year=last_year, previous=previous, name=name)
    streak = found.get(Comparison.ZERO_STREAK) or found.get(Comparison.FULL_STREAK)
    if streak is not None:
        head = f"{name or metric.zh}{streak_words(streak)}"
        if streak.ask.kind is Comparison.ZERO_STREAK and value == 0:
            parts = [head, *_baselines_of_a_zero(metric, last_year=last_year, previous=previous)]
        elif streak.ask.kind is Comparison.FULL_STREAK and value == 100.0:
            parts[0] = head
        else:
            parts.append(streak_words(streak))
    if (extreme := found.get(Comparison.EXTREME)) is not None:
        parts.append(extreme_words(extreme))
    return "，".join(parts)
