"""The demo bureau (演示警务机构): org tree, officers, users and duty units over the planned city.

Bureau (市公安局) → command centre (指挥中心), patrol team (巡特警支队), one branch per district
or county (XX分局 / XX县公安局 / XX市公安局) → one station (派出所) per township → community
offices (社区警务室: one per 社区; in the country one per few villages). Each grid is kept by the
office of its community. Officers carry 6-digit badge numbers and Faker zh_CN names; each station
has patrol cars, foot patrols and motorcycles (and the odd mounted team in the centre), placed
inside its own area, some operated by a patrol user.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import shapely
from faker import Faker

from pingan.demo.geography import CityPlan, Community, GridPlan, Township
from pingan.demo.names import short_division_name
from pingan.geo.models import ZoneClass
from pingan.org.models import OrgKind, Role, UnitKind, UnitStatus

DEMO_PASSWORD = "pingan-demo"


@dataclass(eq=False)
class OrgNode:
    id: int
    code: str
    name: str
    kind: OrgKind
    parent: OrgNode | None
    path: str
    division_code: str | None
    lat: float | None
    lon: float | None


@dataclass(eq=False)
class Station:
    node: OrgNode
    township: Township
    short: str
    offices: list[OrgNode] = field(default_factory=list)
    grids: list[GridPlan] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)
    officer_ids: list[int] = field(default_factory=list)


@dataclass(eq=False)
class Unit:
    id: int
    call_sign: str
    kind: UnitKind
    org: OrgNode
    station: Station | None  # None for the patrol team's units
    lat: float
    lon: float
    status: UnitStatus
    operator_user_id: int | None = None
    leader_officer_id: int | None = None


@dataclass
class Account:
    """A demo login printed at the end of ``pingan demo``."""

    username: str
    role: Role
    org_name: str
    org_code: str


@dataclass(eq=False)
class Organisation:
    nodes: list[OrgNode]
    bureau: OrgNode
    command: OrgNode
    team: OrgNode
    stations: list[Station]
    station_of_township: dict[str, Station]
    office_of_community: dict[str, OrgNode]
    officers: list[dict]
    users: list[dict]
    units: list[Unit]
    dispatcher_ids: list[int]
    accounts: list[Account]
    demo_station: Station
    demo_unit: Unit


class _Ids:
    def __init__(self, start: int):
        self.value = start - 1

    def __call__(self) -> int:
        self.value += 1
        return self.value


def random_point_in(geom, rng: random.Random, tries: int = 60) -> tuple[float, float]:
    """A point strictly inside a lon/lat geometry (its representative point as a last resort)."""
    minx, miny, maxx, maxy = geom.bounds
    for _ in range(tries):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(geom, x, y):
            return round(y, 6), round(x, 6)
    p = geom.representative_point()
    return p.y, p.x


def mobile(rng: random.Random) -> str:
    return rng.choice(("13", "15", "17", "18", "19")) + f"{rng.randrange(10**9):09d}"


def build_organisation(plan: CityPlan, rng: random.Random, faker: Faker, *, start_ids: dict[str, int],
                       now: datetime, password_hash: str, scale_factor: float) -> Organisation:
    """Every org unit, officer, user and duty unit, with ids from ``start_ids`` ({table: next id})."""
    org_id, officer_id, user_id, unit_id = (_Ids(start_ids[t]) for t in ("org_unit", "officer", "app_user",
                                                                          "duty_unit"))
    nodes: list[OrgNode] = []
    centre_lon, centre_lat = plan.centre_lonlat

    def node(code: str, name: str, kind: OrgKind, parent: OrgNode | None, division: str | None,
             lat: float | None = None, lon: float | None = None) -> OrgNode:
        nid = org_id()
        n = OrgNode(id=nid, code=code, name=name, kind=kind, parent=parent,
                    path=f"{parent.path if parent else '/'}{nid}/", division_code=division,
                    lat=None if lat is None else round(lat, 6), lon=None if lon is None else round(lon, 6))
        nodes.append(n)
        return n

    city = plan.city_code
    bureau = node(f"{city}000000", f"{plan.city}公安局", OrgKind.BUREAU, None, city, centre_lat, centre_lon)
    command = node(f"{city}990000", "指挥中心", OrgKind.COMMAND_CENTRE, bureau, city, centre_lat, centre_lon)
    team = node(f"{city}980000", "巡特警支队", OrgKind.TEAM, bureau, city, centre_lat, centre_lon)

    stations: list[Station] = []
    station_of_township: dict[str, Station] = {}
    office_of_community: dict[str, OrgNode] = {}
    used_shorts: set[str] = set()
    for county in plan.counties:
        cshort = short_division_name(county.name)
        branch_name = f"{cshort}分局" if county.is_district else f"{county.name}公安局"
        seat = next((t for t in county.townships if t.urban), county.townships[0])
        blat, blon = random_point_in(seat.grids[0].geom, rng) if seat.grids else (None, None)
        branch = node(f"{county.code}000000", branch_name, OrgKind.BRANCH, bureau, county.code, blat, blon)
        for i, township in enumerate(county.townships, start=1):
            if not township.grids:
                continue
            short = short_division_name(township.name)
            call_short = short if short not in used_shorts else f"{cshort}{short}"
            used_shorts.add(call_short)
            first = township.grids[0]
            slat, slon = random_point_in(first.geom, rng)
            station_node = node(f"{county.code}{i:02d}0000", f"{short}派出所", OrgKind.STATION, branch,
                                township.code, slat, slon)
            station = Station(node=station_node, township=township, short=call_short)
            stations.append(station)
            station_of_township[township.code] = station
            # Community offices: one per 社区; in the country one per group of about three villages.
            j = 0
            villages: list[Community] = []

            def office_for(group: list[Community]) -> None:
                nonlocal j
                j += 1
                lead = group[0]
                name = f"{lead.name}警务室" if lead.urban else f"{lead.name.removesuffix('村')}警务室"
                olat, olon = random_point_in(lead.grids[0].geom, rng)
                office = node(f"{county.code}{i:02d}{j:04d}", name, OrgKind.COMMUNITY_OFFICE, station_node,
                              lead.code, olat, olon)
                station.offices.append(office)
                for community in group:
                    office_of_community[community.code] = office

            for community in township.communities:
                if community.urban:
                    office_for([community])
                else:
                    villages.append(community)
                    if len(villages) == 3:
                        office_for(villages)
                        villages = []
            if villages:
                office_for(villages)
            station.grids = list(township.grids)

    # --- officers ------------------------------------------------------------------------------
    officer_specs: list[tuple[OrgNode, bool]] = []  # (org unit, auxiliary?)

    def staff(org: OrgNode, n: int, aux_share: float) -> list[int]:
        first = len(officer_specs)
        for _ in range(n):
            officer_specs.append((org, rng.random() < aux_share))
        return list(range(first, len(officer_specs)))

    staff(bureau, max(4, round(12 * scale_factor)), 0.1)
    command_staff = staff(command, max(6, round(30 * scale_factor)), 0.2)
    team_staff = staff(team, max(6, round(40 * scale_factor)), 0.3)
    branch_nodes = [n for n in nodes if n.kind == OrgKind.BRANCH]
    for b in branch_nodes:
        staff(b, rng.randint(5, 10), 0.1)
    station_staff: dict[int, list[int]] = {}
    office_staff: dict[int, list[int]] = {}
    for station in stations:
        n = rng.randint(12, 22) if station.township.urban else rng.randint(8, 14)
        station_staff[station.node.id] = staff(station.node, n, 0.35)
        for office in station.offices:
            office_staff[office.id] = staff(office, 1, 0.0)
    badges = rng.sample(range(100_000, 1_000_000), len(officer_specs))
    officers: list[dict] = []
    officer_ids: list[int] = []
    for (org, aux), badge in zip(officer_specs, badges, strict=True):
        oid = officer_id()
        officer_ids.append(oid)
        officers.append({"id": oid, "badge_no": f"{badge:06d}", "name": faker.name(), "org_unit_id": org.id,
                         "is_auxiliary": aux, "phone": mobile(rng), "created_at": now, "updated_at": now})
    for station in stations:
        station.officer_ids = [officer_ids[k] for k in station_staff[station.node.id]]
    sworn = {o["id"] for o in officers if not o["is_auxiliary"]}

    # --- duty units ------------------------------------------------------------------------------
    units: list[Unit] = []
    used_signs: set[str] = set()

    def add_unit(kind: UnitKind, org: OrgNode, station: Station | None, sign: str, geoms: list) -> Unit:
        while sign in used_signs:
            sign += "A"
        used_signs.add(sign)
        lat, lon = random_point_in(rng.choice(geoms), rng)
        status = UnitStatus.OFF_DUTY if rng.random() < 0.2 else UnitStatus.AVAILABLE
        u = Unit(id=unit_id(), call_sign=sign, kind=kind, org=org, station=station, lat=lat, lon=lon, status=status)
        units.append(u)
        if station is not None:
            station.units.append(u)
        return u

    kind_sign = {UnitKind.PATROL_CAR: "巡", UnitKind.FOOT_PATROL: "步", UnitKind.MOTORCYCLE: "摩",
                 UnitKind.MOUNTED: "骑"}
    for station in stations:
        urban = station.township.urban
        centre = any(g.zone == ZoneClass.CENTRE for g in station.grids)
        counts = {
            UnitKind.PATROL_CAR: rng.randint(3, 5) if urban else rng.randint(2, 3),
            UnitKind.FOOT_PATROL: rng.randint(1, 3) if urban else 0,
            UnitKind.MOTORCYCLE: rng.randint(1, 2) if urban else rng.randint(0, 1),
            UnitKind.MOUNTED: 1 if centre and rng.random() < 0.5 else 0,
        }
        built = [g.geom for g in station.grids if g.built_up] or [g.geom for g in station.grids]
        for kind, n in counts.items():
            for k in range(1, n + 1):
                geoms = built if kind != UnitKind.PATROL_CAR else [g.geom for g in station.grids]
                u = add_unit(kind, station.node, station, f"{station.short}{kind_sign[kind]}{k}", geoms)
                u.leader_officer_id = rng.choice([o for o in station.officer_ids if o in sworn]
                                                 or station.officer_ids)
    central = [g.geom for g in plan.grids if g.zone in (ZoneClass.CENTRE, ZoneClass.URBAN)] or \
        [g.geom for g in plan.grids]
    team_counts = {UnitKind.PATROL_CAR: max(2, round(14 * scale_factor)),
                   UnitKind.MOTORCYCLE: max(1, round(6 * scale_factor)),
                   UnitKind.MOUNTED: max(1, round(4 * scale_factor))}
    team_officers = [officer_ids[k] for k in team_staff]
    for kind, n in team_counts.items():
        for k in range(1, n + 1):
            u = add_unit(kind, team, None, f"特警{kind_sign[kind]}{k}", central)
            u.leader_officer_id = rng.choice(team_officers)

    # --- users ---------------------------------------------------------------------------------
    # The demo station: the one whose township holds the city centre (else the first).
    def closeness(station: Station) -> float:
        lon, lat = station.grids[0].centroid
        return (lon - centre_lon) ** 2 + (lat - centre_lat) ** 2

    demo_station = min(stations, key=closeness)
    demo_unit = next(u for u in demo_station.units if u.kind == UnitKind.PATROL_CAR)
    demo_unit.status = UnitStatus.AVAILABLE
    users: list[dict] = []
    accounts: list[Account] = []
    officer_by_id = {o["id"]: o for o in officers}
    officers_of: dict[int, list[int]] = {}
    for o in officers:
        officers_of.setdefault(o["org_unit_id"], []).append(o["id"])

    def user(username: str, role: Role, org: OrgNode, officer: int | None = None, show: bool = False) -> int:
        uid = user_id()
        if officer is None:
            candidates = officers_of.get(org.id) or []
            officer = rng.choice(candidates) if candidates else None
        display = officer_by_id[officer]["name"] if officer else username
        users.append({"id": uid, "username": username, "display_name": display, "password_hash": password_hash,
                      "role": role, "org_unit_id": org.id, "officer_id": officer, "is_active": True,
                      "language": "zh", "created_at": now, "updated_at": now})
        if show:
            accounts.append(Account(username=username, role=role, org_name=org.name, org_code=org.code))
        return uid

    user("admin", Role.ADMIN, bureau, show=True)
    dispatcher_ids = [user("dispatcher", Role.DISPATCHER, command, officer_ids[command_staff[0]], show=True)]
    for k in range(2, max(3, round(8 * scale_factor)) + 1):
        dispatcher_ids.append(user(f"dispatcher{k}", Role.DISPATCHER, command,
                                   officer_ids[command_staff[(k - 1) % len(command_staff)]]))
    user("chief", Role.STATION_CHIEF, demo_station.node, demo_station.officer_ids[0], show=True)
    demo_unit.operator_user_id = user("patrol", Role.PATROL, demo_station.node, demo_unit.leader_officer_id,
                                      show=True)
    demo_office = demo_station.offices[0]
    user("community", Role.COMMUNITY, demo_office, show=True)
    user("auditor", Role.AUDITOR, bureau, show=True)
    # A chief for every other station, and a patrol user on the first car of each.
    for station in stations:
        if station is demo_station:
            continue
        user(f"chief_{station.node.code}", Role.STATION_CHIEF, station.node, station.officer_ids[0])
        car = next((u for u in station.units if u.kind == UnitKind.PATROL_CAR), None)
        if car is not None:
            car.operator_user_id = user(f"patrol_{station.node.code}", Role.PATROL, station.node,
                                        car.leader_officer_id)
    return Organisation(nodes=nodes, bureau=bureau, command=command, team=team, stations=stations,
                        station_of_township=station_of_township, office_of_community=office_of_community,
                        officers=officers, users=users, units=units, dispatcher_ids=dispatcher_ids,
                        accounts=accounts, demo_station=demo_station, demo_unit=demo_unit)


def org_rows(org: Organisation, now: datetime) -> list[dict]:
    return [{"id": n.id, "code": n.code, "name": n.name, "kind": n.kind, "parent_id": n.parent.id if n.parent else None,
             "path": n.path, "division_code": n.division_code, "lat": n.lat, "lon": n.lon,
             "created_at": now, "updated_at": now} for n in org.nodes]


def unit_rows(org: Organisation, now: datetime, rng: random.Random) -> list[dict]:
    return [{"id": u.id, "call_sign": u.call_sign, "kind": u.kind, "org_unit_id": u.org.id, "status": u.status,
             "lat": u.lat, "lon": u.lon, "position_at": now - timedelta(seconds=rng.randint(5, 1800)),
             "leader_officer_id": u.leader_officer_id, "operator_user_id": u.operator_user_id, "version": 1,
             "created_at": now, "updated_at": now} for u in org.units]
