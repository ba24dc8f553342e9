"""The statistics process (统计服务): owns the DuckDB store and its sync, answers the others.

``pingan stats serve`` (or ``python -m pingan.stats.server``) opens the store file — the only
process that does —, keeps it current from the operational database (``stats.jobs``: a full
load at first, then incremental every ``PINGAN_STATS_SYNC_SECONDS``), and answers on a Unix
socket in the var dir (``PINGAN_STATS_SOCKET``, mode 0600, peers of the same user only) the
statements that web workers and CLI commands build with the engine (``stats.client``), one
thread and one DuckDB cursor per connection. Messages are ``stats.wire``'s. A statement sent with
a ``timeout`` (what is left of a web request's time budget) is interrupted when that has passed
(DuckDB's ``interrupt()``: it stops computing at once) and answered ``timeout``. The process's
files — the store, its WAL, spill files, the socket — are created 0600 (umask 077).

It runs **read statements only**: a single SELECT (or WITH … SELECT), as DuckDB's own parser
classifies it, whose tables are the store's own (plain names in its main schema — no other
catalog, no file path) and whose table functions are ``range`` / ``generate_series`` /
``unnest``; so no client can write, copy, attach, load, set, or read a file, the operational
database or the environment through it. Syncs are requests of their own, not SQL.

``pingan serve`` starts this process as a child before the web workers (:class:`StatsProcess`:
it waits until the socket answers, restarts the child if it dies, stops it on exit);
``pingan serve --no-stats`` leaves it to a unit of its own.

The process runs at a lower CPU priority (``PINGAN_STATS_NICE``, default nice 10): a full load
at start-up yields the CPU to the web workers building their address index, and under
contention taking calls goes before statistics; on an idle CPU nothing is slower.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import re
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pingan.runtime import settle_heap
from pingan.stats import wire
from pingan.stats.client import answers
from pingan.errors import Unavailable
from pingan.files import PRIVATE_UMASK, private_dir
from pingan.stats.store import StatsStore, SyncReport, interrupted_at

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger("pingan.stats")

TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PEERCRED = struct.Struct("3i")  # pid, uid, gid
_CHECKED_MAX = 4096


class Refused(Exception):
    """A statement the statistics process does not run (see the module docstring)."""


# --- what may be run ----------------------------------------------------------------------------


def check_read_only(cur: duckdb.DuckDBPyConnection, sql: str, *, database: str,
                    tables: Callable[[bool], set[str]]) -> None:
    """Raise :class:`Refused` unless ``sql`` is one SELECT that reads only the store's tables
    (``tables(refresh)``: their names, read again when ``refresh``) and the query's own CTEs."""
    import duckdb

    statements = cur.extract_statements(sql)
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise Refused("only one SELECT (or WITH … SELECT) statement is accepted / 仅接受单条查询语句")
    tree = json.loads(cur.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    if tree.get("error"):
        raise Refused(f"statement not accepted: {tree.get('error_message')}")
    named: set[str] = set()
    _check_tree(tree["statements"], database, frozenset(), named)
    unknown = named - tables(False)
    if unknown:
        unknown = named - tables(True)  # a sync may have created a table since
    if unknown:
        raise Refused(f"table {sorted(unknown)[0]!r} is not one of the statistics store's")


def _check_tree(node: Any, database: str, ctes: frozenset[str], named: set[str]) -> None:
    """Walk a serialised parse tree: collect the tables it reads that are not CTEs in scope into
    ``named``; refuse other catalogs and schemas, paths, and table functions but a few."""
    if isinstance(node, list):
        for child in node:
            _check_tree(child, database, ctes, named)
        return
    if not isinstance(node, dict):
        return
    cte_map = node.get("cte_map")
    if isinstance(cte_map, dict) and cte_map.get("map"):  # these names are in scope for the whole node
        ctes = ctes | {str(entry.get("key", "")).lower() for entry in cte_map["map"]}
    kind = node.get("type")
    if kind == "BASE_TABLE":
        catalog, schema, table = node.get("catalog_name", ""), node.get("schema_name", ""), node.get("table_name", "")
        if catalog not in ("", database) or schema not in ("", "main") or not _PLAIN_NAME.match(table):
            name = ".".join(p for p in (catalog, schema, table) if p)
            raise Refused(f"table {name!r} is not one of the statistics store's")
        if catalog or schema or table.lower() not in ctes:
            named.add(table.lower())
    elif kind == "TABLE_FUNCTION":
        function = node.get("function") or {}
        name = str(function.get("function_name", "")).lower()
        if name not in TABLE_FUNCTIONS or function.get("schema") or function.get("catalog"):
            raise Refused(f"table function {name!r} is not accepted")
    for child in node.values():
        if isinstance(child, dict | list):
            _check_tree(child, database, ctes, named)


# --- the server ---------------------------------------------------------------------------------


class Syncer:
    """Syncs of the store, one at a time, and what the last one did."""

    def __init__(self, store: StatsStore):
        self.store = store
        self._lock = threading.Lock()
        self.syncing = False
        self.synced_at: datetime | None = None
        self.last_report: SyncReport | None = None

    def sync(self, *, full: bool = False) -> SyncReport:
        from pingan.stats.jobs import sync_store

        with self._lock:
            self.syncing = True
            try:
                report = sync_store(self.store, full=full)
            finally:
                self.syncing = False
            first, self.synced_at, self.last_report = self.synced_at is None, datetime.now(UTC), report
        if any(mode == "full" for mode in report.mode.values()):
            log.info("stats: full sync %s in %.1f s", report.rows, report.seconds)
        if first:
            settle_heap()  # start-up's objects out of the cycle collector's way (pingan.runtime)
        return report


class _Handler(socketserver.BaseRequestHandler):
    server: StatsServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        if not _same_user(sock):
            return
        self.server.connections.add(sock)
        try:
            with self.server.store.reader() as cur:
                cur.execute("SET python_enable_replacements = false")  # no Python variable as a table
                while True:
                    try:
                        message = wire.receive(sock, limit=wire.MAX_REQUEST)
                    except ValueError as exc:
                        wire.send(sock, _error("protocol", str(exc)))
                        return
                    wire.send(sock, self.server.answer(cur, message))
        except OSError:  # the client went away (ConnectionClosed included)
            return
        finally:
            self.server.connections.discard(sock)


def _same_user(sock: socket.socket) -> bool:
    """Only processes of this user (or root) may ask; the socket's mode says the same."""
    try:
        _, uid, _ = _PEERCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size))
    except (OSError, AttributeError):
        return True  # no SO_PEERCRED on this platform: the file mode is the guard
    return uid in (os.geteuid(), 0)


