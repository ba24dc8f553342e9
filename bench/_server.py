"""Shared helpers for the incident benchmarks (not a benchmark itself).

- fresh databases (``pingan_bench_*`` on PostgreSQL, a temporary file for SQLite) and a
  minimal seeded bureau: org tree, grids, standard addresses, duty units, an API user;
- starting and stopping real servers (``uvicorn pingan.asgi:app``) on 127.0.0.1, and the
  baseline server: a bare FastAPI app whose endpoint inserts one row into a one-table
  database on the same backend (``uvicorn _server:baseline_app --app-dir bench``);
- load generators: ``wrk`` (Debian package ``wrk``; C, LuaJIT for the request bodies) when it
  is installed, so that the client takes as little of the two cores from the server as possible,
  and a lean HTTP/1.1 keep-alive client on raw asyncio streams (``drive``) for the benchmarks that
  read every answer (``kill9``) and where wrk is missing;
- CPU accounting: the server's processes, the database backends serving one database, and the
  load generator itself, each per request.

Every result is printed as one JSON line by :func:`emit`.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = Path(__file__).resolve().parent
PG_ADMIN_URL = os.environ.get("PINGAN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
HOST = "127.0.0.1"
PASSWORD = "Bench-pass-1"

# Settings the benchmark processes need before pingan is imported (no files in the work tree).
os.environ.setdefault("PINGAN_SECRET_KEY", "bench-" + uuid.uuid4().hex)
os.environ.setdefault("PINGAN_VAR_DIR", tempfile.mkdtemp(prefix="pingan-bench-var-"))


def emit(bench: str, metric: str, value, unit: str, **extra) -> None:
    row = {"bench": bench, "metric": metric, "value": value, "unit": unit, **extra}
    print(json.dumps(row, ensure_ascii=False), flush=True)


def loadavg() -> float:
    """The 1-minute load average: other work on the machine skews every figure, so it is reported."""
    return round(os.getloadavg()[0], 2)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1)))))
    return ordered[k]


# --- databases -----------------------------------------------------------------------------


@dataclass
class Database:
    backend: str
    url: str
    _drop: Callable[[], None] = field(repr=False)

    def drop(self) -> None:
        self._drop()


def new_database(backend: str, prefix: str = "pingan_bench") -> Database:
    """A fresh empty database; ``drop()`` removes it."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix=f"{prefix}_")
        path = os.path.join(folder, "bench.db")

        def drop_file() -> None:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
            os.rmdir(folder)

        return Database("sqlite", f"sqlite:///{path}", drop_file)
    if backend != "postgresql":
        raise SystemExit(f"unknown backend {backend!r}: sqlite or postgresql")
    url = make_url(PG_ADMIN_URL)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()

    def drop_db() -> None:
        eng = create_engine(url, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        eng.dispose()

    return Database("postgresql", url.set(database=name).render_as_string(hide_password=False), drop_db)


@dataclass
class Seed:
    username: str
    addresses: list[tuple[int, str]]  # (id, full text)
    root_org_id: int
    root_path: str
    units: int


# Xinxiang's urban area, roughly; grids are laid out on a regular lattice inside it.
CITY_LAT, CITY_LON = 35.30, 113.90
ROADS = ["平原路", "人民路", "解放大道", "胜利路", "新华街", "健康路", "和平大道", "金穗大道", "自由路", "劳动街",
         "宏力大道", "牧野路", "卫河路", "向阳路", "东风路", "红旗路", "新中大道", "中原路", "友谊路", "光明路"]


def seed_city(url: str, *, stations: int = 4, grids_per_station: int = 5, addresses_per_grid: int = 50,
              units_per_station: int = 10, seed: int = 1) -> Seed:
    """Migrate and seed a minimal bureau: org tree, grids with addresses, units, a dispatcher."""
    import json as _json

    from pingan.db.migrate import upgrade
    from pingan.db.session import make_engine
    from pingan.db.unit_of_work import unit_of_work_on
    from pingan.geo.models import Address, Grid, ZoneClass
    from pingan.org import service as org_service
    from pingan.org.models import OrgKind, Role, UnitKind

    rng = random.Random(seed)
    engine = make_engine(url)
    upgrade(engine)
    addresses: list[tuple[int, str]] = []
    with unit_of_work_on(engine, request_id="bench:seed") as db:
        mk = org_service.create_org_unit
        bureau = mk(db=db, code="410700000000", name="新乡市公安局", kind=OrgKind.BUREAU, parent=None,
                    division_code="410700", lat=CITY_LAT, lon=CITY_LON)
        command = mk(db=db, code="410700990000", name="指挥中心", kind=OrgKind.COMMAND_CENTRE, parent=bureau)
        size = 0.012
        per_row = 10
        n_grid = 0
        unit_no = 0
        for s in range(stations):
            branch = mk(db=db, code=f"4107{s + 10:02d}000000", name=f"第{s + 1}分局", kind=OrgKind.BRANCH, parent=bureau)
            station = mk(db=db, code=f"4107{s + 10:02d}010000", name=f"第{s + 1}派出所", kind=OrgKind.STATION,
                         parent=branch)
            for g in range(grids_per_station):
                row, col = divmod(n_grid, per_row)
                lon0, lat0 = CITY_LON - 0.06 + col * size, CITY_LAT - 0.03 + row * size
                polygon = {"type": "Polygon", "coordinates": [[[lon0, lat0], [lon0 + size, lat0],
                                                               [lon0 + size, lat0 + size], [lon0, lat0 + size],
                                                               [lon0, lat0]]]}
                grid = Grid(code=f"G{n_grid:06d}", name=f"网格{n_grid + 1}", zone_class=rng.choice(list(ZoneClass)),
                            org_unit_id=station.id, division_code=None, polygon=_json.dumps(polygon),
                            min_lon=lon0, min_lat=lat0, max_lon=lon0 + size, max_lat=lat0 + size,
                            centroid_lon=lon0 + size / 2, centroid_lat=lat0 + size / 2)
                db.add(grid)
                db.flush()
                road = ROADS[n_grid % len(ROADS)]
                for a in range(addresses_per_grid):
                    no = n_grid // len(ROADS) * addresses_per_grid + a + 1
                    text = f"河南省新乡市红旗区{road}{no}号"
                    db.add(Address(code=f"A{n_grid:04d}{a:04d}", full_text=text, division_code="410702001001",
                                   county_code="410702", road=road, house_no=f"{no}号",
                                   lat=lat0 + rng.random() * size, lon=lon0 + rng.random() * size,
                                   grid_id=grid.id, level=1))
                n_grid += 1
            for _ in range(units_per_station):
                unit_no += 1
                org_service.create_unit(db=db, call_sign=f"巡{unit_no:04d}", kind=rng.choice(list(UnitKind)),
                                        org_unit_id=station.id, lat=CITY_LAT - 0.03 + rng.random() * 0.05,
                                        lon=CITY_LON - 0.06 + rng.random() * 0.12)
        org_service.create_user(db=db, username="bench_dispatcher", password=PASSWORD, display_name="压测接警员",
                                role=Role.DISPATCHER, org_unit_id=command.id)
        db.flush()
        from sqlalchemy import select

        addresses = [(i, t) for i, t in db.execute(select(Address.id, Address.full_text).order_by(Address.id))]
        root_id, root_path = bureau.id, bureau.path
    engine.dispose()
    return Seed(username="bench_dispatcher", addresses=addresses, root_org_id=root_id, root_path=root_path,
                units=unit_no)


# --- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _uvicorn(app: str, port: int, workers: int, env: dict, app_dir: Path | None = None) -> subprocess.Popen:
    # uvicorn[standard] brings uvloop and httptools, which its "auto" settings pick.
    cmd = [sys.executable, "-m", "uvicorn", app, "--host", HOST, "--port", str(port), "--workers", str(workers),
           "--log-level", "warning", "--no-access-log"]
    if app_dir is not None:
        cmd += ["--app-dir", str(app_dir)]
    # its own process group, so a kill reaches the supervisor and every worker at once
    return subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, start_new_session=True)


