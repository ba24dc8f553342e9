"""The statistics engine (统计引擎): declared KPIs computed on the columnar store.

``compute`` takes any number of KPIs, a period and a list of dimensions and answers, for every
cut, each KPI's value with its numerator and denominator, the previous period's (环比) and the
same period last year's (同比) value and their absolute and percentage change. The KPIs of one
fact source are computed together in **one** grouped DuckDB query over the three periods (a
small table of periods joined on the time column), so the whole yearly KPI set for every
station with both comparisons is one query per fact source, not one per KPI per station. Where
a roll-up of the source can answer the cut (``stats.rollup``), the counts and means come from it
and only the rest (quantiles) from the facts: two queries, the same figures.

Every query is restricted to the actor's jurisdiction — the org units whose materialised path
starts with the actor's (``Actor.org_path``) — and optionally to the subtree of one org unit
inside it. Rolling up to a branch or a station is a join on the org tree's closure, so the
figure of a branch is by construction the sum of its stations' (and of units directly under it).

A baseline that is zero (a count of nothing) gives no percentage (``note='baseline_zero'``); a
baseline that does not exist (a rate with no denominator, or a period before the first record)
gives no change at all (``note='baseline_missing'``). Never an infinity, never an exception.

``drill_down`` returns the ids of the records behind one figure from the same predicates, so
their count is the figure (for a rate: its numerator, or its denominator with
``part='denominator'``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from pingan.auth.actor import Actor
from pingan.errors import NotFound, ValidationFailed
from pingan.stats import contribution, rollup
from pingan.stats.facts import FactSource, timestamp_sql
from pingan.stats.metrics import COMMON_DIMENSIONS, METRICS, Aggregate, Kind, Metric
from pingan.stats.period import CALENDAR_MONTHS, Period
from pingan.stats.store import Store

CURRENT, PREVIOUS, LAST_YEAR = "current", "previous", "last_year"
NULL_KEY = "null"  # how a filter names a missing dimension value (no grid, no disposition yet)

_BUCKETS = {
    "day": "strftime({t}, '%Y-%m-%d')",
    "week": "strftime({t}, '%G-W%V')",
    "month": "strftime({t}, '%Y-%m')",
    "quarter": "CAST(year({t}) AS VARCHAR) || '-Q' || CAST(quarter({t}) AS VARCHAR)",
    "year": "CAST(year({t}) AS VARCHAR)",
}
_ORG_LEVELS = {"branch": "branch", "station": "station"}
DIMENSION_LABELS: dict[str, tuple[str, str]] = {
    "day": ("日", "day"), "week": ("周", "week"), "month": ("月", "month"), "quarter": ("季度", "quarter"),
    "year": ("年", "year"), "hour": ("时段", "hour of day"), "branch": ("分局", "branch"),
    "station": ("派出所", "station"), "org_unit": ("责任单位", "responsible unit"),
    "child": ("下级单位", "next level down"),
}


@dataclass(frozen=True, slots=True)
class Change:
    """A comparison with a baseline (同比 / 环比)."""

    baseline: float | None
    absolute: float | None
    percent: float | None
    note: str  # ok | baseline_zero | baseline_missing | value_missing


@dataclass(slots=True)
class Cell:
    """One figure: a KPI for one combination of dimension values."""

    key: dict[str, Any]
    labels: dict[str, str]
    value: float | None
    numerator: float | None
    denominator: float | None
    previous: Change | None = None
    last_year: Change | None = None


@dataclass
class KpiResult:
    metric: Metric
    period: Period
    by: tuple[str, ...]
    cells: list[Cell] = field(default_factory=list)


# --- scope and dimensions -----------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a query may read: the subtree below ``path`` (within the actor's jurisdiction)."""

    path: str
    depth: int  # of the scope's root (the bureau is 1)


def scope_for(*, store: Store, actor: Actor, org_unit_id: int | None = None) -> Scope:
    """The actor's jurisdiction, or the subtree of ``org_unit_id`` inside it (404 when outside)."""
    path = actor.org_path
    if org_unit_id is not None:
        with store.reader() as cur:
            row = cur.execute("SELECT path FROM dim_org_unit WHERE id = ? AND starts_with(path, ?)",
                              [org_unit_id, actor.org_path]).fetchone()
        if row is None:
            raise NotFound("机构不存在或不在辖区内", "No such org unit in your jurisdiction")
        path = row[0]
    return Scope(path=path, depth=len(path.strip("/").split("/")))


