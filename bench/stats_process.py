"""Benchmark: what reading the statistics store through the statistics process costs.

On the city-scale demo (a copy of its SQLite file at ``--db``, read only here), one full sync
fills a DuckDB file, which is then copied, so that the same store can be read two ways in the
same run, alternating:

- ``local``: a ``StatsStore`` opened on the copy in this process (how a web worker read it
  before decision 0006);
- ``client``: a ``StatsClient`` of a real statistics process (``python -m pingan.stats.server``,
  no sync loop) serving the original.

For every declared KPI for 2025 with 同比 and 环比 by station (3,000-odd figures), and by grid
(≈ 100,000), it reports the median wall time and the CPU time spent in *this* (the caller's)
process, and the round trip of a trivial statement. The figures must be the same both ways —
counts and rates exactly; means and quantiles are compared to 1e-9 relative, because DuckDB's
parallel float sums differ in the last bits from run to run even in one process.

    .venv/bin/python bench/stats_process.py [--db var/bench/memory-city.db] [--runs 7]

Prints JSON lines (bench, metric, value, unit, …).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _server as srv

BENCH = "stats_process"
ROOT = Path(__file__).resolve().parents[1]


def same_figures(a, b) -> bool:
    for ra, rb in zip(a, b, strict=True):
        for ca, cb in zip(ra.cells, rb.cells, strict=True):
            if ca.key != cb.key or ca.numerator != cb.numerator or ca.denominator != cb.denominator:
                return False
            if (ca.value is None) != (cb.value is None):
                return False
            if ca.value is not None and not math.isclose(ca.value, cb.value, rel_tol=1e-9):
                return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(ROOT / "var" / "bench" / "memory-city.db"),
                        help="SQLite file of the city demo (read only)")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    db_path = Path(args.db).resolve()
    if not db_path.exists():
        raise SystemExit(f"{db_path}: copy the city demo there first (cp --reflink=auto /work/data/city.db …)")
    work = Path(tempfile.mkdtemp(prefix="pingan-bench-stats-process-"))
    os.environ.update({"PINGAN_DATABASE_URL": f"sqlite:///{db_path}", "PINGAN_VAR_DIR": str(work),
                       "PINGAN_STATS_PATH": str(work / "served.duckdb"), "PINGAN_STATS_SOCKET": str(work / "s.sock")})

    from pingan.auth.actor import Actor
    from pingan.stats import engine
    from pingan.stats.client import StatsClient, answers
    from pingan.stats.jobs import sync_store
    from pingan.stats.metrics import METRICS
    from pingan.stats.period import parse_period
    from pingan.stats.store import StatsStore

    srv.emit(BENCH, "load_average", srv.loadavg(), "load", note="other work on the machine skews figures")
    store = StatsStore(path=str(work / "served.duckdb"))
    report = sync_store(store)
    store.close()
    shutil.copy(work / "served.duckdb", work / "local.duckdb")
    srv.emit(BENCH, "full_sync", round(report.seconds, 2), "s", rows=report.rows)

    proc = subprocess.Popen([sys.executable, "-m", "pingan.stats.server", "--sync-seconds", "0"],
                            env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not answers(str(work / "s.sock")):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the statistics process did not start")
            time.sleep(0.1)
        local = StatsStore(path=str(work / "local.duckdb"))
        client = StatsClient(str(work / "s.sock"), timezone=local.timezone)
        with local.reader() as cur:
            root_id, root_path = cur.execute("SELECT id, path FROM dim_org_unit WHERE parent_id IS NULL "
                                             "ORDER BY id LIMIT 1").fetchone()
        actor = Actor.system(root_id, root_path)
        metrics = list(METRICS.values())
        year = parse_period("2025")
        for by in ("station", "grid"):
            wall: dict[str, list[float]] = {"local": [], "client": []}
            cpu: dict[str, list[float]] = {"local": [], "client": []}
            results = {}
            for _ in range(args.runs):
                for name, st in (("local", local), ("client", client)):
                    t, c = time.perf_counter(), time.process_time()
                    results[name] = engine.compute(store=st, actor=actor, metrics=metrics, period=year, by=[by])
                    wall[name].append(time.perf_counter() - t)
                    cpu[name].append(time.process_time() - c)
            cells = sum(len(r.cells) for r in results["local"])
            med = {k: statistics.median(v) for k, v in wall.items()}
            srv.emit(BENCH, f"yearly_set_by_{by}_client", round(med["client"] * 1000, 1), "ms",
                     stat=f"median of {args.runs}", figures=cells, baseline_local_ms=round(med["local"] * 1000, 1),
                     ratio=round(med["client"] / med["local"], 2),
                     caller_cpu_ms={k: round(statistics.median(v) * 1000, 1) for k, v in cpu.items()},
                     same_figures=same_figures(results["local"], results["client"]))
        for name, st in (("client", client), ("local", local)):
            with st.reader() as cur:
                t = time.perf_counter()
                for _ in range(2000):
                    cur.execute("SELECT 1").fetchone()
                per = (time.perf_counter() - t) / 2000
            srv.emit(BENCH, f"select_1_{name}", round(per * 1e6, 1), "µs", stat="mean of 2000")
        client.close()
        local.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
