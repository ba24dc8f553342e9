"""Dashboards (统计看板): the figures of the leadership and station dashboards and the link
to the records behind every one of them.

A dashboard shows one period *as counted* (a period not yet ended stops at the current minute,
``engine.to_date``) for one scope: the actor's jurisdiction, or one org unit inside it. Its
figures come from a handful of ``engine.compute`` calls — every KPI of a source in one grouped
query (the cards), one KPI cut by period bucket (the trend), by subordinate unit (the bars and
the ranking), by zone class, by hour, by top-level category and by grid (the map) — and each
call's result is kept for the minute in which it was computed, for as long as the store holds
the same data (``engine.data_version``): a second look at a dashboard, or at another part of
it, within the minute asks the store nothing new. The figures are the engine's, unchanged.

Every figure carries the address of its records (``records_href``): the KPI, the period as
counted (``until`` when cut), the filters that define the cut, the part (numerator or
denominator) and the org unit — exactly what ``engine.drill_down`` needs to list the rows
counted, so that the records page's total is the figure. A baseline figure (去年同期, 上期)
links to the baseline period's records, cut at the same point.

The trend's baseline line is last year's same span, cut to date exactly as the 同比 on the
cards (decision 0009): its points add up to the cards' baseline, and the months after the cut
are not drawn.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus, urlencode

from pingan.auth.actor import Actor
from pingan.errors import ValidationFailed
from pingan.stats import contribution, engine, ranking
from pingan.stats.contribution import Panel
from pingan.stats.engine import LAST_YEAR, PREVIOUS, Cell, Change, KpiResult
from pingan.stats.metrics import METRICS, Kind, Metric
from pingan.stats.period import Period, PeriodKind
from pingan.stats.store import Store

# What the dashboards show of each fact source is its module's panel (``stats.contribution.Panel``):
# the distribution drawn as a chart instead of cards, the breakdown charts, the KPIs a page opens
# with. A source without a panel shows its KPIs as cards and nothing else.


def panels(actor: Actor) -> list[Panel]:
    """The panels of the sources the actor may read, in the sources' order."""
    declared = contribution.loaded().panels
    return [declared.get(s.name) or Panel(source=s.name) for s in contribution.readable_sources(actor)]


def distribution_slugs(actor: Actor) -> list[str]:
    return [slug for p in panels(actor) for slug in p.distribution]


def default_kpi(actor: Actor, which: str, dimension: str) -> str:
    """The KPI a dashboard opens with for ``which`` ('chart', 'rank', 'map'): the first readable
    panel's that can be cut by ``dimension``, else the first readable KPI that can ('' if none)."""
    metrics = contribution.loaded().metrics
    for panel in panels(actor):
        slug = getattr(panel, which)
        if slug and dimension in metrics[slug].dimensions:
            return slug
    return next((m.slug for m in contribution.readable_metrics(actor) if dimension in m.dimensions), "")


# The level below a unit whose units a dashboard compares (分局 for the bureau, 派出所 for a branch).
SUBORDINATE = {"bureau": "branch", "branch": "station"}
UNTIL_FORMAT = "%Y-%m-%dT%H:%M"


# --- where: the period as counted and the org unit ------------------------------------------------


@dataclass(frozen=True)
class Where:
    """What a dashboard or records page shows: a period as counted, and the org unit whose
    subtree it covers (None: the actor's whole jurisdiction). ``version`` is the store's data
    version the page reads (``engine.data_version``, asked once a page; None: ask each time)."""

    period: Period
    org_unit_id: int | None = None
    version: tuple | None = None

    @classmethod
    def now(cls, store: Store, period: Period, org_unit_id: int | None = None) -> Where:
        """``period`` as counted now (to date), on the data the store holds now."""
        return cls(engine.to_date(store, period), org_unit_id, engine.data_version(store))

    def within(self, org_unit_id: int | None) -> Where:
        return replace(self, org_unit_id=org_unit_id)