def dimensions_of(source: FactSource) -> dict[str, tuple[str, str]]:
    """Every dimension a source can be cut by, with its Chinese and English name."""
    dims = {name: DIMENSION_LABELS[name] for name in COMMON_DIMENSIONS}
    dims.update({d.name: (d.zh, d.en) for d in source.dimensions})
    return dims


def _check_dimensions(metrics: Sequence[Metric], names: Sequence[str], field_name: str) -> None:
    for name in names:
        if any(name not in dimensions_of(m.source) for m in metrics):
            raise ValidationFailed(f"{field_name}：未知维度「{name[:40]}」", f"{field_name}: unknown dimension {name[:40]!r}",
                                   field=field_name)
        refused = [m.slug for m in metrics if name not in m.dimensions]
        if refused:
            raise ValidationFailed(
                f"{field_name}：维度「{name}」不适用于指标 {', '.join(refused)}",
                f"{field_name}: dimension {name!r} is not allowed for {', '.join(refused)}", field=field_name)


# A period cut gives at most this many buckets: days of three years, weeks or months of any
# period (a custom range is under ten years, ``stats.period``). The pages and the work summary cut
# by day for two months at most.
MAX_BUCKETS = 1100


def _check_buckets(by: Sequence[str], period: Period) -> None:
    for name in by:
        if name in _BUCKETS and (count := len(_buckets_of(name, period))) > MAX_BUCKETS:
            zh = DIMENSION_LABELS.get(name, (name,))[0]
            raise ValidationFailed(
                f"by：{period.label} 按{zh}有 {count} 段，最多 {MAX_BUCKETS} 段：请缩短统计周期或按更长的时间单位统计",
                f"by: {period.label} by {name} is {count} buckets, at most {MAX_BUCKETS}; shorten the period "
                "or cut by a longer unit", field="by")


class _Sql:
    """The pieces of one query over a fact table: dimension expressions, joins and parameters."""

    def __init__(self, source: FactSource, scope: Scope, shift: str):
        self.source = source
        self.scope = scope
        self.shift = shift
        self.joins: list[str] = []
        self.join_params: list[Any] = []
        self._joined: set[str] = set()

    def dim(self, name: str) -> str:
        t = f"(f.{self.source.time_column} + {self.shift})"  # a baseline row lined up with the current period
        if name in _BUCKETS:
            return _BUCKETS[name].format(t=t)
        if name == "hour":
            return f"hour(f.{self.source.time_column})"
        if name == "org_unit":
            return "f.org_unit_id"
        if name in _ORG_LEVELS or name == "child":
            alias = f"a_{name}"
            if alias not in self._joined:
                self._joined.add(alias)
                if name == "child":
                    self.joins.append(f"LEFT JOIN dim_org_ancestor {alias} ON {alias}.id = f.org_unit_id "
                                      f"AND {alias}.depth = ?")
                    self.join_params.append(self.scope.depth + 1)
                else:
                    self.joins.append(f"LEFT JOIN dim_org_ancestor {alias} ON {alias}.id = f.org_unit_id "
                                      f"AND {alias}.ancestor_kind = ?")
                    self.join_params.append(_ORG_LEVELS[name])
            return f"{alias}.ancestor_id"
        for d in self.source.dimensions:
            if d.name == name:
                return d.expr
        raise ValidationFailed(f"by：未知维度「{name}」", f"by: unknown dimension {name!r}", field="by")

    def where(self, filters: dict[str, str | None]) -> tuple[str, list[Any]]:
        clauses = ["f.org_unit_id IN (SELECT id FROM dim_org_unit WHERE starts_with(path, ?))"]
        params: list[Any] = [self.scope.path]
        for name, value in filters.items():
            expr = self.dim(name)
            if value is None or value == NULL_KEY:
                clauses.append(f"({expr}) IS NULL")
            else:
                clauses.append(f"CAST(({expr}) AS VARCHAR) = ?")
                params.append(str(value))
        return " AND ".join(clauses), params


class _Aggregates:
    """The aggregates of one grouped query, each distinct one computed once (``Metric.aggregates``).

    Many KPIs share a count (the nine acceptance rates share their denominator); DuckDB does not
    merge equal aggregates, so they are merged here."""

    def __init__(self, metrics: Sequence[Metric]):
        self.columns: list[Aggregate] = []
        self._index: dict[Aggregate, int] = {}
        self.slots = [tuple(None if a is None else self._add(a) for a in m.aggregates()) for m in metrics]

    def _add(self, aggregate: Aggregate) -> int:
        if aggregate not in self._index:
            self._index[aggregate] = len(self.columns)
            self.columns.append(aggregate)
        return self._index[aggregate]


