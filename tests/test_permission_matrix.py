"""The permission matrix: every /api/v1 endpoint × every role × inside / outside jurisdiction.

Side 'a' uses station A's records (西街派出所, its community office's grid), side 'b' station B's.
What each role may do is written out here by hand, independently of ``auth.permissions``, and
what it may see follows from where the user sits in the org tree. Each case runs inside a
savepoint that is rolled back, so every request meets the same starting records.

A new endpoint fails ``test_every_api_endpoint_is_in_the_matrix`` until it is added below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from pingan.auth.actor import Actor
from pingan.auth.models import AuthSession, LoginLock
from pingan.auth.security import hash_password, new_token, token_hash
from pingan.db.types import utcnow
from pingan.incident import service as incident_service
from pingan.incident.models import AssignmentStatus
from pingan.incident.schemas import IncidentCreate
from pingan.org import service as org_service
from pingan.org.models import UnitKind
from pingan.org.system import org_path_of
from pingan.stats.store import StatsStore
from tests.factories import PASSWORD

ROLES = ("admin", "dispatcher", "chief_a", "chief_b", "patrol_a", "community_a", "auditor")
SIDES = ("a", "b")

# --- who may act (by role) ---------------------------------------------------------------
EVERYONE = set(ROLES)
CREATE = {"admin", "dispatcher"}
DISPATCH = {"admin", "dispatcher", "chief_a", "chief_b"}
CLOSE = CALLBACK = PERSONAL = DISPATCH
MOVE_ASSIGNMENT = DISPATCH | {"patrol_a"}  # dispatchers, and a patrol officer for their own unit
UNIT_POSITION = {"admin", "chief_a", "chief_b", "patrol_a"}  # unit managers, and a unit's operator
UNIT_READ = {"admin", "dispatcher", "chief_a", "chief_b", "patrol_a", "community_a"}
ORG_READ = {"admin", "dispatcher", "chief_a", "chief_b", "auditor"}
AUDIT_READ = {"admin", "auditor"}
STATS_READ = {"admin", "dispatcher", "chief_a", "chief_b", "auditor"}
STATS_REPORT = {"admin", "chief_a", "chief_b"}  # issue a work summary
USER_MANAGE = {"admin"}  # user management (its jurisdiction: tests/org/test_users.py, a branch's admin)

# --- who may see (by jurisdiction) ------------------------------------------------------------
BUREAU_WIDE = {"admin", "dispatcher", "auditor"}  # the command centre serves the whole bureau
VISIBLE = {
    # records of a grid: grid A belongs to station A's community office, grid B to station B
    "grid": {"a": BUREAU_WIDE | {"chief_a", "patrol_a", "community_a"}, "b": BUREAU_WIDE | {"chief_b"}},
    # records of the station itself (its duty units, the org unit): not seen from the community office
    "station": {"a": BUREAU_WIDE | {"chief_a", "patrol_a"}, "b": BUREAU_WIDE | {"chief_b"}},
}


@dataclass(frozen=True)
class Endpoint:
    allowed: set[str]
    ok: int
    request: Callable  # (records, side, role) -> dict(url=..., json=..., params=...)
    scope: str | None = None  # a key of VISIBLE, or None when the endpoint has no record to be outside of

    def expected(self, role: str, side: str) -> int:
        if role not in self.allowed:
            return 403
        if self.scope is not None and role not in VISIBLE[self.scope][side]:
            return 404
        return self.ok


def get(url: str, **params):
    return lambda r, side, role: {"url": url.format(**r.of(side)), "params": params}


def post(url: str, body=None):
    return lambda r, side, role: {"url": url.format(**r.of(side)), "json": body(r, side) if callable(body) else body}


def new_call(r, side):
    address = r.address[side]
    return {"caller_phone": "13812345678", "location_text": address["text"], "address_id": address["id"],
            "category_code": "2001", "priority": 2}


V = "/api/v1"
MATRIX: dict[tuple[str, str], Endpoint] = {
    # auth
    ("POST", f"{V}/auth/login"): Endpoint(EVERYONE, 200, lambda r, side, role: {
        "url": f"{V}/auth/login", "json": {"username": role, "password": PASSWORD}, "anonymous": True}),
    ("POST", f"{V}/auth/logout"): Endpoint(EVERYONE, 204, post(f"{V}/auth/logout")),
    ("GET", f"{V}/auth/me"): Endpoint(EVERYONE, 200, get(f"{V}/auth/me")),
    ("POST", f"{V}/auth/password"): Endpoint(EVERYONE, 204, post(f"{V}/auth/password", {
        "current_password": PASSWORD, "new_password": "Matrix-new-pass-2"})),
    # users (the target: station A's or B's patrol officer)
    ("GET", f"{V}/users"): Endpoint(USER_MANAGE, 200, get(f"{V}/users")),
    ("POST", f"{V}/users"): Endpoint(USER_MANAGE, 201, post(f"{V}/users", lambda r, side: {
        "username": f"new_{side}", "display_name": "新人", "role": "patrol", "org_unit_id": r.ids[side]["station"]}),
        "station"),
    ("GET", f"{V}/users/{{user_id}}"): Endpoint(USER_MANAGE, 200, get(f"{V}/users/{{patrol}}"), "station"),
    ("PATCH", f"{V}/users/{{user_id}}"): Endpoint(
        USER_MANAGE, 200, lambda r, side, role: {"url": f"{V}/users/{r.ids[side]['patrol']}",
                                                 "json": {"display_name": "改名"}}, "station"),
    ("POST", f"{V}/users/{{user_id}}/disable"): Endpoint(USER_MANAGE, 200, post(f"{V}/users/{{patrol}}/disable"),
                                                          "station"),
    ("POST", f"{V}/users/{{user_id}}/enable"): Endpoint(USER_MANAGE, 200, post(f"{V}/users/{{patrol}}/enable"),
                                                         "station"),
    ("POST", f"{V}/users/{{user_id}}/reset-password"): Endpoint(
        USER_MANAGE, 200, post(f"{V}/users/{{patrol}}/reset-password"), "station"),
    ("POST", f"{V}/users/{{user_id}}/end-sessions"): Endpoint(
        USER_MANAGE, 200, post(f"{V}/users/{{patrol}}/end-sessions"), "station"),
    ("GET", f"{V}/login-locks"): Endpoint(USER_MANAGE, 200, get(f"{V}/login-locks")),
    ("POST", f"{V}/login-locks/lift"): Endpoint(USER_MANAGE, 204, post(f"{V}/login-locks/lift", lambda r, side: {
        "username": f"locked_{side}"})),
    # org
    ("GET", f"{V}/org-units"): Endpoint(ORG_READ, 200, get(f"{V}/org-units")),
    ("GET", f"{V}/org-units/{{org_unit_id}}"): Endpoint(ORG_READ, 200, get(f"{V}/org-units/{{station}}"), "station"),
    ("GET", f"{V}/units"): Endpoint(UNIT_READ, 200, get(f"{V}/units")),
    ("GET", f"{V}/units/{{unit_id}}"): Endpoint(UNIT_READ, 200, get(f"{V}/units/{{own_unit}}"), "station"),
    ("POST", f"{V}/units/{{unit_id}}/position"): Endpoint(
        UNIT_POSITION, 200, post(f"{V}/units/{{own_unit}}/position", {"lat": 35.31, "lon": 113.91}), "station"),
    # geo
    ("GET", f"{V}/geo/parse"): Endpoint(EVERYONE, 200, get(f"{V}/geo/parse", text="新乡市红旗区平原路123号")),
    ("GET", f"{V}/addresses/match"): Endpoint(EVERYONE, 200, get(f"{V}/addresses/match", q="平原路123号")),
    ("GET", f"{V}/addresses"): Endpoint(EVERYONE, 200, get(f"{V}/addresses")),
    ("GET", f"{V}/addresses/{{address_id}}"): Endpoint(EVERYONE, 200, get(f"{V}/addresses/{{address_id}}"), "grid"),
    ("GET", f"{V}/grids"): Endpoint(EVERYONE, 200, get(f"{V}/grids")),
    ("GET", f"{V}/grids/at"): Endpoint(EVERYONE, 200, lambda r, side, role: {
        "url": f"{V}/grids/at", "params": r.point[side]}, "grid"),
    ("GET", f"{V}/grids/{{grid_id}}"): Endpoint(EVERYONE, 200, get(f"{V}/grids/{{grid}}"), "grid"),
    ("GET", f"{V}/divisions"): Endpoint(EVERYONE, 200, get(f"{V}/divisions", parent="410702001")),
    # incidents
    ("POST", f"{V}/incidents"): Endpoint(CREATE, 201, post(f"{V}/incidents", new_call)),
    ("GET", f"{V}/incidents"): Endpoint(EVERYONE, 200, get(f"{V}/incidents")),
    ("GET", f"{V}/incidents/categories"): Endpoint(EVERYONE, 200, get(f"{V}/incidents/categories")),
    ("GET", f"{V}/incidents/stream"): Endpoint(EVERYONE, 200, get(f"{V}/incidents/stream", max_seconds=0)),
    ("GET", f"{V}/incidents/{{incident_id}}"): Endpoint(EVERYONE, 200, get(f"{V}/incidents/{{received}}"), "grid"),
    ("POST", f"{V}/incidents/{{incident_id}}/calls"): Endpoint(
        CREATE, 201, post(f"{V}/incidents/{{received}}/calls", {"caller_phone": "13900001111"}), "grid"),
    ("POST", f"{V}/incidents/{{incident_id}}/merge"): Endpoint(
        DISPATCH, 200, post(f"{V}/incidents/{{received}}/merge", lambda r, side: {"source_id": r.duplicate[side]}),
        "grid"),
    ("POST", f"{V}/incidents/{{incident_id}}/accept"): Endpoint(
        DISPATCH, 200, post(f"{V}/incidents/{{received}}/accept"), "grid"),
    ("GET", f"{V}/incidents/{{incident_id}}/recommendations"): Endpoint(
        DISPATCH, 200, get(f"{V}/incidents/{{received}}/recommendations"), "grid"),
    ("POST", f"{V}/incidents/{{incident_id}}/assignments"): Endpoint(
        DISPATCH, 201, post(f"{V}/incidents/{{received}}/assignments", lambda r, side: {"unit_id": r.free_unit[side]}),
        "grid"),
    ("POST", f"{V}/assignments/{{assignment_id}}/advance"): Endpoint(
        MOVE_ASSIGNMENT, 200, post(f"{V}/assignments/{{assignment}}/advance", {"to": "departed"}), "grid"),
    ("POST", f"{V}/incidents/{{incident_id}}/resolve"): Endpoint(
        CLOSE, 200, post(f"{V}/incidents/{{accepted}}/resolve"), "grid"),
    ("POST", f"{V}/incidents/{{incident_id}}/close"): Endpoint(
        CLOSE, 200, post(f"{V}/incidents/{{received}}/close", {"disposition": "invalid_call"}), "grid"),
    ("POST", f"{V}/incidents/{{incident_id}}/callbacks"): Endpoint(
        CALLBACK, 201, post(f"{V}/incidents/{{closed}}/callbacks", {"satisfaction": "satisfied"}), "grid"),
    ("POST", f"{V}/incidents/{{incident_id}}/caller-contact"): Endpoint(
        PERSONAL, 200, post(f"{V}/incidents/{{received}}/caller-contact", {"purpose": "核实警情"}), "grid"),
    # audit
    ("GET", f"{V}/audit"): Endpoint(AUDIT_READ, 200, get(f"{V}/audit")),
    # statistics (figures are cut to the jurisdiction inside the engine: tests/stats/test_routes.py)
    ("GET", f"{V}/stats/kpis"): Endpoint(STATS_READ, 200, get(f"{V}/stats/kpis")),
    ("GET", f"{V}/stats/values"): Endpoint(STATS_READ, 200, get(f"{V}/stats/values", period="2026", by="station")),
    ("GET", f"{V}/stats/kpis/{{slug}}"): Endpoint(
        STATS_READ, 200, get(f"{V}/stats/kpis/incidents_received", period="2026-Q3")),
    ("GET", f"{V}/stats/kpis/{{slug}}/records"): Endpoint(
        STATS_READ, 200, get(f"{V}/stats/kpis/incidents_received/records", period="2026-07")),
    ("GET", f"{V}/stats/rankings/{{slug}}"): Endpoint(
        STATS_READ, 200, get(f"{V}/stats/rankings/arrived_within_target", period="2026", level="station")),
    # issued work summaries: a station's report is inside the station's jurisdiction
    ("POST", f"{V}/stats/reports"): Endpoint(STATS_REPORT, 201, post(f"{V}/stats/reports", lambda r, side: {
        "period": r.year, "org": r.ids[side]["station"]}), "station"),
    ("GET", f"{V}/stats/reports"): Endpoint(STATS_READ, 200, get(f"{V}/stats/reports")),
    ("GET", f"{V}/stats/reports/{{report_id}}"): Endpoint(
        STATS_READ, 200, get(f"{V}/stats/reports/{{report}}"), "station"),
    ("GET", f"{V}/stats/reports/{{report_id}}/records"): Endpoint(
        STATS_READ, 200, get(f"{V}/stats/reports/{{report}}/records"), "station"),
    ("GET", f"{V}/stats/reports/{{report_id}}/docx"): Endpoint(
        STATS_READ, 200, get(f"{V}/stats/reports/{{report}}/docx"), "station"),
    ("GET", f"{V}/stats/reports/{{report_id}}/pdf"): Endpoint(
        STATS_READ, 200, get(f"{V}/stats/reports/{{report}}/pdf"), "station"),
}


def api_endpoints(app) -> set[tuple[str, str]]:
    found = set()
    for ctx in iter_route_contexts(app.router.routes):
        if isinstance(ctx.original_route, APIRoute) and ctx.path.startswith(V + "/"):
            found.update((method, ctx.path) for method in ctx.methods)
    return found


def test_every_api_endpoint_is_in_the_matrix(app):
    endpoints = api_endpoints(app)
    missing = sorted(endpoints - MATRIX.keys())
    stale = sorted(MATRIX.keys() - endpoints)
    assert not missing, f"add these endpoints to the permission matrix: {missing}"
    assert not stale, f"these matrix entries no longer exist: {stale}"


# --- the records both sides start from --------------------------------------------------------


@dataclass
class Records:
    ids: dict[str, dict[str, int]]
    address: dict[str, dict]
    point: dict[str, dict]
    duplicate: dict[str, int]
    free_unit: dict[str, int]
    year: str = ""  # the current year, for statistics

    def of(self, side: str) -> dict[str, int]:
        return self.ids[side]


@lru_cache(maxsize=8)
def _cached_hash(password: str) -> str:
    return hash_password(password)


def build_records(db, world) -> Records:
    admin = Actor.for_user(world.users["admin"], org_path_of(db=db, org_unit_id=world.users["admin"].org_unit_id))
    extra_b = org_service.create_unit(db=db, call_sign="卫滨巡2", kind=UnitKind.PATROL_CAR,
                                      org_unit_id=world.org["station_b"].id, lat=35.302, lon=113.852)

    def incident(side: str) -> int:
        address = world.addresses[0] if side == "a" else world.addresses[2]
        created, _ = incident_service.create_incident(db=db, actor=admin, data=IncidentCreate(
            caller_phone="13812345678", caller_name="王五", location_text=address.full_text,
            address_id=address.id, category_code="2001", priority=2))
        return created.id

    ids: dict[str, dict[str, int]] = {}
    duplicate: dict[str, int] = {}
    for side, station, own_unit in (("a", "station_a", "红旗巡1"), ("b", "station_b", "卫滨巡1")):
        received, accepted, closed, dispatched = (incident(side) for _ in range(4))
        duplicate[side] = incident(side)
        incident_service.accept(db=db, actor=admin, incident_id=accepted)
        incident_service.close(db=db, actor=admin, incident_id=closed, disposition="handled_on_scene")
        assignment = incident_service.assign_unit(db=db, actor=admin, incident_id=dispatched,
                                                  unit_id=world.units[own_unit].id)
        assert assignment.status == AssignmentStatus.DISPATCHED
        address = world.addresses[0] if side == "a" else world.addresses[2]
        ids[side] = {"received": received, "accepted": accepted, "closed": closed, "assignment": assignment.id,
                     "own_unit": world.units[own_unit].id, "station": world.org[station].id,
                     "patrol": world.users[f"patrol_{side}"].id,
                     "grid": world.grids[side].id, "address_id": address.id}
    for side in SIDES:  # an account lock for each side's lift (unknown usernames: the root admin's)
        db.add(LoginLock(username=f"locked_{side}", failures=50, addresses=5,
                         expires_at=utcnow() + timedelta(hours=1)))
    db.flush()
    return Records(
        ids=ids,
        address={s: {"id": a.id, "text": a.full_text} for s, a in (("a", world.addresses[0]),
                                                                   ("b", world.addresses[2]))},
        point={"a": {"lat": 35.305, "lon": 113.905}, "b": {"lat": 35.305, "lon": 113.855}},
        duplicate=duplicate,
        free_unit={"a": world.units["红旗巡2"].id, "b": extra_b.id},
    )


def bearer_tokens(db, world) -> dict[str, dict]:
    headers = {}
    for role in ROLES:
        token = new_token()
        db.add(AuthSession(token_hash=token_hash(token), user_id=world.users[role].id, csrf_token=new_token(),
                           expires_at=utcnow() + timedelta(hours=1)))
        headers[role] = {"Authorization": f"Bearer {token}"}
    db.flush()
    return headers


def _statistics(db, world, records: Records, client, monkeypatch, *, with_reports: bool) -> StatsStore:
    """A store synced from the records (the statistics routes read it); the issued reports of
    stations A and B when the endpoint reads one; a stand-in for LibreOffice (the PDF's content
    is tests/stats/test_report_routes.py's business, not who may have it)."""
    from pingan.stats import routes as stats_routes
    from pingan.stats import service as stats_service

    store = StatsStore(path=None, memory_limit="64MB", threads=1)
    store.sync(db=db)
    client.app.dependency_overrides[stats_routes.current_store] = lambda: store
    monkeypatch.setattr(stats_service, "docx_to_pdf", _fake_pdf)
    records.year = str(datetime.now(ZoneInfo(store.timezone)).year)
    if with_reports:
        admin = Actor.for_user(world.users["admin"], org_path_of(db=db, org_unit_id=world.users["admin"].org_unit_id))
        for side, station in (("a", "station_a"), ("b", "station_b")):
            issued = stats_service.issue(db=db, store=store, actor=admin, period=records.year,
                                         org_unit_id=world.org[station].id)
            records.ids[side]["report"] = issued.id
    return store


def _fake_pdf(path):
    pdf = path.with_suffix(".pdf")
    pdf.write_bytes(b"%PDF-1.4 stand-in")
    return pdf


@pytest.mark.parametrize("key", sorted(MATRIX), ids=lambda k: f"{k[0]} {k[1].removeprefix(V)}")
def test_permission_matrix(key, connection, db, client, monkeypatch):
    from tests.factories import build_world

    # each distinct password is hashed once (argon2 is slow by design); logins still verify it
    monkeypatch.setattr(org_service, "hash_password", _cached_hash)
    world = build_world(db)
    records = build_records(db, world)
    store = None
    if key[1].startswith(f"{V}/stats/"):
        store = _statistics(db, world, records, client, monkeypatch, with_reports="{report_id}" in key[1])
    headers = bearer_tokens(db, world)
    endpoint = MATRIX[key]
    method = key[0]
    wrong = []
    for role in ROLES:
        for side in SIDES:
            spec = dict(endpoint.request(records, side, role))
            anonymous = spec.pop("anonymous", False)
            savepoint = connection.begin_nested()
            try:
                client.cookies.clear()
                resp = client.request(method, spec.pop("url"), headers={} if anonymous else headers[role],
                                      **{k: v for k, v in spec.items() if v is not None})
            finally:
                savepoint.rollback()
            want = endpoint.expected(role, side)
            if resp.status_code != want:
                wrong.append(f"{role:12} side {side}: expected {want}, got {resp.status_code} {resp.text[:160]}")
    if store is not None:
        client.app.dependency_overrides.clear()
        store.close()
    assert not wrong, f"{key[0]} {key[1]}\n" + "\n".join(wrong)
