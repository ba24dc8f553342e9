"""The client of the statistics process (统计服务客户端): "the store" of every other process.

A :class:`StatsClient` offers what the engine needs of a store (``stats.store.Store``):
``with client.reader() as cur`` gives a cursor whose ``execute(sql, params)`` sends the
statement to the statistics process over its Unix socket and buffers the answer, so that
``fetchone()`` / ``fetchall()`` return exactly the rows DuckDB returned there (``stats.wire``).
The engine keeps building its SQL here; only statements and rows cross the socket.

Connections are pooled (a few idle ones are kept, one per thread while in use). A pooled
connection found dead — the statistics process was restarted — is replaced once and the
statement sent again (every statement is a read, so that is safe). When the process cannot be
reached, or does not answer within ``timeout``, the call raises
:class:`~pingan.errors.Unavailable` (503, 统计服务暂不可用, ``Retry-After``), which the app renders like
any domain error; nothing else in the app depends on the statistics process.

Within a web request (``stats.limits``) every statement carries what is left of the request's
time budget (``store.deadline_var``): the statistics process interrupts a statement still
running when it is spent (DuckDB's ``interrupt()``, so it stops burning CPU) and answers
``timeout``, and the request gets a 503 (统计查询超时, ``Retry-After``). Should the answer not
come even a little after that, the client gives up the connection and answers the same.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from pingan.errors import Unavailable
from pingan.stats import wire
from pingan.stats.store import SyncReport, remaining, too_slow

CONNECT_TIMEOUT = 2.0
SYNC_TIMEOUT = 3600.0  # a full load at province scale takes minutes, not hours
MAX_IDLE = 8
BUDGET_GRACE = 2.0  # seconds the client waits past a request's budget for the process's answer


class StatsError(RuntimeError):
    """The statistics process could not run a request (an error in the statement, say)."""


class StatementRefused(StatsError):
    """The statistics process refused a statement that is not a single read."""


RETRY_AFTER = 5  # seconds: the statistics process is restarted within about that


def unavailable() -> Unavailable:
    error = Unavailable("统计服务暂不可用，请稍后重试", "Statistics service unavailable; please try again shortly")
    error.retry_after = RETRY_AFTER
    return error


class _Connection:
    def __init__(self, path: str, timeout: float):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.settimeout(CONNECT_TIMEOUT)
            self.sock.connect(path)
            self.sock.settimeout(timeout)
        except BaseException:
            self.sock.close()
            raise
        self.used = False  # has answered before: may have gone stale in the pool
        self.broken = False

    def request(self, message: dict, timeout: float) -> dict:
        try:
            self.sock.settimeout(timeout)
            wire.send(self.sock, message)
            answer = wire.receive(self.sock, limit=wire.MAX_ANSWER)
        except BaseException:
            self.broken = True  # a late answer must not be read as the next one's
            raise
        self.used = True
        return answer

    def close(self) -> None:
        self.sock.close()


class RemoteCursor:
    """A cursor over the statistics process: ``execute`` runs the statement there and keeps its
    rows; ``fetchone`` / ``fetchall`` / ``fetchmany`` and ``description`` behave as DuckDB's."""

    def __init__(self, client: StatsClient, lease: list[_Connection]):
        self._client = client
        self._lease = lease
        self._rows: list[tuple] = []
        self._position = 0
        self.description: list[tuple] | None = None

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> RemoteCursor:
        message = {"op": "query", "sql": sql, "params": wire.encode(list(parameters or []))}
        left = remaining()  # a web request's budget: the statistics process stops the statement then
        if left is not None:
            if left <= 0:
                raise too_slow()
            message["timeout"] = left
        answer = self._client._request(self._lease, message, budget=left)
        self._rows = wire.decode_rows(answer["rows"], [kind for _, kind in answer["columns"]])
        self._position = 0
        self.description = [(name, kind, None, None, None, None, None) for name, kind in answer["columns"]]
        return self

    def fetchone(self) -> tuple | None:
        if self._position >= len(self._rows):
            return None
        self._position += 1
        return self._rows[self._position - 1]

    def fetchmany(self, size: int = 1) -> list[tuple]:
        rows = self._rows[self._position:self._position + size]
        self._position += len(rows)
        return rows

    def fetchall(self) -> list[tuple]:
        rows = self._rows[self._position:]
        self._position = len(self._rows)
        return rows


