"""Comparisons beyond 同比 and 环比 (比较口径), declared once for every module's KPIs.

A bureau's yearly report says more of a figure than its change on last year:

- against a **baseline year** — "2022年与2017年比，现行命案下降84%": the same span of that year,
  cut at the same point when the period is counted to date (``BASELINE_YEAR``, asked with a year);
- a **multiple** — "查处酒驾醉驾1.4万起，是2017年的12.57倍": a count at least twice its baseline
  is said as a multiple, not as a rise of 1,157 % (``MULTIPLE``);
- the **relative change of a rate** beside its change in points — "上升1.2个百分点，相对上升5.3%"
  (``RELATIVE``);
- a **zero worth saying** — "暴恐案事件零发生": a count of nothing is a claim, not a figure to
  leave out (``ZERO``);
- **streaks** — "2020年3月以来连续35个月…零发生" (``ZERO_STREAK``, counted by month), "命案连续
  14年全破" (``FULL_STREAK``: a rate of 100 %, counted by year): the units in a row, back from
  the one holding the period's end (a unit still running counts when it holds so far), in
  which the KPI met its condition. A unit before the source's first record is not a zero; a
  unit with nothing to measure (no denominator) ends a rate's streak — no "全破" of nothing;
- **historical extremes** — "刑事案件处在历史最低位": the period's value against every period of
  the same kind (year, quarter, month) in the store's history up to it; a period counted to
  date against the same span of each ("历史同期最低"). Claimed only over ``MIN_HISTORY``
  periods with a value and when the value is strictly below (above) all the others.

A KPI says which of these mean something for it (``Metric.claims``, checked by
:func:`check_claims`); the baseline year is asked by whoever writes the comparison (a report
part names the year). A caller asks with :class:`Ask` and :func:`evaluate` answers all the asks
of a period with :class:`Finding` s, in as few grouped queries as they allow, each inside the
actor's jurisdiction: the baseline years together with the period in one (``engine.compute_spans``),
a streak unit one over the source's history cut by month or year (``engine.compute``), the
extremes one (by the period's own bucket over the history, or the same spans of the earlier
periods for a period counted to date). Multiples, relative changes and zeros need no query:
they are words for a change or a value (``stats.wording``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from pingan.auth.actor import Actor
from pingan.errors import ValidationFailed
from pingan.stats import engine
from pingan.stats.engine import Change, KpiResult
from pingan.stats.metrics import Kind, Metric
from pingan.stats.period import MIN_YEAR, Period, PeriodKind, day, month, quarter, week, year
from pingan.stats.store import Store


class Comparison(StrEnum):
    BASELINE_YEAR = "baseline_year"  # 与某年比
    MULTIPLE = "multiple"  # 是某年的 N 倍
    RELATIVE = "relative"  # 相对上升 / 下降（比率）
    ZERO = "zero"  # 零发生
    ZERO_STREAK = "zero_streak"  # 连续 N 个月零发生
    FULL_STREAK = "full_streak"  # 连续 N 年保持 100%（全破）
    EXTREME = "extreme"  # 历史最低 / 最高


# What a KPI may claim (``Metric.claims``) and of which kind it must be; the baseline year is
# asked, not claimed: any figure can be compared with a year.
CLAIMS: dict[Comparison, tuple[Kind, ...]] = {
    Comparison.MULTIPLE: (Kind.COUNT,),
    Comparison.RELATIVE: (Kind.RATE,),
    Comparison.ZERO: (Kind.COUNT,),
    Comparison.ZERO_STREAK: (Kind.COUNT,),
    Comparison.FULL_STREAK: (Kind.RATE,),
    Comparison.EXTREME: tuple(Kind),
}
STREAK_UNITS = {Comparison.ZERO_STREAK: "month", Comparison.FULL_STREAK: "year"}  # the unit counted by default
MIN_STREAK = 2  # units in a row before a streak is worth saying ("连续 1 个月" is not one)
MIN_HISTORY = 3  # periods with a value (the current one included) before an extreme is one
MULTIPLE_FROM = 2.0  # a count at least this many times its baseline is said as a multiple
EXTREME_KINDS = {PeriodKind.YEAR: "year", PeriodKind.QUARTER: "quarter", PeriodKind.MONTH: "month"}


def check_claims(metric: Metric) -> None:
    """Refuse a declaration claiming what does not exist or does not fit its kind (a rate's zero)."""
    for name in metric.claims:
        try:
            kinds = CLAIMS[Comparison(name)]
        except (ValueError, KeyError):
            raise ValueError(f"{metric.slug}: unknown claim {name!r} (one of {', '.join(CLAIMS)})") from None
        if metric.kind not in kinds:
            raise ValueError(f"{metric.slug}: a {metric.kind.value} cannot claim {name!r}")


def claims(kpi) -> frozenset[str]:
    """What a KPI claims: of a :class:`Metric`, or of a declaration frozen in a report snapshot."""
    return frozenset(getattr(kpi, "claims", ()))


@dataclass(frozen=True)
class Ask:
    """A comparison asked of one KPI: ``year`` for a baseline year, ``unit`` ('month' | 'year')
    for a streak."""

    kind: Comparison
    kpi: str
    year: int | None = None
    unit: str | None = None

    def to_json(self) -> dict:
        return {"kind": self.kind.value, "kpi": self.kpi, "year": self.year, "unit": self.unit}

    @classmethod
    def from_json(cls, data: dict) -> Ask:
        return cls(kind=Comparison(data["kind"]), kpi=data["kpi"], year=data.get("year"), unit=data.get("unit"))


def asks_for(kpi) -> list[Ask]:
    """The asks that need the store for what a KPI claims (streaks, extremes), in a fixed order."""
    said = claims(kpi)
    out = [Ask(kind, kpi.slug, unit=unit) for kind, unit in STREAK_UNITS.items() if kind in said]
    if Comparison.EXTREME in said:
        out.append(Ask(Comparison.EXTREME, kpi.slug))
    return out


@dataclass(frozen=True)
class Finding:
    """The answer to an :class:`Ask`.

    - baseline year: ``value`` (the period's), ``change`` against the same span of ``ask.year``;
    - streak: ``length`` units in a row up to the period's end, the first of them ``since``
      ('2024-03' or '2024'; None for no streak);
    - extreme: ``value``, ``extreme`` 'lowest' | 'highest' | None, ``compared`` the earlier periods
      with a value it was compared with, ``to_date`` when the spans compared were cut to date.
    """

    ask: Ask
    value: float | None = None
    change: Change | None = None
    length: int = 0
    since: str | None = None
    extreme: str | None = None
    compared: int = 0
    to_date: bool = False

    @property
    def claimed(self) -> bool:
        """Whether it is worth saying: a baseline that exists, a streak of ``MIN_STREAK``, an extreme."""
        if self.ask.kind is Comparison.BASELINE_YEAR:
            return self.change is not None and self.change.note not in ("baseline_missing", "value_missing")
        if self.ask.kind in STREAK_UNITS:
            return self.length >= MIN_STREAK
        return self.extreme is not None

    def to_json(self) -> dict:
        c = self.change
        return {"ask": self.ask.to_json(), "value": self.value, "length": self.length, "since": self.since,
                "extreme": self.extreme, "compared": self.compared, "to_date": self.to_date,
                "change": None if c is None else {"baseline": c.baseline, "absolute": c.absolute,
                                                  "percent": c.percent, "note": c.note}}

    @classmethod
    def from_json(cls, data: dict) -> Finding:
        return cls(ask=Ask.from_json(data["ask"]), value=data["value"], length=data["length"], since=data["since"],
                   extreme=data["extreme"], compared=data["compared"], to_date=data["to_date"],
                   change=None if data["change"] is None else Change(**data["change"]))


# --- periods ---------------------------------------------------------------------------------------


def _in_year(d: date, y: int) -> date:
    try:
        return d.replace(year=y)
    except ValueError:  # 29 February
        return d.replace(year=y, day=28)


def _calendar(kind: PeriodKind, y: int, m: int) -> Period:
    if kind is PeriodKind.YEAR:
        return year(y)
    if kind is PeriodKind.QUARTER:
        return quarter(y, (m - 1) // 3 + 1)
    return month(y, m)


def months_back(period: Period, months: int) -> Period:
    """The year, quarter or month ``months`` calendar months before ``period``, cut at the same
    point of itself when ``period`` is counted to date (as ``Period.last_year`` cuts its own)."""
    index = period.start.year * 12 + period.start.month - 1 - months
    whole = _calendar(period.kind, index // 12, index % 12 + 1)
    return period._cut(whole, months=months)  # noqa: SLF001 — the one rule of a baseline's cut-off


def year_of(period: Period) -> int:
    """The year a period belongs to (an ISO week's own year)."""
    return period.start.isocalendar().year if period.kind is PeriodKind.WEEK else period.start.year


def same_span_in(period: Period, in_year: int) -> Period:
    """The same span of ``period`` in an earlier year (同期): the same year, quarter, month, ISO
    week number, day or dates; cut at the same point when ``period`` is counted to date. 422 for a
    year that is not earlier."""
    own = year_of(period)
    if not MIN_YEAR <= in_year < own:
        raise ValidationFailed(f"year：比较年份应早于{own}年", f"year: the year compared must be before {own}",
                               field="year")
    years = own - in_year
    match period.kind:
        case PeriodKind.YEAR | PeriodKind.QUARTER | PeriodKind.MONTH:
            return months_back(period, 12 * years)
        case PeriodKind.WEEK:
            weeks_then = date(in_year, 12, 28).isocalendar().week
            whole = week(in_year, min(period.start.isocalendar().week, weeks_then))
        case PeriodKind.DAY:
            whole = day(_in_year(period.start, in_year))
        case _:  # a custom range: the same dates (both ends moved back by the same years)
            last = period.end - timedelta(days=1)
            whole = Period(PeriodKind.CUSTOM, _in_year(period.start, in_year),
                           _in_year(last, last.year - years) + timedelta(days=1))
            return period._cut(whole, months=12 * years)  # noqa: SLF001
    return period._cut(whole, days=(period.start - whole.start).days)  # noqa: SLF001


def _unit_start(moment: datetime, unit: str) -> date:
    return date(moment.year, 1, 1) if unit == "year" else date(moment.year, moment.month, 1)


# --- evaluate --------------------------------------------------------------------------------------


def evaluate(*, store: Store, actor: Actor, metrics: Sequence[Metric], asks: Sequence[Ask], period: Period,
             org_unit_id: int | None = None, filters: dict[str, str | None] | None = None,
             now: datetime | None = None) -> dict[Ask, Finding]:
    """Answer every ask for ``period`` (counted to date when it has not ended, as ``engine.compute``)
    inside the actor's jurisdiction, or the subtree of ``org_unit_id``; ``metrics`` are the KPIs
    the asks name. See the module docstring for the queries."""
    period = engine.to_date(store, period, now=now)
    by_slug = {m.slug: m for m in metrics}
    jobs: dict[tuple, list[tuple[Ask, Metric]]] = {}
    for ask in dict.fromkeys(asks):
        metric = by_slug.get(ask.kpi)
        if metric is None:
            raise ValidationFailed(f"kpi：指标「{ask.kpi[:40]}」不存在", f"kpi: no KPI {ask.kpi[:40]!r}", field="kpi")
        if ask.kind is Comparison.BASELINE_YEAR:
            if ask.year is None:
                raise ValidationFailed("year：与某年比较须指明年份", "year: a baseline year needs a year", field="year")
            group = (ask.kind,)
        elif ask.kind in STREAK_UNITS:
            unit = ask.unit or STREAK_UNITS[ask.kind]
            if unit not in ("month", "year"):
                raise ValidationFailed("unit：连续期数按月或按年计", "unit: a streak counts months or years", field="unit")
            group = ("streak", metric.source.name, unit)
        elif ask.kind is Comparison.EXTREME:
            group = (ask.kind, metric.source.name)
        else:
            raise ValidationFailed(f"kind：「{ask.kind.value}」无需查询，由表述给出",
                                   f"kind: {ask.kind.value!r} needs no query: it is wording", field="kind")
        jobs.setdefault(group, []).append((ask, metric))
    common = {"store": store, "actor": actor, "org_unit_id": org_unit_id, "filters": filters}
    out: dict[Ask, Finding] = {}
    for group, items in jobs.items():
        if group[0] is Comparison.BASELINE_YEAR:
            out.update(_baseline_years(period, items, **common))
        elif group[0] == "streak":
            out.update(_streaks(period, items, unit=group[2], now=now, **common))
        else:
            out.update(_extremes(period, items, now=now, **common))
    return {ask: out[ask] for ask in dict.fromkeys(asks)}


def _unique(items: Sequence[tuple[Ask, Metric]]) -> list[Metric]:
    return list({m.slug: m for _, m in items}.values())


def _total(result: KpiResult | None) -> float | None:
    """The value of a result with no cut (None: no data for the period)."""
    return result.cells[0].value if result is not None and result.cells else None


def _baseline_years(period: Period, items, *, store, actor, org_unit_id, filters) -> dict[Ask, Finding]:
    years = sorted({ask.year for ask, _ in items}, reverse=True)
    spans = [period, *(same_span_in(period, y) for y in years)]
    answers = engine.compute_spans(store=store, actor=actor, metrics=_unique(items), periods=spans,
                                   org_unit_id=org_unit_id, filters=filters)
    out = {}
    for ask, metric in items:
        value = _total(answers[0][metric.slug])
        then = answers[1 + years.index(ask.year)][metric.slug]
        out[ask] = Finding(ask, value=value, change=engine.change(value, _total(then) if then else None))
    return out


def _held(kind: Comparison, cell: engine.Cell) -> bool:
    if kind is Comparison.ZERO_STREAK:
        return cell.value == 0
    return bool(cell.denominator) and cell.numerator == cell.denominator  # a rate of exactly 100 %


def _streaks(period: Period, items, *, unit: str, store, actor, org_unit_id, filters, now) -> dict[Ask, Finding]:
    source = items[0][1].source
    first = engine.first_record(store=store, source=source)
    if first is None or first >= period.stop:
        return {ask: Finding(ask) for ask, _ in items}
    history = Period(PeriodKind.CUSTOM, _unit_start(first, unit), period.end, until=period.until)
    results = {r.metric.slug: r for r in engine.compute(
        store=store, actor=actor, metrics=_unique(items), period=history, by=(unit,), compare=False,
        org_unit_id=org_unit_id, filters=filters, now=now, named=False)}
    out = {}
    for ask, metric in items:
        length, since = 0, None
        for cell in reversed(results[metric.slug].cells):  # the units in order, the last holds the period's end
            if not _held(ask.kind, cell):
                break
            length, since = length + 1, str(cell.key[unit])
        out[ask] = Finding(ask, length=length, since=since)
    return out


def _extremes(period: Period, items, *, store, actor, org_unit_id, filters, now) -> dict[Ask, Finding]:
    bucket = EXTREME_KINDS.get(period.kind)
    first = engine.first_record(store=store, source=items[0][1].source)
    if bucket is None or first is None or first >= period.stop:
        return {ask: Finding(ask) for ask, _ in items}
    step = {"year": 12, "quarter": 3, "month": 1}[bucket]
    earlier = []
    while (p := months_back(period, step * (len(earlier) + 1))).end > first.date():
        earlier.append(p)
    metrics = _unique(items)
    series: dict[str, list[float | None]] = {}  # each KPI's values, the current period's last
    if period.until is None:
        history = Period(PeriodKind.CUSTOM, earlier[-1].start if earlier else period.start, period.end)
        for r in engine.compute(store=store, actor=actor, metrics=metrics, period=history, by=(bucket,),
                                compare=False, org_unit_id=org_unit_id, filters=filters, now=now, named=False):
            series[r.metric.slug] = [c.value for c in r.cells]
    else:
        answers = engine.compute_spans(store=store, actor=actor, metrics=metrics, periods=[*reversed(earlier), period],
                                       org_unit_id=org_unit_id, filters=filters)
        for m in metrics:
            series[m.slug] = [_total(a[m.slug]) for a in answers]
    out = {}
    for ask, metric in items:
        *before, value = series[metric.slug]
        others = [v for v in before if v is not None]
        which = None
        if value is not None and len(others) + 1 >= MIN_HISTORY:
            which = "lowest" if value < min(others) else "highest" if value > max(others) else None
        out[ask] = Finding(ask, value=value, extreme=which, compared=len(others), to_date=period.until is not None)
    return out
