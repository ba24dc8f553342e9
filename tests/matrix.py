"""The permission matrix's machinery: every route of every installed module (API and page, each
method) × every role × a record inside / outside the role's jurisdiction.

Each domain declares its cases in ``tests/<domain>/test_matrix.py`` (``CASES``, run by
``test_matrix = matrix_test(CASES)``); ``tests/test_permission_matrix.py`` fails when a route of
the app has no case. What each role may do is written out here by hand, independently of
``auth.permissions``; what it may see follows from where the user sits in the org tree.

Side 'a' uses station A's records (西街派出所, its community office's grid), side 'b' station B's.
The world is built once per fragment (module) inside a transaction that is rolled back at its
end, and every request runs in a savepoint rolled back after it, so each meets the same records.

A case says who may act (``allowed``: anyone else gets 403), which records it touches (``scope``:
a key of ``VISIBLE``; a role that cannot see the side's record gets 404), and what success is
(``ok``). API requests carry a bearer token; page requests a session cookie, and a form post the
CSRF token (without it, 403). Without credentials an API route answers 401 and a page redirects to the login page,
unless the case is ``public``. A list case names a marker of each side's rows (``marker``, with
``rows`` the VISIBLE key of those rows): the response must show it exactly when the role sees
that side.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import update

from pingan.auth.models import LoginLock
from pingan.db.types import utcnow
from pingan.incident import service as incident_service
from pingan.incident.models import AssignmentStatus, Incident
from pingan.incident.schemas import IncidentCreate
from pingan.org import service as org_service
from pingan.org.models import UnitKind
from pingan.web.deps import CSRF_FIELD, SESSION_COOKIE
from tests.factories import actor_of, build_world, open_session

V = "/api/v1"
ROLES = ("admin", "dispatcher", "chief_a", "chief_b", "patrol_a", "community_a", "auditor")
SIDES = ("a", "b")

# --- who may act (by role) ---------------------------------------------------------------
EVERYONE = frozenset(ROLES)
CREATE = frozenset({"admin", "dispatcher"})
DISPATCH = frozenset({"admin", "dispatcher", "chief_a", "chief_b"})
CLOSE = CALLBACK = PERSONAL = DISPATCH
MOVE_ASSIGNMENT = DISPATCH | {"patrol_a"}  # dispatchers, and a patrol officer for their own unit (API)
OWN_ASSIGNMENT = frozenset({"patrol_a"})  # the patrol officer's own page
UNIT_POSITION = frozenset({"admin", "chief_a", "chief_b", "patrol_a"})  # unit managers, and a unit's operator
UNIT_READ = frozenset({"admin", "dispatcher", "chief_a", "chief_b", "patrol_a", "community_a"})
ORG_READ = frozenset({"admin", "dispatcher", "chief_a", "chief_b", "auditor"})
AUDIT_READ = frozenset({"admin", "auditor"})
STATS_READ = frozenset({"admin", "dispatcher", "chief_a", "chief_b", "auditor"})
STATS_REPORT = frozenset({"admin", "chief_a", "chief_b"})  # issue a work summary
USER_MANAGE = frozenset({"admin"})  # user management (its jurisdiction: tests/org/test_users.py, a branch's admin)

# --- who may see (by jurisdiction) ------------------------------------------------------------
BUREAU_WIDE = frozenset({"admin", "dispatcher", "auditor"})  # the command centre serves the whole bureau
VISIBLE = {
    # records of a grid: grid A belongs to station A's community office, grid B to station B
    "grid": {"a": BUREAU_WIDE | {"chief_a", "patrol_a", "community_a"}, "b": BUREAU_WIDE | {"chief_b"}},
    # records of the station itself (its duty units, the org unit): not seen from the community office
    "station": {"a": BUREAU_WIDE | {"chief_a", "patrol_a"}, "b": BUREAU_WIDE | {"chief_b"}},
}


@dataclass
class Records:
    """What both sides start from: ids (``ids[side]``) and texts unique to a side's rows (``text[side]``)."""

    ids: dict[str, dict[str, int]]
    text: dict[str, dict[str, str]]
    point: dict[str, dict[str, float]]
    period: str = ""  # the statistics' period, in which the incidents are received (Matrix.prepare)

    def of(self, side: str) -> dict[str, int | str]:
        return {**self.text[side], **self.ids[side]}


INCIDENTS = ("received", "accepted", "closed", "dispatched", "duplicate")  # the ids of each side's incidents

