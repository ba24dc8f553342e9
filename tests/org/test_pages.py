"""HTML pages of the org domain: the duty-unit list and the organisation tree, within the subtree."""

from __future__ import annotations

import re

from sqlalchemy import event

from pingan.org.models import UnitStatus


def unit_row(html: str, call_sign: str) -> str:
    return re.search(rf'<tr data-unit="{call_sign}">.*?</tr>', html, re.S).group(0)


def test_units_page_lists_status_org_position_and_task(client, db, world, sign_in):
    from pingan.incident.models import Assignment, AssignmentStatus, Incident, Stage

    incident = Incident(number="JJ20260101000001", category_code="2001", priority=2, stage=Stage.DISPATCHED,
                        location_text="平原路123号", org_unit_id=world.org["office_a"].id)
    db.add(incident)
    db.flush()
    unit = world.units["红旗巡1"]
    unit.status = UnitStatus.ASSIGNED
    db.add(Assignment(incident_id=incident.id, unit_id=unit.id, status=AssignmentStatus.DEPARTED, active=True))
    world.units["红旗巡2"].status = UnitStatus.OFF_DUTY
    db.flush()
    sign_in("dispatcher")
    html = client.get("/units").text
    for call_sign in ("红旗巡1", "红旗巡2", "红旗步1", "卫滨巡1"):
        assert f'data-unit="{call_sign}"' in html
    busy = unit_row(html, "红旗巡1")
    assert "执行任务" in busy and "西街派出所" in busy and "JJ20260101000001" in busy and "已出发" in busy
    assert f'href="/incidents/{incident.id}"' in busy and "35.30100" in busy
    assert "不在岗" in unit_row(html, "红旗巡2")
    html = client.get("/units", params={"status": "available"}).text
    assert 'data-unit="红旗步1"' in html and 'data-unit="红旗巡1"' not in html
    html = client.get("/units", params={"kind": "foot_patrol"}).text
    assert 'data-unit="红旗步1"' in html and 'data-unit="卫滨巡1"' not in html
    html = client.get("/units", params={"status": "nonsense"}).text  # an unknown filter is ignored
    assert 'data-unit="红旗巡2"' in html


def test_units_page_is_limited_to_the_subtree_and_needs_the_permission(client, world, sign_in):
    sign_in("chief_b")
    html = client.get("/units").text
    assert 'data-unit="卫滨巡1"' in html and 'data-unit="红旗巡1"' not in html
    sign_in("auditor")
    assert client.get("/units").status_code == 403
    client.cookies.clear()
    assert client.get("/units", follow_redirects=False).status_code == 303


def test_units_page_query_count_does_not_grow_with_units(client, db, world, sign_in, engine):
    from pingan.org import service

    sign_in("dispatcher")
    client.get("/units")  # the session is then remembered (auth.recent) for both counts
    statements = []

    def count(*_a, **_k):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get("/units")
        few = len(statements)
        for i in range(20):
            service.create_unit(db=db, call_sign=f"测试巡{i}", kind="patrol_car", org_unit_id=world.org["station_a"].id,
                                lat=35.3, lon=113.9)
        db.flush()
        statements.clear()
        html = client.get("/units").text
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert 'data-unit="测试巡19"' in html
    assert len(statements) == few


def test_org_tree_with_unit_counts(client, world, sign_in):
    sign_in("admin")
    html = client.get("/org").text
    codes = re.findall(r'data-org="(\d+)"', html)
    assert codes[0] == "410700000000" and len(codes) == 7
    bureau = re.search(r'<tr class="depth-0[^"]*" data-org="410700000000">.*?</tr>', html, re.S).group(0)
    cells = re.findall(r'<td class="num">(?:<b>)?(\d+)', bureau)
    assert cells[:2] == ["0", "4"]  # no unit of its own, four below it
    station_a = re.search(r'data-org="410702010000">.*?</tr>', html, re.S).group(0)
    assert re.findall(r'<td class="num">(?:<b>)?(\d+)', station_a)[:2] == ["3", "3"]
    assert "派出所" in station_a and "└" in station_a
    sign_in("chief_b")
    html = client.get("/org").text
    assert re.findall(r'data-org="(\d+)"', html) == ["410703010000"]
    sign_in("patrol_a")
    assert client.get("/org").status_code == 403
