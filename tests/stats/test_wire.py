"""The statistics socket's messages: every value DuckDB returns comes back as it was sent."""

from __future__ import annotations

import math
import socket
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from pingan.stats import wire


def same(a, b) -> bool:
    """Equal and of the same type all the way down (1 is not 1.0, Decimal('1.50') keeps its 0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, Decimal):
        return a.as_tuple() == b.as_tuple()
    if isinstance(a, datetime):
        return a == b and a.tzinfo == b.tzinfo and a.fold == b.fold and a.utcoffset() == b.utcoffset()
    return a == b


ROW = (
    None, True, False, 0, -7, 2 ** 63 - 1, 2 ** 64 - 1, -(2 ** 63), 2 ** 70, -(2 ** 80),  # ints, a HUGEINT
    0.0, -0.0, 1.0, 0.1, 1e300, 5e-324, 2 / 3, math.inf, -math.inf, math.nan,  # floats (1.0 is no int)
    "", "平安 — 新乡市", "{\"$\": \"date\", \"v\": \"2025-01-01\"}",  # a string that looks like a tag stays a string
    datetime(2025, 7, 1, 10, 0, 0, 123456),  # DuckDB TIMESTAMP: naive
    datetime(2025, 7, 1, 2, 0, tzinfo=UTC),
    datetime(2025, 7, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
    datetime(2025, 11, 2, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York")),  # the second 01:30
    datetime(2025, 7, 1, 10, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    date(2025, 2, 28), time(23, 59, 59, 999999), timedelta(days=-1, seconds=3, microseconds=4),
    Decimal("1.50"), Decimal("-0.000"), Decimal("12345678901234567890.123456789"), Decimal("1E+3"),
    UUID("5175cdcb-bb5d-465b-a919-5afb8e2dd5c2"), b"\x00\xffbytes",
    [1, 2.0, None, [date(2024, 2, 29)]],  # LIST
    (1, "a"),  # ARRAY
    {"a": 1, "b": [Decimal("2.5")]},  # STRUCT
    {1: "x", 2: None},  # MAP with non-text keys
)


def test_a_row_of_every_kind_round_trips_exactly():
    sent = [ROW, ROW[:3]]
    body = wire.orjson.dumps(wire.encode_rows(sent))
    back = wire.decode_rows(wire.orjson.loads(body))
    assert len(back) == 2 and all(type(r) is tuple for r in back)
    for a, b in zip(ROW, back[0]):
        assert same(a, b), (a, b)


def test_parameters_round_trip_as_a_list():
    params = [1, 2.5, "x", [1, 2, 3], datetime(2026, 7, 1), Decimal("0.1")]
    back = wire.decode(wire.orjson.loads(wire.orjson.dumps(wire.encode(params))))
    assert same(params, back)


def test_enum_members_travel_as_their_values():
    from pingan.incident.models import Stage

    assert wire.encode([Stage.CLOSED]) == ["closed"] and type(wire.encode(Stage.CLOSED)) is str


def test_an_unknown_type_is_refused_not_stringified():
    with pytest.raises(TypeError, match="cannot send a object"):
        wire.encode([object()])
    with pytest.raises(ValueError, match="unknown value tag"):
        wire.decode({"$": "pickle", "v": "gASV"})


def test_messages_are_framed_and_bounded():
    left, right = socket.socketpair()
    with left, right:
        wire.send(left, {"op": "ping", "text": "统计" * 1000})
        assert wire.receive(right, limit=wire.MAX_REQUEST) == {"op": "ping", "text": "统计" * 1000}
        wire.send(left, {"op": "query", "sql": "x" * 100})
        with pytest.raises(ValueError, match="longer than 50"):
            wire.receive(right, limit=50)
    left, right = socket.socketpair()
    with right:
        left.sendall(wire.HEADER.pack(10) + b"{")  # the sender dies mid-message
        left.close()
        with pytest.raises(wire.ConnectionClosed):
            wire.receive(right, limit=100)


def test_rows_typed_by_their_columns_round_trip_exactly():
    """The server names each column's DuckDB type: plain columns travel untouched, a DOUBLE column
    only has its non-finite values tagged, any other column is encoded value by value."""
    types = ["BIGINT", "VARCHAR", "BOOLEAN", "UBIGINT", "DOUBLE", "TIMESTAMP", "DECIMAL(10,2)", "INTEGER[]"]
    rows = [(1, "西街", True, 2 ** 64 - 1, 0.1, datetime(2025, 7, 1, 10), Decimal("1.50"), [1, None]),
            (None, None, None, None, math.inf, None, None, None),
            (-(2 ** 63), "", False, 0, math.nan, datetime(2025, 7, 1, 10, 0, 0, 1), Decimal("-0.00"), [])]
    plain = [r[:4] for r in rows]
    assert wire.encode_rows(plain, types[:4]) is plain  # nothing to do
    body = wire.orjson.dumps(wire.encode_rows(rows, types))
    back = wire.decode_rows(wire.orjson.loads(body), types)
    assert all(type(r) is tuple for r in back)
    for sent, got in zip(rows, back):
        for a, b in zip(sent, got):
            assert same(a, b), (a, b)
