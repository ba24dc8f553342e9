"""Hand-built records for tests: a small bureau with two branches, grids, addresses and units."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache

from sqlalchemy.orm import Session

from pingan.auth import security
from pingan.auth.actor import Actor
from pingan.auth.models import AuthSession
from pingan.db.types import utcnow
from pingan.geo.models import Address, Division, DivisionLevel, Grid, ZoneClass
from pingan.org import service as org_service
from pingan.org.models import DutyUnit, OrgKind, OrgUnit, Role, UnitKind, User
from pingan.org.system import org_path_of

PASSWORD = "Secret-pass-1"
ROLES_AT = {
    "admin": (Role.ADMIN, "bureau"),
    "dispatcher": (Role.DISPATCHER, "command"),
    "chief_a": (Role.STATION_CHIEF, "station_a"),
    "chief_b": (Role.STATION_CHIEF, "station_b"),
    "patrol_a": (Role.PATROL, "station_a"),
    "patrol_b": (Role.PATROL, "station_b"),
    "community_a": (Role.COMMUNITY, "office_a"),
    "auditor": (Role.AUDITOR, "bureau"),
}


@dataclass
class World:
    org: dict[str, OrgUnit] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    grids: dict[str, Grid] = field(default_factory=dict)
    addresses: list[Address] = field(default_factory=list)
    units: dict[str, DutyUnit] = field(default_factory=dict)


@lru_cache(maxsize=64)
def cached_hash(password: str) -> str:
    """A real argon2 hash of ``password``, computed once per process (tests/conftest.py puts it in
    place of ``org.service.hash_password`` for every test)."""
    return security.hash_password(password)


def hash_each_password_once(monkeypatch) -> None:
    """Put ``cached_hash`` in place of the services' argon2 hashing (user accounts, password changes)."""
    from pingan.auth import service as auth_service

    for module in (org_service, auth_service):
        monkeypatch.setattr(module, "hash_password", cached_hash)


def log_in(client, username: str, password: str = PASSWORD) -> dict:
    """Log the world's user in through the API: its answer (``token``, ``csrf_token``); the client
    then carries the session cookie as well."""
    resp = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert resp.status_code == 200, resp.text
    return resp.json()


def open_session(db: Session, user: User) -> tuple[str, str]:
    """(token, CSRF token) of a new session of ``user``, as logging in makes one, without a request."""
    token, csrf = security.new_token(), security.new_token()
    db.add(AuthSession(token_hash=security.token_hash(token), user_id=user.id, csrf_token=csrf,
                       expires_at=utcnow() + timedelta(hours=1)))
    db.flush()
    return token, csrf


def actor_of(db: Session, world: World, username: str) -> Actor:
    """The actor a request of the world's user ``username`` would carry."""
    user = world.users[username]
    return Actor.for_user(user, org_path_of(db=db, org_unit_id=user.org_unit_id))


def square(lon: float, lat: float, size: float = 0.01) -> dict:
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + size, lat], [lon + size, lat + size],
                                                [lon, lat + size], [lon, lat]]]}


def make_grid(db: Session, *, code: str, name: str, zone: ZoneClass, org_unit: OrgUnit,
              lon: float, lat: float, size: float = 0.01, division_code: str | None = None) -> Grid:
    grid = Grid(code=code, name=name, zone_class=zone, org_unit_id=org_unit.id, division_code=division_code,
                polygon=json.dumps(square(lon, lat, size)), min_lon=lon, min_lat=lat, max_lon=lon + size,
                max_lat=lat + size, centroid_lon=lon + size / 2, centroid_lat=lat + size / 2)
    db.add(grid)
    db.flush()
    return grid


