"""The module list (issue 14): what ``pingan.modules`` installs is what the app, the CLI, the
tables, the navigation and the audit page are made of."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest


class _MainNav(HTMLParser):
    """The links of ``<nav class="mainnav">``: (attributes, inner HTML with whitespace collapsed)."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.links: list[tuple[dict, str]] = []
        self._link: list | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "nav" and ("class", "mainnav") in attrs:
            self.inside = True
        elif self.inside and tag == "a":
            self._link = [dict(attrs), ""]
        elif self._link is not None:
            self._link[1] += f"<{tag}>"

    def handle_endtag(self, tag):
        if tag == "nav":
            self.inside = False
        elif tag == "a" and self._link is not None:
            self.links.append((self._link[0], " ".join(self._link[1].split())))
            self._link = None
        elif self._link is not None:
            self._link[1] += f"</{tag}>"

    def handle_data(self, data):
        if self._link is not None:
            self._link[1] += data


def main_nav(html: str) -> list[tuple[dict, str]]:
    parser = _MainNav()
    parser.feed(html)
    return parser.links


TAKE_CALL = ({"href": "/incidents/new", "data-new-call": None, "title": "新来电（Alt+N）"}, "接警 <kbd>Alt+N</kbd>")
BOARD = ({"href": "/incidents/board"}, "警情看板")
INCIDENTS = ({"href": "/incidents"}, "警情列表")
PATROL = ({"href": "/patrol"}, "我的任务")
UNITS = ({"href": "/units"}, "警力")
ADDRESSES = ({"href": "/addresses"}, "标准地址")
PEOPLE = ({"href": "/people"}, "人员")
ORG = ({"href": "/org"}, "机构")
STATS = ({"href": "/stats"}, "统计")
AUDIT = ({"href": "/audit"}, "审计日志")
REPORTS = ({"href": "/stats/reports"}, "工作综述")
HOLIDAYS = ({"href": "/clocks/holidays"}, "节假日")  # the clocks module's (issue 15), after the list

# The main menu as base.html rendered it for each role before the menu came from the modules
# (and the people module's entry since issue 15).
NAV_BY_ROLE = {
    "admin": [TAKE_CALL, BOARD, INCIDENTS, UNITS, ADDRESSES, PEOPLE, ORG, STATS, HOLIDAYS, AUDIT, REPORTS],
    "dispatcher": [TAKE_CALL, BOARD, INCIDENTS, UNITS, ADDRESSES, PEOPLE, ORG, STATS, REPORTS],
    "chief_a": [BOARD, INCIDENTS, UNITS, ADDRESSES, PEOPLE, ORG, STATS, REPORTS],
    "patrol_a": [BOARD, INCIDENTS, PATROL, UNITS, ADDRESSES, PEOPLE],
    "community_a": [BOARD, INCIDENTS, UNITS, ADDRESSES, PEOPLE],
    "auditor": [BOARD, INCIDENTS, ADDRESSES, ORG, STATS, AUDIT, REPORTS],
}


@pytest.mark.parametrize("username", sorted(NAV_BY_ROLE))
def test_the_menu_of_each_role_is_what_it_was_and_only_what_the_role_may_open(client, world, sign_in, username):
    sign_in(username)
    home = client.get("/")
    assert home.status_code == 200, home.url
    links = main_nav(home.text)
    assert links == NAV_BY_ROLE[username]
    shown = {attrs["href"] for attrs, _ in links}
    for href in {attrs["href"] for links in NAV_BY_ROLE.values() for attrs, _ in links}:
        status = client.get(href, follow_redirects=False).status_code
        assert (status == 403) == (href not in shown), (href, status)
    client.cookies.set("lang", "en")
    english = main_nav(client.get("/").text)
    assert [a["href"] for a, _ in english] == [a["href"] for a, _ in NAV_BY_ROLE[username]]
    if username == "dispatcher":
        assert english[0] == ({"href": "/incidents/new", "data-new-call": None, "title": "New call (Alt+N)"},
                              "Take call <kbd>Alt+N</kbd>")
        assert english[-1][1] == "Work summaries"


SAMPLE = "tests._sample_module"  # a module defined in the test suite (tests/_sample_module/)