def start_pingan(url: str, port: int, workers: int = 2, jobs: bool = True, env: dict | None = None) -> subprocess.Popen:
    return _uvicorn("pingan.asgi:app", port, workers,
                    {"PINGAN_DATABASE_URL": url, "PINGAN_BACKGROUND_JOBS": "1" if jobs else "0", **(env or {})})


def start_baseline(url: str, port: int, workers: int = 2) -> subprocess.Popen:
    prepare_baseline(url)
    return _uvicorn("_server:baseline_app", port, workers, {"BENCH_BASELINE_URL": url}, app_dir=BENCH_DIR)


def wait_ready(port: int, path: str = "/healthz", timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on port {port} not ready after {timeout}s")


def wait_settled(proc: subprocess.Popen, *, idle_share: float = 0.05, window: float = 1.0,
                 timeout: float = 120.0) -> float:
    """Wait until the server's processes use under ``idle_share`` of one core over ``window``
    seconds: its start-up work (address and grid indexes built in a background thread, the
    statistics store's first load) would otherwise be counted against the first round. Returns
    the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = cpu_seconds(proc)
        time.sleep(window)
        if cpu_seconds(proc) - before < idle_share * window:
            break
    return time.monotonic() - started


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
    """Signal the server's whole process group and wait for it."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)


def login(port: int, username: str, password: str = PASSWORD) -> str:
    import urllib.request

    req = urllib.request.Request(f"http://{HOST}:{port}/api/v1/auth/login", method="POST",
                                 data=json.dumps({"username": username, "password": password}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())["token"]


# --- the baseline: a bare FastAPI endpoint inserting one row ---------------------------------------


def _baseline_table():
    from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table

    metadata = MetaData()
    return Table("bench_item", metadata, Column("id", Integer, primary_key=True),
                 Column("text", String(255), nullable=False), Column("priority", Integer, nullable=False),
                 Column("created_at", DateTime(timezone=True), nullable=False))


def prepare_baseline(url: str) -> None:
    from pingan.db.session import make_engine

    engine = make_engine(url)
    _baseline_table().metadata.create_all(engine)
    engine.dispose()


def make_baseline_app(url: str):
    from datetime import UTC, datetime

    from fastapi import FastAPI
    from pydantic import BaseModel, Field
    from sqlalchemy import insert

    from pingan.db.session import make_engine

    engine = make_engine(url)  # the same engine settings as the application (pool, SQLite pragmas)
    table = _baseline_table()
    app = FastAPI()

    class ItemCreate(BaseModel):
        text: str = Field(..., min_length=1, max_length=255)
        priority: int = Field(..., ge=1, le=4)

    def healthz() -> dict:
        return {"status": "ok"}

    def create_item(item: ItemCreate) -> dict:
        with engine.begin() as conn:
            new_id = conn.execute(insert(table).values(text=item.text, priority=item.priority,
                                                       created_at=datetime.now(UTC)).returning(table.c.id)).scalar()
        return {"id": new_id}

    # annotations are strings under `from __future__ import annotations`; give FastAPI the classes
    create_item.__annotations__ = {"item": ItemCreate, "return": dict}
    healthz.__annotations__ = {"return": dict}
    app.get("/healthz")(healthz)
    app.post("/items", status_code=201)(create_item)
    return app


if os.environ.get("BENCH_BASELINE_URL"):
    baseline_app = make_baseline_app(os.environ["BENCH_BASELINE_URL"])


# --- the load generator ------------------------------------------------------------------------


def http_request(method: str, path: str, body: dict | None = None, headers: dict | None = None) -> bytes:
    payload = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", "Connection: keep-alive"]
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bytes]:
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return status, body


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: int = 0
    elapsed: float = 0.0

    @property
    def completed(self) -> int:
        return len(self.latencies_ms)

    @property
    def per_second(self) -> float:
        return self.completed / self.elapsed if self.elapsed else 0.0


async def drive(port: int, make_request: Callable[[int], bytes], *, concurrency: int, seconds: float,
                warmup: float = 1.0, on_response: Callable[[int, int, bytes], None] | None = None,
                stop_event: asyncio.Event | None = None) -> LoadResult:
    """Closed-loop load: ``concurrency`` keep-alive connections, each sending the next request as
    soon as the previous one is answered, for ``warmup`` + ``seconds``. Only requests started
    after the warm-up are measured. A broken connection reconnects (and counts an error)."""
    result = LoadResult()
    counter = iter(range(10**12))
    started = time.perf_counter()
    measure_from = started + warmup
    end = measure_from + seconds

    async def worker() -> None:
        reader = writer = None
        while time.perf_counter() < end and not (stop_event and stop_event.is_set()):
            i = next(counter)
            request = make_request(i)
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(HOST, port)
                t0 = time.perf_counter()
                status, body = await _exchange(reader, writer, request)
                t1 = time.perf_counter()
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError):
                result.errors += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
                if stop_event and stop_event.is_set():
                    break
                await asyncio.sleep(0.05)
                continue
            if on_response is not None:
                on_response(i, status, body)
            if t0 >= measure_from:
                result.latencies_ms.append((t1 - t0) * 1000)
                result.statuses[status] += 1
        if writer is not None:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed = max(1e-9, min(time.perf_counter(), end) - measure_from)
    return result