def _error(kind: str, message: str) -> dict:
    return {"ok": False, "error": {"kind": kind, "message": message}}


class StatsServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """The socket server of the statistics process: one thread and one cursor per connection."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, path: str, store: StatsStore, syncer: Syncer):
        self.store = store
        self.syncer = syncer
        self.connections: set[socket.socket] = set()
        self.started_at = datetime.now(UTC)
        with store.reader() as cur:
            self.database = cur.execute("SELECT current_database()").fetchone()[0]
        self._checked: set[str] = set()
        self._tables: set[str] = set()
        _prepare_socket_path(path)
        old = os.umask(0o177)  # the socket is created 0600
        try:
            super().__init__(path, _Handler)
        finally:
            os.umask(old)
        os.chmod(path, 0o600)

    def answer(self, cur: duckdb.DuckDBPyConnection, message: dict) -> dict:
        import duckdb

        op = message.get("op") if isinstance(message, dict) else None
        try:
            if op == "query":
                timeout = message.get("timeout")
                if timeout is not None and not (isinstance(timeout, int | float) and math.isfinite(timeout)):
                    return _error("protocol", "timeout: seconds, a number")
                deadline = None if timeout is None else time.monotonic() + timeout
                try:
                    with interrupted_at(cur, deadline):
                        return self._query(cur, message.get("sql"), message.get("params") or [])
                except Unavailable:  # interrupted at the deadline: it stopped computing
                    return _error("timeout", f"the statement ran longer than its {timeout:.1f} s and was stopped")
            if op == "ping":
                synced = self.syncer.synced_at
                return {"ok": True, "pid": os.getpid(), "syncing": self.syncer.syncing,
                        "synced_at": synced.isoformat() if synced else None,
                        "started_at": self.started_at.isoformat()}
            if op == "sync":
                report = self.syncer.sync(full=bool(message.get("full")))
                return {"ok": True, "report": {"mode": report.mode, "rows": report.rows, "seconds": report.seconds}}
            return _error("protocol", f"unknown request {op!r}")
        except Refused as exc:
            log.warning("stats: refused a statement: %s", exc)
            return _error("refused", str(exc))
        except (duckdb.Error, TypeError, ValueError) as exc:
            return _error("query" if op == "query" else op or "protocol", str(exc))
        except Exception as exc:  # keep serving; the error is logged here and reported there
            log.exception("stats: %s request failed", op)
            return _error("internal", f"{type(exc).__name__}: {exc}")

    def _query(self, cur: duckdb.DuckDBPyConnection, sql: Any, params: Any) -> dict:
        if not isinstance(sql, str) or not isinstance(params, list):
            return _error("protocol", "a query needs sql (text) and params (a list)")
        if sql not in self._checked:
            check_read_only(cur, sql, database=self.database, tables=lambda refresh: self._store_tables(cur, refresh))
            if len(self._checked) > _CHECKED_MAX:
                self._checked.clear()
            self._checked.add(sql)
        cur.execute(sql, wire.decode(params))
        columns = [(d[0], str(d[1])) for d in cur.description or []]
        return {"ok": True, "columns": columns, "rows": wire.encode_rows(cur.fetchall(), [t for _, t in columns])}

    def _store_tables(self, cur: duckdb.DuckDBPyConnection, refresh: bool) -> set[str]:
        """Names of the store's tables, read again when ``refresh`` (or never read yet)."""
        if self._tables and not refresh:
            return self._tables
        self._tables = {name.lower() for (name,) in cur.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main' "
            "AND NOT temporary", [self.database]).fetchall()}
        return self._tables

    def close_connections(self, *, timeout: float = 5.0) -> None:
        """End every client connection and wait (up to ``timeout``) until their cursors are closed."""
        for sock in list(self.connections):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        while self.connections and time.monotonic() < deadline:
            time.sleep(0.01)