class StatsClient:
    """The statistics store of the statistics process, reached over ``socket_path``."""

    def __init__(self, socket_path: str, *, timezone: str, timeout: float = 120.0, max_idle: int = MAX_IDLE):
        self.socket_path = socket_path
        self.timezone = timezone
        self.timeout = timeout
        self.max_idle = max_idle
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()

    # --- connections -------------------------------------------------------------------------

    def _connect(self, timeout: float | None = None) -> _Connection:
        try:
            return _Connection(self.socket_path, self.timeout if timeout is None else timeout)
        except OSError as exc:
            raise unavailable() from exc

    def _checkout(self) -> _Connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def _checkin(self, conn: _Connection) -> None:
        if not conn.broken:
            with self._lock:
                if len(self._idle) < self.max_idle:
                    self._idle.append(conn)
                    return
        conn.close()

    def _request(self, lease: list[_Connection], message: dict, *, budget: float | None = None,
                 timeout: float | None = None) -> dict:
        """Send ``message`` on the leased connection (replacing a stale pooled one once) and wait
        for the answer ``timeout`` seconds (default: the client's), or — with a ``budget``, which
        the statistics process keeps itself — a little longer than the budget."""
        wait = self.timeout if timeout is None else timeout
        if budget is not None:
            wait = min(wait, budget + BUDGET_GRACE)
        conn = lease[0]
        try:
            answer = conn.request(message, wait)
        except (ConnectionError, wire.ConnectionClosed) as exc:
            if not conn.used:
                raise unavailable() from exc
            conn.close()
            lease[0] = conn = self._connect()  # the process was restarted since: once more, afresh
            try:
                answer = conn.request(message, wait)
            except TimeoutError as again:
                raise (too_slow() if budget is not None else unavailable()) from again
            except (OSError, ValueError) as again:
                raise unavailable() from again
        except TimeoutError as exc:  # no answer in time: the connection is dropped (``broken``)
            raise (too_slow() if budget is not None else unavailable()) from exc
        except (OSError, ValueError) as exc:  # an oversized or garbled answer
            raise unavailable() from exc
        return _checked(answer)

    @contextmanager
    def reader(self) -> Iterator[RemoteCursor]:
        """A cursor on a connection of its own for the block (one thread's)."""
        lease = [self._checkout()]
        try:
            yield RemoteCursor(self, lease)
        finally:
            self._checkin(lease[0])

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    # --- requests that are not SQL -----------------------------------------------------------

    def ping(self) -> dict:
        """The statistics process's state: ``pid``, ``synced_at`` (ISO, or None before the first
        sync), ``syncing``."""
        with self.reader() as cur:
            return self._request(cur._lease, {"op": "ping"})

    def sync(self, *, full: bool = False) -> SyncReport:
        """Ask the statistics process to sync its store now (it serialises syncs) and wait."""
        conn = self._connect(timeout=max(self.timeout, SYNC_TIMEOUT))
        try:
            answer = self._request([conn], {"op": "sync", "full": full}, timeout=max(self.timeout, SYNC_TIMEOUT))
        finally:
            conn.close()
        report = answer["report"]
        return SyncReport(mode=report["mode"], rows=report["rows"], seconds=report["seconds"])


def _checked(answer: dict) -> dict:
    if answer.get("ok"):
        return answer
    error = answer.get("error") or {}
    kind, message = error.get("kind"), error.get("message", "")
    if kind == "refused":
        raise StatementRefused(message)
    if kind == "timeout":  # the statement ran past the request's budget and was interrupted
        raise too_slow()
    raise StatsError(f"statistics process: {message}")


def answers(socket_path: str, *, timeout: float = 1.0) -> bool:
    """Whether a statistics process answers on ``socket_path`` (a ping within ``timeout``)."""
    try:
        conn = _Connection(socket_path, timeout)
    except OSError:
        return False
    try:
        return bool(conn.request({"op": "ping"}, timeout).get("ok"))
    except (OSError, ValueError):
        return False
    finally:
        conn.close()
