"""The demo city generator: real divisions, grids that tile the districts, addresses inside their
grids, incidents that follow the stages and the jurisdiction, determinism, and logins."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import shapely
from shapely.geometry import shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pingan.demo.generator import TABLES
from pingan.demo.geography import division_rows
from pingan.demo.organisation import DEMO_PASSWORD
from pingan.geo.models import Address, Division, DivisionLevel, Grid, ZoneClass
from pingan.incident.models import Assignment, Call, Callback, Incident, Stage, StageEvent
from pingan.org.models import DutyUnit, Officer, OrgKind, OrgUnit, Role, UnitKind, UnitStatus, User
from tests.demo.conftest import SEED, build_demo, digest, fresh_database

STAMPS = ("received_at", "accepted_at", "dispatched_at", "departed_at", "arrived_at", "resolved_at", "closed_at")
STAGE_OF_STAMP = dict(zip(STAMPS, list(Stage), strict=True))


def session(demo) -> Session:
    return Session(bind=demo.engine)


def test_the_same_seed_gives_the_same_city(demo, demo_now):
    url, drop = fresh_database()
    try:
        twin = build_demo(url, seed=SEED, now=demo_now)
        try:
            assert twin.result.counts == demo.result.counts
            assert digest(twin.engine, TABLES) == digest(demo.engine, TABLES)
        finally:
            twin.engine.dispose()
    finally:
        drop()


def test_divisions_are_the_real_ones_with_synthetic_communities(demo):
    official = division_rows()
    with session(demo) as db:
        divisions = {d.code: d for d in db.scalars(select(Division))}
    assert divisions["410700"].name == "新乡市" and divisions["410700"].level == DivisionLevel.CITY
    assert divisions["410702"].name == "红旗区" and divisions["410702"].level == DivisionLevel.COUNTY
    assert divisions["410702001000"].name == "西街街道"
    townships = [d for d in divisions.values() if d.level == DivisionLevel.TOWNSHIP]
    assert townships and all(official[d.code[:9]][2] == d.name and d.code.endswith("000") for d in townships)
    communities = [d for d in divisions.values() if d.level == DivisionLevel.COMMUNITY]
    assert communities
    for c in communities:
        assert len(c.code) == 12 and c.code.isdigit()
        assert c.parent_code == c.code[:9] + "000" and c.parent_code in divisions
        assert c.name.endswith(("社区", "村"))


def test_grids_tile_the_district_without_overlaps(demo):
    with session(demo) as db:
        grids = list(db.scalars(select(Grid)))
        communities = {d.code for d in db.scalars(select(Division).where(Division.level == DivisionLevel.COMMUNITY))}
        offices = {o.id: o for o in db.scalars(select(OrgUnit))}
    assert len(grids) >= 20
    shapes = [shape(json.loads(g.polygon)) for g in grids]
    assert all(s.is_valid and s.area > 0 for s in shapes)
    union = shapely.union_all(shapes)
    assert abs(union.area - sum(s.area for s in shapes)) < 1e-6 * union.area  # no overlaps
    # They cover the real boundary of 红旗区 (slivers of crumbs aside).
    from pingan.demo.geography import county_boundaries

    hongqi = shape(county_boundaries({"410702"})["410702"])
    assert union.area / hongqi.area > 0.97
    zones = Counter(g.zone_class for g in grids)
    assert zones[ZoneClass.URBAN] and zones[ZoneClass.SUBURBAN] and zones[ZoneClass.CENTRE]
    for g, s in zip(grids, shapes, strict=True):
        assert g.division_code in communities
        assert offices[g.org_unit_id].kind == OrgKind.COMMUNITY_OFFICE
        assert (g.min_lon, g.min_lat, g.max_lon, g.max_lat) == tuple(round(v, 6) for v in s.bounds)


def test_every_address_lies_inside_its_grid(demo):
    with session(demo) as db:
        grids = {g.id: (shape(json.loads(g.polygon)), g.division_code) for g in db.scalars(select(Grid))}
        addresses = list(db.execute(select(Address.id, Address.lat, Address.lon, Address.grid_id,
                                           Address.division_code, Address.full_text, Address.parent_id,
                                           Address.level)))
    assert len(addresses) > 1000
    levels = Counter(a.level for a in addresses)
    assert all(levels[k] for k in (1, 2, 3, 4))  # houses, buildings, units and rooms
    by_id = {a.id: a for a in addresses}
    for a in addresses:
        polygon, community = grids[a.grid_id]
        assert shapely.contains_xy(polygon, a.lon, a.lat), a.full_text
        assert a.division_code == community
        assert a.full_text.startswith("河南省新乡市红旗区")
        if a.level > 1:
            assert by_id[a.parent_id].level < a.level and a.full_text.startswith(by_id[a.parent_id].full_text)
    assert any("组" in a.full_text for a in addresses)  # village houses by 村民小组
    assert any(a.full_text.endswith("室") and "单元" in a.full_text for a in addresses)


def test_org_tree_officers_units_and_users(demo):
    with session(demo) as db:
        units = {u.id: u for u in db.scalars(select(OrgUnit))}
        officers = list(db.scalars(select(Officer)))
        duty = list(db.scalars(select(DutyUnit)))
        users = {u.username: u for u in db.scalars(select(User))}
    kinds = Counter(u.kind for u in units.values())
    assert kinds[OrgKind.BUREAU] == 1 and kinds[OrgKind.COMMAND_CENTRE] == 1 and kinds[OrgKind.TEAM] == 1
    assert kinds[OrgKind.BRANCH] == 1 and kinds[OrgKind.STATION] >= 5 and kinds[OrgKind.COMMUNITY_OFFICE] >= 5
    for u in units.values():
        parent = units.get(u.parent_id)
        assert u.path == f"{parent.path if parent else '/'}{u.id}/"
    assert len({o.badge_no for o in officers}) == len(officers)
    assert all(len(o.badge_no) == 6 and o.badge_no.isdigit() and 2 <= len(o.name) <= 4 for o in officers)
    assert {d.kind for d in duty} >= {UnitKind.PATROL_CAR, UnitKind.FOOT_PATROL, UnitKind.MOTORCYCLE}
    assert all(units[d.org_unit_id].kind in (OrgKind.STATION, OrgKind.TEAM) for d in duty)
    roles = {u.role for u in users.values()}
    assert roles == set(Role)
    patrol = users["patrol"]
    operated = [d for d in duty if d.operator_user_id == patrol.id]
    assert len(operated) == 1 and operated[0].org_unit_id == patrol.org_unit_id
    assert units[users["chief"].org_unit_id].kind == OrgKind.STATION
    assert units[users["community"].org_unit_id].parent_id == users["chief"].org_unit_id


def test_incidents_follow_their_grid_and_address(demo):
    with session(demo) as db:
        grids = {g.id: g for g in db.scalars(select(Grid))}
        addresses = {a.id: a for a in db.scalars(select(Address))}
        incidents = list(db.scalars(select(Incident)))
    assert len(incidents) > 800
    for i in incidents:
        grid = grids[i.grid_id]
        address = addresses[i.address_id]
        assert i.org_unit_id == grid.org_unit_id
        assert i.zone_class == grid.zone_class
        assert address.grid_id == grid.id and (i.lat, i.lon) == (address.lat, address.lon)
        assert i.division_code == address.division_code
        assert i.number.startswith("JJ") and len(i.number) == 16


def test_stage_timestamps_are_ordered_and_match_the_stage(demo, demo_now):
    with session(demo) as db:
        incidents = list(db.scalars(select(Incident)))
        events = list(db.execute(select(StageEvent.incident_id, StageEvent.stage, StageEvent.at,
                                        StageEvent.org_unit_id)))
        calls = Counter(db.scalars(select(Call.incident_id)))
        callbacks = list(db.scalars(select(Callback)))
    by_incident = {}
    for e in events:
        by_incident.setdefault(e.incident_id, []).append(e)
    closed_at = {}
    for i in incidents:
        stamps = [getattr(i, s) for s in STAMPS]
        present = [t for t in stamps if t is not None]
        assert present == sorted(present) and all(t <= demo_now for t in present)
        last = [s for s in STAMPS if getattr(i, s) is not None][-1]
        # the stage is the furthest stamp (dispatch can be skipped: answered on the phone)
        assert i.stage == STAGE_OF_STAMP[last]
        assert (i.disposition is not None) == (i.stage == Stage.CLOSED)
        assert i.call_count == calls[i.id]
        timeline = by_incident[i.id]
        assert {e.org_unit_id for e in timeline} == {i.org_unit_id}
        assert all(i.received_at <= e.at <= demo_now for e in timeline)
        stages = Counter(e.stage for e in timeline)
        assert stages["received"] == 1
        assert stages["closed"] == (1 if i.closed_at else 0)
        if i.escalated_at is not None:
            assert i.priority in (1, 2) and stages["escalated"] == 1
            assert i.accepted_at is None or i.escalated_at < i.accepted_at
        closed_at[i.id] = i.closed_at
    for cb in callbacks:
        assert closed_at[cb.incident_id] is not None and cb.at > closed_at[cb.incident_id]


def test_response_times_are_mostly_within_the_zone_target(demo):
    from pingan.geo.models import ZONE_TARGET_SECONDS

    with session(demo) as db:
        rows = list(db.execute(select(Incident.zone_class, Incident.received_at, Incident.accepted_at,
                                      Incident.arrived_at).where(Incident.arrived_at.is_not(None))))
        satisfaction = Counter(db.scalars(select(Callback.satisfaction)))
    within = sum((r.arrived_at - r.received_at).total_seconds() <= ZONE_TARGET_SECONDS[r.zone_class] for r in rows)
    assert 0.8 < within / len(rows) < 0.97  # mostly within, with a tail beyond
    accepted_fast = sum((r.accepted_at - r.received_at).total_seconds() <= 60 for r in rows)
    assert accepted_fast / len(rows) > 0.85
    satisfied = satisfaction["satisfied"] + satisfaction["basically_satisfied"]
    assert 0.9 < satisfied / sum(satisfaction.values()) < 0.99


def test_incidents_span_from_january_of_the_year_before_last_to_now(demo, demo_now):
    zone = ZoneInfo("Asia/Shanghai")
    today = demo_now.astimezone(zone).date()
    with session(demo) as db:
        first, last = db.execute(select(func.min(Incident.received_at), func.max(Incident.received_at))).one()
        per_year = Counter(r.astimezone(zone).year for r in db.scalars(select(Incident.received_at)))
        categories = Counter(db.scalars(select(Incident.category_code)))
    start = date(today.year - 2, 1, 1)
    assert start <= first.astimezone(zone).date() <= start + timedelta(days=10)
    assert demo_now - timedelta(hours=1) < last <= demo_now
    assert per_year[today.year - 2] > 250 and per_year[today.year - 1] > 250
    # assistance and disputes lead the mix; homicide is rare
    top = {code[:2] for code, _n in categories.most_common(6)}
    assert top & {"50", "60"}
    assert categories["1007"] <= 2


def test_open_incidents_hold_free_units_and_some_wait(demo):
    with session(demo) as db:
        open_incidents = list(db.scalars(select(Incident).where(Incident.stage != Stage.CLOSED)))
        active = list(db.scalars(select(Assignment).where(Assignment.active.is_(True))))
        units = {u.id: u for u in db.scalars(select(DutyUnit))}
        patrol = db.scalar(select(User).where(User.username == "patrol"))
    assert any(i.stage == Stage.RECEIVED and i.priority == 1 for i in open_incidents)
    assert len({a.unit_id for a in active}) == len(active)
    assert all(units[a.unit_id].status == UnitStatus.ASSIGNED for a in active)
    assert sum(u.status == UnitStatus.ASSIGNED for u in units.values()) == len(active)
    open_ids = {i.id for i in open_incidents}
    assert all(a.incident_id in open_ids for a in active)
    # the demo patrol officer has a live dispatch to move through the stages
    assert any(units[a.unit_id].operator_user_id == patrol.id for a in active)


def test_demo_users_log_in_through_the_api(demo, demo_client):
    for account in demo.result.accounts:
        resp = demo_client.post("/api/v1/auth/login", json={"username": account.username, "password": DEMO_PASSWORD})
        assert resp.status_code == 200, resp.text
        me = demo_client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {resp.json()['token']}"})
        assert me.status_code == 200 and me.json()["username"] == account.username
    token = demo_client.post("/api/v1/auth/login", json={"username": "dispatcher", "password": DEMO_PASSWORD}).json()
    page = demo_client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {token['token']}"})
    assert page.status_code == 200, page.text
    assert len(page.json()["items"]) > 0
    assert {a.username for a in demo.result.accounts} == {"admin", "dispatcher", "chief", "patrol", "community",
                                                           "auditor"}
