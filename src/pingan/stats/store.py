"""The statistics store (统计库): a DuckDB database fed from the operational database.

One DuckDB file per deployment (``Settings.stats_path``, under the var dir) holds, for every
registered :class:`~pingan.stats.facts.FactSource`, a fact table ``fact_<name>`` (one row per
operational record, with derived columns such as local time and stage durations computed once
at load), and the dimensions the engine cuts by: org units with their ancestor closure (roll-up
along the materialised path), and the dimension tables the installed modules declare (grids,
incident categories …; ``stats.facts.DimensionTable``).

Feeding it (``sync``):

- **full** (first run, a changed fact layout, or when the row counts disagree after an
  incremental pass — records deleted, a database reset): the whole source is read into a new
  table which then replaces the old one in one transaction, so readers never see it half
  loaded. Given the operational database's URL, DuckDB reads it itself through its SQLite /
  PostgreSQL scanner (the source's own SQLAlchemy query, compiled for that database);
  otherwise rows come through the caller's SQLAlchemy session.
- **incremental** (every other run): the source's watermarks say which ids changed; only those
  rows are read (through the session, from indexes) and replace their old versions.

Either way the source's roll-ups (``stats.rollup``: its KPIs' counts per station and day, per
station, grid and month) change in the same transaction as its facts: rebuilt by a full load,
a changed org tree or changed KPI declarations, otherwise recomputed for the keys the changed
records left and entered.

DuckDB's memory is capped (``memory_limit``, default 128 MB) and it runs on ``threads``
threads. One process holds the file (DuckDB lets one process write it): the statistics process
(``stats.server``, ``pingan stats serve``), which syncs it and answers every other process's
statements over a Unix socket (``stats.client``). Code asks for "the store" with
:func:`get_store` and gets whatever satisfies :class:`Store` — this DuckDB store or the client —
according to ``Settings.stats_service``. A process that finds the file locked without a
statistics process to ask gets a private in-memory store filled from scratch (``open_store``),
and says so.

DuckDB is imported when a ``StatsStore`` is first opened, not with this module, so that a web
worker (which only ever holds the client) never loads it.
"""

from __future__ import annotations

import hashlib
import heapq
import importlib.util
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from pingan.errors import Unavailable
from pingan.files import private_dir, private_umask
from pingan.org import system as org_system
from pingan.stats import rollup
from pingan.stats.contribution import loaded
from pingan.stats.facts import SOURCES, DimensionTable, FactSource

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger("pingan.stats")

FETCH_BATCH = 50_000
Progress = Callable[[str, int, int], None]  # (phase, done, total)


def _extension_directory() -> str | None:
    """Where the PyPI packages duckdb-ext-sqlite / -postgres put their scanners (offline loading)."""
    spec = importlib.util.find_spec("duckdb_ext")
    if spec is None or not spec.submodule_search_locations:
        return None
    return str(Path(next(iter(spec.submodule_search_locations))) / "extensions")


class Cursor(Protocol):
    """What the engine needs of a cursor: DuckDB's, or the statistics client's."""

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor: ...

    def fetchone(self) -> tuple | None: ...

    def fetchall(self) -> list[tuple]: ...


# --- the time budget of a web request's reads ------------------------------------------------------

# When the statistics reads of the current web request must have ended (``time.monotonic()``);
# None: no budget (the CLI, jobs, issuing a report). Set by ``stats.limits`` for a web request;
# every cursor reads it — the statistics client's, whose statistics process then interrupts a
# statement still running at that moment, and a local store's, which does the same here.
deadline_var: ContextVar[float | None] = ContextVar("stats_deadline", default=None)
TOO_SLOW_RETRY_AFTER = 5  # seconds


def too_slow() -> Unavailable:
    """The 503 of a request whose statistics ran out of time (their statement is cancelled)."""
    error = Unavailable("统计查询超时，已取消：请缩小统计范围（周期、维度）或稍后重试",
                        "The statistics query ran out of time and was cancelled; narrow it (period, cuts) "
                        "or try again shortly")
    error.retry_after = TOO_SLOW_RETRY_AFTER
    return error