Request = Callable[["Matrix", str, str], dict]  # (matrix, side, role) -> url, params / json / data


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # as the app declares the route ("/incidents/{incident_id:int}"), without the host
    allowed: frozenset[str]
    request: Request
    ok: int = 200
    scope: str | None = None  # a key of VISIBLE, or None when the route has no record to be outside of
    marker: Callable[[Records, str], str] | None = None  # a text of the side's rows, for a list
    rows: str | None = None  # the VISIBLE key of the listed rows
    public: bool = False  # answers without credentials too (the same ``ok``)
    credentials: bool = True  # False: every role's request goes without credentials (logging in)
    needs: frozenset[str] = frozenset()  # "store": the statistics store; "reports": issued summaries
    ok_for: dict[str, int] = field(default_factory=dict)  # a role whose success is another status

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    @property
    def page(self) -> bool:
        return not self.path.startswith(V + "/")

    def expected(self, role: str, side: str) -> int:
        if role not in self.allowed:
            return 403
        if self.scope is not None and role not in VISIBLE[self.scope][side]:
            return 404
        return self.ok_for.get(role, self.ok)


def fill(url: str, m: Matrix, side: str) -> str:
    return url.format(**m.records.of(side))


def get(url: str, **params) -> Request:
    """GET ``url`` ({names} filled from the side's records); params may be callables of (records, side)."""
    return lambda m, side, role: {"url": fill(url, m, side), "params": {
        k: v(m.records, side) if callable(v) else v for k, v in params.items()}}


def post(url: str, body=None) -> Request:
    """POST a JSON body (or a callable of (records, side) giving it)."""
    return lambda m, side, role: {"url": fill(url, m, side),
                                  "json": body(m.records, side) if callable(body) else body}


def form(url: str, fields=None) -> Request:
    """POST a page's form (fields, or a callable of (records, side) giving them); the CSRF token is added."""
    return lambda m, side, role: {"url": fill(url, m, side),
                                  "data": dict(fields(m.records, side) if callable(fields) else fields or {})}


def text_of(name: str) -> Callable[[Records, str], str]:
    """The marker ``records.text[side][name]``."""
    return lambda r, side: r.text[side][name]


def cases(*items: Case) -> list[Case]:
    """A fragment's cases; one key twice is a mistake in the fragment."""
    keys = [c.key for c in items]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    return list(items)


# --- the routes of an app ------------------------------------------------------------------


def app_routes(app) -> dict[tuple[str, str], str]:
    """{(method, path): the endpoint's "module:function"} of every route the app answers (HEAD
    and the static files' mount aside)."""
    found = {}
    for ctx in iter_route_contexts(app.router.routes):
        route = ctx.original_route
        methods = getattr(ctx, "methods", None) or getattr(route, "methods", None) or ()
        endpoint = getattr(route, "endpoint", None)
        if endpoint is None:
            continue
        for method in methods:
            if method != "HEAD":
                found[(method, ctx.path)] = f"{endpoint.__module__}:{endpoint.__name__}"
    return found


def fragment_of(endpoint: str) -> str:
    """The fragment that must cover a route, from its endpoint's module: ``pingan.geo.pages`` →
    tests/geo/test_matrix.py, ``tests._sample_module.routes`` → tests/_sample_module/test_matrix.py,
    the web frame's own routes (app, docs, OpenAPI) → tests/web/test_matrix.py."""
    module = endpoint.split(":")[0]
    parts = module.split(".")
    if parts[0] == "pingan" and len(parts) > 2 and parts[1] != "web":
        return f"tests/{parts[1]}/test_matrix.py"
    if parts[0] == "tests":
        return "/".join(parts[:-1]) + "/test_matrix.py"
    return "tests/web/test_matrix.py"


def fragments(installed: tuple[str, ...]) -> dict[str, list[Case]]:
    """{fragment module: its cases} for the installed modules and the web frame, where one exists."""
    found = {}
    for name in (*installed, "web"):
        fragment = f"{name}.test_matrix" if "." in name else f"tests.{name}.test_matrix"
        try:
            found[fragment] = importlib.import_module(fragment).CASES
        except ModuleNotFoundError as exc:
            if exc.name != fragment:
                raise
    return found


# --- the world of the matrix ---------------------------------------------------------------


