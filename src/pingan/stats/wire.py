"""What the statistics process and its clients say to each other over the Unix socket (统计服务协议).

A message is a 4-byte big-endian length and that many bytes of JSON (orjson). Values that JSON
cannot carry exactly travel as tagged objects ``{"$": tag, "v": ...}`` — every JSON object in a
message is such a tag, so a value comes back as what was sent: ``int`` stays ``int`` and
``float`` stays ``float`` (shortest round-trip repr), and a ``datetime`` (naive or aware),
``date``, ``time``, ``timedelta``, ``Decimal`` (its digits and exponent), ``UUID``, ``bytes``,
a non-finite float, an integer beyond 64 bits, a tuple or a dict (DuckDB's STRUCT / MAP) are
tagged. Anything else is refused (``TypeError``) rather than turned into a string. No pickle:
a message can only ever decode to these plain values.

Requests: ``{"op": "query", "sql": ..., "params": [...]}``, ``{"op": "ping"}``,
``{"op": "sync", "full": bool}``. Answers: ``{"ok": true, ...}`` or
``{"ok": false, "error": {"kind": ..., "message": ...}}``.
"""

from __future__ import annotations

import base64
import math
import socket
import struct
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import orjson

HEADER = struct.Struct(">I")
MAX_REQUEST = 16 * 1024 * 1024  # a statement and its parameters
MAX_ANSWER = 1024 * 1024 * 1024  # rows of one result
_INT64 = (-(2 ** 63), 2 ** 64 - 1)  # what orjson writes as a JSON integer


class ConnectionClosed(ConnectionError):
    """The other end closed the socket before a whole message arrived."""


# --- values -------------------------------------------------------------------------------------


def encode(value: Any) -> Any:
    """A value as something orjson writes exactly (see the module docstring)."""
    kind = type(value)
    if value is None or kind is str or kind is bool:
        return value
    if kind is int:
        return value if _INT64[0] <= value <= _INT64[1] else {"$": "int", "v": str(value)}
    if kind is float:
        return value if math.isfinite(value) else {"$": "float", "v": repr(value)}
    if kind is list:
        return [encode(v) for v in value]
    if isinstance(value, datetime):
        zone = getattr(value.tzinfo, "key", None)
        return {"$": "datetime", "v": value.isoformat(), "zone": zone}
    if isinstance(value, date):
        return {"$": "date", "v": value.isoformat()}
    if isinstance(value, time):
        return {"$": "time", "v": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$": "timedelta", "v": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, Decimal):
        return {"$": "decimal", "v": str(value)}
    if isinstance(value, UUID):
        return {"$": "uuid", "v": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$": "bytes", "v": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, tuple):
        return {"$": "tuple", "v": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"$": "dict", "v": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, str):  # a StrEnum, say: its text
        return str(value)
    if isinstance(value, int):  # an IntEnum: its number
        return encode(int(value))
    if isinstance(value, float):
        return encode(float(value))
    if isinstance(value, list):
        return [encode(v) for v in value]
    raise TypeError(f"cannot send a {kind.__name__} to or from the statistics process")


def decode(value: Any) -> Any:
    """The inverse of :func:`encode`."""
    kind = type(value)
    if kind is list:
        return [decode(v) for v in value]
    if kind is not dict:
        return value
    tag, v = value["$"], value["v"]
    if tag == "datetime":
        moment = datetime.fromisoformat(v)
        zone = value.get("zone")
        return moment.astimezone(ZoneInfo(zone)) if zone and moment.tzinfo is not None else moment
    if tag == "date":
        return date.fromisoformat(v)
    if tag == "time":
        return time.fromisoformat(v)
    if tag == "timedelta":
        return timedelta(days=v[0], seconds=v[1], microseconds=v[2])
    if tag == "decimal":
        return Decimal(v)
    if tag == "uuid":
        return UUID(v)
    if tag == "bytes":
        return base64.b64decode(v)
    if tag == "int":
        return int(v)
    if tag == "float":
        return float(v)
    if tag == "tuple":
        return tuple(decode(x) for x in v)
    if tag == "dict":
        return {decode(k): decode(x) for k, x in v}
    raise ValueError(f"unknown value tag {tag!r}")


# DuckDB column types whose Python values JSON carries exactly as they are (None included): a
# result made only of these goes out untouched; other columns are encoded value by value.
PLAIN_TYPES = frozenset({"BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT",
                         "UINTEGER", "UBIGINT", "VARCHAR"})
_FLOAT_TYPES = frozenset({"DOUBLE", "FLOAT"})


def _finite(value: Any) -> Any:
    return value if value is None or math.isfinite(value) else encode(value)


def encode_rows(rows: list[tuple], types: list[str] | None = None) -> list:
    """Rows of a result whose columns have DuckDB ``types`` (unknown: every value is encoded)."""
    if types is None:
        return [[encode(v) for v in row] for row in rows]
    special = [(i, _finite if t in _FLOAT_TYPES else encode) for i, t in enumerate(types) if t not in PLAIN_TYPES]
    if not special:
        return rows  # orjson writes each tuple as an array
    out = []
    for row in rows:
        row = list(row)
        for i, fn in special:
            row[i] = fn(row[i])
        out.append(row)
    return out


def decode_rows(rows: list[list], types: list[str] | None = None) -> list[tuple]:
    """The inverse of :func:`encode_rows` (with the same ``types``)."""
    if types is None:
        return [tuple(decode(v) for v in row) for row in rows]
    special = [i for i, t in enumerate(types) if t not in PLAIN_TYPES]
    if not special:
        return [tuple(row) for row in rows]
    for row in rows:
        for i in special:
            if type(row[i]) is dict or type(row[i]) is list:
                row[i] = decode(row[i])
    return [tuple(row) for row in rows]


# --- messages -----------------------------------------------------------------------------------


def send(sock: socket.socket, message: dict) -> None:
    """One message (already made of plain or encoded values)."""
    body = orjson.dumps(message)
    sock.sendall(HEADER.pack(len(body)) + body)


def receive(sock: socket.socket, *, limit: int) -> dict:
    """One message; ``ConnectionClosed`` at end of stream, ``ValueError`` when it is too long."""
    (size,) = HEADER.unpack(_exactly(sock, HEADER.size))
    if size > limit:
        raise ValueError(f"message of {size} bytes is longer than {limit}")
    return orjson.loads(_exactly(sock, size))


def _exactly(sock: socket.socket, size: int) -> bytes:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        n = sock.recv_into(view[got:], size - got)
        if n == 0:
            raise ConnectionClosed("the statistics socket closed mid-message" if got else "the statistics socket closed")
        got += n
    return bytes(buffer)
