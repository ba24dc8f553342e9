"""Daily roll-ups (日汇总): the counts of every declared KPI per local day and org unit.

A year's figures for the whole bureau read half a million fact rows per period; most of what
they add up is a count (a count KPI, both sides of a rate, the rows behind a mean). The roll-up
table ``rollup_<source>`` holds, for every day (local time, the source's time column at
midnight) and responsible org unit that has records, each distinct count of the source's
declared KPIs (``n_…``) and the sum of each mean's measure (``s_…``): about 150 stations × 700
days = 100 thousand rows for a city, against a million facts.

The engine (``engine._grouped``) reads it when a question is cut only by period buckets and
org levels — the cards, the trend, the ranking and the bars by unit: the whole days of each
period from the roll-up, the day not yet ended (a period counted to date stops at the current
minute) from the facts, aggregated to the same shape by the same SQL (``select_sql``). What a
roll-up cannot give — a quantile, a cut by grid, hour, category — the engine still computes
from the facts. The figures are the same either way (``tests/stats/test_rollup.py``).

The store keeps it in step with the facts in the same transaction (``stats.store``): a full
load rebuilds it; an incremental sync recomputes the (day, org unit) pairs that the changed
records left or entered. Its layout — which counts and sums it holds — follows the declared
KPIs: when a KPI is declared, changed or removed, the layout hash changes and the next sync
rebuilds the table (``rollup_state``). The engine reads the hash before using the table and
computes from the facts while it does not match.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pingan.stats.facts import FactSource
from pingan.stats.metrics import METRICS, Aggregate

# The dimensions a roll-up row still has: its day (so every period bucket) and its station (so
# the levels of the org tree down to the station).
# A roll-up row's org unit is the station the records belong to (a record of a community office
# counts under its station), or the record's own unit where it has no station above it (the
# command centre, a branch's own teams): a city's thousand community offices would leave the
# roll-up nearly as long as the facts. So it answers for a scope that is a station or above it,
# but not cut by ``org_unit`` (the records' own units), nor by ``child`` below a station.
UNIT_JOIN = "LEFT JOIN dim_org_ancestor u_station ON u_station.id = f.org_unit_id AND u_station.ancestor_kind = 'station'"
UNIT = "coalesce(u_station.ancestor_id, f.org_unit_id)"
DIMENSIONS = frozenset({"day", "week", "month", "quarter", "year", "branch", "station", "child"})
STATE_DDL = "CREATE TABLE IF NOT EXISTS rollup_state (source VARCHAR PRIMARY KEY, layout VARCHAR)"


@dataclass(frozen=True)
class Layout:
    """What the roll-up of one source holds: a column per distinct count and per mean's sum."""

    source: FactSource
    counts: dict[str, str]  # the rows counted (a predicate over ``f``) → column
    sums: dict[tuple[str, str], str]  # (rows, measure) → column of the measure's sum over them
    hash: str

    @property
    def table(self) -> str:
        return f"rollup_{self.source.name}"

    @property
    def day(self) -> str:
        """The day column: named as the facts' time column, so that a period bucket or a baseline's
        shift is the same expression over either table."""
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

    def select_sql(self, relation: str, *, extra: str = "", where: str = "TRUE") -> str:
        """Roll-up rows from fact rows: ``relation`` (a table or subquery, aliased ``f``) where
        ``where`` holds, grouped by ``extra`` columns (``'f.part, f.shift, '``), day and station
        (``UNIT``)."""
        columns = [f"count_if({rows}) AS {column}" for rows, column in self.counts.items()]
        columns += [f"sum(CASE WHEN {rows} THEN {measure} END) AS {column}"
                    for (rows, measure), column in self.sums.items()]
        return (f"SELECT {extra}date_trunc('day', f.{self.day}) AS {self.day}, {UNIT} AS org_unit_id, "
                f"{', '.join(columns)} FROM {relation} f {UNIT_JOIN} WHERE {where} GROUP BY ALL")

    def ddl(self) -> str:
        columns = [f"{c} BIGINT" for c in self.counts.values()] + [f"{c} DOUBLE" for c in self.sums.values()]
        return f"CREATE TABLE {self.table} ({self.day} TIMESTAMP, org_unit_id BIGINT, {', '.join(columns)})"


def layout(source: FactSource) -> Layout:
    """The roll-up of ``source`` as the KPIs declared now need it."""
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
    ordered_counts, ordered_sums = sorted(counts), sorted(sums)
    text = json.dumps([source.name, source.time_column, ordered_counts, ordered_sums])
    return Layout(source=source, counts={rows: f"n_{_digest(rows)}" for rows in ordered_counts},
                  sums={pair: f"s_{_digest(json.dumps(pair))}" for pair in ordered_sums},
                  hash=hashlib.sha256(text.encode()).hexdigest()[:16])


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def current(cur: Any, source: FactSource) -> Layout | None:
    """The roll-up of ``source`` if the store holds it as the declared KPIs need it, else None
    (a store synced before the KPI was declared; a source with no counts)."""
    wanted = layout(source)
    if not wanted.counts:
        return None
    row = cur.execute("SELECT layout FROM rollup_state WHERE source = ?", [source.name]).fetchone()
    return wanted if row is not None and row[0] == wanted.hash else None