def cpu_seconds(proc: subprocess.Popen) -> float:
    """User + system CPU seconds of a server and all its workers so far (the load generator and
    the database are not counted): CPU per request is far less sensitive than throughput to
    what else the shared machine is doing."""
    import psutil

    total = 0.0
    try:
        root = psutil.Process(proc.pid)
        for p in [root, *root.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
    except psutil.NoSuchProcess:
        pass
    return total


def database_cpu_seconds(database: Database) -> float:
    """CPU seconds so far of the PostgreSQL backends connected to ``database`` (the server's pool
    connections; a backend that ends between two readings takes its share with it). 0 for SQLite,
    which runs inside the server's own processes."""
    if database.backend != "postgresql":
        return 0.0
    import psutil
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    name = make_url(database.url).database
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :name"), {"name": name}).scalars().all()
    finally:
        engine.dispose()
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def own_cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (wrk runs as one)."""
    import resource

    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


# --- wrk ------------------------------------------------------------------------------------------


def wrk_available() -> bool:
    import shutil

    return shutil.which("wrk") is not None


def _lua_string(text: str) -> str:
    level = 1
    while f"]{'=' * level}]" in text:
        level += 1
    eq = "=" * level
    return f"[{eq}[{text}]{eq}]"


_WRK_SCRIPT = r"""
local bodies = {%(bodies)s}
local headers = {%(headers)s}
local path, key_prefix = %(path)s, %(key_prefix)s
local threads = {}
local counter = 0
local run = ""
tid = 0  -- set per thread by setup()
statuses = {}

function init(args)
  run = args[1] or ""  -- one per wrk invocation, so that keys never repeat across runs
end

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function request()
  counter = counter + 1
  local h = headers
  if key_prefix ~= "" then
    h = {}
    for k, v in pairs(headers) do h[k] = v end
    h["Idempotency-Key"] = key_prefix .. run .. "-" .. tid .. "-" .. counter
  end
  return wrk.format("POST", path, h, bodies[(counter %% #bodies) + 1])
end

function response(status, hdrs, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      merged[tostring(status)] = (merged[tostring(status)] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(merged) do table.insert(parts, string.format('"%%s": %%d', status, n)) end
  local e = summary.errors
  io.write(string.format(
    'WRK-RESULT {"requests": %%d, "duration_us": %%d, "errors": %%d, "p50_us": %%d, "p99_us": %%d, "statuses": {%%s}}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), table.concat(parts, ", ")))
end
"""


@dataclass
class WrkResult:
    completed: int
    elapsed: float
    statuses: Counter
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.completed / self.elapsed if self.elapsed else 0.0


def wrk_script(path: str, bodies: list[dict], headers: dict[str, str], key_prefix: str = "") -> str:
    """A wrk Lua script cycling through ``bodies`` (JSON), one ``Idempotency-Key`` per request
    if ``key_prefix`` is given; it prints its result as one ``WRK-RESULT {json}`` line."""
    all_headers = {"Content-Type": "application/json", **headers}
    script = _WRK_SCRIPT % {
        "bodies": ",\n".join(_lua_string(json.dumps(b, ensure_ascii=False)) for b in bodies),
        "headers": ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in all_headers.items()),
        "path": _lua_string(path), "key_prefix": _lua_string(key_prefix),
    }
    handle, name = tempfile.mkstemp(prefix="pingan-wrk-", suffix=".lua")
    with os.fdopen(handle, "w") as f:
        f.write(script)
    return name


def drive_wrk(port: int, script: str, *, concurrency: int, seconds: float, threads: int = 1) -> WrkResult:
    """Closed-loop load from wrk: ``concurrency`` keep-alive connections for ``seconds`` (whole
    seconds, at least one), one thread by default — enough for a few thousand requests per
    second, and it leaves the cores to the server."""
    cmd = ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{max(1, round(seconds))}s", "--timeout", "10s",
           "-s", script, f"http://{HOST}:{port}/", "--", uuid.uuid4().hex[:8]]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK-RESULT "))
    data = json.loads(line.removeprefix("WRK-RESULT "))
    return WrkResult(completed=data["requests"], elapsed=data["duration_us"] / 1e6,
                     statuses=Counter({int(k): v for k, v in data["statuses"].items()}), errors=data["errors"],
                     p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000)


def summarize(result: LoadResult) -> dict:
    lat = result.latencies_ms
    return {"per_second": round(result.per_second, 1), "p50_ms": round(statistics.median(lat), 2) if lat else None,
            "p99_ms": round(percentile(lat, 99), 2) if lat else None, "completed": result.completed,
            "errors": result.errors, "statuses": dict(result.statuses)}


if __name__ == "__main__":
    print("bench/_server.py holds shared helpers; run bench/intake.py, bench/dispatch.py or bench/kill9.py.")


# --- the city-scale demo as the statistics benches read it ----------------------------------------

CITY_DEMO = "/work/data/city.db"  # where `pingan demo --scale city` was written (SQLite)


def city_demo_missing(bench: str, source: str) -> bool:
    """True (and a ``skipped`` line) when there is no city-scale demo at ``source``, a SQLite
    file or a PostgreSQL URL (which the copy itself checks)."""
    if source.startswith("postgresql") or Path(source).exists():
        return False
    emit(bench, "skipped", 0, "", reason=f"no city-scale demo at {source} (pingan demo --scale city)")
    return True


def copy_demo(source: str, work: Path) -> str:
    """The URL of a copy of the demo database at the current schema (the original is never
    written): ``CREATE DATABASE … TEMPLATE`` of a PostgreSQL one; of a SQLite one a file copy, a
    reflink where the filesystem allows (1.9 GB in a moment), with its log when that still holds
    pages. A SQLite copy as large as the original is kept for the next run."""
    import shutil

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from pingan.db.migrate import upgrade
    from pingan.db.session import make_engine

    if source.startswith("postgresql"):
        url = make_url(source)
        copy = f"{url.database}_bench_copy"
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)'))
            print(f"# copying {url.database} → {copy}", file=sys.stderr)
            conn.execute(text(f'CREATE DATABASE "{copy}" TEMPLATE "{url.database}"'))
        admin.dispose()
        target = url.set(database=copy).render_as_string(hide_password=False)
    else:
        work.mkdir(parents=True, exist_ok=True)
        path = work / "pingan.db"
        if not path.exists() or path.stat().st_size < Path(source).stat().st_size:
            print(f"# copying {source} → {path}", file=sys.stderr)
            for suffix in ("", "-wal"):
                original = Path(f"{source}{suffix}")
                if original.exists() and original.stat().st_size:
                    if subprocess.run(["cp", "--reflink=auto", str(original), f"{path}{suffix}"]).returncode:
                        shutil.copyfile(original, f"{path}{suffix}")
        target = f"sqlite:///{path}"
    upgrade(make_engine(target))
    return target