def _prepare_socket_path(path: str) -> None:
    """Refuse a socket another statistics process answers on; remove a stale one."""
    if len(os.fsencode(path)) >= 104:
        raise SystemExit(f"PINGAN_STATS_SOCKET is too long for a Unix socket ({path}); choose a shorter path")
    if os.path.exists(path):
        if answers(path):
            raise SystemExit(f"a statistics process already answers on {path}")
        os.unlink(path)
    private_dir(Path(path).parent)


def _lower_priority(nice: int) -> None:
    """Lower this process's CPU priority to ``nice`` before any other thread exists, so that every
    thread — the sync, DuckDB's workers, the connection threads — inherits it. (An unprivileged
    process cannot raise it back after a full load, so it is lowered for good: under contention
    the web workers, taking calls, go first.)"""
    if nice > 0 and hasattr(os, "nice"):
        try:
            os.nice(max(0, nice - os.nice(0)))
        except OSError as exc:
            log.warning("stats: cannot lower the process's priority: %s", exc)


def _sync_loop(syncer: Syncer, *, interval: float, stop: threading.Event) -> None:
    """Sync now, then every ``interval`` seconds until ``stop``; an error is logged, the loop goes on."""
    while not stop.is_set():
        try:
            syncer.sync()
        except Exception:  # keep the loop alive; the error is logged
            log.exception("stats sync failed")
        stop.wait(interval)


def _watch_parent(parent_pid: int, stop: threading.Event, on_gone) -> None:
    """When the process that started this one is gone (killed, say), stop too."""
    while not stop.wait(1.0):
        if os.getppid() != parent_pid:
            log.warning("stats: parent process %s is gone; stopping", parent_pid)
            on_gone()
            return


