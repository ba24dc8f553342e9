"""Bulk writing for the demo generator: SQLAlchemy Core ``insert()`` executemany in batches.

On SQLite rows go straight to the driver's executemany and on PostgreSQL through COPY (each a
few times faster than per-row parameter processing); elsewhere through Core ``insert()``.
Either way the ORM is bypassed, so the audit hook (an ORM ``after_flush``) does not write a log row
per synthetic record — which is what demo data wants. Ids are given explicitly (children need
their parents' ids before anything is written); on PostgreSQL the id sequences are moved past
them afterwards so the application's own inserts continue after the demo rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from enum import Enum
from operator import itemgetter

from sqlalchemy import Connection, Engine, Table, func, insert, select, text
from sqlalchemy import Enum as SAEnum

import pingan.models  # noqa: F401  (every table registered on the metadata)
from pingan.db.base import Base
from pingan.db.types import UTCDateTime

BATCH = 5_000


def table(name: str) -> Table:
    return Base.metadata.tables[name]


def next_id(conn: Connection, name: str) -> int:
    t = table(name)
    return int(conn.scalar(select(func.coalesce(func.max(t.c.id), 0))) or 0) + 1


def sqlite_datetime(value: datetime) -> str:
    """A datetime as SQLAlchemy's SQLite dialect stores a UTCDateTime: naive UTC,
    'YYYY-MM-DD HH:MM:SS.ffffff' (always six microsecond digits)."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


def _enum_value(value):
    return value.value if isinstance(value, Enum) else value


def _sqlite_writer(conn: Connection, t: Table, columns: list[str]) -> Callable[[list[dict]], None]:
    """executemany straight on the driver with the few conversions these columns need.

    SQLAlchemy's per-row parameter processing costs more than SQLite's insert itself for
    millions of narrow rows; datetimes are formatted exactly as SQLAlchemy's SQLite dialect does
    (see ``sqlite_datetime``) and enums are written as their values.
    """
    convert: list[tuple[int, Callable]] = []
    for i, c in enumerate(columns):
        col_type = t.c[c].type
        if isinstance(col_type, UTCDateTime):
            convert.append((i, sqlite_datetime))
        elif isinstance(col_type, SAEnum):
            convert.append((i, _enum_value))
    sql = (f'INSERT INTO "{t.name}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in columns)}) '
           f'VALUES ({", ".join("?" for _ in columns)})')
    getter = itemgetter(*columns)

    def write(rows: list[dict]) -> None:
        data = []
        for row in rows:
            values = list(getter(row)) if len(columns) > 1 else [row[columns[0]]]
            for i, fn in convert:
                v = values[i]
                if v is not None:
                    values[i] = fn(v)
            data.append(tuple(values))
        conn.exec_driver_sql(sql, data)

    return write


def _postgres_writer(conn: Connection, t: Table, columns: list[str]) -> Callable[[list[dict]], None]:
    """COPY ... FROM STDIN through psycopg, inside the connection's transaction."""
    enums = [i for i, c in enumerate(columns) if isinstance(t.c[c].type, SAEnum)]
    sql = f'COPY "{t.name}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in columns)}) FROM STDIN'
    getter = itemgetter(*columns)

    def write(rows: list[dict]) -> None:
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            with cursor.copy(sql) as copy:
                for row in rows:
                    values = list(getter(row)) if len(columns) > 1 else [row[columns[0]]]
                    for i in enums:
                        values[i] = _enum_value(values[i])
                    copy.write_row(values)
        finally:
            cursor.close()

    return write


def insert_rows(conn: Connection, name: str, rows: Sequence[dict] | Iterable[dict], batch: int = BATCH) -> int:
    """Insert dict rows (all with the same keys) in batches of ``batch``; returns how many."""
    t = table(name)
    write: Callable[[list[dict]], None] | None = None
    count = 0
    chunk: list[dict] = []

    def flush() -> None:
        nonlocal write
        if write is None:
            if conn.dialect.name == "sqlite":
                write = _sqlite_writer(conn, t, list(chunk[0]))
            elif conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
                write = _postgres_writer(conn, t, list(chunk[0]))
            else:
                stmt = insert(t)
                write = lambda rows: conn.execute(stmt, rows)  # noqa: E731
        write(chunk)

    for row in rows:
        chunk.append(row)
        if len(chunk) >= batch:
            flush()
            count += len(chunk)
            chunk = []
    if chunk:
        flush()
        count += len(chunk)
    return count


def fix_sequences(conn: Connection, names: Iterable[str]) -> None:
    """PostgreSQL: move each table's id sequence past the ids written explicitly."""
    if conn.dialect.name != "postgresql":
        return
    for name in names:
        if "id" not in table(name).c:
            continue
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM \"{name}\"), 1), (SELECT MAX(id) FROM \"{name}\") IS NOT NULL)"
        ))


def analyze(engine: Engine) -> None:
    """PostgreSQL: refresh the planner's statistics after a bulk load. Without it the first
    queries on a million fresh rows are planned from empty statistics until autovacuum comes
    round (the statistics sync's change query took 0.7 s instead of 3 ms).

    Not on SQLite: the pages' queries were tuned for its planner without statistics. The
    dispatcher's board now reads the same with them (``ix_incident_open``; it scanned every
    incident before, 24 ms → 2.9 s at city scale); the other pages' plans under SQLite
    statistics have not been checked one by one."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


def count_rows(engine: Engine, name: str) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table(name))) or 0)


def delete_everything(engine: Engine) -> None:
    """Empty every application table, children first (the demo reset). Code tables are
    re-synced by the caller's ``upgrade()`` afterwards."""
    tables = [t for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
        for t in tables:
            conn.execute(t.delete())
