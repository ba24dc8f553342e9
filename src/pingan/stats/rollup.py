"""Roll-ups (汇总表): the counts of every declared KPI per station and day, and per station,
grid and month.

A year's figures for the whole bureau read half a million fact rows per period; most of what
they add up is a count (a count KPI, both sides of a rate, the rows behind a mean). A roll-up
table holds, for every combination of its keys that has records, each distinct count of the
source's declared KPIs (``n_…``) and the sum of each mean's measure (``s_…``). Each source has
one roll-up per :class:`Grain`:

- ``day``: per local day and station — about 150 stations × 700 days = 150 thousand rows for a
  city of a million facts. It answers cuts by period bucket and org level: the cards, the trend,
  the ranking, the bars by unit.
- ``month``: per month, station and grid (a source with a grid dimension) — 4,500 grids × 24
  months. It answers cuts by grid and org level: the map and the grid tables.

A roll-up row's org unit is the station the records belong to (a record of a community office
counts under its station), or the record's own unit where it has no station above it (the
command centre, a branch's own teams): a city's thousand community offices would leave a
roll-up nearly as long as the facts. So a roll-up answers for a scope that is a station or
above it, but not a cut by ``org_unit`` (the records' own units), nor by ``child`` below a
station (``for_question``).

The engine (``engine._grouped``) reads the whole days (or months) of each period from the
roll-up, and the part of a period not whole — a period counted to date stops at the current
minute — from the facts, aggregated to the same shape by the same SQL (``Layout.select_sql``).
What a roll-up cannot give — a quantile, a cut by hour or category — the engine still computes
from the facts. The figures are the same either way (``tests/stats/test_rollup.py``).

The store keeps the roll-ups in step with the facts in the same transaction (``stats.store``):
a full load rebuilds them; an incremental sync recomputes the keys that the changed records
left or entered; a changed org tree rebuilds them. Their layout — which counts and sums they
hold — follows the declared KPIs: when a KPI is declared, changed or removed, the layout hash
changes and the next sync rebuilds the table (``rollup_state``). The engine reads the hash
before using a table and computes from the facts while it does not match.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pingan.stats.facts import FactSource, timestamp_sql
from pingan.stats.metrics import METRICS, PERIOD_DIMENSIONS, Aggregate

# See the module docstring: a roll-up row counts under the records' station.
UNIT_JOIN = ("LEFT JOIN dim_org_ancestor u_station ON u_station.id = f.org_unit_id "
             "AND u_station.ancestor_kind = 'station'")
UNIT = "coalesce(u_station.ancestor_id, f.org_unit_id)"
ORG_DIMENSIONS = frozenset({"branch", "station", "child"})
STATE_DDL = "CREATE TABLE IF NOT EXISTS rollup_state (rollup VARCHAR PRIMARY KEY, layout VARCHAR)"


@dataclass(frozen=True)
class Grain:
    """How finely a roll-up keeps its rows: a time bucket, and the source dimensions it keeps
    besides the station (each a plain column of the facts)."""

    name: str
    unit: str  # DuckDB's date_trunc unit
    keys: tuple[str, ...]
    dimensions: frozenset[str]  # the cuts it answers

    def split(self, begin: datetime, stop: datetime) -> tuple[tuple[datetime, datetime] | None,
                                                               list[tuple[datetime, datetime]]]:
        """A period's [begin, stop) as its whole buckets (read from the roll-up) and the parts at
        either end that are not whole (read from the facts)."""
        first, last = self.floor(begin), self.floor(stop)
        if first < begin:
            first = self.after(first)
        if last <= first:
            return None, [(begin, stop)]
        return (first, last), [(b, s) for b, s in ((begin, first), (last, stop)) if b < s]

    def floor(self, moment: datetime) -> datetime:
        """The start of the bucket ``moment`` falls in."""
        day = datetime.combine(moment.date(), datetime.min.time())
        return day.replace(day=1) if self.unit == "month" else day

    def after(self, start: datetime) -> datetime:
        """The start of the bucket after the one starting at ``start``."""
        if self.unit == "month":
            return (start + timedelta(days=32)).replace(day=1)
        return start + timedelta(days=1)


GRAINS = (
    Grain("day", "day", (), frozenset(PERIOD_DIMENSIONS) | ORG_DIMENSIONS),
    Grain("month", "month", ("grid",), frozenset({"grid"}) | ORG_DIMENSIONS),
)
MONTH = GRAINS[1]


@dataclass(frozen=True)
class Layout:
    """What one roll-up of one source holds: its keys, a column per distinct count and per
    mean's sum."""

    source: FactSource
    grain: Grain
    keys: tuple[str, ...]  # the fact columns of the grain's dimensions
    counts: dict[str, str]  # the rows counted (a predicate over ``f``) → column
    sums: dict[tuple[str, str], str]  # (rows, measure) → column of the measure's sum over them
    hash: str

    @property
    def table(self) -> str:
        return f"rollup_{self.source.name}_{self.grain.name}"

    @property
    def time(self) -> str:
        """The bucket's column: named as the facts' time column, so that a period bucket or a
        baseline's shift is the same expression over either table."""
        return self.source.time_column

    def serves(self, aggregate: Aggregate) -> bool:
        if aggregate.fn == "count":
            return aggregate.rows in self.counts
        return aggregate.fn == "mean" and (aggregate.rows, aggregate.measure) in self.sums

    def sql(self, aggregate: Aggregate) -> str:
        """``aggregate`` over roll-up rows ``f`` (``serves`` must hold): a sum of counts, or a mean
        as the sum of the measure over the count of the rows that have it."""
        n = f"CAST(sum(f.{self.counts[aggregate.rows]}) AS BIGINT)"
        if aggregate.fn == "count":
            return n
        return f"(sum(f.{self.sums[(aggregate.rows, aggregate.measure)]}) / nullif({n}, 0))"

    def key_sql(self) -> list[str]:
        """The roll-up's keys as expressions over fact rows ``f`` (joined with ``UNIT_JOIN``)."""
        bucket = f"CAST(date_trunc('{self.grain.unit}', f.{self.time}) AS TIMESTAMP)"
        return [bucket, UNIT, *(f"f.{k}" for k in self.keys)]

    def select_sql(self, relation: str, *, extra: str = "", where: str = "TRUE") -> str:
        """Roll-up rows from fact rows: ``relation`` (a table or subquery, aliased ``f``) where
        ``where`` holds, grouped by ``extra`` columns (``'f.part, f.shift, '``) and the keys."""
        keys = [f"{e} AS {c}" for e, c in zip(self.key_sql(), self.key_columns(), strict=True)]
        columns = [f"count_if({rows}) AS {column}" for rows, column in self.counts.items()]
        columns += [f"sum(CASE WHEN {rows} THEN {measure} END) AS {column}"
                    for (rows, measure), column in self.sums.items()]
        return (f"SELECT {extra}{', '.join(keys + columns)} FROM {relation} f {UNIT_JOIN} WHERE {where} "
                "GROUP BY ALL")

    def key_columns(self) -> list[str]:
        return [self.time, "org_unit_id", *self.keys]

    def ddl(self) -> str:
        types = dict(self.source.columns)
        columns = [f"{self.time} TIMESTAMP", "org_unit_id BIGINT", *(f"{k} {types[k]}" for k in self.keys)]
        columns += [f"{c} BIGINT" for c in self.counts.values()] + [f"{c} DOUBLE" for c in self.sums.values()]
        return f"CREATE TABLE {self.table} ({', '.join(columns)})"


