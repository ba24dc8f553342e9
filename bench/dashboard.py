"""The statistics dashboards' server time on the city-scale demo (1 M incidents, 154 stations,
4,558 grids).

Works on a copy of the demo database (the original is never written; the copy gets the current
schema). A statistics store is filled from it once (untimed), then ``pingan serve`` serves it as
deployed — one web worker, the statistics process beside it (the web worker reads the store
through its socket), background jobs on — and each page is requested one at a time over a
keep-alive connection, so a request's latency is its server time (CPU: both processes):

- ``healthz`` and ``incident_list`` (the incident list page, bureau-wide): baselines of the same run;
- ``leadership_same_view`` / ``station_same_view``: the same dashboard ~50 times (the first one
  computes, the others find the engine's answers of the minute — ``stats.dashboard.compute``);
- ``leadership_distinct_views``: ~50 different periods (every month, quarter and year since
  2024) — each computes from the store;
- ``station_distinct_views``: ~50 different stations' dashboards — each computes its own figures
  (the bureau-wide peer ranking is shared by all of them);
- ``records``: the records behind a station's on-target share, ~50 different stations.

For the distinct views, what the browser asks for after each page is timed too, one request at
a time: each source's panel (``/stats/panels``: its cards), the two parts of its charts
(``/stats/charts``) and the map's grid values — ``parts`` (each kind of those requests:
panel_incident, trend, breakdowns, grid_values) and ``whole_view`` (the page and its parts one after the other: what
one worker spends on a view; the browser sends the parts side by side).

Prints JSON lines: p50 / p95 / max in ms, the server's CPU per request (per view, parts
included, for the distinct views), and the ratio of each p50 to the incident list page's in the
same run.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from html import unescape
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import _server as srv

BENCH = "dashboard"
DEMO_PASSWORD = "pingan-demo"
LOCAL = ZoneInfo("Asia/Shanghai")


def fill_store(url: str, path: Path) -> dict:
    """A full sync of a fresh store from the copy (not timed: the server then finds it current)."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from pingan.stats.store import StatsStore

    for leftover in (path, Path(f"{path}.wal")):
        leftover.unlink(missing_ok=True)
    store = StatsStore(path=str(path), memory_limit=os.environ.get("PINGAN_STATS_MEMORY_LIMIT", "128MB"), threads=2)
    with Session(create_engine(url, isolation_level="AUTOCOMMIT")) as db:
        report = store.sync(db=db, scan_url=url)
    store.close()
    return report.rows


def login(port: int, username: str) -> str:
    return srv.login(port, username, DEMO_PASSWORD)


def parts_of(body: bytes) -> list[str]:
    """What the browser asks for once a dashboard page has arrived: each source's panel (its
    cards, /stats/panels), each part of its charts (htmx, /stats/charts) and the map's grid
    values for the KPI its select shows."""
    html = body.decode()
    parts = [unescape(h) for h in re.findall(r'hx-get="(/stats/(?:panels|charts)\?[^"]+)"', html)]
    values = re.search(r'data-values-href="([^"]+)"', html)
    select = re.search(r'<select name="map"[^>]*data-map-select[^>]*>(.*?)</select>', html, re.S)
    if values and select:
        kpi = re.search(r'<option value="(\w+)" selected', select.group(1)).group(1)
        parts.append(unescape(values.group(1)) + "&kpi=" + kpi)
    return parts


def part_name(path: str) -> str:
    """panel_<source> (a source's cards), trend / breakdowns (the parts of the charts) or
    grid_values (the map's)."""
    if path.startswith("/stats/panels"):
        return "panel_" + re.search(r"[?&]source=(\w+)", path).group(1)
    found = re.search(r"[?&]part=(\w+)", path)
    return found.group(1) if found else "grid_values"


def _summary(latencies: list[float]) -> dict:
    return {"p50_ms": round(srv.percentile(latencies, 50), 1), "p95_ms": round(srv.percentile(latencies, 95), 1),
            "max_ms": round(max(latencies), 1), "first_ms": round(latencies[0], 1), "requests": len(latencies)}