def serve(*, sync_interval: float | None = None, parent_pid: int | None = None) -> None:
    """Run the statistics process in the foreground until SIGTERM / SIGINT (see the module docstring).
    ``sync_interval`` 0 runs no sync loop (syncs only on request)."""
    from pingan.config import get_settings

    settings = get_settings()
    interval = settings.stats_sync_interval_seconds if sync_interval is None else sync_interval
    _lower_priority(settings.stats_nice)  # before DuckDB starts its threads
    # Every file this process makes is private: the store, the WAL DuckDB makes again after each
    # checkpoint, its spill files, the socket (pingan.files).
    os.umask(os.umask(PRIVATE_UMASK) | PRIVATE_UMASK)
    try:
        store = StatsStore(path=settings.stats_path, memory_limit=settings.stats_memory_limit,
                           threads=settings.stats_threads, timezone=settings.timezone)
    except Exception as exc:  # duckdb.IOException: the file is held by another process
        raise SystemExit(f"cannot open the statistics store {settings.stats_path}: {exc}") from exc
    syncer = Syncer(store)
    server = StatsServer(settings.stats_socket, store, syncer)
    stop = threading.Event()

    def shut_down(*_args) -> None:
        stop.set()
        threading.Thread(target=server.shutdown, name="stats-shutdown", daemon=True).start()

    signal.signal(signal.SIGTERM, shut_down)
    signal.signal(signal.SIGINT, shut_down)
    threads = []
    if interval > 0:
        threads.append(threading.Thread(target=_sync_loop, name="stats-sync", daemon=True,
                                        kwargs={"syncer": syncer, "interval": interval, "stop": stop}))
    if parent_pid:
        threads.append(threading.Thread(target=_watch_parent, args=(parent_pid, stop, shut_down),
                                        name="stats-parent", daemon=True))
    for thread in threads:
        thread.start()
    log.info("stats: serving %s on %s (pid %s)", settings.stats_path, settings.stats_socket, os.getpid())
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        stop.set()
        server.server_close()
        server.close_connections()
        try:
            os.unlink(settings.stats_socket)
        except FileNotFoundError:
            pass
        for thread in threads:
            thread.join(timeout=30)
        if not any(t.is_alive() for t in threads):
            store.close()  # a sync still running after 30 s is left to the process's exit


# --- as a child of `pingan serve` -----------------------------------------------------------------


class StatsProcess:
    """The statistics process as a child of ``pingan serve``: started before the web workers,
    restarted when it dies (after 1 s, doubling to 30 s while it keeps dying), stopped on exit.
    When a statistics process already answers on the socket (run by its own unit), none is started."""

    def __init__(self, *, sync: bool = True, socket_path: str | None = None, env: dict[str, str] | None = None):
        from pingan.config import get_settings

        self.socket_path = socket_path or get_settings().stats_socket
        self.sync = sync
        self.env = {**(os.environ if env is None else env), "PINGAN_STATS_SERVICE": "local",
                    "PINGAN_STATS_SOCKET": self.socket_path}
        self.proc: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # a restart and a stop do not cross
        self._watcher: threading.Thread | None = None

    def _spawn(self) -> subprocess.Popen:
        args = [sys.executable, "-m", "pingan.stats.server", "--parent-pid", str(os.getpid())]
        if not self.sync:
            args += ["--sync-seconds", "0"]
        # A session of its own: a Ctrl-C in the terminal reaches `pingan serve`, which stops it.
        return subprocess.Popen(args, env=self.env, start_new_session=True)

    def start(self, *, timeout: float = 60.0) -> None:
        if answers(self.socket_path):
            log.warning("stats: a statistics process already answers on %s; not starting another", self.socket_path)
            return
        self.proc = self._spawn()
        deadline = time.monotonic() + timeout
        while not answers(self.socket_path):
            if self.proc.poll() is not None:
                raise SystemExit(f"the statistics process exited with code {self.proc.returncode} at start-up")
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"the statistics process did not answer on {self.socket_path} within {timeout:.0f} s")
            time.sleep(0.1)
        self._watcher = threading.Thread(target=self._watch, name="stats-watch", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            started = time.monotonic()
            code = self.proc.wait()
            if self._stopping.is_set():
                return
            backoff = 1.0 if time.monotonic() - started > 60 else min(backoff * 2, 30.0)
            log.warning("stats: the statistics process exited with code %s; restarting in %.0f s", code, backoff)
            if self._stopping.wait(backoff):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                self.proc = self._spawn()

    def stop(self, *, timeout: float = 15.0) -> None:
        self._stopping.set()
        with self._lock:
            proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pingan.stats.server", description=__doc__.splitlines()[0])
    parser.add_argument("--sync-seconds", type=float, default=None,
                        help="seconds between syncs (default PINGAN_STATS_SYNC_SECONDS; 0: only on request)")
    parser.add_argument("--parent-pid", type=int, default=None, help="stop when this parent process is gone")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    serve(sync_interval=args.sync_seconds, parent_pid=args.parent_pid)


if __name__ == "__main__":
    main()
