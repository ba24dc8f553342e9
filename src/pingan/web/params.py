"""Request parameters every route and page shares: ids, local days, moments.

One reading of each, so that no handler turns a request's text into a number or a time on its
own (``str.isdigit()`` is true for "²", ``int()`` of a 20-digit id overflows the database's
integer, a moment without a time zone cannot be compared with the stored UTC ones):

- :data:`PathId` — a record id in a path: 1 … ``MAX_ID`` (the database's INTEGER), else 422.
- :func:`ascii_id` — an id typed into a form or a page's filter: ASCII digits only, 1 … ``MAX_ID``,
  else ``None`` (a filter that is not understood is not applied; the form says what is wrong).
- :func:`local_day` — a ``YYYY-MM-DD`` day within :data:`MIN_YEAR` … :data:`MAX_YEAR`, else ``None``.
- :data:`Moment` — a ``since``/``until`` of the API: ISO 8601; without a time zone it is the
  bureau's local time (``PINGAN_TIMEZONE``); outside the years 1900–2200, 422 naming the field.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Path
from pydantic import AfterValidator, Field

from pingan.db.types import MAX_ID

# Every date a request may name lies within these years: far enough for any record, near enough
# that a time-zone shift or a day added never leaves what Python, SQLite and PostgreSQL can hold.
MIN_YEAR, MAX_YEAR = 1900, 2200

PathId = Annotated[int, Path(ge=1, le=MAX_ID)]


def is_ascii_digits(text: str) -> bool:
    """True for a non-empty run of 0–9 only (``str.isdigit`` also takes "²", "٣", "①")."""
    return text.isascii() and text.isdigit()


def ascii_id(text: str | None) -> int | None:
    """An id from a form field or query filter, or None when it is not one (1 … MAX_ID)."""
    text = (text or "").strip()
    if not is_ascii_digits(text) or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def local_day(text: str | None) -> date | None:
    """A ``YYYY-MM-DD`` day between the years MIN_YEAR and MAX_YEAR, or None."""
    text = (text or "").strip()
    if len(text) != 10 or not text.isascii():
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if MIN_YEAR <= day.year <= MAX_YEAR else None


def _bureau_zone() -> ZoneInfo:
    from pingan.config import get_settings

    return ZoneInfo(get_settings().timezone)


def _moment(value: datetime) -> datetime:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"时间应在 {MIN_YEAR} 至 {MAX_YEAR} 年之间 / "
                         f"must be a time between the years {MIN_YEAR} and {MAX_YEAR}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=_bureau_zone())
    return value


Moment = Annotated[datetime, AfterValidator(_moment)]


def day_start(day: date) -> datetime:
    """The first moment of a local day, in the bureau's time zone."""
    return datetime.combine(day, time.min, tzinfo=_bureau_zone())


# A point in a JSON request: a number, never a boolean or a string ("strict": pydantic's lax mode
# took `true` as 1.0), within the globe — as the OpenAPI document says ("type": "number").
Latitude = Annotated[float, Field(ge=-90, le=90, strict=True, description="纬度 / latitude (WGS-84)")]
Longitude = Annotated[float, Field(ge=-180, le=180, strict=True, description="经度 / longitude (WGS-84)")]