def build_records(db, world) -> Records:
    admin = actor_of(db, world, "admin")
    extra_b = org_service.create_unit(db=db, call_sign="卫滨巡2", kind=UnitKind.PATROL_CAR,
                                      org_unit_id=world.org["station_b"].id, lat=35.302, lon=113.852)
    ids: dict[str, dict[str, int]] = {}
    text: dict[str, dict[str, str]] = {}
    for side, station, own_unit, free_unit in (("a", "station_a", "红旗巡1", world.units["红旗巡2"]),
                                               ("b", "station_b", "卫滨巡1", extra_b)):
        address = world.addresses[0] if side == "a" else world.addresses[2]

        def incident():
            created, _ = incident_service.create_incident(db=db, actor=admin, data=IncidentCreate(
                caller_phone="13812345678", caller_name="王五", location_text=address.full_text,
                address_id=address.id, category_code="2001", priority=2))
            return created

        received, accepted, closed, dispatched, duplicate = (incident() for _ in range(5))
        incident_service.accept(db=db, actor=admin, incident_id=accepted.id)
        incident_service.close(db=db, actor=admin, incident_id=closed.id, disposition="handled_on_scene")
        assignment = incident_service.assign_unit(db=db, actor=admin, incident_id=dispatched.id,
                                                  unit_id=world.units[own_unit].id)
        assert assignment.status == AssignmentStatus.DISPATCHED
        ids[side] = {"received": received.id, "accepted": accepted.id, "closed": closed.id,
                     "dispatched": dispatched.id, "duplicate": duplicate.id, "assignment": assignment.id,
                     "own_unit": world.units[own_unit].id, "free_unit": free_unit.id,
                     "station": world.org[station].id, "patrol": world.users[f"patrol_{side}"].id,
                     "grid": world.grids[side].id, "address_id": address.id}
        text[side] = {"number": received.number, "open_number": accepted.number, "call_sign": own_unit,
                      "station_name": world.org[station].name, "username": f"patrol_{side}",
                      "address_text": address.full_text,
                      "address_query": f"{address.road}{address.house_no}", "grid_code": world.grids[side].code}
        # an account lock for each side's lift (unknown usernames: the root admin's)
        db.add(LoginLock(username=f"locked_{side}", failures=50, addresses=5,
                         expires_at=utcnow() + timedelta(hours=1)))
    db.flush()
    return Records(ids=ids, text=text,
                   point={"a": {"lat": 35.305, "lon": 113.905}, "b": {"lat": 35.305, "lon": 113.855}})


@dataclass
class Credentials:
    token: str
    csrf: str


def sign_in_everyone(db, world) -> dict[str, Credentials]:
    """A session of each role, as logging in makes one."""
    return {role: Credentials(*open_session(db, world.users[role])) for role in ROLES}


def _fake_pdf(path):
    """A stand-in for LibreOffice (the PDF's content is tests/stats/test_report_routes.py's business,
    not who may have it)."""
    pdf = path.with_suffix(".pdf")
    pdf.write_bytes(b"%PDF-1.4 stand-in")
    return pdf


