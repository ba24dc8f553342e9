"""Benchmark: resident memory with the city-scale demo loaded (target < 300 MB for the web server).

1. Generates the city-scale demo (``pingan demo --scale city``, timed) into a SQLite file, or
   reuses the one at ``--db`` when it already holds a bureau (copy /work/data/city.db there:
   the bench writes to it, and puts back what it changed).
2. Starts ``pingan serve`` on 127.0.0.1 with it — the web server, and the statistics process
   (``pingan stats serve``) it starts as a child, which opens a fresh statistics store and
   fills it with a full load while the web server builds its address index — and warms it up
   as a dispatcher would: the board and incident list (API and pages), units, grids, address
   matching, then the statistics: it waits until the store holds the demo's incidents and asks
   ``/api/v1/stats/values?period=2025&by=station`` (and a ranking, a drill-down) a few times.
3. Reports the resident set size (psutil RSS) of the **web server** (``pingan serve`` and its
   uvicorn workers, without the statistics process) — the figure with the 300 MB target — and of
   the **statistics process** separately: after start-up, the peak during warm-up and the median
   of several samples after it. It also checks that no web process has DuckDB mapped.
4. Rebuilds the address index while the server keeps answering matches (``--rebuilds``, default
   2): the index is rebuilt whenever addresses, grids, org units or divisions change (an address
   import, a renamed station), and the old index serves until the new one is built, so that is
   when the server holds the most. The bench changes ``org_unit.updated_at`` of the first org unit
   and then restores it, each a change the index notices; it reports the peak and where the RSS
   settles afterwards. The database is left as it was found.
5. With ``--startup-rounds N`` it serves the city N times more in each of three ways,
   alternating — no statistics process (``--no-stats``), one at normal priority
   (``PINGAN_STATS_NICE=0``), one lowered (the default) — each with a fresh store, so a full load
   runs while the web server builds its address index, and compares the first address match.

As the same-run baseline the same server is started on an empty migrated database with one
user and warmed up the same way: the difference is what the city's data costs.

    .venv/bin/python bench/memory.py [--db var/bench/memory-city.db] [--scale city] [--regenerate]

Prints JSON lines {"bench": "memory", "metric": ..., "value": ..., "unit": ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
PINGAN = str(ROOT / ".venv" / "bin" / "pingan") if (ROOT / ".venv" / "bin" / "pingan").exists() else "pingan"
HOST = "127.0.0.1"
TARGET_MB = 300.0
DEMO_PASSWORD = "pingan-demo"
BASELINE_PASSWORD = "Baseline-pass-1"


def emit(metric: str, value, unit: str, **extra) -> None:
    row = {"bench": "memory", "metric": metric, "value": value, "unit": unit, **extra}
    print(json.dumps(row, ensure_ascii=False), flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def env_for(db_path: Path, var_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PINGAN_DATABASE_URL"] = f"sqlite:///{db_path}"
    env["PINGAN_VAR_DIR"] = var_dir
    env.setdefault("PINGAN_SECRET_KEY", "bench-memory-" + uuid.uuid4().hex)
    return env


def has_bureau(db_path: Path) -> bool:
    if not db_path.exists():
        return False
    try:
        with sqlite3.connect(db_path) as conn:
            return conn.execute("SELECT count(*) FROM org_unit").fetchone()[0] > 0
    except sqlite3.Error:
        return False


def table_counts(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path) as conn:
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                for t in ("grid", "org_unit", "duty_unit", "address", "incident", "stage_event")}


def generate(db_path: Path, scale: str, env: dict[str, str]) -> float:
    """Run ``pingan demo`` (with --reset when the file already has data); returns seconds."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    args = [PINGAN, "demo", "--scale", scale] + (["--reset"] if has_bureau(db_path) else [])
    proc = subprocess.run(args, env={**env, "COLUMNS": "120"}, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"pingan demo failed with exit code {proc.returncode}")
    return time.perf_counter() - started