def for_question(cur: Any, source: FactSource, *, scope_path: str, by, filters, child: bool) -> Layout | None:
    """The roll-up of ``source`` if it can answer a question over the subtree at ``scope_path``
    cut by ``by`` and ``filters`` (see ``UNIT``), else None. ``child``: the cut names the scope's
    next level down."""
    if not set(by) | set(filters) <= DIMENSIONS:
        return None
    root = int(scope_path.strip("/").split("/")[-1])
    wanted = layout(source)
    if not wanted.counts:
        return None
    # below or at a station, records count under units the roll-up does not keep apart
    below = "ancestor_kind = 'station'" if child else "ancestor_kind = 'station' AND ancestor_id <> id"
    row = cur.execute(f"SELECT layout, (SELECT count(*) FROM dim_org_ancestor WHERE id = ? AND {below}) "
                      "FROM rollup_state WHERE source = ?", [root, source.name]).fetchone()
    return wanted if row is not None and row[0] == wanted.hash and row[1] == 0 else None


# --- kept by the store, in the transaction that changes the facts ---------------------------------


def rebuild(con: Any, source: FactSource) -> None:
    """The whole roll-up of ``source`` from its fact table."""
    roll = layout(source)
    con.execute(f"DROP TABLE IF EXISTS {roll.table}")
    con.execute("DELETE FROM rollup_state WHERE source = ?", [source.name])
    if not roll.counts:
        return
    con.execute(roll.ddl())
    con.execute(f"INSERT INTO {roll.table} {roll.select_sql(source.table)}")
    con.execute("INSERT INTO rollup_state VALUES (?, ?)", [source.name, roll.hash])


TOUCHED = "rollup_touched"


def note_touched(con: Any, source: FactSource, ids_table: str) -> None:
    """Remember the (day, org unit) pairs of the facts whose ids are in ``ids_table``: called
    before the changed records are replaced (the pairs they leave) and after (those they enter)."""
    day = source.time_column
    con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {TOUCHED} (day TIMESTAMP, org_unit_id BIGINT)")
    con.execute(f"INSERT INTO {TOUCHED} SELECT DISTINCT date_trunc('day', f.{day}), {UNIT} FROM {source.table} f "
                f"{UNIT_JOIN} WHERE f.id IN (SELECT id FROM {ids_table})")


def refresh_touched(con: Any, source: FactSource) -> None:
    """Recompute the roll-up rows of the pairs ``note_touched`` remembered, from the facts."""
    roll = layout(source)
    try:
        first, last = con.execute(f"SELECT min(day), max(day) FROM {TOUCHED}").fetchone()
        if first is None or not roll.counts:
            return
        day = roll.day
        pairs = f"(SELECT day, coalesce(org_unit_id, -1) FROM {TOUCHED})"
        con.execute(f"DELETE FROM {roll.table} WHERE ({day}, coalesce(org_unit_id, -1)) IN {pairs}")
        # The days' range first, as constants, so that DuckDB skips the row groups outside it.
        # A pair as a row value IN the list: the same test as a correlated EXISTS under the
        # aggregate exhausted DuckDB's 128 MB for a thousand pairs.
        touched = (f"f.{day} >= {_ts(first)} AND f.{day} < {_ts(last + timedelta(days=1))} AND "
                   f"(date_trunc('day', f.{day}), coalesce({UNIT}, -1)) IN {pairs}")
        con.execute(f"INSERT INTO {roll.table} {roll.select_sql(source.table, where=touched)}")
    finally:
        con.execute(f"DROP TABLE {TOUCHED}")


def _ts(moment: datetime) -> str:
    return f"TIMESTAMP '{moment.isoformat(sep=' ')}'"


# --- read by the engine ---------------------------------------------------------------------------


def day_split(begin: datetime, stop: datetime) -> tuple[tuple[datetime, datetime] | None, list[tuple[datetime, datetime]]]:
    """A period's [begin, stop) as its whole days (read from the roll-up) and the parts of a day
    at either end (read from the facts): a period counted to date ends inside today."""
    first = datetime.combine(begin.date(), datetime.min.time())
    if first < begin:
        first += timedelta(days=1)
    last = datetime.combine(stop.date(), datetime.min.time())
    if last <= first:
        return None, [(begin, stop)]
    partial = [(b, s) for b, s in ((begin, first), (last, stop)) if b < s]
    return (first, last), partial