# --- the list itself ------------------------------------------------------------------------

def test_the_installed_modules_are_those_modules_py_names_in_its_order():
    from pingan import modules
    from pingan.registry import Module, installed

    loaded = installed()
    assert [m.name for m in loaded] == list(modules.INSTALLED)
    assert all(isinstance(m, Module) for m in loaded)
    assert installed(["geo", "org"]) == (loaded[2], loaded[1])


def test_every_reference_a_module_declares_resolves_and_every_menu_permission_exists():
    from pingan.auth.permissions import Perm
    from pingan.registry import installed, resolve

    for module in installed():
        for reference in (*module.api_routers, *module.page_routers, *module.reference_data, *module.on_shutdown,
                          *(j.due for j in module.jobs), *(j.run for j in module.jobs), *(w.start for w in module.warm_ups),
                          *(w.stop for w in module.warm_ups), *([module.cli] if module.cli else [])):
            assert resolve(reference) is not None, (module.name, reference)
        for entry in module.navigation:
            assert entry.permission in {p.value for p in Perm}, (module.name, entry)
        assert all(isinstance(j.interval_seconds(), float) for j in module.jobs)


def mounted(app) -> list[tuple[object, str, bool]]:
    """(router, prefix, in the OpenAPI document) for every router the app includes, in order."""
    return [(r.original_router, r.include_context.prefix, r.include_context.include_in_schema)
            for r in app.routes if hasattr(r, "original_router")]


def test_every_installed_modules_routers_are_mounted_in_module_order_the_incident_api_first(app):
    from pingan.registry import installed, resolve

    expected = [(resolve(r), "/api/v1", True) for m in installed() for r in m.api_routers]
    expected += [(resolve(r), "", False) for m in installed() for r in m.page_routers]
    # After the modules' routers, the web frame's own: the API docs page (web.docs).
    assert mounted(app)[:len(expected)] == expected
    assert [(prefix, in_schema) for _, prefix, in_schema in mounted(app)[len(expected):]] == [("", True)]
    assert mounted(app)[0][0] is resolve("pingan.incident.routes:router")
    assert {m.name for m in installed() if m.api_routers} == {"incident", "org", "geo", "auth", "people", "audit",
                                                                      "stats", "clocks"}


def test_the_tables_of_every_installed_module_are_on_the_metadata_alembic_migrates(engine):
    from sqlalchemy import inspect

    from pingan.db.base import Base
    from pingan.models import Base as ModelsBase
    from pingan.registry import installed

    assert ModelsBase is Base
    migrated = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert set(Base.metadata.tables) == migrated
    for module in installed():  # each module's tables were imported by pingan.models
        if module.models:
            assert any(getattr(mapper.class_, "__module__", None) == module.models
                       for mapper in Base.registry.mappers), module.name


def test_the_audit_page_names_the_tables_each_module_declares_in_module_order():
    from pingan.registry import audit_entities

    assert list(audit_entities().items()) == [
        ("incident", ("警情", "incident")), ("call", ("来电", "call")), ("assignment", ("派警", "assignment")),
        ("callback", ("回访", "callback")), ("duty_unit", ("警力单元", "duty unit")), ("org_unit", ("机构", "org unit")),
        ("officer", ("民警", "officer")), ("app_user", ("用户", "user")), ("address", ("标准地址", "standard address")),
        ("grid", ("网格", "grid")), ("auth_session", ("登录会话", "session")),
        ("login_lock", ("登录锁定", "login lock")), ("person", ("人员", "person")),
        ("person_phone", ("人员电话", "person's phone")), ("person_document", ("人员证件", "person's document")),
        ("stats_report", ("工作综述", "work summary")),
        ("holiday", ("节假日", "holiday")), ("clock_pause", ("期限中止", "clock pause")),
        ("clock_extension", ("期限延长", "clock extension")),
    ]