_NO_ROWS: dict[str, tuple] = {}


def _slot_values(slots: tuple[int, int | None, int | None], row: tuple | None) -> tuple:
    """(n, d, v) of one KPI from one result row's aggregates (Nones when the cut had no rows)."""
    if row is None:
        return None, None, None
    n, d, v = slots
    return row[n], None if d is None else row[d], None if v is None else row[v]


def _value(metric: Metric, n, d, v) -> tuple[float | None, float | None, float | None]:
    """(value, numerator, denominator) of one group; n/d/v None when the group had no rows."""
    n = n or 0
    if metric.kind is Kind.COUNT:
        return float(n), float(n), None
    if metric.kind is Kind.RATE:
        d = d or 0
        return (n / d * 100.0 if d else None), float(n), float(d)
    return (float(v) if v is not None else None), float(n), None


def change(value: float | None, baseline: float | None) -> Change:
    """Absolute and percentage change against a baseline; a zero or missing baseline is said so."""
    if baseline is None:
        return Change(None, None, None, "baseline_missing")
    if value is None:
        return Change(baseline, None, None, "value_missing")
    absolute = value - baseline
    if baseline == 0:
        return Change(baseline, absolute, None, "baseline_zero")
    return Change(baseline, absolute, absolute / abs(baseline) * 100.0, "ok")



def to_date(store: Store, period: Period, *, now: datetime | None = None) -> Period:
    """``period`` as counted now: a period that has not ended stops at the current minute (local
    time), and its baselines at the same point of theirs (see ``stats.period``)."""
    if now is None:
        now = datetime.now(ZoneInfo(store.timezone)).replace(tzinfo=None)
    return period.to_date(now)


def _step(current: Period, baseline: Period, tag: str) -> tuple[int, int]:
    """(months, days) a baseline row moves to line up with the current period's buckets."""
    if tag == CURRENT:
        return 0, 0
    if tag == LAST_YEAR and current.kind in CALENDAR_MONTHS:
        return 12, 0
    if tag == PREVIOUS and current.kind in CALENDAR_MONTHS:
        return CALENDAR_MONTHS[current.kind], 0
    return 0, (current.start - baseline.start).days


def _shift(current: Period, baseline: Period, tag: str) -> str:
    """How far a baseline row moves to line up with the current period's buckets."""
    months, days = _step(current, baseline, tag)
    return f"INTERVAL {months} MONTHS" if months else f"INTERVAL {days} DAYS"