@dataclass
class Matrix:
    connection: object
    db: object
    world: object
    records: Records
    sessions: dict[str, Credentials]
    client: object
    monkeypatch: pytest.MonkeyPatch
    store: object = None
    prepared: set[str] = field(default_factory=set)

    # -- what some cases need, made once per fragment
    def prepare(self, needs: frozenset[str]) -> None:
        if "store" in needs and "store" not in self.prepared:
            from pingan.stats import dashboard
            from pingan.stats import routes as stats_routes
            from pingan.stats import service as stats_service
            from pingan.stats.store import StatsStore

            # the incidents are received in a month that has ended, so no figure is cut to date
            received = datetime(2026, 7, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
            ids = [i for side in SIDES for k, i in self.records.ids[side].items() if k in INCIDENTS]
            self.db.execute(update(Incident).where(Incident.id.in_(ids)).values(received_at=received))
            self.db.flush()
            self.records.period = "2026-07"
            self.store = StatsStore(path=None, memory_limit="64MB", threads=1)
            self.store.sync(db=self.db)
            dashboard.clear_cache()
            self.client.app.dependency_overrides[stats_routes.current_store] = lambda: self.store
            self.monkeypatch.setattr(stats_service, "docx_to_pdf", _fake_pdf)
            self.prepared.add("store")
        if "reports" in needs and "reports" not in self.prepared:
            from pingan.stats import service as stats_service

            admin = actor_of(self.db, self.world, "admin")
            for side, station in (("a", "station_a"), ("b", "station_b")):
                issued = stats_service.issue(db=self.db, store=self.store, actor=admin, period=self.records.period,
                                             org_unit_id=self.world.org[station].id)
                self.records.ids[side]["report"] = issued.id
            self.db.flush()
            self.prepared.add("reports")

    # -- one request, undone afterwards
    def send(self, case: Case, side: str, role: str | None, *, csrf: bool = True):
        """``role`` None: without credentials; ``csrf`` False: a form without its CSRF token."""
        client = self.client
        client.cookies.clear()
        headers = {}
        signed = self.sessions[role] if role is not None and case.credentials else None
        if signed is not None and case.page:
            client.cookies.set(SESSION_COOKIE, signed.token)
        elif signed is not None:
            headers["Authorization"] = f"Bearer {signed.token}"
        savepoint = self.connection.begin_nested()
        try:
            spec = dict(case.request(self, side, role or "admin"))
            if "data" in spec and signed is not None and csrf:
                spec["data"] = {CSRF_FIELD: signed.csrf, **spec["data"]}
            url = spec.pop("url")
            return client.request(case.method, url, headers=headers, follow_redirects=False,
                                  **{k: v for k, v in spec.items() if v is not None})
        finally:
            savepoint.rollback()

    def check(self, case: Case) -> None:
        self.prepare(case.needs)
        wrong = []
        anonymous = self.send(case, "a", None)
        if case.public:
            if anonymous.status_code != case.ok:
                wrong.append(f"{'anonymous':12}       : expected {case.ok}, got {anonymous.status_code}")
        elif case.page and anonymous.status_code != 303 or not case.page and anonymous.status_code != 401:
            wrong.append(f"{'anonymous':12}       : expected {303 if case.page else 401}, "
                         f"got {anonymous.status_code}")
        elif case.page and not anonymous.headers["location"].startswith("/login"):
            wrong.append(f"{'anonymous':12}       : redirected to {anonymous.headers['location']}, not the login")
        if case.page and case.method != "GET" and case.credentials:
            role = next(r for r in ROLES if case.expected(r, "a") == case.ok_for.get(r, case.ok))
            forged = self.send(case, "a", role, csrf=False)
            if forged.status_code != 403:
                wrong.append(f"{role:12} side a: without the CSRF token expected 403, got {forged.status_code}")
        for role in ROLES:
            for side in SIDES:
                resp = self.send(case, side, role)
                want = case.expected(role, side)
                if resp.status_code != want:
                    wrong.append(f"{role:12} side {side}: expected {want}, got {resp.status_code} "
                                 f"{_excerpt(resp)}")
                elif case.marker is not None and role in case.allowed:
                    shown = case.marker(self.records, side) in resp.text
                    if shown != (role in VISIBLE[case.rows][side]):
                        wrong.append(f"{role:12} side {side}: side {side}'s rows are "
                                     f"{'shown' if shown else 'missing'} ({case.marker(self.records, side)})")
        assert not wrong, f"{case.method} {case.path}\n" + "\n".join(wrong)

    def close(self) -> None:
        self.client.app.dependency_overrides.clear()
        if self.store is not None:
            self.store.close()


def _excerpt(resp) -> str:
    """The start of what the response says: a page's text from its <main> on, or the JSON."""
    text = resp.text
    if text.lstrip().startswith("<"):
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text[text.find("<main"):] if "<main" in text else text))
    return text.strip()[:160]


def matrix_world(engine, installed: tuple[str, ...] = ()):
    """Generator of the fragment's Matrix (a module-scoped fixture runs it): one connection and
    transaction, the app's sessions in savepoints of it, the world and its records, a session per
    role and a client of an app with ``installed`` added to the modules."""
    from fastapi.testclient import TestClient

    from pingan import modules
    from pingan.app import create_app
    from tests._db import savepoint_sessions, serve_sessions_from
    from tests.factories import hash_each_password_once

    connection = engine.connect()
    transaction = connection.begin()
    patch = pytest.MonkeyPatch()
    factory = savepoint_sessions(connection)
    serve_sessions_from(patch, factory)
    hash_each_password_once(patch)
    if installed:
        patch.setattr(modules, "INSTALLED", (*modules.INSTALLED, *installed))
    db = factory()
    try:
        world = build_world(db)
        records = build_records(db, world)
        sessions = sign_in_everyone(db, world)
        with TestClient(create_app(background_jobs=False), base_url="http://testserver") as client:
            matrix = Matrix(connection=connection, db=db, world=world, records=records, sessions=sessions,
                            client=client, monkeypatch=patch)
            try:
                yield matrix
            finally:
                matrix.close()
    finally:
        db.close()
        transaction.rollback()
        connection.close()
        patch.undo()


def matrix_test(fragment: list[Case]):
    """The test a fragment module binds to ``test_matrix``: one run per case."""

    @pytest.mark.parametrize("case", fragment, ids=[f"{c.method} {c.path}" for c in fragment])
    def test_matrix(case: Case, matrix: Matrix) -> None:
        matrix.check(case)

    return test_matrix