def parse_until(text: str | None, period: Period, *, field_name: str = "until") -> Period:
    """``period`` cut at ``until`` ('2026-11-23T10:00', local time) as a link carries it; 422
    naming the field when it is not a minute inside the period."""
    if not text:
        return period
    try:
        until = datetime.strptime(text.strip(), UNTIL_FORMAT)
    except ValueError:
        until = None
    if until is None or not period.begin < until <= datetime.combine(period.end, datetime.min.time()):
        raise ValidationFailed(f"{field_name}：截止时间应为统计周期内的「年-月-日T时:分」（{text[:20]}）",
                               f"{field_name}: the cut-off must be a YYYY-MM-DDTHH:MM inside the period ({text[:20]})",
                               field=field_name)
    return period.to_date(until) if until < datetime.combine(period.end, datetime.min.time()) else period


def period_query(period: Period) -> list[tuple[str, str]]:
    """The query parameters that name a period as counted."""
    out = [("period", period.label)]
    if period.until is not None:
        out.append(("until", period.until.strftime(UNTIL_FORMAT)))
    return out


def records_href(metric: Metric, period: Period, *, filters: dict[str, Any] | None = None,
                 part: str = "numerator", org: int | None = None) -> str:
    """The records page of one figure (see the module docstring)."""
    href = _records_base(metric.slug, period)
    for name, value in (filters or {}).items():
        href += "&filter=" + quote_plus(f"{name}:{engine.NULL_KEY if value is None else value}", safe="")
    if part != "numerator":
        href += f"&part={quote_plus(part)}"
    if org is not None:
        href += f"&org={int(org)}"
    return href


@lru_cache(maxsize=1024)
def _records_base(slug: str, period: Period) -> str:
    return "/stats/records?" + urlencode([("kpi", slug), *period_query(period)])


# --- figures --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One figure on a dashboard with its comparisons and the links to the records behind them."""

    metric: Metric
    value: float | None
    numerator: float | None
    denominator: float | None
    href: str
    href_denominator: str | None
    last_year: Change | None
    previous: Change | None
    last_year_href: str | None
    previous_href: str | None
    key: Any = None
    label: str = ""


def figure(metric: Metric, cell: Cell | None, where: Where, *, filters: dict[str, Any] | None = None,
           baseline_filters: dict[str, dict[str, Any] | None] | None = None, key: Any = None,
           label: str = "") -> Figure:
    """A figure from an engine cell (None: a cut with no records) and its links.
    ``baseline_filters`` gives the baselines' own filters where they differ (a bucket moves back
    with its period); None for a baseline means it cannot be drilled into."""
    filters = dict(filters or {})
    period, org = where.period, where.org_unit_id
    baseline_filters = baseline_filters or {}

    def baseline_href(tag: str, change: Change | None, baseline: Period) -> str | None:
        if change is None or change.baseline is None:
            return None
        wanted = baseline_filters.get(tag, filters)
        return None if wanted is None else records_href(metric, baseline, filters=wanted, org=org)

    if cell is None:
        value, numerator, denominator, last_year, previous = engine.empty_value(metric), None, None, None, None
        if metric.kind is Kind.COUNT:
            numerator = 0.0
    else:
        value, numerator, denominator = cell.value, cell.numerator, cell.denominator
        last_year, previous = cell.last_year, cell.previous
    return Figure(
        metric=metric, value=value, numerator=numerator, denominator=denominator,
        href=records_href(metric, period, filters=filters, org=org),
        href_denominator=(records_href(metric, period, filters=filters, part="denominator", org=org)
                          if metric.kind is Kind.RATE else None),
        last_year=last_year, previous=previous,
        last_year_href=baseline_href(LAST_YEAR, last_year, period.last_year()),
        previous_href=baseline_href(PREVIOUS, previous, period.previous()),
        key=key, label=label)


# --- the engine's results, kept for the minute ----------------------------------------------------

CACHE_SIZE = 256
# Answers cut into more keys than this (a city's 4,500 grids) are not kept as cells: tens of
# thousands of objects each, which every full pass of the cycle collector walks — with a few
# dozen of them kept, a pass took 200–400 ms, a pause of the worker's next request. What the
# map shows of them is kept instead, in a form the collector does not walk (``grid_values``).
CACHE_KEYS = 1000
_cache: OrderedDict[tuple, Any] = OrderedDict()
_cache_lock = threading.Lock()