def test_the_files_that_iterate_over_the_list_name_no_module():
    """app.py, models.py, db upgrade, the menu and the audit page's names come from the list.
    (cli.py is not here: its `serve` starts the statistics process.)"""
    import re
    from pathlib import Path

    import pingan
    from pingan import modules

    root = Path(pingan.__file__).parent
    domain = re.compile(r"\bpingan\.(%s)\b|['\"]/(%s)\b" % ("|".join(modules.INSTALLED), "|".join(modules.INSTALLED)))
    for name in ("app.py", "models.py", "db/migrate.py", "web/templating.py", "web/templates/base.html"):
        assert not domain.findall((root / name).read_text(encoding="utf-8")), name
    assert "LABELS" not in (root / "audit" / "pages.py").read_text(encoding="utf-8").replace("ACTION_LABELS", "")


def test_the_cli_has_each_modules_commands():
    import typer.main

    from pingan.cli import app

    commands = typer.main.get_command(app).commands
    assert {"serve", "db", "user", "import", "address", "demo", "stats", "report"} <= set(commands)
    assert set(commands["import"].commands) == {"addresses", "units"}


def test_db_upgrade_syncs_each_modules_reference_data(engine, monkeypatch):
    from pingan import modules
    from pingan.db.migrate import upgrade
    from tests._sample_module import lifecycle

    monkeypatch.setattr(modules, "INSTALLED", (*modules.INSTALLED, SAMPLE))
    lifecycle.events.clear()
    upgrade(engine)
    assert lifecycle.events == ["sync in Session"]


# --- a module defined in the test suite -----------------------------------------------------


@pytest.fixture
def sample_client(db, monkeypatch):
    """A client of an app built with the sample module installed after the others."""
    from fastapi.testclient import TestClient

    from pingan import modules
    from pingan.app import create_app

    monkeypatch.setattr(modules, "INSTALLED", (*modules.INSTALLED, SAMPLE))
    with TestClient(create_app(background_jobs=False), base_url="http://testserver") as client:
        yield client


def sign_in_as(client, username: str) -> None:
    from tests.factories import log_in

    client.cookies.clear()
    log_in(client, username)


def test_a_module_added_to_the_list_is_in_the_api_and_its_openapi_document(sample_client, world, login):
    from pingan.registry import installed, resolve

    assert [m.name for m in installed()][-1] == "sample"
    assert mounted(sample_client.app)[-2][0] is resolve(f"{SAMPLE}.pages:router")  # then the API docs page
    headers = login("auditor")
    resp = sample_client.get("/api/v1/sample/items", headers=headers)
    assert resp.status_code == 200 and resp.json() == {"items": ["一", "二"], "reader": "auditor"}
    assert sample_client.get("/api/v1/sample/items", headers=login("dispatcher")).status_code == 403
    paths = sample_client.get("/openapi.json").json()["paths"]
    assert "/api/v1/sample/items" in paths and "/sample" not in paths
    assert "/api/v1/incidents" in paths  # the others stay


def test_a_module_added_to_the_list_is_in_the_menu_of_the_roles_that_may_open_it_only(sample_client, world):
    sample_link = ({"href": "/sample"}, "样例页")
    sign_in_as(sample_client, "auditor")
    page = sample_client.get("/audit")
    assert main_nav(page.text) == [*NAV_BY_ROLE["auditor"][:-1], sample_link, NAV_BY_ROLE["auditor"][-1]]
    assert sample_client.get("/sample").status_code == 200
    sign_in_as(sample_client, "dispatcher")
    assert main_nav(sample_client.get("/incidents").text) == NAV_BY_ROLE["dispatcher"]
    assert sample_client.get("/sample").status_code == 403


def test_a_module_added_to_the_list_names_its_audit_entities_on_the_audit_page(sample_client, world):
    sign_in_as(sample_client, "auditor")
    html = sample_client.get("/audit").text
    assert '<option value="sample_item" >样例记录</option>' in html
    sample_client.cookies.set("lang", "en")
    assert '<option value="sample_item" >sample item</option>' in sample_client.get("/audit").text


def test_the_server_runs_each_modules_warm_ups_and_shutdown_and_no_job(db, monkeypatch):
    """Only the sample installed, with background work: its warm-up starts, and at shutdown the
    warm-up stops and what it holds is released. Its job is the job worker's (tests/test_jobs.py)."""
    from fastapi.testclient import TestClient

    from pingan import modules
    from pingan.app import create_app
    from tests._sample_module import lifecycle

    monkeypatch.setattr(modules, "INSTALLED", (SAMPLE,))
    lifecycle.events.clear()
    lifecycle.steps.clear()
    with TestClient(create_app(background_jobs=True), base_url="http://testserver"):
        assert lifecycle.events == ["start"]
    assert lifecycle.events == ["start", "stop", "release"]
    assert lifecycle.steps == []  # a web worker runs no job
    lifecycle.events.clear()
    with TestClient(create_app(background_jobs=False), base_url="http://testserver"):
        pass
    assert lifecycle.events == ["release"]  # without background work nothing is started, the client is still closed