def baseline_bucket(current: Period, tag: str, bucket: str, key: Any) -> Any | None:
    """The key, in the baseline's own calendar, of the rows ``compute`` lined up under bucket
    ``key`` of the current period (so that a baseline figure can be drilled into): an hour is
    itself, a month or day moves back by the baseline's step. None when no single bucket of the
    baseline maps there (31 March has no 31 February; a month after a shift by days)."""
    baseline = {CURRENT: current, PREVIOUS: current.previous(), LAST_YEAR: current.last_year()}[tag]
    months, days = _step(current, baseline, tag)
    if bucket == "hour" or (months, days) == (0, 0):
        return key
    try:
        if bucket == "month" and months:
            y, m = map(int, str(key).split("-"))
            index = y * 12 + m - 1 - months
            return f"{index // 12:04d}-{index % 12 + 1:02d}"
        if bucket == "day":
            d = date.fromisoformat(str(key))
            if days:
                return (d - timedelta(days=days)).isoformat()
            index = d.year * 12 + d.month - 1 - months
            return date(index // 12, index % 12 + 1, d.day).isoformat()
    except ValueError:
        return None
    return None


def data_version(store: Store) -> tuple:
    """What the store holds, as of its last sync: each source's watermarks and row count. It
    changes when a sync brought changed rows (and only then)."""
    with store.reader() as cur:
        return tuple(cur.execute("SELECT source, marks, row_count FROM sync_state ORDER BY source").fetchall())


# --- compute --------------------------------------------------------------------------------------


def compute(*, store: Store, actor: Actor, metrics: Sequence[Metric], period: Period,
            by: Sequence[str] = (), compare: bool = True, org_unit_id: int | None = None,
            filters: dict[str, str | None] | None = None, now: datetime | None = None,
            named: bool = True) -> list[KpiResult]:
    """Each KPI of ``metrics`` for ``period`` cut by ``by``, with 环比 and 同比 when ``compare``.
    A period not yet ended is counted to date (``to_date``); the results carry the cut period.
    ``named=False`` leaves out the names of org units, grids and categories (a cell's label is
    its key): for a caller that shows keys only, such as the map's 4,500 grid ids."""
    period = to_date(store, period, now=now)
    by = tuple(dict.fromkeys(by))
    filters = dict(filters or {})
    _check_dimensions(metrics, by, "by")
    _check_dimensions(metrics, list(filters), "filter")
    _check_buckets(by, period)
    scope = scope_for(store=store, actor=actor, org_unit_id=org_unit_id)
    periods = [(CURRENT, period)]
    if compare:
        periods += [(PREVIOUS, period.previous()), (LAST_YEAR, period.last_year())]
    results = {m.slug: KpiResult(metric=m, period=period, by=by) for m in metrics}
    by_source: dict[str, list[Metric]] = {}
    for m in metrics:
        by_source.setdefault(m.source.name, []).append(m)
    with store.reader() as cur:
        for group in by_source.values():
            source = group[0].source
            aggregates = _Aggregates(group)
            groups, first = _grouped(cur, source, aggregates, periods, by, scope, filters, period)
            missing = {tag for tag, p in periods if first is None or p.stop <= first}
            names = _labels(cur, by, list(groups), source) if named else [{} for _ in by]
            # A grid cut is thousands of keys × KPIs × three periods: the loop below is kept plain.
            columns = [(results[m.slug].cells, m, aggregates.slots[i]) for i, m in enumerate(group)]
            shared = len(columns) == 1  # one KPI: its cells may hold the key's dicts themselves
            compare_previous = compare and PREVIOUS not in missing
            compare_last_year = compare and LAST_YEAR not in missing
            for key in _keys(by, groups, period):
                rows = groups.get(key, _NO_ROWS)
                current, previous, last_year = rows.get(CURRENT), rows.get(PREVIOUS), rows.get(LAST_YEAR)
                cell_key = dict(zip(by, key))
                cell_labels = {d: n[k] if k in n else _plain_label(k) for d, k, n in zip(by, key, names)}
                for cells, m, slots in columns:
                    value, num, den = _value(m, *_slot_values(slots, current))
                    cell = Cell(key=cell_key if shared else dict(cell_key),
                                labels=cell_labels if shared else dict(cell_labels), value=value, numerator=num,
                                denominator=den)
                    if compare:
                        cell.previous = change(value, _value(m, *_slot_values(slots, previous))[0]
                                               if compare_previous else None)
                        cell.last_year = change(value, _value(m, *_slot_values(slots, last_year))[0]
                                                if compare_last_year else None)
                    cells.append(cell)
    return [results[m.slug] for m in metrics]


def _grouped(cur, source: FactSource, aggregates: _Aggregates, periods, by, scope: Scope,
             filters: dict[str, str | None], current: Period):
    """Run the grouped queries of a source: {key: {tag: row of aggregates}}, and its first time.

    Each distinct period is one range scan (DuckDB skips row groups outside it), the scans are
    concatenated with their tag and shift and grouped once. Identical baselines (a year's
    previous period is also last year) are read once. When the cut allows it, the aggregates a
    roll-up holds are read from it (``stats.rollup``) and only the rest from the facts.
    """
    distinct: dict[tuple[Period, str], list[str]] = {}
    for tag, p in periods:
        distinct.setdefault((p, _shift(current, p, tag)), []).append(tag)
    spans = [(p.begin, p.stop, shift) for p, shift in distinct]
    roll = rollup.for_question(cur, source, scope_path=scope.path, by=by, filters=filters)
    served = [i for i, a in enumerate(aggregates.columns) if roll is not None and roll.serves(a)]
    rest = [i for i in range(len(aggregates.columns)) if i not in set(served)]
    passes = []
    if served:
        passes.append((served, _rolled_relation(source, roll, spans),
                       [roll.sql(aggregates.columns[i]) for i in served]))
    if rest:
        passes.append((rest, _fact_relation(source, spans), [aggregates.columns[i].sql() for i in rest]))
    width = len(by)
    results = [(indexes, _run(cur, source, scope, by, filters, relation, columns))
               for indexes, relation, columns in passes]
    if len(results) == 1:  # one pass: its rows' aggregates are in the columns' order
        rows = results[0][1]
    else:  # both: each group's aggregates put back in the columns' order
        merged: dict[tuple, list] = {}
        for indexes, part_rows in results:
            for row in part_rows:
                values = merged.setdefault(row[:1 + width], [None] * len(aggregates.columns))
                for i, value in zip(indexes, row[1 + width:]):
                    values[i] = value
        rows = [(*head, *values) for head, values in merged.items()]
    tags_of = list(distinct.values())
    groups: dict[tuple, dict[str, tuple]] = {}
    for row in rows:
        key, aggs = tuple(row[1:1 + width]), row[1 + width:]
        for tag in tags_of[row[0]]:
            groups.setdefault(key, {})[tag] = aggs
    t = source.time_column
    first = cur.execute(f"SELECT min({t}) FROM {source.table}").fetchone()[0]
    return groups, first


def _run(cur, source: FactSource, scope: Scope, by, filters, relation: str, columns: list[str]) -> list[tuple]:
    """One grouped query over ``relation`` (rows with their ``part`` and ``shift``): part, keys, aggregates."""
    sql = _Sql(source, scope, "f.shift")
    dims = [sql.dim(name) for name in by]
    where, where_params = sql.where(filters)
    select_dims = "".join(f", {d} AS k{i}" for i, d in enumerate(dims))
    group_dims = "".join(f", k{i}" for i in range(len(dims)))
    query = (f"SELECT f.part{select_dims}, {', '.join(columns)} FROM ({relation}) f {' '.join(sql.joins)} "
             f"WHERE {where} GROUP BY f.part{group_dims}")
    return cur.execute(query, sql.join_params + where_params).fetchall()


def _fact_scan(source: FactSource, part: int, shift: str, begin: datetime, stop: datetime) -> str:
    t = source.time_column
    return (f"SELECT {part} AS part, {shift} AS shift, * FROM {source.table} "
            f"WHERE {t} >= {timestamp_sql(begin)} AND {t} < {timestamp_sql(stop)}")


def _fact_relation(source: FactSource, spans) -> str:
    return " UNION ALL ".join(_fact_scan(source, i, shift, begin, stop) for i, (begin, stop, shift) in enumerate(spans))


def _rolled_relation(source: FactSource, roll: rollup.Layout, spans) -> str:
    """The periods' rows in the roll-up's shape: its rows for the whole days (or months), and the
    facts of the rest (today, counted to the minute) rolled up on the fly by the same SQL."""
    t = roll.time
    scans = []
    for i, (begin, stop, shift) in enumerate(spans):
        whole, partial = roll.grain.split(begin, stop)
        if whole is not None:
            scans.append(f"SELECT {i} AS part, {shift} AS shift, * FROM {roll.table} "
                         f"WHERE {t} >= {timestamp_sql(whole[0])} AND {t} < {timestamp_sql(whole[1])}")
        for b, s in partial:
            scans.append(roll.select_sql(f"({_fact_scan(source, i, shift, b, s)})", extra="f.part, f.shift, "))
    return " UNION ALL ".join(scans)


def _keys(by: tuple[str, ...], groups: dict[tuple, Any], period: Period) -> list[tuple]:
    """The cuts to report: every group seen, and for a single period dimension every bucket of
    the period (a day with no record is a zero, not a gap). Sorted."""
    keys = set(groups)
    if len(by) == 1 and by[0] in _BUCKETS:
        keys |= {(k,) for k in _buckets_of(by[0], period)}
    elif not by:
        keys.add(())
    try:  # values of one type in each position, none missing (4,500 grid ids): as they are
        return sorted(keys)
    except TypeError:  # a None, or numbers beside names: numbers first, then names, then None
        return sorted(keys, key=lambda k: tuple((v is None, not isinstance(v, int | float), v if isinstance(
            v, int | float) else str(v)) for v in k))


def _buckets_of(name: str, period: Period) -> list[str]:
    out: list[str] = []
    d = period.start
    while d <= period.last_day:
        out.append({"day": d.isoformat(), "week": f"{d.isocalendar().year}-W{d.isocalendar().week:02d}",
                    "month": f"{d.year}-{d.month:02d}", "quarter": f"{d.year}-Q{(d.month - 1) // 3 + 1}",
                    "year": f"{d.year}"}[name])
        d += timedelta(days=1)
    return list(dict.fromkeys(out))


def _plain_label(value: Any) -> str:
    return "—" if value is None else str(value)


def _labels(cur, by: tuple[str, ...], keys: list[tuple], source: FactSource) -> list[dict[Any, str]]:
    """For each dimension of ``by``, the names of the org units, or of the values of a dimension
    table (grids, categories …), among the keys (one query per kind; empty for a dimension whose
    values are their own names).

    The keys go in as one string, split in SQL: DuckDB converts a Python list parameter element
    by element (0.25 s for 3,000 ids), and ``list_contains`` scans the list for every row."""
    out: list[dict[Any, str]] = []
    for i, name in enumerate(by):
        sql = _label_query(name, source)
        values = {k[i] for k in keys if k[i] is not None} if sql is not None else ()
        out.append(dict(cur.execute(sql, [_KEY_SEPARATOR.join(str(v) for v in values)]).fetchall())
                   if values else {})
    return out


_KEY_SEPARATOR = "\x1f"  # the ASCII unit separator: in no id, code or name
_KEYS = f"(SELECT unnest(string_split(?, '{_KEY_SEPARATOR}')))"


def _dimension(source: FactSource, name: str):
    return next((d for d in source.dimensions if d.name == name), None)


def _label_query(name: str, source: FactSource) -> str | None:
    if name in ("branch", "station", "org_unit", "child"):
        return f"SELECT id, name FROM dim_org_unit WHERE CAST(id AS VARCHAR) IN {_KEYS}"
    declared = _dimension(source, name)
    if declared is None or declared.labels is None:
        return None
    table = contribution.loaded().dimension_tables[declared.labels]
    return (f"SELECT {table.key}, {table.label} FROM {table.table} "
            f"WHERE CAST({table.key} AS VARCHAR) IN {_KEYS}")


# --- drill-down -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrillDown:
    """The records behind one figure: their ids (a page of them, newest first) and how many."""

    metric: Metric
    period: Period
    part: str
    total: int
    ids: list[int]


def drill_down(*, store: Store, actor: Actor, metric: Metric, period: Period,
               filters: dict[str, str | None] | None = None, part: str = "numerator",
               org_unit_id: int | None = None, limit: int = 50, offset: int = 0,
               now: datetime | None = None) -> DrillDown:
    """Ids of the records counted in one figure (see the module docstring); a period not yet
    ended is cut to date exactly as ``compute`` cuts it."""
    period = to_date(store, period, now=now)
    if part not in ("numerator", "denominator"):
        raise ValidationFailed("part：应为 numerator 或 denominator", "part: numerator or denominator", field="part")
    if part == "denominator" and metric.denominator is None:
        raise ValidationFailed("part：该指标没有分母", "part: this KPI has no denominator", field="part")
    filters = dict(filters or {})
    _check_dimensions([metric], list(filters), "filter")
    scope = scope_for(store=store, actor=actor, org_unit_id=org_unit_id)
    source = metric.source
    sql = _Sql(source, scope, "INTERVAL 0 DAYS")
    where, params = sql.where(filters)
    t = f"f.{source.time_column}"
    base = (f"FROM {source.table} f {' '.join(sql.joins)} WHERE {t} >= {timestamp_sql(period.begin)} AND {t} < "
            f"{timestamp_sql(period.stop)} AND {where} AND {metric.rows(part)}")
    with store.reader() as cur:
        total = cur.execute(f"SELECT count(*) {base}", sql.join_params + params).fetchone()[0]
        ids = [r[0] for r in cur.execute(f"SELECT f.id {base} ORDER BY {t} DESC, f.id DESC LIMIT ? OFFSET ?",
                                         sql.join_params + params + [limit, offset]).fetchall()]
    return DrillDown(metric=metric, period=period, part=part, total=total, ids=ids)


def get_metric(slug: str, *, field_name: str = "kpi", actor: Actor | None = None) -> Metric:
    """A declared KPI by slug (a renamed KPI by its old slug too); 422 naming the field when
    there is none, or none that ``actor`` may read."""
    metric = METRICS.get(contribution.current_slug(slug))
    if metric is not None and actor is not None and not contribution.may_read(actor, metric.source):
        metric = None
    if metric is None:
        raise ValidationFailed(f"{field_name}：指标「{slug[:40]}」不存在", f"{field_name}: no KPI {slug[:40]!r}",
                               field=field_name)
    return metric


def empty_value(metric: Metric) -> float | None:
    """The value of a cut with no records: a count of nothing is 0; a rate or mean does not exist."""
    return 0.0 if metric.kind is Kind.COUNT else None


def members(*, store: Store, scope: Scope, level: str) -> dict[Any, str]:
    """Every branch or station inside the scope, or every value of a dimension table kept by an
    org unit (the grids), by key, with its name (those with no records too)."""
    with store.reader() as cur:
        if level not in _ORG_LEVELS:
            table = _org_table(level)
            rows = cur.execute(f"SELECT g.{table.key}, g.{table.label} FROM {table.table} g "
                               f"JOIN dim_org_unit o ON o.id = g.{table.org_column} WHERE starts_with(o.path, ?) "
                               f"ORDER BY g.{table.order or table.key}", [scope.path]).fetchall()
        else:
            rows = cur.execute("SELECT id, name FROM dim_org_unit WHERE kind = ? AND starts_with(path, ?) "
                               "ORDER BY path", [_ORG_LEVELS[level], scope.path]).fetchall()
    return dict(rows)


def _org_table(name: str):
    """The dimension table ``name``, whose values are kept by org units (422 otherwise)."""
    table = contribution.loaded().dimension_tables.get(name)
    if table is None or table.org_column is None:
        raise ValidationFailed(f"level：未知层级「{name[:40]}」", f"level: unknown level {name[:40]!r}", field="level")
    return table


def _label_column(table, lang: str) -> str:
    return table.label_en if lang == "en" and table.label_en else table.label


def value_label(*, store: Store, actor: Actor, table: str, key: str, lang: str = "zh") -> str | None:
    """The name of one value of the dimension table ``table`` (None when it has none); a value
    kept by an org unit (a grid) must be inside the actor's jurisdiction (404 otherwise)."""
    declared = contribution.loaded().dimension_tables[table]
    label = _label_column(declared, lang)
    with store.reader() as cur:
        if declared.org_column:
            row = cur.execute(f"SELECT g.{label} FROM {declared.table} g JOIN dim_org_unit o "
                              f"ON o.id = g.{declared.org_column} WHERE CAST(g.{declared.key} AS VARCHAR) = ? "
                              "AND starts_with(o.path, ?)", [key, actor.org_path]).fetchone()
            if row is None:
                raise NotFound("该项不存在或不在辖区内", "No such item in your jurisdiction")
        else:
            row = cur.execute(f"SELECT {label} FROM {declared.table} WHERE CAST({declared.key} AS VARCHAR) = ?",
                              [key]).fetchone()
    return row[0] if row else None


def value_labels(*, store: Store, table: str, lang: str = "zh") -> dict[Any, str]:
    """Every value of a small dimension table (no org column: the categories) with its name."""
    declared = contribution.loaded().dimension_tables[table]
    if declared.org_column:
        raise ValueError(f"dimension table {table!r} is kept by org units: ask for its members in a scope")
    with store.reader() as cur:
        return dict(cur.execute(f"SELECT {declared.key}, {_label_column(declared, lang)} FROM {declared.table}")
                    .fetchall())


# --- for the issued work summary (stats.report) ---------------------------------------------------


@dataclass(frozen=True)
class OrgNode:
    id: int
    name: str
    kind: str


def children(*, store: Store, scope: Scope) -> list[OrgNode]:
    """The org units directly below the scope's root (the next level down: the branches of the
    bureau, the stations of a branch …), in code order."""
    with store.reader() as cur:
        rows = cur.execute("SELECT id, name, kind FROM dim_org_unit WHERE starts_with(path, ?) "
                           "AND len(string_split(trim(path, '/'), '/')) = ? ORDER BY code, id",
                           [scope.path, scope.depth + 1]).fetchall()
    return [OrgNode(id=r[0], name=r[1], kind=r[2]) for r in rows]


# Columns left out of a record's fingerprint: bookkeeping that no figure counts.
FINGERPRINT_EXCLUDED = frozenset({"id", "updated_at"})


FINGERPRINT_CHUNK = 100_000  # ids a read: the records counted in a yearly report pass in bounded pieces


def record_fingerprints(*, store: Store, actor: Actor, source: FactSource, periods: Sequence[Period],
                        org_unit_id: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ids (ascending, int64) and fingerprints (uint32) of every record of ``source`` inside
    the scope whose time falls in any of ``periods`` (a report's period and its baselines). The
    fingerprint is 32 bits of the MD5 of the record's fact columns (``FINGERPRINT_EXCLUDED``
    aside): it changes when any counted value of the record changes, and it is the same on every
    DuckDB version. Read by ranges of ids, each row once, so that a million records never sit in
    Python tuples at once."""
    scope = scope_for(store=store, actor=actor, org_unit_id=org_unit_id)
    t = f"f.{source.time_column}"
    spans = " OR ".join(f"({t} >= {timestamp_sql(begin)} AND {t} < {timestamp_sql(stop)})"
                        for begin, stop in sorted({(p.begin, p.stop) for p in periods}))
    where = f"f.org_unit_id IN (SELECT id FROM dim_org_unit WHERE starts_with(path, ?)) AND ({spans})"
    columns = [c for c, _ in source.columns if c not in FINGERPRINT_EXCLUDED]
    text = ", ".join(f"coalesce(CAST(f.{c} AS VARCHAR), ?)" for c in columns)
    query = (f"SELECT f.id, md5_number_lower(concat_ws(?, {text})) % 4294967296 FROM {source.table} f "
             f"WHERE {where} AND f.id >= ? AND f.id < ? ORDER BY f.id")
    ids, fps = [], []
    with store.reader() as cur:
        low, high = cur.execute(f"SELECT min(f.id), max(f.id) FROM {source.table} f WHERE {where}",
                                [scope.path]).fetchone()
        for start in range(low, high + 1, FINGERPRINT_CHUNK) if low is not None else ():
            rows = cur.execute(query, ["\x1f", *["\x1e"] * len(columns), scope.path, start,
                                       start + FINGERPRINT_CHUNK]).fetchall()
            if rows:
                chunk = np.array(rows, dtype=np.int64).reshape(-1, 2)
                ids.append(chunk[:, 0])
                fps.append(chunk[:, 1].astype(np.uint32))
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint32)
    return np.concatenate(ids), np.concatenate(fps)


def synced_at(*, store: Store, sources: Sequence[str]) -> datetime | None:
    """When the store last brought these sources up to date (UTC, naive): the figures it gives
    are those of the operational records as of then."""
    if not sources:
        return None
    with store.reader() as cur:
        row = cur.execute("SELECT min(synced_at) FROM sync_state WHERE list_contains(?, source)",
                          [list(sources)]).fetchone()
    return row[0] if row else None


# --- several periods at once (stats.comparisons) -------------------------------------------------


def first_record(*, store: Store, source: FactSource) -> datetime | None:
    """The local time of the source's first record in the store (any jurisdiction): the store
    knows nothing before it, so a period that ends before it has no figure — not a zero."""
    with store.reader() as cur:
        return cur.execute(f"SELECT min({source.time_column}) FROM {source.table}").fetchone()[0]


def compute_spans(*, store: Store, actor: Actor, metrics: Sequence[Metric], periods: Sequence[Period],
                  by: Sequence[str] = (), org_unit_id: int | None = None,
                  filters: dict[str, str | None] | None = None,
                  named: bool = True) -> list[dict[str, KpiResult | None]]:
    """Each KPI of ``metrics`` for each of ``periods`` (as given: cut already, see ``to_date``),
    in **one** grouped query per fact source — the periods are range scans concatenated, as
    ``compute`` reads a period and its two baselines. For each period, the result of each KPI
    by slug, or None when the period ends before the source's first record (no data, not a
    zero). ``by`` cannot hold a period bucket: the periods are not lined up on one calendar."""
    if not periods:
        return []
    by = tuple(dict.fromkeys(by))
    filters = dict(filters or {})
    _check_dimensions(metrics, by, "by")
    _check_dimensions(metrics, list(filters), "filter")
    if bucket := next((name for name in by if name in _BUCKETS), None):
        raise ValidationFailed(f"by：跨统计周期比较时不能按{DIMENSION_LABELS[bucket][0]}分组",
                               f"by: a comparison across periods cannot be cut by {bucket}", field="by")
    scope = scope_for(store=store, actor=actor, org_unit_id=org_unit_id)
    tagged = [(f"span{i}", p) for i, p in enumerate(periods)]
    latest = max(periods, key=lambda p: p.start)  # the others are shifted forward to it (no cut uses the shift)
    out: list[dict[str, KpiResult | None]] = [{} for _ in periods]
    by_source: dict[str, list[Metric]] = {}
    for m in metrics:
        by_source.setdefault(m.source.name, []).append(m)
    with store.reader() as cur:
        for group in by_source.values():
            source = group[0].source
            aggregates = _Aggregates(group)
            groups, first = _grouped(cur, source, aggregates, tagged, by, scope, filters, latest)
            names = _labels(cur, by, list(groups), source) if named else [{} for _ in by]
            keys = _keys(by, groups, latest)
            for i, (tag, p) in enumerate(tagged):
                for m, slots in zip(group, aggregates.slots):
                    if first is None or p.stop <= first:
                        out[i][m.slug] = None
                        continue
                    result = out[i][m.slug] = KpiResult(metric=m, period=p, by=by)
                    for key in keys:
                        value, num, den = _value(m, *_slot_values(slots, groups.get(key, _NO_ROWS).get(tag)))
                        result.cells.append(Cell(key=dict(zip(by, key)), value=value, numerator=num,
                                                 denominator=den, labels={d: n[k] if k in n else _plain_label(k)
                                                                          for d, k, n in zip(by, key, names)}))
    return out
