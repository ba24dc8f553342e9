"""The bulk writer stores exactly what SQLAlchemy itself would, so the ORM reads demo rows back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy.dialects import sqlite

from pingan.db.types import UTCDateTime
from pingan.demo.writer import sqlite_datetime


def test_sqlite_datetimes_match_sqlalchemys_own_format():
    process = UTCDateTime()._cached_bind_processor(sqlite.dialect())  # decorator + dialect, as in a statement
    shanghai = timezone(timedelta(hours=8))
    for value in (datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 7, 9, 23, 59, 59, 999_999, tzinfo=UTC),
                  datetime(2026, 2, 17, 0, 0, 1, 5, tzinfo=shanghai), datetime(2024, 2, 29, 12, 30, tzinfo=shanghai)):
        assert sqlite_datetime(value) == process(value)
