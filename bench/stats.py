"""The statistics store on the city-scale demo (1 M incidents over two years).

Works on a copy of the demo database, SQLite or PostgreSQL (the original is never written; the
copy gets the current schema and then N changed incidents per round). Times, medians of several runs:

- ``full_sync``: a fresh DuckDB file filled from the operational database (DuckDB's scanner);
- ``incremental_sync``: after N incidents changed (accepted time and ``updated_at`` moved);
- ``yearly_set_by_station``: every declared KPI for the last whole year for every station, with
  同比 (and 环比), by the engine — target < 1 s;
- ``yearly_set_by_station_from_facts``, ``year_to_date_cards`` and ``year_to_date_by_grid``:
  the same set, the leadership dashboard's cards and its map computed with the roll-ups
  (``stats.rollup``) and from the facts alone, with the ratio and the number of figures that differ;
- ``per_kpi_sql_<backend>``: the same figures (current year and last year, by station) by one
  hand-written SQL query per KPI on the operational database — the engine must be ≥ 5×
  faster. The two must agree on every figure (checked);
- the process's resident memory before the store is opened, after the full sync and after the
  queries, with DuckDB's memory limit.

Prints JSON lines (bench, metric, value, unit, …).

    .venv/bin/python bench/stats.py --source /work/data/city.db                # SQLite file
    .venv/bin/python bench/stats.py --source postgresql+psycopg://postgres@127.0.0.1/pingan_city
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import _server as srv
import psutil

BENCH = "stats"
LOCAL = ZoneInfo("Asia/Shanghai")

# One hand-written SQL query per KPI on the operational database: (kind, expression(s)).
# ACC/DEP/ARR are seconds after reception. On SQLite exact to the microsecond: whole seconds from
# strftime, the fraction from the stored text ('YYYY-MM-DD HH:MM:SS.ffffff'); julianday()
# differences carry ~1e-5 s of rounding. On PostgreSQL: EXTRACT(EPOCH FROM interval).


def seconds_after_reception(column: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"EXTRACT(EPOCH FROM (i.{column} - i.received_at))"
    # strftime('%s') of a time with a fraction rounds it: take whole seconds of the first 19 characters
    return (f"((CAST(strftime('%s', substr(i.{column}, 1, 19)) AS INTEGER) "
            f"- CAST(strftime('%s', substr(i.received_at, 1, 19)) AS INTEGER)) "
            f"+ (CAST(substr(i.{column}, 21) AS INTEGER) - CAST(substr(i.received_at, 21) AS INTEGER)) / 1e6)")


TARGET = "(CASE i.zone_class WHEN 'centre' THEN 180 WHEN 'urban' THEN 300 WHEN 'suburban' THEN 600 END)"
SAT = ("(SELECT cb.satisfaction FROM callback cb WHERE cb.incident_id = i.id "
       "ORDER BY cb.at DESC, cb.id DESC LIMIT 1)")


def baseline_sql(dialect: str) -> dict[str, tuple[str, str, str | None]]:
    """The per-KPI queries' aggregates, written as one would by hand for the dialect."""
    acc, dep, arr = (seconds_after_reception(c, dialect) for c in ("accepted_at", "departed_at", "arrived_at"))

    def n(cond: str) -> str:  # how many rows satisfy cond
        return f"COUNT(*) FILTER (WHERE {cond})" if dialect == "postgresql" else f"SUM({cond})"

    def p90(x: str) -> str:
        return f"percentile_cont(0.9) WITHIN GROUP (ORDER BY {x})" if dialect == "postgresql" else x

    return {
        "incidents_received": ("count", "COUNT(*)", None),
        "incidents_valid": ("count", n("i.disposition IS NULL OR i.disposition NOT IN "
                                       "('invalid_call', 'duplicate', 'false_report')"), None),
        "incidents_criminal": ("count", n("COALESCE(c.parent_code, c.code) = '10'"), None),
        "escalations": ("count", n("i.escalated_at IS NOT NULL"), None),
        **{f"accepted_within_{k}s": ("rate", n(f"{acc} >= 0 AND {acc} <= {k}"), n(f"{acc} >= 0"))
           for k in (30, 60, 120, 180)},
        "accept_0_30s": ("rate", n(f"{acc} >= 0 AND {acc} <= 30"), n(f"{acc} >= 0")),
        "accept_30_60s": ("rate", n(f"{acc} > 30 AND {acc} <= 60"), n(f"{acc} >= 0")),
        "accept_60_120s": ("rate", n(f"{acc} > 60 AND {acc} <= 120"), n(f"{acc} >= 0")),
        "accept_120_180s": ("rate", n(f"{acc} > 120 AND {acc} <= 180"), n(f"{acc} >= 0")),
        "accept_over_180s": ("rate", n(f"{acc} > 180"), n(f"{acc} >= 0")),
        "departed_within_target": ("rate", n(f"{dep} >= 0 AND {dep} <= {TARGET}"),
                                   n(f"{dep} >= 0 AND i.zone_class IS NOT NULL")),
        "arrived_within_target": ("rate", n(f"{arr} >= 0 AND {arr} <= {TARGET}"),
                                  n(f"{arr} >= 0 AND i.zone_class IS NOT NULL")),
        "priority1_on_target": ("rate", n(f"i.priority = 1 AND {arr} >= 0 AND {arr} <= {TARGET}"),
                                n(f"i.priority = 1 AND {arr} >= 0 AND i.zone_class IS NOT NULL")),
        "satisfaction_rate": ("rate", n(f"{SAT} IN ('satisfied', 'basically_satisfied')"),
                              n(f"{SAT} IN ('satisfied', 'basically_satisfied', 'unsatisfied')")),
        "mean_accept_seconds": ("mean", f"AVG(CASE WHEN {acc} >= 0 THEN {acc} END)", None),
        "mean_arrive_seconds": ("mean", f"AVG(CASE WHEN {arr} >= 0 THEN {arr} END)", None),
        "p90_accept_seconds": ("p90", p90(acc), acc),
        "p90_arrive_seconds": ("p90", p90(arr), arr),
    }