def make_baseline_db(folder: str, env: dict[str, str]) -> Path:
    """An empty migrated database with one bureau and one admin user."""
    path = Path(folder) / "baseline.db"
    code = (
        "from pingan.db.migrate import upgrade\n"
        "from pingan.db.session import get_engine\n"
        "from pingan.db.unit_of_work import unit_of_work\n"
        "from pingan.org import service\n"
        "from pingan.org.models import OrgKind, Role\n"
        "upgrade(get_engine())\n"
        "with unit_of_work() as db:\n"
        "    root = service.create_org_unit(db=db, code='410700000000', name='新乡市公安局', kind=OrgKind.BUREAU,"
        " parent=None, division_code='410700')\n"
        f"    service.create_user(db=db, username='admin', password={BASELINE_PASSWORD!r}, display_name='admin',"
        " role=Role.ADMIN, org_unit_id=root.id)\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env_for(path, folder) | {"PYTHONPATH": str(ROOT / "src")},
                   check=True)
    return path


def is_stats_process(proc: psutil.Process) -> bool:
    try:
        return "pingan.stats.server" in " ".join(proc.cmdline())
    except psutil.Error:
        return False


def is_job_worker(proc: psutil.Process) -> bool:
    try:
        return "pingan.worker" in " ".join(proc.cmdline())
    except psutil.Error:
        return False


def processes(pid: int) -> tuple[list[psutil.Process], list[psutil.Process]]:
    """(the web server: ``pingan serve`` and its workers, the statistics process and its children);
    the job worker (decision 0018) is neither: :func:`job_worker_rss_mb` measures it."""
    try:
        proc = psutil.Process(pid)
        children = proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return [], []
    stats = [c for c in children if is_stats_process(c)]
    stats_family = {p.pid for s in stats for p in [s, *s.children(recursive=True)]}
    worker_family = {p.pid for w in children if is_job_worker(w) for p in [w, *w.children(recursive=True)]}
    web = [proc, *(c for c in children if c.pid not in stats_family and c.pid not in worker_family)]
    return web, [p for p in children if p.pid in stats_family]


def job_worker_rss_mb(pid: int) -> float:
    """Resident memory of the job worker started by the server, MB."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return float("nan")
    return _rss([c for c in children if is_job_worker(c)])


def _rss(procs: list[psutil.Process]) -> float:
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 1e6 if procs else float("nan")


def rss_mb(pid: int) -> float:
    """Resident memory of the web server (the process and its children but the statistics process), MB."""
    return _rss(processes(pid)[0])


def stats_rss_mb(pid: int) -> float:
    """Resident memory of the statistics process started by the server, MB."""
    return _rss(processes(pid)[1])


def web_maps_duckdb(pid: int) -> bool:
    """Whether any web process has DuckDB's library mapped (it must not: the store is elsewhere)."""
    for p in processes(pid)[0]:
        try:
            if "duckdb" in Path(f"/proc/{p.pid}/maps").read_text():
                return True
        except OSError:
            pass
    return False