def layouts(source: FactSource) -> list[Layout]:
    """The roll-ups of ``source`` as the KPIs declared now need them (none without a count, and
    none of a grain whose dimensions the source lacks)."""
    counts: set[str] = set()
    sums: set[tuple[str, str]] = set()
    for metric in METRICS.values():
        if metric.source is not source:
            continue
        for aggregate in metric.aggregates():
            if aggregate is None:
                continue
            if aggregate.fn == "count":
                counts.add(aggregate.rows)
            elif aggregate.fn == "mean":
                counts.add(aggregate.rows)
                sums.add((aggregate.rows, aggregate.measure))
    if not counts:
        return []
    ordered_counts, ordered_sums = sorted(counts), sorted(sums)
    columns = dict(source.columns)
    dims = {d.name: d.expr for d in source.dimensions}
    out = []
    for grain in GRAINS:
        keys = [dims.get(name, "").removeprefix("f.") for name in grain.keys]
        if not all(key in columns for key in keys):
            continue
        text = json.dumps([source.name, source.time_column, grain.name, grain.unit, keys, ordered_counts,
                           ordered_sums])
        out.append(Layout(source=source, grain=grain, keys=tuple(keys),
                          counts={rows: f"n_{_digest(rows)}" for rows in ordered_counts},
                          sums={pair: f"s_{_digest(json.dumps(pair))}" for pair in ordered_sums},
                          hash=hashlib.sha256(text.encode()).hexdigest()[:16]))
    return out


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def for_question(cur: Any, source: FactSource, *, scope_path: str, by, filters) -> Layout | None:
    """The finest-grained roll-up of ``source`` that can answer a question over the subtree at
    ``scope_path`` cut by ``by`` and ``filters`` and that the store holds as the declared KPIs
    need it (see the module docstring), else None."""
    wanted = set(by) | set(filters)
    candidates = [roll for roll in layouts(source) if wanted <= roll.grain.dimensions]
    if not candidates:
        return None
    root = int(scope_path.strip("/").split("/")[-1])
    # at or below a station, records count under units the roll-up does not keep apart
    below = "ancestor_kind = 'station'" if "child" in wanted else "ancestor_kind = 'station' AND ancestor_id <> id"
    rows = cur.execute(f"SELECT rollup, layout, (SELECT count(*) FROM dim_org_ancestor WHERE id = ? AND {below}) "
                       "FROM rollup_state", [root]).fetchall()
    held = {name: layout for name, layout, inside in rows if inside == 0}
    return next((roll for roll in candidates if held.get(roll.table) == roll.hash), None)


