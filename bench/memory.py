"""Benchmark: the server's resident memory with the city-scale demo loaded (target < 300 MB).

1. Generates the city-scale demo (``pingan demo --scale city``, timed) into a SQLite file, or
   reuses the one at ``--db`` when it already holds a bureau.
2. Starts ``pingan serve`` on 127.0.0.1 with it, and warms it up as a dispatcher would: the board
   and incident list (API and pages), units, grids, and address matching
   (``GET /api/v1/addresses/match``; a 404 is tolerated while that endpoint does not exist).
3. Reports the server's resident set size (psutil RSS of the process and its children): after
   start-up, the peak during warm-up and the median of several samples after it.
4. Rebuilds the address index while the server keeps answering matches (``--rebuilds``, default
   2): the index is rebuilt whenever addresses, grids, org units or divisions change (an address
   import, a renamed station), and the old index serves until the new one is built, so that is
   when the server holds the most. The bench changes ``org_unit.updated_at`` of the first org unit
   and then restores it, each a change the index notices; it reports the peak and where the RSS
   settles afterwards. The database is left as it was found.

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


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its children, in MB."""
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return float("nan")
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 1e6


class Server:
    def __init__(self, db_path: Path, var_dir: str):
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.proc = subprocess.Popen([PINGAN, "serve", "--host", HOST, "--port", str(self.port)],
                                     env=env_for(db_path, var_dir), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited: {self.proc.stderr.read().decode(errors='replace')[-2000:]}")
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
    """Samples the server's RSS every 0.25 s, keeping the peak."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0.0
        self.running = True

    def run(self) -> None:
        while self.running:
            value = rss_mb(self.pid)
            if value == value:  # not NaN
                self.peak = max(self.peak, value)
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
            expect_matches: bool = True, rebuilds: int = 0) -> dict:
    server = Server(db_path, var_dir)
    try:
        server.wait_ready()
        time.sleep(2.0)
        idle = rss_mb(server.proc.pid)
        sampler = Sampler(server.proc.pid)
        sampler.start()
        started = time.perf_counter()
        statuses, first_match_s = warm_up(server, username, password, queries, expect_matches)
        warm_s = time.perf_counter() - started
        time.sleep(1.0)
        samples = []
        for _ in range(7):
            samples.append(rss_mb(server.proc.pid))
            time.sleep(1.0)
        peak = max(sampler.peak, *samples)
        # a background rebuild takes about as long as the first build did; leave it room
        window_s = max(15.0, 4 * first_match_s)
        rebuilt = rebuild_index(server, sampler, db_path, username, password, queries, rebuilds, window_s)
        sampler.running = False
        sampler.join()
        return {"label": label, "idle": idle, "warm": statistics.median(samples), "peak": peak,
                "statuses": statuses, "warm_s": warm_s, "first_match_s": first_match_s, "rebuilds": rebuilt,
                "rebuild_window_s": window_s}
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(ROOT / "var" / "bench" / "memory-city.db"),
                        help="SQLite file of the demo (generated when it holds no bureau yet)")
    parser.add_argument("--scale", default="city", choices=["tiny", "small", "city"])
    parser.add_argument("--regenerate", action="store_true", help="generate even if the file has a bureau")
    parser.add_argument("--queries", type=int, default=300, help="address-matching requests in the warm-up")
    parser.add_argument("--rebuilds", type=int, default=2,
                        help="address-index rebuilds to provoke after the warm-up (0: none)")
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

    emit("server_rss_idle", round(city["idle"], 1), "MB", scale=args.scale)
    emit("server_rss_peak_warmup", round(city["peak"], 1), "MB", scale=args.scale)
    emit("server_rss", round(city["warm"], 1), "MB", scale=args.scale, stat="median of 7 samples after warm-up",
         target=TARGET_MB, within_target=city["warm"] < TARGET_MB, warmup_s=round(city["warm_s"], 1),
         statuses=city["statuses"])
    emit("baseline_rss", round(base["warm"], 1), "MB", what="same server, empty database, same warm-up",
         idle=round(base["idle"], 1), peak=round(base["peak"], 1))
    emit("data_cost_rss", round(city["warm"] - base["warm"], 1), "MB", ratio=round(city["warm"] / base["warm"], 2))
    emit("first_address_match", round(city["first_match_s"], 2), "s", scale=args.scale,
         note="the first match after start-up waits for the address index unless start-up built it")
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


if __name__ == "__main__":
    main()