class Server:
    def __init__(self, db_path: Path, var_dir: str, env: dict[str, str] | None = None, stats: bool = True):
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.log = Path(var_dir) / "serve.log"
        self.started = time.perf_counter()
        self.proc = subprocess.Popen([PINGAN, "serve", "--host", HOST, "--port", str(self.port)]
                                     + ([] if stats else ["--no-stats"]),
                                     env=env_for(db_path, var_dir) | (env or {}), stdout=subprocess.DEVNULL,
                                     stderr=self.log.open("w"), start_new_session=True)

    def full_sync_seconds(self) -> float | None:
        """What the statistics process logged for its first full load."""
        for line in self.log.read_text(errors="replace").splitlines():
            if "stats: full sync" in line:
                return float(line.rsplit(" in ", 1)[1].split()[0])
        return None

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(self.base + "/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit("server did not become ready")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Sampler(threading.Thread):
    """Samples the web server's and the statistics process's RSS every 0.25 s, keeping the peaks."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0.0
        self.stats_peak = 0.0
        self.running = True

    def run(self) -> None:
        while self.running:
            web, stats = processes(self.pid)
            value, stats_value = _rss(web), _rss(stats)
            if value == value:  # not NaN
                self.peak = max(self.peak, value)
            if stats_value == stats_value:
                self.stats_peak = max(self.stats_peak, stats_value)
            time.sleep(0.25)


def sample_queries(db_path: Path, n: int, seed: int = 11) -> list[str]:
    """Caller-style texts of real addresses of the registry (province dropped, some noise)."""
    with sqlite3.connect(db_path) as conn:
        total = conn.execute("SELECT count(*) FROM address").fetchone()[0]
        if not total:
            return ["平原路123号", "人民路5号", "建设路社区"]
        rng = random.Random(seed)
        ids = rng.sample(range(1, total + 1), min(n, total))
        rows = conn.execute(f"SELECT full_text FROM address WHERE id IN ({','.join('?' * len(ids))})",
                            ids).fetchall()
    out = []
    for (text,) in rows:
        text = text[3:] if text.startswith(("河南省",)) else text
        if rng.random() < 0.3:
            text = text.replace("号楼", "栋").replace("单元", "-")
        out.append(text)
    return out


def login(client: httpx.Client, username: str, password: str) -> dict[str, str]:
    resp = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    resp.raise_for_status()
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def warm_up(server: Server, username: str, password: str, queries: list[str],
            expect_matches: bool) -> tuple[dict[str, int], float]:
    """The requests a dispatcher's day starts with; returns {what: HTTP status} of the last of each
    and the seconds the first address match took (it waits for the index when nothing built it yet)."""
    statuses: dict[str, int] = {}
    with httpx.Client(base_url=server.base, timeout=120.0) as client:
        headers = login(client, username, password)
        for path in ("/api/v1/incidents", "/api/v1/incidents?limit=200", "/api/v1/units", "/api/v1/grids",
                     "/api/v1/org-units", "/incidents/board", "/incidents/board/rows", "/incidents", "/units",
                     "/grids", "/org"):
            for _ in range(3):
                resp = client.get(path, headers=headers if path.startswith("/api/") else None)
            statuses[path] = resp.status_code
        # Address matching: the first call may wait for the index to be built.
        deadline = time.monotonic() + 180
        first = queries[0]
        started = time.perf_counter()
        while True:
            resp = client.get("/api/v1/addresses/match", params={"q": first}, headers=headers)
            first_match_s = time.perf_counter() - started
            if resp.status_code != 200 or resp.json() or not expect_matches or time.monotonic() > deadline:
                break
            time.sleep(1.0)
        statuses["/api/v1/addresses/match"] = resp.status_code
        if resp.status_code == 200:
            for q in queries:
                client.get("/api/v1/addresses/match", params={"q": q}, headers=headers)
        for path in ("/api/v1/incidents", "/incidents/board/rows"):
            statuses[path] = client.get(path, headers=headers if path.startswith("/api/") else None).status_code
    return statuses, first_match_s


STATS_QUERIES = ("/api/v1/stats/values?period=2025&by=station",
                 "/api/v1/stats/kpis/arrived_within_target?period=2025&by=branch&by=month",
                 "/api/v1/stats/rankings/arrived_within_target?period=2025&level=station",
                 "/api/v1/stats/kpis/incidents_received/records?period=2025-07")


def warm_up_stats(server: Server, username: str, password: str, expect_records: bool,
                  rounds: int = 3) -> tuple[dict[str, int], float | None, list[float]]:
    """Wait until the statistics process has loaded the demo (the 2025 count is not zero), then
    ask the statistics a dispatcher's dashboard shows, ``rounds`` times. Returns {what: HTTP
    status}, the seconds from server start until the figures were there, and the latencies of
    ``/api/v1/stats/values?period=2025&by=station``."""
    statuses: dict[str, int] = {}
    ready_s = None
    with httpx.Client(base_url=server.base, timeout=300.0) as client:
        headers = login(client, username, password)
        deadline = time.monotonic() + 600
        while True:
            resp = client.get("/api/v1/stats/kpis/incidents_received?period=2025", headers=headers)
            loaded = resp.status_code == 200 and (resp.json()["cells"][0]["value"] or 0) > 0
            if loaded or not expect_records or time.monotonic() > deadline:
                ready_s = time.perf_counter() - server.started if loaded else None
                break
            time.sleep(0.5)
        values_s = []
        for _ in range(rounds):
            for path in STATS_QUERIES:
                started = time.perf_counter()
                resp = client.get(path, headers=headers)
                if path == STATS_QUERIES[0]:
                    values_s.append(time.perf_counter() - started)
                statuses[path] = resp.status_code
    return statuses, ready_s, values_s


def first_org_unit_stamp(db_path: Path, value: str | None = None) -> str:
    """``updated_at`` of the first org unit, set to ``value`` when given; returns the old value.

    A changed org unit changes the fingerprint the address index compares (its rows carry their
    grid's org path), so this is the smallest edit that makes the server rebuild the index.
    """
    with sqlite3.connect(db_path) as conn:
        org_id, old = conn.execute("SELECT id, updated_at FROM org_unit ORDER BY id LIMIT 1").fetchone()
        if value is not None:
            conn.execute("UPDATE org_unit SET updated_at = ? WHERE id = ?", (value, org_id))
    return old


def rebuild_index(server: Server, sampler: Sampler, db_path: Path, username: str, password: str,
                  queries: list[str], rebuilds: int, window_s: float) -> list[dict]:
    """Change the data the address index watches ``rebuilds`` times (a new stamp, then the old one
    back), keep matching for ``window_s`` after each so the server notices and rebuilds, and
    return the RSS peak of each window and the median where it settled."""
    original = first_org_unit_stamp(db_path)
    changed = False
    out = []
    try:
        with httpx.Client(base_url=server.base, timeout=120.0) as client:
            headers = login(client, username, password)
            for _ in range(rebuilds):
                stamp = original if changed else time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime())
                first_org_unit_stamp(db_path, stamp)
                changed = not changed
                sampler.peak = 0.0
                end = time.monotonic() + window_s
                n = 0
                while time.monotonic() < end:  # matches are what make the server check the fingerprint
                    client.get("/api/v1/addresses/match", params={"q": queries[n % len(queries)]}, headers=headers)
                    n += 1
                    time.sleep(0.1)
                settled = []
                for _ in range(5):
                    settled.append(rss_mb(server.proc.pid))
                    time.sleep(0.5)
                out.append({"peak": max(sampler.peak, *settled), "settled": statistics.median(settled)})
    finally:
        if changed:
            first_org_unit_stamp(db_path, original)
    return out


def measure(label: str, db_path: Path, var_dir: str, username: str, password: str, queries: list[str],
            expect_matches: bool = True, rebuilds: int = 0, env: dict[str, str] | None = None,
            stats: bool = True) -> dict:
    server = Server(db_path, var_dir, env, stats=stats)
    try:
        server.wait_ready()
        time.sleep(2.0)
        idle, stats_idle = rss_mb(server.proc.pid), stats_rss_mb(server.proc.pid)
        sampler = Sampler(server.proc.pid)
        sampler.start()
        started = time.perf_counter()
        statuses, first_match_s = warm_up(server, username, password, queries, expect_matches)
        stats_ready_s, values_s = None, []
        if stats:
            stats_statuses, stats_ready_s, values_s = warm_up_stats(server, username, password, expect_matches)
            statuses |= stats_statuses
        warm_s = time.perf_counter() - started
        time.sleep(1.0)
        samples, stats_samples = [], []
        for _ in range(7):
            samples.append(rss_mb(server.proc.pid))
            stats_samples.append(stats_rss_mb(server.proc.pid))
            time.sleep(1.0)
        worker_warm = job_worker_rss_mb(server.proc.pid)
        peak = max(sampler.peak, *samples)
        stats_peak = max(sampler.stats_peak, *stats_samples)
        duckdb_in_web = web_maps_duckdb(server.proc.pid)
        # a background rebuild takes about as long as the first build did; leave it room
        window_s = max(15.0, 4 * first_match_s)
        rebuilt = rebuild_index(server, sampler, db_path, username, password, queries, rebuilds, window_s)
        sampler.running = False
        sampler.join()
        return {"label": label, "idle": idle, "warm": statistics.median(samples), "peak": peak,
                "statuses": statuses, "warm_s": warm_s, "first_match_s": first_match_s, "rebuilds": rebuilt,
                "rebuild_window_s": window_s, "stats_idle": stats_idle, "stats_warm": statistics.median(stats_samples),
                "stats_peak": stats_peak, "stats_ready_s": stats_ready_s, "values_s": values_s,
                "full_sync_s": server.full_sync_seconds(), "duckdb_in_web": duckdb_in_web,
                "worker_warm": worker_warm}
    finally:
        server.stop()


def startup(db_path: Path, queries: list[str], rounds: int, scale: str) -> None:
    """The first address match after start-up (the web server builds its address index) with no
    statistics process, with one (doing its first full load) at normal priority, and with it
    lowered (the default), alternating; medians."""
    variants = {"no_stats_process": ({}, False), "stats_at_normal_priority": ({"PINGAN_STATS_NICE": "0"}, True),
                "stats_lowered": ({}, True)}
    seen: dict[str, list[float]] = {name: [] for name in variants}
    syncs: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, (env, stats) in variants.items():
            folder = tempfile.mkdtemp(prefix=f"pingan-bench-memory-{name}-")  # a fresh store: a full load
            try:
                result = measure(name, db_path, folder, "dispatcher", DEMO_PASSWORD, queries, env=env, stats=stats)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            seen[name].append(result["first_match_s"])
            if result["full_sync_s"] is not None:
                syncs[name].append(result["full_sync_s"])
    base = statistics.median(seen["no_stats_process"])
    for name, values in seen.items():
        emit(f"first_address_match_{name}", round(statistics.median(values), 2), "s", scale=scale,
             stat=f"median of {len(values)}", each=[round(v, 2) for v in values],
             ratio_to_no_stats_process=round(statistics.median(values) / base, 2),
             full_sync_s=[round(v, 1) for v in syncs[name]] or None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(ROOT / "var" / "bench" / "memory-city.db"),
                        help="SQLite file of the demo (generated when it holds no bureau yet)")
    parser.add_argument("--scale", default="city", choices=["tiny", "small", "city"])
    parser.add_argument("--regenerate", action="store_true", help="generate even if the file has a bureau")
    parser.add_argument("--queries", type=int, default=300, help="address-matching requests in the warm-up")
    parser.add_argument("--rebuilds", type=int, default=2,
                        help="address-index rebuilds to provoke after the warm-up (0: none)")
    parser.add_argument("--startup-rounds", type=int, default=0,
                        help="rounds of start-up comparisons: the first address match with no statistics process, "
                             "with one at normal priority, and with it lowered (default 0: none)")
    args = parser.parse_args()

    db_path = Path(args.db).resolve()
    var_dir = tempfile.mkdtemp(prefix="pingan-bench-memory-")
    env = env_for(db_path, var_dir)
    emit("load_average", round(os.getloadavg()[0], 2), "load", note="other work on the machine skews figures")
    if args.regenerate or not has_bureau(db_path):
        seconds = generate(db_path, args.scale, env)
        emit("generation_time", round(seconds, 1), "s", scale=args.scale, db=str(db_path))
    else:
        emit("generation_time", None, "s", scale=args.scale, db=str(db_path), note="reused an existing demo database")
    emit("database_size", round(sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*")) / 1e6, 1),
         "MB", **table_counts(db_path))

    queries = sample_queries(db_path, args.queries)
    city = measure("city", db_path, var_dir, "dispatcher", DEMO_PASSWORD, queries, rebuilds=args.rebuilds)
    baseline_dir = tempfile.mkdtemp(prefix="pingan-bench-memory-baseline-")
    baseline_db = make_baseline_db(baseline_dir, env)
    base = measure("baseline", baseline_db, baseline_dir, "admin", BASELINE_PASSWORD, queries, expect_matches=False,
                   rebuilds=args.rebuilds)

    emit("server_rss_idle", round(city["idle"], 1), "MB", scale=args.scale, what="web server")
    emit("server_rss_peak_warmup", round(city["peak"], 1), "MB", scale=args.scale, what="web server")
    emit("server_rss", round(city["warm"], 1), "MB", scale=args.scale, stat="median of 7 samples after warm-up",
         what="web server (pingan serve and its workers, without the statistics process)",
         target=TARGET_MB, within_target=city["warm"] < TARGET_MB, warmup_s=round(city["warm_s"], 1),
         duckdb_in_web_process=city["duckdb_in_web"], statuses=city["statuses"])
    emit("stats_process_rss", round(city["stats_warm"], 1), "MB", scale=args.scale,
         stat="median of 7 samples after warm-up", what="statistics process: DuckDB store synced and queried",
         idle=round(city["stats_idle"], 1), peak=round(city["stats_peak"], 1),
         baseline=round(base["stats_warm"], 1), baseline_peak=round(base["stats_peak"], 1))
    emit("job_worker_rss", round(city["worker_warm"], 1), "MB", scale=args.scale,
         what="the job worker (scheduled jobs, decision 0018)", baseline=round(base["worker_warm"], 1))
    emit("server_and_stats_rss", round(city["warm"] + city["stats_warm"], 1), "MB", scale=args.scale)
    emit("baseline_rss", round(base["warm"], 1), "MB", what="same server, empty database, same warm-up",
         idle=round(base["idle"], 1), peak=round(base["peak"], 1))
    emit("data_cost_rss", round(city["warm"] - base["warm"], 1), "MB", ratio=round(city["warm"] / base["warm"], 2))
    emit("first_address_match", round(city["first_match_s"], 2), "s", scale=args.scale,
         note="the first match after start-up waits for the address index unless start-up built it; "
              "the statistics process's full load runs at the same time")
    emit("stats_full_sync", city["full_sync_s"], "s", scale=args.scale, what="the statistics process's first load",
         figures_after_start_s=round(city["stats_ready_s"], 1) if city["stats_ready_s"] else None)
    if city["values_s"]:
        emit("stats_values_by_station_http", round(statistics.median(city["values_s"]) * 1000, 1), "ms",
             scale=args.scale, stat=f"median of {len(city['values_s'])}",
             what="/api/v1/stats/values?period=2025&by=station through the statistics process",
             each=[round(v * 1000, 1) for v in city["values_s"]])
    if args.startup_rounds:
        startup(db_path, queries[:20], args.startup_rounds, args.scale)
    if city["rebuilds"]:
        peak = max(r["peak"] for r in city["rebuilds"])
        settled = city["rebuilds"][-1]["settled"]
        emit("server_rss_peak_rebuild", round(peak, 1), "MB", scale=args.scale, rebuilds=len(city["rebuilds"]),
             what="address index rebuilt while the old one serves", target=TARGET_MB, within_target=peak < TARGET_MB,
             per_rebuild=[{k: round(v, 1) for k, v in r.items()} for r in city["rebuilds"]],
             window_s=round(city["rebuild_window_s"], 1),
             baseline=[{k: round(v, 1) for k, v in r.items()} for r in base["rebuilds"]])
        emit("server_rss_after_rebuilds", round(settled, 1), "MB", scale=args.scale, rebuilds=len(city["rebuilds"]),
             target=TARGET_MB, within_target=settled < TARGET_MB, before=round(city["warm"], 1))
    for folder in (var_dir, baseline_dir):  # the statistics stores, logs and the baseline database
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