def remaining() -> float | None:
    """Seconds left of the current request's budget (≤ 0: none left); None without a budget."""
    deadline = deadline_var.get()
    return None if deadline is None else deadline - time.monotonic()


class _Watchdog:
    """One thread that interrupts DuckDB statements still running at their deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, list]] = []
        self._count = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, cur: Any, deadline: float) -> list:
        entry = [cur, True, False]  # cursor, still running, interrupted
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="stats-watchdog", daemon=True)
                self._thread.start()
            heapq.heappush(self._heap, (deadline, next(self._count), entry))
            self._cond.notify()
        return entry

    def done(self, entry: list) -> bool:
        """The statement ended (or raised): forget it. Whether it was interrupted."""
        with self._cond:
            entry[1] = False
            return entry[2]

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and not self._heap[0][2][1]:
                    heapq.heappop(self._heap)  # ended before its deadline
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                _, _, entry = heapq.heappop(self._heap)
                entry[1], entry[2] = False, True
                try:
                    entry[0].interrupt()
                except Exception:  # a cursor closed meanwhile: nothing left to stop
                    log.debug("stats: interrupting a statement failed", exc_info=True)


_watchdog = _Watchdog()


@contextmanager
def interrupted_at(cur: Any, deadline: float | None) -> Iterator[None]:
    """Run the block's statements on the DuckDB cursor ``cur`` until ``deadline`` (monotonic), when
    the statement still running is interrupted (DuckDB's ``interrupt()``: it stops computing) and
    the block raises :func:`too_slow`'s error. No deadline: the block runs as it is."""
    if deadline is None:
        yield
        return
    if deadline <= time.monotonic():
        raise too_slow()
    entry = _watchdog.watch(cur, deadline)
    try:
        yield
    except _duckdb().InterruptException as exc:
        raise too_slow() from exc
    finally:
        _watchdog.done(entry)


class _BudgetedCursor:
    """A local store's cursor inside a web request's time budget (``deadline_var``)."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, deadline: float):
        self._cur = cur
        self._deadline = deadline

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> _BudgetedCursor:
        with interrupted_at(self._cur, self._deadline):
            self._cur.execute(sql, parameters)
        return self

    def __getattr__(self, name: str) -> Any:  # fetchone, fetchall, description …
        return getattr(self._cur, name)


class Store(Protocol):
    """What the engine, rankings, pages and reports need of "the store": a cursor for one thread
    (``with store.reader() as cur``) and the time zone periods are counted in."""

    timezone: str

    def reader(self) -> AbstractContextManager[Cursor]: ...

    def close(self) -> None: ...


def _duckdb():
    import duckdb

    return duckdb


def _layout_hash(source: FactSource, timezone: str) -> str:
    text = json.dumps([source.columns, source.derived, timezone])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@contextmanager
def _transaction(connection: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor of its own in one transaction: committed when the block ends, rolled back (and
    the first error kept) when it raises."""
    con = connection.cursor()
    try:
        con.execute("BEGIN")
        try:
            yield con
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except _duckdb().Error:  # already rolled back by the failure itself
                pass
            raise
        con.execute("COMMIT")
    finally:
        con.close()


@dataclass(frozen=True)
class SyncReport:
    """What one sync did, per source: 'full' or 'incremental', and how many rows it wrote."""

    mode: dict[str, str]
    rows: dict[str, int]
    seconds: float


class StatsStore:
    """A DuckDB database holding the fact tables and dimensions (see the module docstring)."""

    def __init__(self, *, path: str | None = None, memory_limit: str = "128MB", threads: int = 2,
                 timezone: str = "Asia/Shanghai") -> None:
        self.path = path or ":memory:"
        self.timezone = timezone
        self.memory_limit = memory_limit
        config: dict[str, Any] = {"memory_limit": memory_limit, "threads": threads,
                                  "autoinstall_known_extensions": False, "autoload_known_extensions": False}
        ext = _extension_directory()
        if ext:
            config["extension_directory"] = ext
        if self.path != ":memory:":
            private_dir(Path(self.path).parent)
        with private_umask():  # the file, and its WAL while the schema is written: 0600
            self._con = _duckdb().connect(self.path, config=config)
            self._con.execute("SET TimeZone = 'UTC'")
            self._write = threading.Lock()
            self._dimension_fingerprint: tuple | None = None
            self._create_schema()

    # --- connections -------------------------------------------------------------------------

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of its own for one thread (DuckDB cursors are not shared across threads)."""
        cur = self._con.cursor()
        try:
            cur.execute("SET TimeZone = 'UTC'")
            deadline = deadline_var.get()
            yield cur if deadline is None else _BudgetedCursor(cur, deadline)
        finally:
            cur.close()

    def close(self) -> None:
        self._con.close()

    # --- schema ------------------------------------------------------------------------------

    def _create_schema(self) -> None:
        con = self._con
        con.execute("CREATE TABLE IF NOT EXISTS sync_state (source VARCHAR PRIMARY KEY, layout VARCHAR, "
                    "marks VARCHAR, synced_at TIMESTAMP, row_count BIGINT)")
        con.execute("CREATE TABLE IF NOT EXISTS dim_org_unit (id BIGINT, parent_id BIGINT, path VARCHAR, "
                    "kind VARCHAR, code VARCHAR, name VARCHAR)")
        con.execute("CREATE TABLE IF NOT EXISTS dim_org_ancestor (id BIGINT, ancestor_id BIGINT, "
                    "ancestor_kind VARCHAR, depth INTEGER)")
        for table in loaded().dimension_tables.values():
            con.execute(f"CREATE TABLE IF NOT EXISTS {table.table} ({_dimension_ddl(table)})")
        con.execute(rollup.STATE_DDL)
        for source in SOURCES.values():
            con.execute(f"CREATE TABLE IF NOT EXISTS {source.table} ({self._column_ddl(source)})")

    @staticmethod
    def _column_ddl(source: FactSource) -> str:
        return ", ".join(f"{name} {kind}" for name, kind in source.columns + tuple(
            (name, kind) for name, kind, _ in source.derived))

    def _state(self, source: FactSource) -> tuple[str | None, dict[str, Any] | None]:
        row = self._con.execute("SELECT layout, marks FROM sync_state WHERE source = ?", [source.name]).fetchone()
        if row is None:
            return None, None
        return row[0], json.loads(row[1]) if row[1] else None

    def _save_state(self, con: duckdb.DuckDBPyConnection, source: FactSource, marks: dict[str, Any]) -> None:
        count = con.execute(f"SELECT count(*) FROM {source.table}").fetchone()[0]
        con.execute("INSERT OR REPLACE INTO sync_state VALUES (?, ?, ?, ?, ?)",
                    [source.name, _layout_hash(source, self.timezone), json.dumps(marks),
                     datetime.now(UTC).replace(tzinfo=None), count])

    # --- sync --------------------------------------------------------------------------------

    def sync(self, *, db: Session, full: bool = False, scan_url: str | None = None,
             progress: Progress | None = None) -> SyncReport:
        """Bring every fact table and the dimensions up to date (see the module docstring).

        ``db`` is a session on the operational database (its transaction is only read);
        ``scan_url``, the operational database's URL, lets DuckDB read a full load itself.
        """
        started = datetime.now(UTC)
        modes: dict[str, str] = {}
        counts: dict[str, int] = {}
        with self._write, private_umask():  # DuckDB (re)creates its WAL as it writes: 0600
            # a roll-up row counts under a record's station: when the org tree changed, each
            # roll-up is rebuilt (stats.rollup)
            regrouped = self._sync_dimensions(db=db, force=full)
            for source in SOURCES.values():
                layout, marks = self._state(source)
                if full or marks is None or layout != _layout_hash(source, self.timezone):
                    counts[source.name] = self._full(source, db=db, scan_url=scan_url, progress=progress)
                    modes[source.name] = "full"
                    continue
                written, consistent = self._incremental(source, db=db, marks=marks, progress=progress,
                                                        regrouped=regrouped)
                if consistent:
                    counts[source.name], modes[source.name] = written, "incremental"
                else:
                    log.warning("stats: %s row counts disagree after an incremental sync; reloading", source.name)
                    counts[source.name] = self._full(source, db=db, scan_url=scan_url, progress=progress)
                    modes[source.name] = "full"
        return SyncReport(mode=modes, rows=counts, seconds=(datetime.now(UTC) - started).total_seconds())

    def _sync_dimensions(self, *, db: Session, force: bool) -> bool:
        """Reload the dimensions if they changed since the last sync (or ``force``): whether it did."""
        tables = list(loaded().dimension_tables.values())
        fingerprint = (org_system.org_fingerprint(db=db), *(t.fingerprint(db) for t in tables))
        if not force and fingerprint == self._dimension_fingerprint:
            return False
        org = [tuple(_plain(v) for v in row) for row in db.execute(org_system.org_unit_rows())]
        declared = [(t, [tuple(_plain(v) for v in row) for row in db.execute(t.rows())]) for t in tables]
        with _transaction(self._con) as con:
            con.execute("DELETE FROM dim_org_unit")
            _insert_rows(con, "dim_org_unit", org)
            for table, rows in declared:
                # a table's columns may change with its module: it is made again on every reload
                con.execute(f"CREATE OR REPLACE TABLE {table.table} ({_dimension_ddl(table)})")
                _insert_rows(con, table.table, rows)
            # The closure of the tree (every unit with each of its ancestors, itself included):
            # rolling up to a branch or station is then one join.
            con.execute("DELETE FROM dim_org_ancestor")
            con.execute("""
                INSERT INTO dim_org_ancestor
                SELECT u.id, a.id, a.kind, len(string_split(trim(a.path, '/'), '/'))
                FROM dim_org_unit u JOIN dim_org_unit a ON starts_with(u.path, a.path)
            """)
        self._dimension_fingerprint = fingerprint
        return True

    def _staging_columns(self, source: FactSource) -> str:
        return ", ".join(f"{name} {kind}" for name, kind in source.columns)

    def _insert_from(self, source: FactSource, target: str, rows: str) -> str:
        """INSERT the source's columns (cast to their types) and derived columns from ``rows``."""
        columns = ", ".join(f"CAST({name} AS {kind}) AS {name}" for name, kind in source.columns)
        derived = ", ".join(expr.format(tz=self.timezone) for _, _, expr in source.derived)
        return (f"INSERT INTO {target} SELECT *{', ' if derived else ''}{derived} "
                f"FROM (SELECT {columns} FROM {rows} AS r)")

    def _full(self, source: FactSource, *, db: Session, scan_url: str | None, progress: Progress | None) -> int:
        """Load the whole source into a new table, then swap it in."""
        marks = source.marks(db)
        total = int(marks.get("count", 0))
        if progress:
            progress(source.name, 0, total)
        new = f"{source.table}__new"
        con = self._con.cursor()
        try:
            con.execute(f"DROP TABLE IF EXISTS {new}")
            con.execute(f"CREATE TABLE {new} ({self._column_ddl(source)})")
            if scan_url is not None and self._scan_into(con, source, new, scan_url=scan_url):
                if progress:
                    progress(source.name, total, total)
            else:
                done = 0
                for chunk in _chunks(db, source.rows(None)):
                    self._load_chunk(con, source, new, chunk)
                    done += len(chunk)
                    if progress:
                        progress(source.name, done, max(total, done))
        finally:
            con.close()
        with _transaction(self._con) as con:
            con.execute(f"DROP TABLE IF EXISTS {source.table}")
            con.execute(f"ALTER TABLE {new} RENAME TO {source.table}")
            rollup.rebuild(con, source)
            self._save_state(con, source, marks)
            return con.execute(f"SELECT count(*) FROM {source.table}").fetchone()[0]

    def _scan_into(self, con: duckdb.DuckDBPyConnection, source: FactSource, target: str, *,
                   scan_url: str) -> bool:
        """DuckDB reads the operational database itself (a SQLite file or PostgreSQL): the source's
        own SQLAlchemy query, compiled in PostgreSQL's dialect (which DuckDB speaks), runs in DuckDB
        over the attached tables, scanned in parallel. False when the database cannot be attached."""
        url = make_url(scan_url)
        backend = url.get_backend_name()
        try:
            if backend == "sqlite" and url.database and url.database != ":memory:":
                con.execute("LOAD sqlite_scanner")
                con.execute(f"ATTACH '{_quote(url.database)}' AS op (TYPE sqlite, READ_ONLY)")
                schema = "op.main"
            elif backend == "postgresql":
                con.execute("LOAD postgres_scanner")
                con.execute(f"ATTACH '{_quote(_libpq_dsn(url))}' AS op (TYPE postgres, READ_ONLY)")
                schema = "op.public"
            else:
                return False
        except _duckdb().Error as exc:
            log.warning("stats: DuckDB cannot attach the operational database (%s); reading rows instead", exc)
            return False
        sql = str(source.rows(None).compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
        here = con.execute("SELECT current_database()").fetchone()[0]
        try:
            con.execute(f"USE {schema}")
            con.execute(self._insert_from(source, f"{here}.main.{target}", f"({sql})"))
        finally:
            con.execute(f"USE {here}.main")
            con.execute("DETACH op")
        return True

    def _load_chunk(self, con: duckdb.DuckDBPyConnection, source: FactSource, target: str,
                    rows: list[tuple]) -> None:
        """Rows read through SQLAlchemy → a staging table (from NumPy columns) → the fact table."""
        self._stage(con, source, rows)
        con.execute(self._insert_from(source, target, "staging"))
        con.execute("DROP TABLE staging")

    def _stage(self, con: duckdb.DuckDBPyConnection, source: FactSource, rows: list[tuple]) -> None:
        con.execute(f"CREATE OR REPLACE TEMP TABLE staging ({self._staging_columns(source)})")
        con.register("staging_arrays", _columns_of(source, rows))
        try:
            con.execute("INSERT INTO staging SELECT * FROM staging_arrays")
        finally:
            con.unregister("staging_arrays")

    def _incremental(self, source: FactSource, *, db: Session, marks: dict[str, Any],
                     progress: Progress | None, regrouped: bool = False) -> tuple[int, bool]:
        """Re-read the rows changed since ``marks``; (rows written, counts agree afterwards)."""
        new_marks = source.marks(db)
        rows = [tuple(r) for r in db.execute(source.rows(source.changed_ids(marks, new_marks)))]
        if progress:
            progress(source.name, 0, len(rows))
        with _transaction(self._con) as con:
            # the daily roll-up follows the facts in the same transaction: the (day, station)
            # pairs the changed records leave and enter are recomputed, or, when the declared
            # KPIs changed its layout or the org tree changed, the whole table is rebuilt
            kept = not regrouped and rollup.is_current(con, source)
            if rows:
                self._stage(con, source, rows)
                if kept:
                    rollup.note_touched(con, source, "staging")
                con.execute(f"DELETE FROM {source.table} WHERE id IN (SELECT id FROM staging)")
                con.execute(self._insert_from(source, source.table, "staging"))
                if kept:
                    rollup.note_touched(con, source, "staging")
                    rollup.refresh_touched(con, source)
                con.execute("DROP TABLE staging")
            if not kept:
                rollup.rebuild(con, source)
            count = con.execute(f"SELECT count(*) FROM {source.table}").fetchone()[0]
            consistent = count == int(new_marks.get("count", count))
            if consistent:
                self._save_state(con, source, new_marks)
        if progress:
            progress(source.name, len(rows), len(rows))
        return len(rows), consistent


def _dimension_ddl(table: DimensionTable) -> str:
    return ", ".join(f"{name} {kind}" for name, kind in table.columns)


def _insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    """Insert Python rows as NumPy object columns (DuckDB's executemany costs a statement a row)."""
    if not rows:
        return
    columns = {f"c{i}": np.array([r[i] for r in rows], dtype=object) for i in range(len(rows[0]))}
    con.register("rows_arrays", columns)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM rows_arrays")
    finally:
        con.unregister("rows_arrays")


def _quote(text: str) -> str:
    return text.replace("'", "''")


def _libpq_dsn(url) -> str:
    parts = {"host": url.host, "port": url.port, "dbname": url.database, "user": url.username,
             "password": url.password}
    return " ".join(f"{k}={v}" for k, v in parts.items() if v not in (None, ""))


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    return value


def _chunks(db: Session, stmt) -> Iterator[list[tuple]]:
    result = db.execute(stmt.execution_options(yield_per=FETCH_BATCH))
    for partition in result.partitions(FETCH_BATCH):
        yield [tuple(r) for r in partition]


def _columns_of(source: FactSource, rows: list[tuple]) -> dict[str, np.ndarray]:
    """Rows as NumPy columns that DuckDB reads directly: naive UTC datetime64 (NaT is NULL), and
    Python objects for the rest (None is NULL; the staging table's types cast them)."""
    arrays: dict[str, np.ndarray] = {}
    for i, (name, kind) in enumerate(source.columns):
        values = [r[i] for r in rows]
        if kind == "TIMESTAMP":
            arrays[name] = np.array([_naive_utc(v) for v in values], dtype="datetime64[us]")
        elif kind in ("BIGINT", "INTEGER", "DOUBLE"):
            arrays[name] = np.array(values, dtype=object)
        else:
            arrays[name] = np.array([None if v is None else str(_plain(v)) for v in values], dtype=object)
    return arrays


def _naive_utc(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


# --- the process's store --------------------------------------------------------------------------

_store: Store | None = None
_store_lock = threading.Lock()


def open_store(*, path: str, memory_limit: str, threads: int, timezone: str) -> StatsStore:
    """The store in ``path``; when another process holds that file, a private in-memory store
    (``store.path == ':memory:'``) that the caller fills with a full sync."""
    try:
        return StatsStore(path=path, memory_limit=memory_limit, threads=threads, timezone=timezone)
    except _duckdb().IOException as exc:
        log.warning("stats: %s is held by another process (%s); using a private in-memory store", path, exc)
        return StatsStore(path=None, memory_limit=memory_limit, threads=threads, timezone=timezone)


def get_store() -> Store:
    """This process's statistics store, chosen once by ``Settings.stats_service``: the client of
    the statistics process (``required``, or ``auto`` when its socket answers), else the DuckDB
    file opened in this process (``local``, or ``auto`` with no statistics process)."""
    global _store
    with _store_lock:
        if _store is None:
            from pingan.config import get_settings
            from pingan.stats.client import StatsClient, answers

            settings = get_settings()
            mode = settings.stats_service
            if mode == "required" or (mode == "auto" and answers(settings.stats_socket)):
                _store = StatsClient(settings.stats_socket, timezone=settings.timezone,
                                     timeout=settings.stats_query_timeout_seconds)
            else:
                _store = open_store(path=settings.stats_path, memory_limit=settings.stats_memory_limit,
                                    threads=settings.stats_threads, timezone=settings.timezone)
        return _store


def close_store() -> None:
    """Close this process's store or client (shutdown, tests); the next ``get_store`` chooses again."""
    global _store
    with _store_lock:
        if _store is not None:
            _store.close()
            _store = None
