"""The statistics store on the city-scale demo (1 M incidents over two years).

Works on a copy of the demo database (the original is never written; the copy gets the current
schema and then N changed incidents per round). Times, medians of several runs:

- ``full_sync``: a fresh DuckDB file filled from the operational SQLite file;
- ``incremental_sync``: after N incidents changed (accepted time and ``updated_at`` moved);
- ``yearly_set_by_station``: every declared KPI for the last whole year for every station, with
  同比 (and 环比), by the engine — target < 1 s;
- ``per_kpi_sql_sqlite``: the same figures (current year and last year, by station) by one
  hand-written SQL query per KPI on the operational SQLite database — the engine must be ≥ 5×
  faster. The two must agree on every count and rate (checked);
- the process's resident memory before the store is opened, after the full sync and after the
  queries, with DuckDB's memory limit.

Prints JSON lines (bench, metric, value, unit, …).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import _server as srv
import psutil

BENCH = "stats"
LOCAL = ZoneInfo("Asia/Shanghai")

# One hand-written SQLite query per KPI: (kind, expression(s)). acc/dep/arr are seconds after reception.
# Exact to the microsecond: whole seconds from strftime, the fraction from the stored text
# ('YYYY-MM-DD HH:MM:SS.ffffff'); julianday() differences carry ~1e-5 s of rounding.


def seconds_after_reception(column: str) -> str:
    # strftime('%s') of a time with a fraction rounds it: take whole seconds of the first 19 characters
    return (f"((CAST(strftime('%s', substr(i.{column}, 1, 19)) AS INTEGER) "
            f"- CAST(strftime('%s', substr(i.received_at, 1, 19)) AS INTEGER)) "
            f"+ (CAST(substr(i.{column}, 21) AS INTEGER) - CAST(substr(i.received_at, 21) AS INTEGER)) / 1e6)")


ACC, DEP, ARR = (seconds_after_reception(c) for c in ("accepted_at", "departed_at", "arrived_at"))
TARGET = "(CASE i.zone_class WHEN 'centre' THEN 180 WHEN 'urban' THEN 300 WHEN 'suburban' THEN 600 END)"
SAT = ("(SELECT cb.satisfaction FROM callback cb WHERE cb.incident_id = i.id "
       "ORDER BY cb.at DESC, cb.id DESC LIMIT 1)")
BASELINE_SQL: dict[str, tuple[str, str, str | None]] = {
    "incidents_received": ("count", "COUNT(*)", None),
    "incidents_valid": ("count", "SUM(i.disposition IS NULL OR i.disposition NOT IN "
                                 "('invalid_call', 'duplicate', 'false_report'))", None),
    "incidents_criminal": ("count", "SUM(COALESCE(c.parent_code, c.code) = '10')", None),
    "escalations": ("count", "SUM(i.escalated_at IS NOT NULL)", None),
    **{f"accepted_within_{n}s": ("rate", f"SUM({ACC} >= 0 AND {ACC} <= {n})", f"SUM({ACC} >= 0)")
       for n in (30, 60, 120, 180)},
    "accept_0_30s": ("rate", f"SUM({ACC} >= 0 AND {ACC} <= 30)", f"SUM({ACC} >= 0)"),
    "accept_30_60s": ("rate", f"SUM({ACC} > 30 AND {ACC} <= 60)", f"SUM({ACC} >= 0)"),
    "accept_60_120s": ("rate", f"SUM({ACC} > 60 AND {ACC} <= 120)", f"SUM({ACC} >= 0)"),
    "accept_120_180s": ("rate", f"SUM({ACC} > 120 AND {ACC} <= 180)", f"SUM({ACC} >= 0)"),
    "accept_180_mores": ("rate", f"SUM({ACC} > 180)", f"SUM({ACC} >= 0)"),
    "departed_within_target": ("rate", f"SUM({DEP} >= 0 AND {DEP} <= {TARGET})",
                               f"SUM({DEP} >= 0 AND i.zone_class IS NOT NULL)"),
    "arrived_within_target": ("rate", f"SUM({ARR} >= 0 AND {ARR} <= {TARGET})",
                              f"SUM({ARR} >= 0 AND i.zone_class IS NOT NULL)"),
    "priority1_on_target": ("rate", f"SUM(i.priority = 1 AND {ARR} >= 0 AND {ARR} <= {TARGET})",
                            f"SUM(i.priority = 1 AND {ARR} >= 0 AND i.zone_class IS NOT NULL)"),
    "satisfaction_rate": ("rate", f"SUM({SAT} IN ('satisfied', 'basically_satisfied'))",
                          f"SUM({SAT} IN ('satisfied', 'basically_satisfied', 'unsatisfied'))"),
    "mean_accept_seconds": ("mean", f"AVG(CASE WHEN {ACC} >= 0 THEN {ACC} END)", None),
    "mean_arrive_seconds": ("mean", f"AVG(CASE WHEN {ARR} >= 0 THEN {ARR} END)", None),
    "p90_accept_seconds": ("p90", ACC, None),
    "p90_arrive_seconds": ("p90", ARR, None),
}


def baseline_query(slug: str) -> str:
    kind, num, den = BASELINE_SQL[slug]
    # each org unit's station, from the small org table; incidents join it by org_unit_id
    station_of = ("(SELECT u.id AS unit_id, s.id AS station_id FROM org_unit u JOIN org_unit s "
                  "ON s.kind = 'station' AND substr(u.path, 1, length(s.path)) = s.path)")
    head = (f"FROM incident i JOIN incident_category c ON c.code = i.category_code "
            f"JOIN {station_of} so ON so.unit_id = i.org_unit_id "
            "WHERE i.received_at >= :ly_start AND i.received_at < :end")
    year = "CASE WHEN i.received_at >= :start THEN 'cur' ELSE 'ly' END"
    if kind == "p90":
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


def run_baseline(conn, year: int) -> dict[str, dict[tuple[int, str], float | None]]:
    from sqlalchemy import text

    def utc(d: date) -> str:
        return datetime(d.year, d.month, d.day, tzinfo=LOCAL).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    params = {"ly_start": utc(date(year - 1, 1, 1)), "start": utc(date(year, 1, 1)), "end": utc(date(year + 1, 1, 1))}
    out: dict[str, dict[tuple[int, str], float | None]] = {}
    for slug, (kind, _, _) in BASELINE_SQL.items():
        rows = conn.execute(text(baseline_query(slug)), params).all()
        values: dict[tuple[int, str], float | None] = {}
        if kind == "p90":
            groups: dict[tuple[int, str], list[float]] = {}
            for station, tag, x in rows:
                groups.setdefault((station, tag), []).append(x)
            values = {k: p90(v) for k, v in groups.items()}
        else:
            for station, tag, num, den in rows:
                if kind == "rate":
                    values[(station, tag)] = (num / den * 100.0) if den else None
                else:
                    values[(station, tag)] = float(num) if num is not None else None
        out[slug] = values
    return out


def prepare_copy(source: Path, work: Path) -> Path:
    """A copy of the demo database at the current schema (the original is never written)."""
    work.mkdir(parents=True, exist_ok=True)
    copy = work / "pingan.db"
    if not copy.exists() or copy.stat().st_size < source.stat().st_size:
        print(f"# copying {source} → {copy}", file=sys.stderr)
        shutil.copyfile(source, copy)
    from pingan.db.migrate import upgrade
    from pingan.db.session import make_engine

    upgrade(make_engine(f"sqlite:///{copy}"))
    return copy


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
    ap.add_argument("--source", default="/tmp/demo-city/pingan.db")
    ap.add_argument("--work", default="/tmp/pingan-bench-stats")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--full-runs", type=int, default=2)
    ap.add_argument("--changed", type=int, default=1000)
    ap.add_argument("--baseline-runs", type=int, default=1, help="runs of the per-KPI SQL baseline (slow)")
    ap.add_argument("--year", type=int, default=None, help="the year to report (default: the last whole year)")
    ap.add_argument("--memory-limit", default="128MB")
    args = ap.parse_args()
    source = Path(args.source)
    if not source.exists():
        srv.emit(BENCH, "skipped", 0, "", reason=f"no city-scale demo at {source} (pingan demo --scale city)")
        return
    work = Path(args.work)
    copy = prepare_copy(source, work)
    url = f"sqlite:///{copy}"
    os.environ["PINGAN_DATABASE_URL"] = url

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from pingan.auth.actor import Actor
    from pingan.stats import engine as stats_engine
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
        from pingan.org.repository import get_root

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

    base_times = []
    for _ in range(args.baseline_runs):
        with reader.connect() as conn:
            t = time.perf_counter()
            base = run_baseline(conn, last)
            base_times.append(time.perf_counter() - t)
    base_s = statistics.median(base_times)
    srv.emit(BENCH, "per_kpi_sql_sqlite", round(base_s, 2), "s", kpis=len(BASELINE_SQL), runs=len(base_times),
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


if __name__ == "__main__":
    main()