def build_world(db: Session) -> World:
    w = World()
    mk = org_service.create_org_unit
    w.org["bureau"] = mk(db=db, code="410700000000", name="新乡市公安局", kind=OrgKind.BUREAU, parent=None,
                         division_code="410700")
    w.org["command"] = mk(db=db, code="410700990000", name="指挥中心", kind=OrgKind.COMMAND_CENTRE,
                          parent=w.org["bureau"])
    w.org["branch_a"] = mk(db=db, code="410702000000", name="红旗分局", kind=OrgKind.BRANCH,
                           parent=w.org["bureau"], division_code="410702")
    w.org["station_a"] = mk(db=db, code="410702010000", name="西街派出所", kind=OrgKind.STATION,
                            parent=w.org["branch_a"], division_code="410702001")
    w.org["office_a"] = mk(db=db, code="410702010100", name="新华社区警务室", kind=OrgKind.COMMUNITY_OFFICE,
                           parent=w.org["station_a"])
    w.org["branch_b"] = mk(db=db, code="410703000000", name="卫滨分局", kind=OrgKind.BRANCH,
                           parent=w.org["bureau"], division_code="410703")
    w.org["station_b"] = mk(db=db, code="410703010000", name="胜利路派出所", kind=OrgKind.STATION,
                            parent=w.org["branch_b"], division_code="410703001")
    for code, name, level, parent in [
        ("410700", "新乡市", DivisionLevel.CITY, "410000"),
        ("410702", "红旗区", DivisionLevel.COUNTY, "410700"),
        ("410702001000", "西街街道", DivisionLevel.TOWNSHIP, "410702"),
        ("410702001001", "新华社区", DivisionLevel.COMMUNITY, "410702001000"),
        ("410703", "卫滨区", DivisionLevel.COUNTY, "410700"),
        ("410703001000", "胜利路街道", DivisionLevel.TOWNSHIP, "410703"),
        ("410703001001", "胜利社区", DivisionLevel.COMMUNITY, "410703001000"),
    ]:
        db.add(Division(code=code, name=name, level=level, parent_code=parent))
    db.flush()
    for username, (role, at) in ROLES_AT.items():
        w.users[username] = org_service.create_user(db=db, username=username, password=PASSWORD,
                                                    display_name=username, role=role,
                                                    org_unit_id=w.org[at].id)
    # Station A: a centre grid at (113.90, 35.30); station B: a suburban grid to the west.
    w.grids["a"] = make_grid(db, code="G410702001001", name="新华社区网格1", zone=ZoneClass.CENTRE,
                             org_unit=w.org["office_a"], lon=113.90, lat=35.30,
                             division_code="410702001001")
    w.grids["b"] = make_grid(db, code="G410703001001", name="胜利社区网格1", zone=ZoneClass.SUBURBAN,
                             org_unit=w.org["station_b"], lon=113.85, lat=35.30,
                             division_code="410703001001")
    for i, (road, no, grid, county, div, lon, lat) in enumerate([
        ("平原路", "123号", "a", "410702", "410702001001", 113.905, 35.305),
        ("平原路", "125号", "a", "410702", "410702001001", 113.906, 35.305),
        ("胜利路", "8号", "b", "410703", "410703001001", 113.855, 35.305),
    ]):
        district = "红旗区西街街道新华社区" if grid == "a" else "卫滨区胜利路街道胜利社区"
        addr = Address(code=f"A{i + 1:08d}", full_text=f"河南省新乡市{district}{road}{no}", division_code=div,
                       county_code=county, road=road, house_no=no, lat=lat, lon=lon,
                       grid_id=w.grids[grid].id, level=1)
        db.add(addr)
        w.addresses.append(addr)
    db.flush()
    for call_sign, kind, at, lon, lat, operator in [
        ("红旗巡1", UnitKind.PATROL_CAR, "station_a", 113.901, 35.301, "patrol_a"),
        ("红旗巡2", UnitKind.PATROL_CAR, "station_a", 113.95, 35.35, None),
        ("红旗步1", UnitKind.FOOT_PATROL, "station_a", 113.904, 35.304, None),
        ("卫滨巡1", UnitKind.PATROL_CAR, "station_b", 113.851, 35.301, "patrol_b"),
    ]:
        unit = org_service.create_unit(db=db, call_sign=call_sign, kind=kind, org_unit_id=w.org[at].id,
                                       lat=lat, lon=lon)
        if operator:
            unit.operator_user_id = w.users[operator].id
        w.units[call_sign] = unit
    db.flush()
    return w