@contextmanager
def set_aside(store: Any, source: FactSource) -> Iterator[None]:
    """While the block runs, the engine computes every figure of ``source`` from the facts (the
    roll-ups' state says another layout): to check the roll-ups against the facts
    (``bench/stats.py``, the tests). Every reader of the store is affected meanwhile."""
    prefix = f"rollup_{source.name}_"
    with store.reader() as cur:
        held = cur.execute("SELECT rollup, layout FROM rollup_state WHERE starts_with(rollup, ?)", [prefix]).fetchall()
        cur.execute("UPDATE rollup_state SET layout = 'set aside' WHERE starts_with(rollup, ?)", [prefix])
    try:
        yield
    finally:
        with store.reader() as cur:
            for name, layout in held:
                cur.execute("UPDATE rollup_state SET layout = ? WHERE rollup = ?", [layout, name])


# --- kept by the store, in the transaction that changes the facts ---------------------------------


def is_current(cur: Any, source: FactSource) -> bool:
    """Whether the store holds every roll-up of ``source`` as the declared KPIs need it."""
    held = dict(cur.execute("SELECT rollup, layout FROM rollup_state WHERE starts_with(rollup, ?)",
                            [f"rollup_{source.name}_"]).fetchall())
    return held == {roll.table: roll.hash for roll in layouts(source)}


