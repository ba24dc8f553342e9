"""HTML pages of the incident domain: the call-taker's form, the board, the list, the detail page
with its actions, and the patrol officer's page — with cookie sessions and CSRF, as a browser uses them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pingan.audit.models import AuditAction, AuditLog
from pingan.db.types import utcnow
from pingan.incident.models import Assignment, Incident, Stage
from tests._db import count_statements

HX = {"HX-Request": "true"}


def call_form(world, csrf: str, **fields) -> dict:
    address = world.addresses[0]
    data = {"csrf_token": csrf, "caller_phone": "13912345678", "caller_name": "王小明",
            "location_text": "红旗区平原路123号", "address_id": str(address.id), "category_top": "20",
            "category_code": "2001", "priority": "2", "description": "两人在店门口打架"}
    data.update(fields)
    return data


def row_classes(row_html: str) -> list[str]:
    return re.search(r'class="([^"]*)"', row_html.split(">")[0]).group(1).split()


# --- who may open which page -----------------------------------------------------------------


@pytest.mark.parametrize("path,allowed,refused", [
    ("/incidents/new", ["dispatcher", "admin"], ["patrol_a", "chief_a", "community_a", "auditor"]),
    ("/incidents/board", ["dispatcher", "chief_a", "patrol_a", "auditor"], []),
    ("/incidents", ["dispatcher", "chief_a", "community_a", "auditor"], []),
    ("/patrol", ["patrol_a", "patrol_b"], ["dispatcher", "chief_a", "auditor", "admin"]),
])
def test_pages_by_role(client, world, sign_in, path, allowed, refused):
    for username in allowed:
        sign_in(username)
        resp = client.get(path)
        assert resp.status_code == 200, (username, resp.status_code)
        assert "text/html" in resp.headers["content-type"]
    for username in refused:
        sign_in(username)
        resp = client.get(path)
        assert resp.status_code == 403, (username, resp.status_code)
        assert "当前角色无权执行此操作" in resp.text and "Your role may not do this" in resp.text


@pytest.mark.parametrize("path", ["/incidents/new", "/incidents/board", "/incidents", "/patrol", "/incidents/1"])
def test_pages_send_an_anonymous_visitor_to_the_login(client, world, path):
    resp = client.get(path, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login?next=")


# --- the call-taker's page -------------------------------------------------------------------


def test_call_form_is_keyboard_first(client, world, sign_in):
    csrf = sign_in("dispatcher")
    html = client.get("/incidents/new").text
    assert f'name="csrf_token" value="{csrf}"' in html and f'<meta name="csrf-token" content="{csrf}">' in html
    # fields in the order a call-taker types them
    order = [html.index(f'id="{name}"') for name in
             ("caller_phone", "caller_name", "location_text", "category_top", "category_code", "priority-group",
              "description", "submit-call")]
    assert order == sorted(order)
    assert 'id="caller_phone"' in html and "autofocus" in html.split('id="caller_phone"')[1].split(">")[0]
    assert 'role="combobox"' in html and 'data-match-url="/api/v1/addresses/match"' in html
    assert html.count('name="priority"') == 4
    assert "20 治安警情" in html
    assert "2001 打架斗殴" in html and "Alt+N" in html


def test_taking_a_call_creates_the_incident_and_offers_dispatch(client, db, world, sign_in):
    csrf = sign_in("dispatcher")
    resp = client.post("/incidents/new", data=call_form(world, csrf), follow_redirects=False)
    assert resp.status_code == 303, resp.text
    incident_id = int(re.search(r"created=(\d+)", resp.headers["location"]).group(1))
    incident = db.get(Incident, incident_id)
    assert incident.address_id == world.addresses[0].id and incident.priority == 2
    assert incident.category_code == "2001" and incident.caller_phone == "13912345678"
    assert incident.grid_id == world.grids["a"].id
    page = client.get(resp.headers["location"]).text
    assert incident.number in page and f'href="/incidents/{incident_id}"' in page and "去派警" in page
    assert 'value="13912345678"' not in page  # a fresh form for the next call


def test_a_post_without_the_csrf_token_is_refused(client, db, world, sign_in):
    sign_in("dispatcher")
    before = db.scalar(select(func.count()).select_from(Incident))
    resp = client.post("/incidents/new", data=call_form(world, ""), follow_redirects=False)
    assert resp.status_code == 403 and "CSRF" in resp.text
    resp = client.post("/incidents/new", data=call_form(world, "forged-token"), follow_redirects=False)
    assert resp.status_code == 403
    assert db.scalar(select(func.count()).select_from(Incident)) == before


def test_validation_errors_rerender_the_form_with_field_messages_keeping_what_was_typed(client, db, world, sign_in):
    csrf = sign_in("dispatcher")
    form = call_form(world, csrf, caller_phone="110", location_text="  ", address_id="", category_top="",
                     category_code="", description="醉酒男子砸车")
    resp = client.post("/incidents/new", data=form)
    assert resp.status_code == 422
    html = resp.text
    assert "报警人电话格式不正确" in html and "must be a mobile number" in html
    assert "请填写案发地点" in html and "The location is required" in html
    assert "请选择警情类别" in html and "Choose a category" in html
    assert 'aria-invalid="true"' in html
    assert 'value="110"' in html and "醉酒男子砸车" in html and 'value="王小明"' in html
    assert db.scalar(select(func.count()).select_from(Incident)) == 0


def test_a_refusal_from_the_service_is_shown_on_its_field(client, world, sign_in):
    csrf = sign_in("chief_b")  # no incident.create: refused before the form is even read
    assert client.post("/incidents/new", data=call_form(world, csrf)).status_code == 403
    csrf = sign_in("dispatcher")
    resp = client.post("/incidents/new", data=call_form(world, csrf, address_id="999999"))
    assert resp.status_code == 422
    assert 'id="address_id-error"' in resp.text and "标准地址不存在或不在辖区内" in resp.text
    assert ">两人在店门口打架</textarea>" in resp.text and 'value="红旗区平原路123号"' in resp.text


def test_nearby_open_incidents_and_adding_the_call_to_one(client, db, world, sign_in, make_incident):
    existing = make_incident("a")
    far_b = make_incident("b")
    csrf = sign_in("dispatcher")
    a = world.addresses[1]  # 平原路125号, about 90 m from 123号
    html = client.get("/incidents/new/nearby", params={"address_id": a.id, "lat": a.lat, "lon": a.lon},
                      headers=HX).text
    assert existing.number in html and far_b.number not in html and "<html" not in html
    assert f'name="merge_into" value="{existing.id}"' in html
    # an old incident at the same place is not offered
    existing.received_at = utcnow() - timedelta(hours=2)
    db.flush()
    html = client.get("/incidents/new/nearby", params={"address_id": a.id, "lat": a.lat, "lon": a.lon}).text
    assert existing.number not in html
    existing.received_at = utcnow()
    db.flush()

    resp = client.post("/incidents/new", data=call_form(world, csrf, merge_into=str(existing.id),
                                                        caller_phone="13700001111"), follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == f"/incidents/new?added={existing.id}"
    db.refresh(existing)
    assert existing.call_count == 2
    assert db.scalar(select(func.count()).select_from(Incident)) == 2  # no new incident
    page = client.get(resp.headers["location"]).text
    assert "来电已并入警情" in page and existing.number in page


# --- the board -------------------------------------------------------------------------------


def test_board_lists_open_incidents_with_the_overdue_flag(client, db, world, sign_in, make_incident):
    fresh = make_incident("a", priority=3)
    late = make_incident("a", priority=1)
    late.received_at = utcnow() - timedelta(minutes=3)
    closed = make_incident("a", priority=2)
    closed.stage, closed.closed_at = Stage.CLOSED, utcnow()
    db.flush()
    sign_in("dispatcher")
    html = client.get("/incidents/board").text
    assert 'data-board' in html and 'id="board-map"' in html and "/static/vendor/leaflet/leaflet.js" in html
    assert 'data-geojson="/api/v1/grids?format=geojson"' in html and 'data-units-url="/api/v1/units"' in html
    assert fresh.number in html and late.number in html and closed.number not in html
    late_row = re.search(rf'<tr data-id="{late.id}".*?</tr>', html, re.S).group(0)
    assert "overdue" in row_classes(late_row) and 'data-priority="1"' in late_row
    fresh_row = re.search(rf'<tr data-id="{fresh.id}".*?</tr>', html, re.S).group(0)
    assert "overdue" not in row_classes(fresh_row) and 'data-target-seconds="120"' in fresh_row
    assert html.index(late.number) < html.index(fresh.number)  # overdue first
    rows = client.get("/incidents/board/rows", headers=HX)
    assert rows.status_code == 200 and "<html" not in rows.text and 'id="board-live"' in rows.text
    assert fresh.number in rows.text and 'id="overdue-count">1<' in rows.text


def test_board_is_limited_to_the_jurisdiction(client, world, sign_in, make_incident):
    a, b = make_incident("a"), make_incident("b")
    sign_in("chief_b")
    html = client.get("/incidents/board/rows").text
    assert b.number in html and a.number not in html


# --- the list --------------------------------------------------------------------------------


def test_list_filters_and_pages(client, db, world, sign_in, make_incident):
    theft = make_incident("a", category_code="1001", priority=3, description="电动车被盗")
    fight = make_incident("a", category_code="2001", priority=2)
    other = make_incident("b", category_code="3001", priority=1)
    fight.stage = Stage.ACCEPTED
    db.flush()
    sign_in("dispatcher")
    html = client.get("/incidents").text
    assert all(i.number in html for i in (theft, fight, other)) and "138****5678" in html and "13812345678" not in html
    html = client.get("/incidents", params={"category": "10"}).text
    assert theft.number in html and fight.number not in html
    html = client.get("/incidents", params={"stage": "accepted"}).text
    assert fight.number in html and theft.number not in html
    html = client.get("/incidents", params={"priority": "1"}).text
    assert other.number in html and theft.number not in html
    html = client.get("/incidents", params={"q": "电动车"}).text
    assert theft.number in html and fight.number not in html
    today = utcnow().astimezone().date()
    html = client.get("/incidents", params={"since": (today + timedelta(days=2)).isoformat()}).text
    assert theft.number not in html and "没有符合条件的警情" in html
    html = client.get("/incidents", params={"since": "2026-13-01"}).text
    assert "起始日期格式应为" in html and theft.number in html
    for _ in range(50):
        make_incident("a")
    first = client.get("/incidents").text
    assert "第 1 / 2 页" in first and 'rel="next"' in first
    second = client.get("/incidents", params={"page": 2}).text
    assert 'rel="prev"' in second and second.count('<tr class="prio-row-') == 3


def test_list_page_query_count_does_not_grow_with_rows(client, world, sign_in, make_incident, engine):
    sign_in("dispatcher")
    for _ in range(5):
        make_incident("a")
    client.get("/incidents")  # the session is then remembered (auth.recent) for both counts
    few, resp = count_statements(engine, lambda: client.get("/incidents"))
    assert resp.status_code == 200 and resp.text.count('<tr class="prio-row-') == 5
    for i in range(35):
        make_incident("a" if i % 2 else "b", category_code="1001" if i % 3 else "6001")
    many, resp = count_statements(engine, lambda: client.get("/incidents"))
    assert resp.status_code == 200 and resp.text.count('<tr class="prio-row-') == 40
    assert few == many, (few, many)
    board_few, _ = count_statements(engine, lambda: client.get("/incidents/board/rows"))
    make_incident("a")
    board_more, _ = count_statements(engine, lambda: client.get("/incidents/board/rows"))
    assert board_few == board_more


# --- the detail page and its actions -----------------------------------------------------------


def test_detail_shows_masked_caller_timeline_and_recommendations(client, world, sign_in, make_incident):
    incident = make_incident("a")
    sign_in("dispatcher")
    html = client.get(f"/incidents/{incident.id}").text
    assert incident.number in html and "138****5678" in html and "张*丰" in html and "13812345678" not in html
    assert 'id="accept-button"' in html and 'data-incident-id="%d"' % incident.id in html
    assert 'data-unit="红旗巡1"' in html and "推荐警力" in html
    assert 'class="timeline"' in html and "已接警" in html and "dispatcher" in html
    sign_in("chief_b")
    resp = client.get(f"/incidents/{incident.id}")
    assert resp.status_code == 404 and "警情不存在或不在辖区内" in resp.text


def test_accept_assign_and_a_refused_assignment_inline(client, db, world, sign_in, make_incident):
    first, second = make_incident("a"), make_incident("a")
    csrf = sign_in("dispatcher")
    resp = client.post(f"/incidents/{first.id}/accept", data={"csrf_token": csrf}, headers=HX)
    assert resp.status_code == 200 and 'id="incident-panel"' in resp.text and "<html" not in resp.text
    assert 'class="stage stage-accepted"' in resp.text and 'id="accept-button"' not in resp.text
    unit = world.units["红旗巡1"]
    resp = client.post(f"/incidents/{first.id}/assign", data={"csrf_token": csrf, "unit_id": unit.id}, headers=HX)
    assert resp.status_code == 200
    assert re.search(r'data-unit="红旗巡1" data-status="dispatched"', resp.text)
    # the same unit to another incident: refused inline, in both languages, nothing changed
    resp = client.post(f"/incidents/{second.id}/assign", data={"csrf_token": csrf, "unit_id": unit.id}, headers=HX)
    assert resp.status_code == 409
    assert 'data-flash="assign"' in resp.text and "该警力已被其他调度员派出" in resp.text
    assert "unit already taken" in resp.text and 'id="incident-panel"' in resp.text
    assert db.scalar(select(func.count()).select_from(Assignment).where(Assignment.incident_id == second.id)) == 0
    # without htmx: the same refusal on the full page, and success redirects back to the page
    resp = client.post(f"/incidents/{second.id}/assign", data={"csrf_token": csrf, "unit_id": unit.id},
                       follow_redirects=False)
    assert resp.status_code == 409 and "<html" in resp.text and "该警力已被其他调度员派出" in resp.text
    resp = client.post(f"/incidents/{second.id}/accept", data={"csrf_token": csrf}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == f"/incidents/{second.id}"
    # an action without the token is refused
    resp = client.post(f"/incidents/{second.id}/resolve", data={"note": "x"}, headers=HX)
    assert resp.status_code == 403
    db.refresh(second)
    assert second.stage == Stage.ACCEPTED


def test_close_needs_a_disposition_then_callback(client, db, world, sign_in, make_incident):
    incident = make_incident("a")
    csrf = sign_in("dispatcher")
    resp = client.post(f"/incidents/{incident.id}/close", data={"csrf_token": csrf, "disposition": ""}, headers=HX)
    assert resp.status_code == 422 and "结警须选择处警结果" in resp.text and 'data-flash="close"' in resp.text
    resp = client.post(f"/incidents/{incident.id}/close",
                       data={"csrf_token": csrf, "disposition": "mediated", "note": "双方和解"}, headers=HX)
    assert resp.status_code == 200 and 'class="stage stage-closed"' in resp.text
    assert "调解处理" in resp.text and "双方和解" in resp.text and 'id="callback-card"' in resp.text
    resp = client.post(f"/incidents/{incident.id}/callback",
                       data={"csrf_token": csrf, "satisfaction": "satisfied", "note": "群众满意"}, headers=HX)
    assert resp.status_code == 200 and "回访记录" in resp.text and "群众满意" in resp.text
    db.refresh(incident)
    assert incident.stage == Stage.CLOSED and incident.disposition == "mediated"


def test_showing_the_caller_needs_a_purpose_and_is_audited(client, db, world, sign_in, make_incident):
    incident = make_incident("a")
    csrf = sign_in("dispatcher")
    resp = client.post(f"/incidents/{incident.id}/caller", data={"csrf_token": csrf, "purpose": ""}, headers=HX)
    assert resp.status_code == 422 and "请填写查看事由" in resp.text and "13812345678" not in resp.text
    resp = client.post(f"/incidents/{incident.id}/caller", data={"csrf_token": csrf, "purpose": "回拨核实现场情况"},
                       headers=HX)
    assert resp.status_code == 200 and "13812345678" in resp.text and "张三丰" in resp.text
    entry = db.scalar(select(AuditLog).where(AuditLog.action == AuditAction.READ,
                                             AuditLog.entity_id == str(incident.id)))
    assert entry is not None and entry.purpose == "回拨核实现场情况" and entry.actor_name == "dispatcher"
    csrf = sign_in("patrol_a")
    resp = client.post(f"/incidents/{incident.id}/caller", data={"csrf_token": csrf, "purpose": "看看"})
    assert resp.status_code == 403


def test_english_detail_page(client, world, sign_in, make_incident):
    incident = make_incident("a")
    sign_in("dispatcher")
    client.cookies.set("lang", "en")
    html = client.get(f"/incidents/{incident.id}").text
    assert "Recommended units" in html and "Accept" in html and "received" in html


# --- the patrol page -----------------------------------------------------------------------------


def test_patrol_page_moves_the_own_assignment(client, db, world, sign_in, make_incident):
    incident = make_incident("a", description="商店门口有人打架")
    sign_in("patrol_a")
    html = client.get("/patrol").text
    assert 'name="viewport"' in html and "红旗巡1" in html and "暂无派警任务" in html
    assert 'data-url="/api/v1/units/%d/position"' % world.units["红旗巡1"].id in html

    csrf = sign_in("dispatcher")
    client.post(f"/incidents/{incident.id}/assign", data={"csrf_token": csrf, "unit_id": world.units["红旗巡1"].id})
    assignment = db.scalar(select(Assignment).where(Assignment.incident_id == incident.id))

    csrf = sign_in("patrol_a")
    html = client.get("/patrol/task", headers=HX).text
    assert "商店门口有人打架" in html and incident.location_text in html and 'data-next="departed"' in html
    for to, next_step in (("departed", "arrived"), ("arrived", "cleared")):
        resp = client.post(f"/patrol/assignments/{assignment.id}/advance", data={"csrf_token": csrf, "to": to},
                           headers=HX)
        assert resp.status_code == 200 and f'data-next="{next_step}"' in resp.text
    db.refresh(incident)
    assert incident.stage == Stage.ARRIVED and incident.arrived_at is not None
    # a step that is not allowed is refused on the page, in both languages
    resp = client.post(f"/patrol/assignments/{assignment.id}/advance", data={"csrf_token": csrf, "to": "departed"},
                       headers=HX)
    assert resp.status_code == 409 and "不能变为" in resp.text and "cannot become" in resp.text
    # another officer cannot move it
    csrf_b = sign_in("patrol_b")
    resp = client.post(f"/patrol/assignments/{assignment.id}/advance", data={"csrf_token": csrf_b, "to": "cleared"},
                       headers=HX)
    assert resp.status_code in (403, 404)
    # without htmx the step redirects back to the page
    csrf = sign_in("patrol_a")
    resp = client.post(f"/patrol/assignments/{assignment.id}/advance", data={"csrf_token": csrf, "to": "cleared"},
                       follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/patrol"
    db.refresh(incident)
    assert incident.stage == Stage.RESOLVED
    assert "暂无派警任务" in client.get("/patrol").text


def test_patrol_without_a_unit(client, db, world, sign_in):
    world.units["卫滨巡1"].operator_user_id = None
    db.flush()
    sign_in("patrol_b")
    assert "未绑定警力单元" in client.get("/patrol").text