def _remembered(key: tuple, make: Callable[[], Any], keep: Callable[[Any], bool] = lambda _: True) -> Any:
    """``make()``, or its answer to the same ``key`` within the same minute when ``keep`` let it
    be kept. An answer of an earlier minute is never asked for again: it goes at once, not when
    the cache is full."""
    minute = int(time.time() // 60)
    key = (minute, *key)
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    found = make()
    if keep(found):
        with _cache_lock:
            for stale in [k for k in _cache if k[0] != minute]:
                del _cache[stale]
            _cache[key] = found
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return found


def _question(store: Store, actor: Actor, where: Where) -> tuple:
    """What every dashboard answer depends on beyond its own question: the store and its data,
    the reader's jurisdiction and the sources they may read, the period as counted and the org unit."""
    version = where.version if where.version is not None else engine.data_version(store)
    return id(store), version, actor.org_path, contribution.readable_key(actor), where.period, where.org_unit_id


def compute(*, store: Store, actor: Actor, metrics: Sequence[Metric], where: Where,
            by: Sequence[str] = (), compare: bool = True,
            filters: dict[str, Any] | None = None, named: bool = True) -> dict[str, KpiResult]:
    """``engine.compute`` for a dashboard, by slug; the same question within the same minute,
    on the same data, is answered from the last answer (see the module docstring) — unless it
    was cut into more than ``CACHE_KEYS`` keys."""
    metrics = list(dict.fromkeys(metrics))
    key = ("compute", *_question(store, actor, where), tuple(m.slug for m in metrics), tuple(by), compare,
           tuple(sorted((filters or {}).items())), named)
    found = _remembered(key, lambda: engine.compute(
        store=store, actor=actor, metrics=metrics, period=where.period, by=by, compare=compare,
        org_unit_id=where.org_unit_id, filters=filters, named=named),
        keep=lambda results: len(results[0].cells) <= CACHE_KEYS)
    return {r.metric.slug: r for r in found}


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


# --- the sections of a dashboard ------------------------------------------------------------------


def card_metrics(actor: Actor, source: str | None = None) -> list[Metric]:
    """Every KPI the actor may read (of ``source`` only, when given) but those its panel draws as
    a distribution."""
    drawn = set(distribution_slugs(actor))
    return [m for m in contribution.readable_metrics(actor)
            if m.slug not in drawn and (source is None or m.source.name == source)]


@dataclass
class CardGroup:
    source: str
    zh: str
    en: str
    figures: list[Figure] = field(default_factory=list)


def cards(*, store: Store, actor: Actor, where: Where,
          source: str | None = None) -> tuple[list[CardGroup], list[Figure]]:
    """Every KPI the actor may read (of one fact source, when given: a dashboard's panel) for
    the whole scope with 同比 and 环比 (one grouped query per fact source): the cards by source,
    and the figures of the panels' distributions."""
    shown = [p for p in panels(actor) if source is None or p.source == source]
    wanted = card_metrics(actor, source) + [METRICS[s] for p in shown for s in p.distribution]
    results = compute(store=store, actor=actor, metrics=wanted, where=where)
    return _cards(actor, {slug: r.cells[0] if r.cells else None for slug, r in results.items()}, where, source)


def _cards(actor: Actor, cells: dict[str, Cell | None], where: Where,
           source: str | None = None) -> tuple[list[CardGroup], list[Figure]]:
    groups: dict[str, CardGroup] = {}
    for metric in card_metrics(actor, source):
        declared = metric.source
        groups.setdefault(declared.name, CardGroup(declared.name, declared.zh, declared.en)).figures.append(
            figure(metric, cells.get(metric.slug), where))
    distribution = [figure(METRICS[s], cells.get(s), where) for p in panels(actor)
                    if source is None or p.source == source for s in p.distribution]
    return list(groups.values()), distribution


def bucket_of(period: Period) -> str:
    """How a trend cuts a period: by month (a year, a quarter, a long range), by day (a month,
    a week, a range of up to 62 days), by hour (a day)."""
    if period.kind is PeriodKind.DAY:
        return "hour"
    if period.kind in (PeriodKind.MONTH, PeriodKind.WEEK) or (period.kind is PeriodKind.CUSTOM and period.days <= 62):
        return "day"
    return "month"


@dataclass
class Series:
    """A chart's figures in order, with the labels of its axis."""

    metric: Metric
    dimension: str
    figures: list[Figure]

    def chart(self, lang: str, *, last_year: bool = True, title: str | None = None,
              name: str | None = None) -> dict:
        """The figures as the chart script reads them (``web/static/stats.js``): the axis labels,
        this period's values (series ``name``) and, unless ``last_year`` is False, last year's
        same span, each point with the link to its records."""
        en = lang == "en"
        series = [{"name": name or ("This period" if en else "本期"), "values": [_round(f.value) for f in self.figures],
                   "counts": [f.numerator for f in self.figures], "hrefs": [f.href for f in self.figures]}]
        if last_year:
            series.append({"name": "Same period last year" if en else "去年同期", "dashed": True,
                           "values": [_round(f.last_year.baseline) if f.last_year else None for f in self.figures],
                           "hrefs": [f.last_year_href for f in self.figures]})
        return {"kpi": self.metric.slug, "title": title or (self.metric.en if en else self.metric.zh),
                "unit": self.metric.unit_en if en else self.metric.unit, "rate": self.metric.kind is Kind.RATE,
                "labels": [f.label for f in self.figures], "series": series}


def distribution_chart(panel: Panel, figures: Sequence[Figure], lang: str) -> dict | None:
    """A panel's distribution (shares of one whole, from the cards' computation) as a chart;
    None when the panel has none."""
    if not figures:
        return None
    en = lang == "en"
    labels = panel.distribution_labels or tuple((f.metric.zh, f.metric.en) for f in figures)
    labelled = [replace(f, label=pair[1] if en else pair[0]) for f, pair in zip(figures, labels, strict=True)]
    title = panel.distribution_title[1 if en else 0]
    return Series(figures[0].metric, panel.source, labelled).chart(lang, title=title)


def breakdown_chart(name: str, series: dict[str, Series], title: tuple[str, str] | None, lang: str, *,
                    last_year: bool) -> dict:
    """One breakdown of a panel: for one KPI, this period (beside last year's when ``last_year``);
    for several, a bar series per KPI under the breakdown's title."""
    en = lang == "en"
    if len(series) == 1:
        return next(iter(series.values())).chart(lang, last_year=last_year)
    charts = [s.chart(lang, last_year=False, name=s.metric.en if en else s.metric.zh) for s in series.values()]
    title = title or (name, name)
    return {**charts[0], "kpi": name, "title": title[1] if en else title[0],
            "series": [c["series"][0] for c in charts]}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _hour_label(hour: int, lang: str) -> str:
    return f"{hour:02d}:00" if lang == "en" else f"{hour}时"


def _bucket_label(bucket: str, key: Any, period: Period, lang: str) -> str:
    if bucket == "hour":
        return _hour_label(int(key), lang)
    text = str(key)
    if period.until is not None and text == _bucket_key(bucket, period.until):
        return text + (" (to date)" if lang == "en" else "（截至目前）")
    return text


def _bucket_key(bucket: str, moment: datetime) -> str:
    return moment.strftime("%Y-%m") if bucket == "month" else moment.strftime("%Y-%m-%d")


def trend(*, store: Store, actor: Actor, where: Where, metric: Metric, lang: str) -> Series:
    """The KPI by month (or day, or hour) with last year's same span, cut to date like the cards."""
    bucket = bucket_of(where.period)
    result = compute(store=store, actor=actor, metrics=[metric], where=where, by=[bucket])[metric.slug]
    cells = {c.key[bucket]: c for c in result.cells}
    keys = list(range(24)) if bucket == "hour" else list(cells)
    figures = []
    for key in keys:
        ly = engine.baseline_bucket(where.period, LAST_YEAR, bucket, key)
        figures.append(figure(metric, cells.get(key), where, filters={bucket: key},
                              baseline_filters={LAST_YEAR: None if ly is None else {bucket: ly},
                                                PREVIOUS: None},
                              key=key, label=_bucket_label(bucket, key, where.period, lang)))
    return Series(metric, bucket, figures)


def by_dimension(*, store: Store, actor: Actor, where: Where, metrics: Sequence[Metric], dimension: str,
                 labels: dict[Any, str] | None = None, members: dict[Any, str] | None = None,
                 order: str = "key") -> dict[str, Series]:
    """Several KPIs cut by one dimension in one call: a series per KPI. ``members`` lists every
    value to show (those without records too), ``labels`` names them; ``order='value'`` sorts
    by the first KPI's value, largest first."""
    results = compute(store=store, actor=actor, metrics=metrics, where=where, by=[dimension])
    out: dict[str, Series] = {}
    first = metrics[0].slug
    first_cells = {c.key[dimension]: c for c in results[first].cells}
    keys = list(members) if members is not None else [k for k in first_cells]
    if order == "value":
        keys.sort(key=lambda k: -(first_cells[k].value or 0) if k in first_cells else 0)
    for metric in metrics:
        cells = {c.key[dimension]: c for c in results[metric.slug].cells}
        figures = []
        for key in keys:
            cell = cells.get(key)
            name = (labels or {}).get(key) or (members or {}).get(key) or (
                cell.labels.get(dimension) if cell else str(key))
            figures.append(figure(metric, cell, where, filters={dimension: key}, key=key, label=name))
        out[metric.slug] = Series(metric, dimension, figures)
    return out


def hour_members(lang: str) -> dict[int, str]:
    return {h: _hour_label(h, lang) for h in range(24)}


@dataclass(frozen=True)
class UnitRanking:
    """A ranking of the subordinate units with the figures behind it."""

    ranking: ranking.Ranking
    figures: dict[int, Figure]  # by unit id
    level: str


def units(*, store: Store, actor: Actor, where: Where, level: str, metrics: Sequence[Metric],
          rank_metric: Metric, bottom: int = 3) -> tuple[dict[str, Series], UnitRanking]:
    """The KPIs by subordinate unit (branch, station or grid) with 同比, and the ranking on
    ``rank_metric`` with its change since the previous period — one engine call for both."""
    ranking.check_level(rank_metric, level)
    scope = engine.scope_for(store=store, actor=actor, org_unit_id=where.org_unit_id)
    members = engine.members(store=store, scope=scope, level=level)
    wanted = list(dict.fromkeys([*metrics, rank_metric]))
    series = by_dimension(store=store, actor=actor, where=where, metrics=wanted, dimension=level, members=members)
    result = compute(store=store, actor=actor, metrics=wanted, where=where, by=[level])[rank_metric.slug]
    ranked = ranking.ranked(result, level=level, members=members, bottom=bottom)
    figures = {f.key: f for f in series[rank_metric.slug].figures}
    return series, UnitRanking(ranked, figures, level)


@dataclass(frozen=True)
class GridValues:
    """A KPI for every grid of the scope, as the map shades them."""

    metric: Metric
    values: dict[int, tuple]
    href: str  # the records of the KPI in the scope; a grid's adds filter=grid:<id>
    href_last_year: str

    def chart(self, lang: str) -> dict:
        m = self.metric
        return {"kpi": m.slug, "name": m.en if lang == "en" else m.zh, "unit": m.unit_en if lang == "en" else m.unit,
                "rate": m.kind is Kind.RATE, "higher_is_better": m.higher_is_better, "href": self.href,
                "href_last_year": self.href_last_year, "values": self.values}


def grid_values(*, store: Store, actor: Actor, where: Where, metric: Metric) -> GridValues:
    """The map's figures: [value, last year's value] per grid id (4,500 grids for a city: kept short)."""
    if "grid" not in metric.dimensions:
        raise ValidationFailed(f"map：指标 {metric.slug} 不能按网格统计", f"map: {metric.slug} has no grid cut",
                               field="map")

    def make() -> GridValues:
        result = compute(store=store, actor=actor, metrics=[metric], where=where, by=["grid"],
                         named=False)[metric.slug]
        values = {c.key["grid"]: (_round(c.value), _round(c.last_year.baseline) if c.last_year else None)
                  for c in result.cells if c.key["grid"] is not None}
        return GridValues(metric, values, records_href(metric, where.period, org=where.org_unit_id),
                          records_href(metric, where.period.last_year(), org=where.org_unit_id))

    # kept as pairs of numbers, which the cycle collector leaves alone (see ``CACHE_KEYS``)
    return _remembered(("grid_values", *_question(store, actor, where), metric.slug), make)


# --- a station among its peers ------------------------------------------------------------------


@dataclass(frozen=True)
class PeerRank:
    """Where one station stands on one KPI among the stations of its branch and of the bureau."""

    figure: Figure
    branch_rank: int | None
    branch_count: int
    branch_change: int | None
    bureau_rank: int | None
    bureau_count: int
    bureau_change: int | None


def station_view(*, store: Store, actor: Actor, station_id: int, station_path: str,
                 where: Where) -> tuple[list[CardGroup], list[Figure], list[PeerRank]]:
    """A station's cards and its rank on each KPI among the stations of its branch and of the
    whole bureau, from one bureau-wide computation by station.

    Ranking a station needs its peers' figures, which a station chief may not read: they are
    computed over the bureau — one grouped query for every KPI, the same for every station's
    dashboard, so that within the minute the next station's dashboard finds it — and only the
    station's own figures and positions leave this function (decision 0009). A KPI that cannot
    be cut by station is computed for the station alone, as the actor."""
    root_id = int(station_path.strip("/").split("/")[0])
    peers = Actor.system(root_id, f"/{root_id}/", name="peer-ranking")
    bureau = engine.scope_for(store=store, actor=peers)
    stations = engine.members(store=store, scope=bureau, level="station")
    branches = engine.members(store=store, scope=bureau, level="branch")
    ancestors = [int(p) for p in station_path.strip("/").split("/")[:-1]]
    branch_id = next((a for a in reversed(ancestors) if a in branches), None)
    in_branch = {}
    if branch_id is not None:
        branch_scope = engine.scope_for(store=store, actor=peers, org_unit_id=branch_id)
        in_branch = engine.members(store=store, scope=branch_scope, level="station")
    wanted = card_metrics(actor) + [METRICS[s] for s in distribution_slugs(actor)]
    by_station = [m for m in wanted if "station" in m.dimensions]
    results = compute(store=store, actor=peers, metrics=by_station, where=where.within(None), by=["station"])
    cells = {m.slug: next((c for c in results[m.slug].cells if c.key["station"] == station_id), None)
             for m in by_station}
    alone = [m for m in wanted if m not in by_station]
    if alone:
        own = compute(store=store, actor=actor, metrics=alone, where=where.within(station_id))
        cells.update({slug: r.cells[0] if r.cells else None for slug, r in own.items()})
    here = where.within(station_id)
    groups, distribution = _cards(actor, cells, here)
    ranks = []
    for metric in card_metrics(actor):
        if metric not in by_station:
            continue
        result = results[metric.slug]
        bureau_rank = _row(ranking.ranked(result, level="station", members=stations, bottom=0), station_id)
        branch_rank = (_row(ranking.ranked(result, level="station", members=in_branch, bottom=0), station_id)
                       if in_branch else None)
        ranks.append(PeerRank(
            figure=figure(metric, cells[metric.slug], here),
            branch_rank=branch_rank.rank if branch_rank else None, branch_count=len(in_branch),
            branch_change=branch_rank.rank_change if branch_rank else None,
            bureau_rank=bureau_rank.rank if bureau_rank else None, bureau_count=len(stations),
            bureau_change=bureau_rank.rank_change if bureau_rank else None))
    return groups, distribution, ranks


def _row(ranked: ranking.Ranking, unit_id: int) -> ranking.RankRow | None:
    return next((r for r in ranked.rows if r.id == unit_id), None)


__all__ = [
    "SUBORDINATE", "CardGroup", "Figure", "GridValues", "PeerRank", "Series", "UnitRanking", "Where", "bucket_of",
    "breakdown_chart", "by_dimension", "cards", "clear_cache", "compute", "default_kpi", "distribution_chart",
    "figure", "grid_values", "hour_members", "panels", "parse_until", "period_query", "records_href",
    "station_view", "trend", "units",
]