def rebuild(con: Any, source: FactSource) -> None:
    """Every roll-up of ``source`` from its fact table (and those of another layout dropped)."""
    for (name,) in con.execute("SELECT rollup FROM rollup_state WHERE starts_with(rollup, ?)",
                               [f"rollup_{source.name}_"]).fetchall():
        con.execute(f"DROP TABLE IF EXISTS {name}")
    con.execute("DELETE FROM rollup_state WHERE starts_with(rollup, ?)", [f"rollup_{source.name}_"])
    first, last = con.execute(f"SELECT min({source.time_column}), max({source.time_column}) "
                              f"FROM {source.table}").fetchone()
    for roll in layouts(source):
        con.execute(f"DROP TABLE IF EXISTS {roll.table}")
        con.execute(roll.ddl())
        # A month at a time: a key never spans two months, and one pass over a province (10 M
        # records, 1.5 M keys) needs more than DuckDB's 128 MB for its groups.
        month = MONTH.floor(first) if first is not None else None
        while month is not None and month <= last:
            after = MONTH.after(month)
            where = f"f.{roll.time} >= {timestamp_sql(month)} AND f.{roll.time} < {timestamp_sql(after)}"
            con.execute(f"INSERT INTO {roll.table} {roll.select_sql(source.table, where=where)}")
            month = after
        con.execute("INSERT INTO rollup_state VALUES (?, ?)", [roll.table, roll.hash])


def _touched(roll: Layout) -> str:
    return f"{roll.table}__touched"


def note_touched(con: Any, source: FactSource, ids_table: str) -> None:
    """Remember the keys of the facts whose ids are in ``ids_table`` in every roll-up: called
    before the changed records are replaced (the keys they leave) and after (those they enter)."""
    for roll in layouts(source):
        keys = ", ".join(f"{e} AS k{i}" for i, e in enumerate(roll.key_sql()))
        con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_touched(roll)} AS SELECT {keys} "
                    f"FROM {source.table} f {UNIT_JOIN} LIMIT 0")
        con.execute(f"INSERT INTO {_touched(roll)} SELECT DISTINCT {keys} FROM {source.table} f "
                    f"{UNIT_JOIN} WHERE f.id IN (SELECT id FROM {ids_table})")


def refresh_touched(con: Any, source: FactSource) -> None:
    """Recompute the roll-up rows of the keys ``note_touched`` remembered, from the facts."""
    for roll in layouts(source):
        touched = _touched(roll)
        try:
            first, last = con.execute(f"SELECT min(k0), max(k0) FROM {touched}").fetchone()
            if first is None:
                continue
            # A key as a row value IN the list: the same test as a correlated EXISTS under the
            # aggregate exhausted DuckDB's 128 MB for a thousand keys. A NULL key (a record with
            # no grid) matches as -1 or ''.
            width = len(roll.key_sql())
            remembered = f"(SELECT {', '.join(_matchable(f'k{i}', roll, i) for i in range(width))} FROM {touched})"
            stored = ", ".join(_matchable(c, roll, i) for i, c in enumerate(roll.key_columns()))
            con.execute(f"DELETE FROM {roll.table} WHERE ({stored}) IN {remembered}")
            # the buckets' range first, as constants, so that DuckDB skips the row groups outside it
            fresh = ", ".join(_matchable(e, roll, i) for i, e in enumerate(roll.key_sql()))
            where = (f"f.{roll.time} >= {timestamp_sql(first)} AND "
                     f"f.{roll.time} < {timestamp_sql(roll.grain.after(last))} AND ({fresh}) IN {remembered}")
            con.execute(f"INSERT INTO {roll.table} {roll.select_sql(source.table, where=where)}")
        finally:
            con.execute(f"DROP TABLE IF EXISTS {touched}")


def _matchable(expr: str, roll: Layout, index: int) -> str:
    """Key ``index`` of ``roll`` such that IN can compare it when it is NULL."""
    if index == 0:
        return expr
    kind = "BIGINT" if index == 1 else dict(roll.source.columns)[roll.keys[index - 2]]
    return f"coalesce({expr}, {chr(39) * 2 if kind == 'VARCHAR' else '-1'})"

