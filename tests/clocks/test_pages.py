"""The holiday table's page and API as the admin uses them, and a clock's explanation fragment."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from pingan.audit.models import AuditLog
from pingan.clocks import repository, service


def test_the_admin_adds_and_removes_a_day_and_a_clock_follows(client, db, world, sign_in, make_clock):
    clock = make_clock("service_limit", datetime(2026, 10, 8, 9))  # due end of 10-14 (test_rules)
    csrf = sign_in("admin")
    page = client.get("/clocks/holidays?year=2026")
    assert page.status_code == 200 and "国庆节" in page.text and 'data-day="2026-10-10"' in page.text
    added = client.post("/clocks/holidays", data={"csrf_token": csrf, "day": "2026-10-13", "kind": "holiday",
                                                  "name": "特别假日"}, follow_redirects=False)
    assert added.status_code == 303 and added.headers["location"] == "/clocks/holidays?year=2026"
    db.expire_all()
    assert service.local(db.get(type(clock), clock.id).due_at) == datetime(2026, 10, 16)
    assert db.scalars(select(AuditLog.entity_id).where(AuditLog.entity == "holiday")).all()
    removed = client.post("/clocks/holidays/2026-10-13/delete", data={"csrf_token": csrf}, follow_redirects=False)
    assert removed.status_code == 303
    assert repository.get_holiday_unscoped(db=db, day=date(2026, 10, 13)) is None


def test_a_refused_day_is_shown_on_the_form_with_what_was_typed(client, world, sign_in):
    csrf = sign_in("admin")
    refused = client.post("/clocks/holidays", data={"csrf_token": csrf, "day": "2026-10-14", "kind": "workday",
                                                    "name": "周三调休"})
    assert refused.status_code == 422
    assert "调休上班日应为周六或周日" in refused.text and 'value="周三调休"' in refused.text


def test_a_year_without_data_says_so(client, world, sign_in, login):
    sign_in("admin")
    page = client.get("/clocks/holidays?year=2027")
    assert page.status_code == 200 and "2027年节假日安排尚无数据" in page.text
    api = client.get("/api/v1/clocks/holidays", params={"year": 2027}, headers=login("dispatcher")).json()
    assert api == {"year": 2027, "has_data": False, "days": []}


def test_the_explanation_fragment_and_the_api_read_the_clock(client, sign_in, login, make_clock):
    clock = make_clock("criminal_detention", datetime(2026, 9, 30, 18))
    sign_in("chief_a")
    fragment = client.get(f"/clocks/{clock.id}/explanation")
    assert fragment.status_code == 200 and "自2026年9月30日18时起算，3日" in fragment.text
    headers = login("chief_a")
    paused = client.post(f"/api/v1/clocks/{clock.id}/pause", json={"reason": "鉴定"}, headers=headers).json()
    assert paused["state"] == "paused" and paused["due_at"] is None and paused["pauses"][0]["reason"] == "鉴定"
    extended = client.post(f"/api/v1/clocks/{clock.id}/resume", headers=headers).json()
    assert extended["state"] in ("running", "due_soon", "overdue")
    other = make_clock("criminal_detention", datetime(2026, 9, 30, 18), side="b")
    assert client.get(f"/api/v1/clocks/{other.id}", headers=headers).status_code == 404