def time_requests(port: int, token: str, paths: list[str], proc, *, follow: bool = False) -> dict:
    """Each path once, in order, on one keep-alive connection: latencies and server CPU. With
    ``follow``, each page's parts (``parts_of``) are asked for after it, one at a time, and
    summarised apart (``parts``), with each whole view (page and parts, one after the other)."""
    conn = http.client.HTTPConnection(srv.HOST, port, timeout=120)
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/html"}
    latencies, sizes, part_latencies, wholes = [], [], [], []

    def get(path: str) -> tuple[float, bytes]:
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{path}: HTTP {resp.status}: {body[:300]!r}")
        return (time.perf_counter() - t0) * 1000, body

    cpu0 = srv.cpu_seconds(proc)
    for path in paths:
        ms, body = get(path)
        latencies.append(ms)
        sizes.append(len(body))
        if follow:
            parts = [(part_name(part), get(part)[0]) for part in parts_of(body)]
            part_latencies += parts
            wholes.append(ms + sum(latency for _, latency in parts))
    cpu = srv.cpu_seconds(proc) - cpu0
    conn.close()
    out = {**_summary(latencies), "cpu_ms_per_request": round(cpu / len(paths) * 1000, 1),
           "kb": round(sum(sizes) / len(sizes) / 1024)}
    if follow:
        out["cpu_ms_per_request"] = None
        out["cpu_ms_per_view"] = round(cpu / len(paths) * 1000, 1)
        out["parts"] = {name: _summary([ms for n, ms in part_latencies if n == name])
                        for name in dict.fromkeys(n for n, _ in part_latencies)}
        out["whole_view"] = _summary(wholes)
    return out


def recent_periods(n: int) -> list[str]:
    """The n most recent months, quarters and years since 2024 (the demo's data)."""
    today = datetime.now(LOCAL).date()
    out = [str(y) for y in range(2024, today.year + 1)]
    out += [f"{y}-Q{q}" for y in range(2024, today.year + 1) for q in range(1, 5)
            if (y, 3 * (q - 1) + 1) <= (today.year, today.month)]
    out += [f"{y}-{m:02d}" for y in range(2024, today.year + 1) for m in range(1, 13)
            if (y, m) <= (today.year, today.month)]
    return list(reversed(out))[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", default=srv.CITY_DEMO)
    ap.add_argument("--work", default="/tmp/pingan-bench-dashboard")
    ap.add_argument("--requests", type=int, default=50)
    args = ap.parse_args()
    if srv.city_demo_missing(BENCH, args.source):
        return
    work = Path(args.work)
    url = srv.copy_demo(args.source, work)
    store_path = work / "stats.duckdb"
    rows = fill_store(url, store_path)
    os.environ["PINGAN_STATS_PATH"] = str(store_path)

    from sqlalchemy import create_engine, text

    eng = create_engine(url)
    with eng.connect() as conn:
        stations = [r[0] for r in conn.execute(text("SELECT id FROM org_unit WHERE kind = 'station' ORDER BY path"))]
        chief_station = conn.execute(text(
            "SELECT org_unit_id FROM app_user WHERE username = 'chief'")).scalar_one()
    eng.dispose()

    port = srv.free_port()
    env = {**os.environ, "PINGAN_DATABASE_URL": url, "PINGAN_VAR_DIR": str(work),
           "PINGAN_STATS_SOCKET": str(work / "stats.sock")}
    proc = subprocess.Popen([str(Path(sys.executable).with_name("pingan")), "serve", "--host", srv.HOST,
                             "--port", str(port), "--workers", "1"], env=env, start_new_session=True)
    try:
        srv.wait_ready(port, proc=proc, timeout=120)
        admin, chief = login(port, "admin"), login(port, "chief")
        n = args.requests
        year = str(datetime.now(LOCAL).year)
        # the server's first sync (incremental: nothing changed) and the first page's template compilation
        time_requests(port, admin, ["/stats?" + urlencode({"period": "2024-01"}), "/incidents"], proc)
        results = {
            "healthz": time_requests(port, admin, ["/healthz"] * n, proc),
            "incident_list": time_requests(port, admin, ["/incidents"] * n, proc),
            "leadership_same_view": time_requests(port, admin, ["/stats"] * n, proc),
            "leadership_distinct_views": time_requests(
                port, admin, ["/stats?" + urlencode({"period": p}) for p in recent_periods(n)], proc, follow=True),
            "station_same_view": time_requests(port, chief, [f"/stats/stations/{chief_station}"] * n, proc),
            "station_distinct_views": time_requests(
                port, admin, [f"/stats/stations/{s}?period={year}" for s in stations[:n]], proc, follow=True),
            "records": time_requests(port, admin, ["/stats/records?" + urlencode(
                {"kpi": "arrived_within_target", "period": year, "filter": f"station:{s}"})
                for s in stations[:n]], proc),
        }
    finally:
        srv.stop(proc)
    base = results["incident_list"]["p50_ms"]
    for name, r in results.items():
        srv.emit(BENCH, name, r["p50_ms"], "ms", **r, ratio_to_incident_list=round(r["p50_ms"] / base, 2),
                 target="p95 < 200 ms" if name not in ("healthz", "incident_list") else None,
                 incidents=rows.get("incident"), load=srv.loadavg())


if __name__ == "__main__":
    main()