def test_a_module_added_to_the_list_brings_its_statistics_a_kpi_whose_records_are_the_figure(sample_client, db,
                                                                                              world, login):
    """The sample's fact source is synced into the store, its KPI is listed to the roles that may
    read the source (auditors: audit.read) and to no other, the engine computes it, and the
    records behind it — in the API and on the records page — are as many as the figure."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from pingan.stats import routes as stats_routes
    from pingan.stats.store import StatsStore
    from tests._sample_module.stats import sample_item

    sample_item.create(db.connection())
    local = ZoneInfo("Asia/Shanghai")
    items = [("office_a", "一", "2026-07-01 08:00"), ("station_b", "二", "2026-07-31 23:30"),
             ("office_a", "三", "2026-08-01 00:10")]  # the last is August, local time
    db.execute(sample_item.insert(), [
        {"org_unit_id": world.org[unit].id, "name": name,
         "received_at": datetime.fromisoformat(at).replace(tzinfo=local).astimezone(UTC)} for unit, name, at in items])
    store = StatsStore(path=None, memory_limit="64MB", threads=1)
    sample_client.app.dependency_overrides[stats_routes.current_store] = lambda: store
    try:
        assert store.sync(db=db).mode == {"incident": "full", "sample": "full"}
        auditor, dispatcher = login("auditor"), login("dispatcher")
        listed = [k["slug"] for k in sample_client.get("/api/v1/stats/kpis", headers=auditor).json()]
        assert "sample_items" in listed and "incidents_received" in listed
        listed = [k["slug"] for k in sample_client.get("/api/v1/stats/kpis", headers=dispatcher).json()]
        assert "sample_items" not in listed and "incidents_received" in listed
        asked = sample_client.get("/api/v1/stats/kpis/sample_items?period=2026-07", headers=dispatcher)
        assert asked.status_code == 422  # a KPI of a source the role may not read is none of theirs
        value = sample_client.get("/api/v1/stats/kpis/sample_items?period=2026-07&compare=false", headers=auditor)
        assert value.status_code == 200, value.text
        figure = value.json()["cells"][0]["value"]
        assert figure == 2
        records = sample_client.get("/api/v1/stats/kpis/sample_items/records?period=2026-07", headers=auditor).json()
        assert records["total"] == len(records["items"]) == figure
        assert sorted(i["name"] for i in records["items"]) == ["一", "二"]
        sign_in_as(sample_client, "auditor")
        page = sample_client.get("/stats/records?kpi=sample_items&period=2026-07")
        assert page.status_code == 200 and 'data-total="2"' in page.text and "<td>二</td>" in page.text
        # the dashboard: one panel part per source the reader may read, and the sample's cards in its own
        sign_in_as(sample_client, "auditor")
        html = sample_client.get("/stats?period=2026-07").text
        assert re.findall(r'hx-get="/stats/panels\?source=(\w+)', html) == ["incident", "sample"]
        panel = sample_client.get("/stats/panels?source=sample&period=2026-07").text
        assert 'data-kpi="sample_items"' in panel and 'data-kpi="incidents_received"' not in panel
        assert re.search(r'data-kpi="sample_items">.*?data-figure="value">2 条<', panel, re.S)
        sign_in_as(sample_client, "dispatcher")
        html = sample_client.get("/stats?period=2026-07").text
        assert re.findall(r'hx-get="/stats/panels\?source=(\w+)', html) == ["incident"]
        assert sample_client.get("/stats/panels?source=sample&period=2026-07").status_code == 422
        assert sample_client.get("/stats/records?kpi=sample_items&period=2026-07").status_code == 422
    finally:
        sample_client.app.dependency_overrides.pop(stats_routes.current_store, None)
        store.close()