def baseline_query(slug: str, dialect: str) -> str:
    kind, num, den = baseline_sql(dialect)[slug]
    # each org unit's station, from the small org table; incidents join it by org_unit_id
    station_of = ("(SELECT u.id AS unit_id, s.id AS station_id FROM org_unit u JOIN org_unit s "
                  "ON s.kind = 'station' AND substr(u.path, 1, length(s.path)) = s.path)")
    head = (f"FROM incident i JOIN incident_category c ON c.code = i.category_code "
            f"JOIN {station_of} so ON so.unit_id = i.org_unit_id "
            "WHERE i.received_at >= :ly_start AND i.received_at < :end")
    year = "CASE WHEN i.received_at >= :start THEN 'cur' ELSE 'ly' END"
    if kind == "p90" and dialect == "postgresql":
        return f"SELECT so.station_id, {year}, {num} {head} AND {den} >= 0 GROUP BY 1, 2"
    if kind == "p90":  # SQLite has no percentile: the sorted values, interpolated in Python
        return f"SELECT so.station_id, {year}, {num} AS x {head} AND {num} >= 0 ORDER BY 1, 2, 3"
    return f"SELECT so.station_id, {year}, {num}, {den or 'NULL'} {head} GROUP BY 1, 2"


def p90(values: list[float]) -> float | None:
    """Linear interpolation, as DuckDB's quantile_cont."""
    if not values:
        return None
    pos = 0.9 * (len(values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def run_baseline(conn, year: int, dialect: str) -> dict[str, dict[tuple[int, str], float | None]]:
    from sqlalchemy import text

    def utc(d: date):
        moment = datetime(d.year, d.month, d.day, tzinfo=LOCAL).astimezone(UTC)
        return moment if dialect == "postgresql" else moment.strftime("%Y-%m-%d %H:%M:%S.%f")

    params = {"ly_start": utc(date(year - 1, 1, 1)), "start": utc(date(year, 1, 1)), "end": utc(date(year + 1, 1, 1))}
    out: dict[str, dict[tuple[int, str], float | None]] = {}
    for slug, (kind, _, _) in baseline_sql(dialect).items():
        rows = conn.execute(text(baseline_query(slug, dialect)), params).all()
        values: dict[tuple[int, str], float | None] = {}
        if kind == "p90" and dialect != "postgresql":
            groups: dict[tuple[int, str], list[float]] = {}
            for station, tag, x in rows:
                groups.setdefault((station, tag), []).append(x)
            values = {k: p90(v) for k, v in groups.items()}
        elif kind == "p90":
            values = {(station, tag): float(x) for station, tag, x in rows}
        else:
            for station, tag, num, den in rows:
                if kind == "rate":
                    values[(station, tag)] = (num / den * 100.0) if den else None
                else:
                    values[(station, tag)] = float(num) if num is not None else None
        out[slug] = values
    return out


def differing(results, others) -> int:
    """How many figures (value, 同比 and 环比 baselines) of two computations differ beyond 1e-9."""
    count = 0
    for result in results:
        for mine, theirs in zip(result.cells, others[result.metric.slug].cells, strict=True):
            assert mine.key == theirs.key
            pairs = [(mine.value, theirs.value)]
            for a, b in ((mine.last_year, theirs.last_year), (mine.previous, theirs.previous)):
                pairs.append((a.baseline if a else None, b.baseline if b else None))
            for a, b in pairs:
                if (a is None) != (b is None) or (a is not None and abs(a - b) > 1e-9 * max(1.0, abs(b))):
                    count += 1
    return count


def drop_copy(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if url.startswith("postgresql"):
        parsed = make_url(url)
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        admin.dispose()


def touch_incidents(url: str, n: int, rng: random.Random) -> None:
    """Change n random incidents (their updated_at moves to now, as any edit does)."""
    from sqlalchemy import bindparam, create_engine, func, select, update

    from pingan.incident.models import Incident

    engine = create_engine(url)
    with engine.begin() as conn:
        top = conn.scalar(select(func.max(Incident.id)))
        ids = rng.sample(range(1, top + 1), n)
        conn.execute(update(Incident).where(Incident.id == bindparam("b_id")).values(updated_at=datetime.now(UTC)),
                     [{"b_id": i} for i in ids])
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", default=srv.CITY_DEMO,
                    help="the city-scale demo: a SQLite file or a PostgreSQL URL (never written)")
    ap.add_argument("--work", default="/tmp/pingan-bench-stats")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--full-runs", type=int, default=2)
    ap.add_argument("--changed", type=int, default=1000)
    ap.add_argument("--baseline-runs", type=int, default=1,
                    help="runs of the per-KPI SQL baseline (slow; 0 leaves it out)")
    ap.add_argument("--year", type=int, default=None, help="the year to report (default: the last whole year)")
    ap.add_argument("--memory-limit", default="128MB")
    args = ap.parse_args()
    if srv.city_demo_missing(BENCH, args.source):
        return
    work = Path(args.work)
    url = srv.copy_demo(args.source, work)
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    os.environ["PINGAN_DATABASE_URL"] = url

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from pingan.auth.actor import Actor
    from pingan.stats import engine as stats_engine
    from pingan.stats import rollup
    from pingan.incident.stats import INCIDENTS
    from pingan.stats.metrics import METRICS
    from pingan.stats.period import year as year_period
    from pingan.stats.store import StatsStore

    proc = psutil.Process()
    reader = create_engine(url, isolation_level="AUTOCOMMIT")
    rss_before = proc.memory_info().rss
    duck = work / "stats.duckdb"
    full_times = []
    store = None
    for _ in range(args.full_runs):
        if store is not None:
            store.close()
        for leftover in (duck, Path(f"{duck}.wal")):
            leftover.unlink(missing_ok=True)
        store = StatsStore(path=str(duck), memory_limit=args.memory_limit, threads=2)
        with Session(reader) as db:
            t = time.perf_counter()
            report = store.sync(db=db, scan_url=url)
            full_times.append(time.perf_counter() - t)
    rss_synced = proc.memory_info().rss
    rows = report.rows["incident"]
    srv.emit(BENCH, "full_sync", round(statistics.median(full_times), 2), "s", rows=rows, runs=args.full_runs,
             backend=backend,
             memory_limit=args.memory_limit, load=srv.loadavg())

    rng = random.Random(7)
    inc_times = []
    for _ in range(args.runs):
        touch_incidents(url, args.changed, rng)
        with Session(reader) as db:
            t = time.perf_counter()
            report = store.sync(db=db)
            inc_times.append(time.perf_counter() - t)
        assert report.mode["incident"] == "incremental", report
    srv.emit(BENCH, "incremental_sync", round(statistics.median(inc_times), 3), "s", changed=args.changed,
             rows_read=report.rows["incident"], runs=args.runs, load=srv.loadavg())

    with Session(reader) as db:
        from pingan.org.system import get_root

        root = get_root(db=db)
        actor = Actor.system(root.id, root.path, name="bench")
    last = args.year or (datetime.now(LOCAL).year - 1)
    period = year_period(last)
    metrics = list(METRICS.values())
    engine_times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        results = stats_engine.compute(store=store, actor=actor, metrics=metrics, period=period, by=["station"])
        engine_times.append(time.perf_counter() - t)
    rss_queried = proc.memory_info().rss
    stations = len(results[0].cells)
    engine_s = statistics.median(engine_times)
    srv.emit(BENCH, "yearly_set_by_station", round(engine_s, 3), "s", kpis=len(metrics), stations=stations,
             year=last, compare="yoy+previous", runs=args.runs, target="< 1 s", load=srv.loadavg())

    # the same set from the facts alone: the roll-ups set aside
    def from_facts(compute):
        with rollup.set_aside(store, INCIDENTS):
            return compute()

    facts_times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        facts = from_facts(lambda: stats_engine.compute(store=store, actor=actor, metrics=metrics, period=period,
                                                        by=["station"]))
        facts_times.append(time.perf_counter() - t)
    facts_s = statistics.median(facts_times)
    srv.emit(BENCH, "yearly_set_by_station_from_facts", round(facts_s, 3), "s", ratio=round(facts_s / engine_s, 1),
             differ=differing(results, {r.metric.slug: r for r in facts}), runs=args.runs, load=srv.loadavg())

    # the leadership dashboard's cards: the whole bureau, this year to date, with 同比 and 环比
    ytd = year_period(last + 1)
    # and its map: the incidents of every grid
    received = [METRICS["incidents_received"]]
    for name, compute in (("year_to_date_cards", lambda: stats_engine.compute(
            store=store, actor=actor, metrics=metrics, period=ytd)),
            ("year_to_date_by_grid", lambda: stats_engine.compute(
                store=store, actor=actor, metrics=received, period=ytd, by=["grid"]))):
        times, facts_times = [], []
        for _ in range(args.runs):
            t = time.perf_counter()
            rolled = compute()
            times.append(time.perf_counter() - t)
            t = time.perf_counter()
            facts = from_facts(compute)
            facts_times.append(time.perf_counter() - t)
        srv.emit(BENCH, name, round(statistics.median(times) * 1000, 1), "ms",
                 from_facts_ms=round(statistics.median(facts_times) * 1000, 1),
                 ratio=round(statistics.median(facts_times) / statistics.median(times), 1),
                 differ=differing(rolled, {r.metric.slug: r for r in facts}), runs=args.runs, load=srv.loadavg())

    if not args.baseline_runs:
        store.close()
        drop_copy(url)
        return
    base_times = []
    for _ in range(args.baseline_runs):
        with reader.connect() as conn:
            t = time.perf_counter()
            base = run_baseline(conn, last, backend)
            base_times.append(time.perf_counter() - t)
    base_s = statistics.median(base_times)
    srv.emit(BENCH, f"per_kpi_sql_{backend}", round(base_s, 2), "s", kpis=len(base), runs=len(base_times),
             load=srv.loadavg())
    srv.emit(BENCH, "speedup_vs_per_kpi_sql", round(base_s / engine_s, 1), "x", target=">= 5x")

    # the same figures from both (counts and rates exactly, means and quantiles to 1e-6)
    mismatches = 0
    by_kpi: dict[str, int] = {}
    for result in results:
        theirs = base[result.metric.slug]
        for cell in result.cells:
            station = cell.key["station"]
            for tag, value in (("cur", cell.value), ("ly", cell.last_year.baseline)):
                other = theirs.get((station, tag))
                if other is None and value in (None, 0.0):
                    continue
                if value is None or other is None or abs(value - other) > 1e-6 * max(1.0, abs(other)):
                    mismatches += 1
                    by_kpi[result.metric.slug] = by_kpi.get(result.metric.slug, 0) + 1
    srv.emit(BENCH, "figures_that_differ", mismatches, "cells", checked=sum(len(r.cells) for r in results) * 2,
             by_kpi=by_kpi)

    mib = 1024 * 1024
    srv.emit(BENCH, "rss", round(rss_queried / mib), "MiB", before_store=round(rss_before / mib),
             after_full_sync=round(rss_synced / mib), after_queries=round(rss_queried / mib),
             added_by_store=round((rss_queried - rss_before) / mib), memory_limit=args.memory_limit)
    store.close()
    reader.dispose()
    drop_copy(url)


if __name__ == "__main__":
    main()
