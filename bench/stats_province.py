"""The statistics engine at province scale: 10 M incidents (target: the yearly KPI set < 5 s).

A province is 10–20 cities (DESIGN.md). This bench builds one from the city-scale demo: the
city's statistics store, synced from the demo's SQLite file, is replicated ``--cities`` times
(default 10) into a province store under one province root, each copy a city of its own — its
own org-unit, grid and incident ids and its own materialised paths — so every station of every
copy is a station in its own right. Replicating keeps the demo's real rhythm, category mix and
stage times; generating ten demo cities would take an hour and 20 GB of SQLite.

Then, in the same run, medians of ``--runs``:

- ``province_yearly_set_by_station``: every declared KPI for the last whole year, for every
  station of the province, with 同比 and 环比 — one ``engine.compute`` call, as the API makes it;
- ``city_yearly_set_by_station``: the same on the city store, the baseline for the ratio;
- ``province_yearly_set_by_station_from_facts``: the province's set with its roll-ups set aside
  (``stats.rollup``), which ``province_rollups_built`` times building as a full sync does;
- the province total equals ``--cities`` × the city total for every count (checked), so the copy
  is exact.

Prints JSON lines (bench, metric, value, unit, …).

    .venv/bin/python bench/stats_province.py [--source /work/data/city.db] [--cities 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import _server as srv
import psutil

BENCH = "stats_province"
LOCAL = ZoneInfo("Asia/Shanghai")
STRIDE = 10_000_000  # ids of copy k are the city's + k × STRIDE (no table reaches 10 M ids in a city)
PROVINCE_ROOT = 9 * STRIDE * 100  # above every copied id


def shifted_path(column: str, k: int) -> str:
    """A materialised path '/1/4/17/' of copy k under the province root: '/ROOT/1+kS/4+kS/17+kS/'."""
    parts = f"list_transform(string_split(trim({column}, '/'), '/'), x -> CAST(CAST(x AS BIGINT) + {k * STRIDE} AS VARCHAR))"
    return f"'/{PROVINCE_ROOT}/' || array_to_string({parts}, '/') || '/'"


def build_province(city_path: Path, province, cities: int) -> int:
    """Fill ``province`` (a StatsStore) with ``cities`` re-keyed copies of the city store's tables."""
    from pingan.stats import rollup
    from pingan.incident.stats import INCIDENTS

    columns = INCIDENTS.all_columns
    keyed = {"id", "org_unit_id", "grid_id"}
    with province.reader() as con:
        con.execute(f"ATTACH '{city_path}' AS city (READ_ONLY)")
        try:
            for table in ("dim_org_unit", "dim_org_ancestor", "dim_grid", "dim_category", INCIDENTS.table):
                con.execute(f"DELETE FROM {table}")
            con.execute("INSERT INTO dim_category SELECT * FROM city.dim_category")
            con.execute("INSERT INTO dim_org_unit VALUES (?, NULL, ?, 'province', 'P', '省公安厅（合成）')",
                        [PROVINCE_ROOT, f"/{PROVINCE_ROOT}/"])
            for k in range(cities):
                off = k * STRIDE
                con.execute(f"""INSERT INTO dim_org_unit
                    SELECT id + {off}, COALESCE(parent_id + {off}, {PROVINCE_ROOT}), {shifted_path('path', k)},
                           kind, code || '-{k}', name || '（{k + 1}）' FROM city.dim_org_unit""")
                con.execute(f"""INSERT INTO dim_grid SELECT id + {off}, code || '-{k}', name, zone_class,
                                org_unit_id + {off} FROM city.dim_grid""")
                select = ", ".join(f"{c} + {off}" if c in keyed else c for c in columns)
                con.execute(f"INSERT INTO {INCIDENTS.table} ({', '.join(columns)}) "
                            f"SELECT {select} FROM city.{INCIDENTS.table}")
            # The closure, as the store builds it: every unit with each of its ancestors, itself included.
            con.execute("""INSERT INTO dim_org_ancestor
                SELECT u.id, a.id, a.kind, len(string_split(trim(a.path, '/'), '/'))
                FROM dim_org_unit u JOIN dim_org_unit a ON starts_with(u.path, a.path)""")
            con.execute("CHECKPOINT")
        finally:
            con.execute("DETACH city")
        # the roll-ups, as a full sync builds them (stats.rollup)
        t = time.perf_counter()
        rollup.rebuild(con, INCIDENTS)
        con.execute("CHECKPOINT")
        srv.emit(BENCH, "province_rollups_built", round(time.perf_counter() - t, 1), "s",
                 rows={roll.grain.name: con.execute(f"SELECT count(*) FROM {roll.table}").fetchone()[0]
                       for roll in rollup.layouts(INCIDENTS)}, load=srv.loadavg())
        return con.execute(f"SELECT count(*) FROM {INCIDENTS.table}").fetchone()[0]


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", default=srv.CITY_DEMO, help="the city-scale demo (SQLite, read only)")
    ap.add_argument("--work", default="/tmp/pingan-bench-province")
    ap.add_argument("--cities", type=int, default=10)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--year", type=int, default=None, help="the year to report (default: the last whole year)")
    ap.add_argument("--memory-limit", default="128MB", help="DuckDB's cap, as the server's default")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if srv.city_demo_missing(BENCH, args.source):
        return
    source = Path(args.source)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from pingan.auth.actor import Actor
    from pingan.org.system import get_root
    from pingan.stats import engine as stats_engine
    from pingan.stats.metrics import METRICS, Kind
    from pingan.stats.period import year as year_period
    from pingan.stats.store import StatsStore

    reader = create_engine(f"sqlite:///file:{source}?mode=ro&uri=true", isolation_level="AUTOCOMMIT")
    city_file, province_file = work / "city.duckdb", work / "province.duckdb"
    for leftover in (city_file, province_file, Path(f"{city_file}.wal"), Path(f"{province_file}.wal")):
        leftover.unlink(missing_ok=True)
    city = StatsStore(path=str(city_file), memory_limit=args.memory_limit, threads=args.threads)
    with Session(reader) as db:
        t = time.perf_counter()
        city.sync(db=db, scan_url=f"sqlite:///{source}")
        srv.emit(BENCH, "city_full_sync", round(time.perf_counter() - t, 2), "s", load=srv.loadavg())
        root = get_root(db=db)
        city_actor = Actor.system(root.id, root.path, name="bench")
    city.close()  # the province store attaches its file read-only

    province = StatsStore(path=str(province_file), memory_limit=args.memory_limit, threads=args.threads)
    t = time.perf_counter()
    rows = build_province(city_file, province, args.cities)
    srv.emit(BENCH, "province_built", round(time.perf_counter() - t, 1), "s", incidents=rows, cities=args.cities,
             file_mb=round(province_file.stat().st_size / 2**20))
    city = StatsStore(path=str(city_file), memory_limit=args.memory_limit, threads=args.threads)
    province_actor = Actor.system(PROVINCE_ROOT, f"/{PROVINCE_ROOT}/", name="bench")

    last = args.year or (datetime.now(LOCAL).year - 1)
    period = year_period(last)
    metrics = list(METRICS.values())
    proc = psutil.Process()

    def yearly(store, actor):
        return lambda: stats_engine.compute(store=store, actor=actor, metrics=metrics, period=period, by=["station"])

    # alternate the two, so that both see the same machine
    city_times, province_times = [], []
    for _ in range(args.runs):
        s, city_results = timed(yearly(city, city_actor), 1)
        city_times.append(s)
        s, province_results = timed(yearly(province, province_actor), 1)
        province_times.append(s)
    city_s, province_s = statistics.median(city_times), statistics.median(province_times)
    stations = len(province_results[0].cells)
    srv.emit(BENCH, "city_yearly_set_by_station", round(city_s, 3), "s", kpis=len(metrics),
             stations=len(city_results[0].cells), runs=args.runs, load=srv.loadavg())
    srv.emit(BENCH, "province_yearly_set_by_station", round(province_s, 3), "s", kpis=len(metrics), stations=stations,
             incidents=rows, year=last, compare="yoy+previous", runs=args.runs, target="< 5 s",
             within_target=province_s < 5.0, memory_limit=args.memory_limit, threads=args.threads,
             load=srv.loadavg())
    srv.emit(BENCH, "province_to_city_ratio", round(province_s / city_s, 1), "x", data_ratio=args.cities)
    from pingan.stats import rollup
    from pingan.incident.stats import INCIDENTS

    with rollup.set_aside(province, INCIDENTS):
        facts_s, _ = timed(yearly(province, province_actor), args.runs)
    srv.emit(BENCH, "province_yearly_set_by_station_from_facts", round(facts_s, 3), "s",
             ratio=round(facts_s / province_s, 1), runs=args.runs, load=srv.loadavg())

    # every count of the province is the cities' copies added up
    differ = 0
    for c, p in zip(city_results, province_results):
        if c.metric.kind is not Kind.COUNT:
            continue
        city_total = sum(cell.value for cell in c.cells)
        province_total = sum(cell.value for cell in p.cells)
        if province_total != args.cities * city_total:
            differ += 1
            print(f"# {c.metric.slug}: province {province_total} != {args.cities} × {city_total}", file=sys.stderr)
    srv.emit(BENCH, "count_totals_that_differ", differ, "kpis",
             checked=sum(1 for m in metrics if m.kind is Kind.COUNT))
    srv.emit(BENCH, "rss", round(proc.memory_info().rss / 2**20), "MiB", memory_limit=args.memory_limit)
    city.close()
    province.close()


if __name__ == "__main__":
    main()
