"""Bad input is a 4xx naming the field, never a 500 — on SQLite and PostgreSQL alike (issue 12,
item 3). Each case here was a 500 before: the page routes' ids above the database's integer,
Unicode digits where an id is expected, days and moments outside what the database holds, a time
without a time zone, NUL characters in text."""

from __future__ import annotations

import pytest

from pingan.db.types import MAX_ID


@pytest.fixture
def admin(login, world):
    return login("admin")


def _fields(resp) -> list[str]:
    error = resp.json()["error"]
    return [f["field"] for f in error["fields"]] if "fields" in error else [error["field"]]


@pytest.mark.parametrize("path", [f"/incidents/{MAX_ID + 1}", f"/incidents/{2**63}", "/incidents/" + "9" * 25,
                                  f"/incidents/{MAX_ID + 1}/panel"])
def test_page_ids_above_the_database_integer_are_refused(client, admin, path):
    resp = client.get(path, headers=admin)
    assert resp.status_code == 422
    assert "incident_id" in resp.text


def test_a_page_action_with_an_id_too_large_is_refused(client, admin):
    resp = client.post(f"/incidents/1/assignments/{2**63}/advance", data={"to": "departed"}, headers=admin)
    assert resp.status_code == 422


@pytest.mark.parametrize("value", ["²", "1²", "٣", str(MAX_ID + 1)])
def test_unicode_digits_and_huge_ids_in_page_filters_and_forms(client, admin, value):
    assert client.get("/units", params={"org": value}, headers=admin).status_code == 200
    assert client.get("/incidents/new/nearby", params={"address_id": value}, headers=admin).status_code == 200
    assert client.post("/incidents/1/assign", data={"unit_id": value}, headers=admin).status_code < 500
    assert client.post("/incidents/new", data={"address_id": value, "merge_into": value,
                                               "location_text": "x"}, headers=admin).status_code < 500


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_page_days_outside_the_years_are_a_message(client, admin, day):
    for path in ("/incidents", "/audit"):
        resp = client.get(path, params={"since": day, "until": day}, headers=admin)
        assert resp.status_code == 200
        assert "1900–2200" in resp.text


@pytest.mark.parametrize("path", ["/api/v1/incidents", "/api/v1/audit"])
def test_api_since_without_a_time_zone_is_the_bureaus_time(client, admin, path):
    assert client.get(path, params={"since": "2026-01-01T00:00:00", "until": "2026-01-02T00:00"},
                      headers=admin).status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/incidents", "/api/v1/audit"])
@pytest.mark.parametrize("moment", ["0001-01-01", "9999-12-31", "1899-12-31T00:00:00Z"])
def test_api_moments_outside_the_years_are_422_naming_the_field(client, admin, path, moment):
    resp = client.get(path, params={"until": moment}, headers=admin)
    assert resp.status_code == 422
    assert _fields(resp) == ["until"]
    assert "1900" in resp.json()["error"]["message"]


@pytest.mark.parametrize("period", ["9999-12-31", "9999-12-30..9999-12-31", "２０２６"])
def test_periods_past_the_calendar_are_422(client, admin, period):
    resp = client.get("/api/v1/stats/values", params={"period": period}, headers=admin)
    assert resp.status_code == 422
    assert _fields(resp) == ["period"]


@pytest.mark.parametrize("path,params", [("/api/v1/incidents", {"q": "a\x00b"}), ("/api/v1/addresses", {"q": "\x00"}),
                                         ("/api/v1/audit", {"entity_id": "\x00"})])
def test_nul_in_a_query_is_422_naming_the_field(client, admin, path, params):
    resp = client.get(path, params=params, headers=admin)
    assert resp.status_code == 422
    assert _fields(resp) == list(params)
    assert "NUL" in resp.json()["error"]["message"]


def test_nul_in_a_json_body_is_422_naming_the_field(client, admin, world):
    resp = client.post("/api/v1/incidents", headers=admin,
                       json={"location_text": "东街\x00100号", "category_code": "10", "priority": 2})
    assert resp.status_code == 422
    assert _fields(resp) == ["location_text"]


def test_nul_in_a_page_form_or_query_is_refused(client, admin):
    assert client.get("/audit", params={"actor_name": "a\x00"}, headers=admin).status_code == 422
    resp = client.post("/incidents/new", data={"location_text": "东街\x00"}, headers=admin)
    assert resp.status_code == 422
    assert "location_text" in resp.text


def test_a_csrf_token_with_non_ascii_characters_is_a_403(client, sign_in, world):
    sign_in("admin")
    assert client.post("/incidents/1/accept", headers={"X-CSRF-Token": "é²".encode("latin-1")}).status_code == 403
    assert client.post("/login", data={"username": "admin", "password": "x", "csrf_token": "²"}).status_code < 500
