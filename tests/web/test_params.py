"""The shared reading of ids, days and moments (web.params), and the refusal of NUL characters
(web.validation.refuse_nul): no request's text reaches int(), a date or the database unchecked."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from pydantic import TypeAdapter, ValidationError

from pingan.db.types import MAX_ID
from pingan.web.params import Moment, ascii_id, is_ascii_digits, local_day


@pytest.mark.parametrize("text", ["²", "1²", "٣", "①", "１２", " ", "", "-1", "0", "1e3", str(MAX_ID + 1), "9" * 40])
def test_ascii_id_refuses_what_is_not_a_database_id(text):
    assert ascii_id(text) is None


def test_ascii_id_reads_an_id():
    assert ascii_id(" 17 ") == 17
    assert ascii_id(str(MAX_ID)) == MAX_ID
    assert not is_ascii_digits("²") and is_ascii_digits("2")


@pytest.mark.parametrize("text", ["0001-01-01", "1899-12-31", "2201-01-01", "9999-12-31", "２０２６-01-01",
                                  "2026-02-30", "20260101", "2026-1-1"])
def test_local_day_refuses_days_outside_the_years_or_not_iso(text):
    assert local_day(text) is None


def test_local_day_reads_a_day():
    assert local_day("2026-07-15") == date(2026, 7, 15)


def test_a_moment_without_a_time_zone_is_the_bureaus_local_time():
    moment = TypeAdapter(Moment).validate_python("2026-07-15T08:00:00")
    assert moment.utcoffset() == timedelta(hours=8)
    assert TypeAdapter(Moment).validate_python("2026-07-15T08:00:00Z").utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59", "1899-12-31T00:00:00+08:00"])
def test_a_moment_far_in_the_past_or_future_is_refused(text):
    with pytest.raises(ValidationError):
        TypeAdapter(Moment).validate_python(text)
    assert isinstance(TypeAdapter(Moment).validate_python("2200-01-01T00:00:00"), datetime)
