"""Stored XSS and the Content-Security-Policy, in headless Chromium against a real server.

Markup is posted in every free-text field a page or a map shows — an incident's location, caller
name and description, a second call's, the resolve and close notes, a callback's note, a unit's
call sign and a grid's name. Each payload is an ``<img>`` whose ``src`` is a path of its own under
``/xss/`` with an ``onerror`` that sets ``window.__xss``: were any of them inserted as HTML, the
browser would request that path even where the CSP stops the handler. The board, the list, the
detail pages, the grid map, the statistics map and the audit log are loaded, every
map layer's tooltip and popup opened; no request may go to ``/xss/`` or leave
the server, no ``<img>`` of a payload may exist, no script may run.

Then each main page is loaded and its console must show no CSP violation and no page error.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest
from sqlalchemy import text

from tests.browser.conftest import wait_until
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

TIMEOUT_MS = 20_000


def payload(tag: str) -> str:
    # no digits: a caller's name may not hold any; short enough for a call sign (20 characters)
    return f"<img src=/xss/{tag} onerror=__xss=true>"


CALL_SIGN = "<img src=/xss/unit>"  # 19 characters: the column holds 20
GRID_NAME = payload("grid")

# Record the page's CSP violations before any of its own scripts run (Playwright's init scripts
# are not subject to the page's policy).
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""

# Open every tooltip and popup of every layer of every map: their content is put in the page then.
OPEN_MAP_TEXTS = """
() => {
  var opened = 0;
  (window.Pingan && Pingan.maps || []).forEach(function (map) {
    map.eachLayer(function (layer) {
      if (layer.getTooltip && layer.getTooltip()) { layer.openTooltip(); opened++; }
      if (layer.getPopup && layer.getPopup()) { layer.openPopup(); layer.closePopup(); opened++; }
    });
  });
  return opened;
}
"""


def api(base: str, username: str) -> dict:
    token = httpx.post(timeout=60, url=base + "/api/v1/auth/login", json={"username": username, "password": PASSWORD}).json()
    return {"Authorization": f"Bearer {token['token']}"}


def post(base: str, headers: dict, path: str, body: dict, status: int = 200) -> dict:
    resp = httpx.post(timeout=60, url=base + path, headers=headers, json=body)
    assert resp.status_code == status, resp.text
    return resp.json()


@pytest.fixture(scope="module")
def hostile(live_server) -> dict:
    """Markup in every free-text field; the ids of the incidents that carry it."""
    from pingan.db.unit_of_work import unit_of_work_on
    from pingan.geo.models import ZoneClass
    from pingan.org import service as org_service
    from pingan.org.models import OrgUnit, UnitKind
    from tests.factories import make_grid

    base = live_server.url
    with unit_of_work_on(live_server.engine) as db:
        station_b = db.execute(text("SELECT id FROM org_unit WHERE code = '410703010000'")).scalar_one()
        station_b = db.get(OrgUnit, station_b)
        make_grid(db, code="G410703001099", name=GRID_NAME, zone=ZoneClass.URBAN, org_unit=station_b,
                  lon=113.80, lat=35.30, division_code="410703001001")
        org_service.create_unit(db=db, call_sign=CALL_SIGN, kind=UnitKind.FOOT_PATROL, org_unit_id=station_b.id,
                                lat=35.305, lon=113.805)
    with live_server.engine.connect() as conn:
        address_id = conn.execute(text("SELECT id FROM address WHERE full_text LIKE '%平原路125号'")).scalar_one()
    d = api(base, "dispatcher")
    open_one = post(base, d, "/api/v1/incidents", {
        "caller_phone": "13600002222", "caller_name": payload("name"), "location_text": payload("location"),
        "address_id": address_id, "category_code": "6002", "priority": 2, "description": payload("description")},
        status=201)
    post(base, d, f"/api/v1/incidents/{open_one['id']}/calls", {
        "caller_phone": "13600003333", "caller_name": payload("nameb"), "location_text": payload("call-location"),
        "description": payload("call-description")}, status=201)
    closed = post(base, d, "/api/v1/incidents", {
        "caller_phone": "13600004444", "caller_name": "孙女士", "location_text": payload("closed-location"),
        "address_id": address_id, "category_code": "5003", "priority": 4, "description": "门锁坏了"}, status=201)
    post(base, d, f"/api/v1/incidents/{closed['id']}/accept", {})
    post(base, d, f"/api/v1/incidents/{closed['id']}/resolve", {"note": payload("resolve-note")})
    post(base, d, f"/api/v1/incidents/{closed['id']}/close", {"disposition": "mediated", "note": payload("close-note")})
    post(base, d, f"/api/v1/incidents/{closed['id']}/callbacks", {"satisfaction": "satisfied",
                                                                  "note": payload("callback-note")}, status=201)
    return {"open": open_one["id"], "closed": closed["id"]}


class Watch:
    """What a page did: requests, CSP violations, console errors, page errors."""

    def __init__(self, page, base: str):
        self.page, self.base = page, base
        self.requests: list[str] = []
        self.console: list[str] = []
        self.errors: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("dialog", lambda dialog: (self.errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))

    def csp_violations(self) -> list[str]:
        reported = self.page.evaluate("window.__csp || []")
        logged = [m for m in self.console if "Content Security Policy" in m or "Content-Security-Policy" in m]
        return reported + logged

    def assert_clean(self, where: str) -> None:
        leaving = [u for u in self.requests if not u.startswith(self.base + "/") and not u.startswith("data:")]
        assert not leaving, f"{where}: requests left the server: {leaving}"
        injected = [u for u in self.requests if "/xss/" in u]
        assert not injected, f"{where}: markup was inserted as HTML: {injected}"
        assert self.page.evaluate("document.querySelectorAll('img[src*=\"xss\"]').length") == 0, where
        assert self.page.evaluate("window.__xss === undefined"), f"{where}: a payload ran"
        assert not self.csp_violations(), f"{where}: {self.csp_violations()}"
        assert not self.errors, f"{where}: {self.errors}"


def wait_for_statistics(base: str, seconds: float = 100.0) -> None:
    headers = api(base, "admin")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if httpx.get(timeout=60, url=base + "/api/v1/stats/kpis/incidents_received", params={"period": time.strftime("%Y")},
                     headers=headers).status_code == 200:
            return
        time.sleep(0.5)
    raise AssertionError("the statistics process did not answer")


def log_in(page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(re.compile(re.escape(base) + r"/(?!login)"))


def test_markup_in_every_free_text_field_stays_text(browser, live_server, hostile):
    base = live_server.url
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1440, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    watch = Watch(page, base)
    log_in(page, base, "admin")

    # the board: the incident's location and the unit's call sign in the markers' tooltips
    page.goto(base + "/incidents/board")
    page.wait_for_selector(f'#board-rows tr[data-id="{hostile["open"]}"]')
    wait_until(page, "Pingan.maps.length && Object.values(Pingan.maps[0]._layers).some("
                     "l => l.getTooltip && l.getTooltip() && l instanceof L.CircleMarker && "
                     "!/^JJ/.test(l.getTooltip().getContent().textContent || l.getTooltip().getContent()))")
    # Every tooltip and popup of every layer is opened (the same insertion a hover makes). A real
    # mouse hover was tried here too, but the board redraws its markers whenever the stream says
    # something changed, and the hover did not reliably land on the marker before that.
    assert page.evaluate(OPEN_MAP_TEXTS) > 3
    watch.assert_clean("board")
    tooltips = page.evaluate("Array.from(document.querySelectorAll('.leaflet-tooltip')).map(t => t.textContent)")
    assert any(payload("location") in t for t in tooltips), tooltips  # shown, as text
    assert any(t.startswith(CALL_SIGN) for t in tooltips) and any(GRID_NAME in t for t in tooltips)
    assert payload("location") in page.inner_text("#board-rows")
    watch.assert_clean("board")

    # the list, both detail pages (calls, timeline notes, callback), the caller's contact shown
    page.goto(base + "/incidents")
    assert payload("location") in page.inner_text("main")
    watch.assert_clean("list")
    for incident_id in (hostile["open"], hostile["closed"]):
        page.goto(base + f"/incidents/{incident_id}")
        page.wait_for_selector("#incident-panel")
        watch.assert_clean(f"incident {incident_id}")
    page.goto(base + f"/incidents/{hostile['open']}")
    assert payload("call-description") in page.inner_text("main")
    page.goto(base + f"/incidents/{hostile['closed']}")
    shown = page.inner_text("main")
    assert payload("close-note") in shown and payload("callback-note") in shown
    watch.assert_clean("incident pages")

    # the units page, the grid map (popups), the audit log (the changes hold every payload)
    page.goto(base + "/units")
    assert CALL_SIGN in page.inner_text("main")
    page.goto(base + "/grids")
    page.wait_for_selector('#grid-map[data-rendered="1"]')
    assert page.evaluate(OPEN_MAP_TEXTS) >= 3
    watch.assert_clean("grid map")
    page.goto(base + "/audit")
    assert "/xss/" in page.inner_text("main")
    watch.assert_clean("audit log")

    # the statistics map's grid tooltips (once the statistics process answers)
    wait_for_statistics(base)
    page.goto(base + "/stats")
    page.wait_for_selector('#grid-map[data-rendered="1"]')
    assert page.evaluate(OPEN_MAP_TEXTS) >= 3
    tooltips = page.evaluate("Array.from(document.querySelectorAll('.leaflet-tooltip')).map(t => t.textContent)")
    assert any(GRID_NAME in t for t in tooltips), tooltips
    watch.assert_clean("statistics")
    context.close()


MAIN_PAGES = ["/incidents/board", "/incidents", "/incidents/new", "/incidents/{open}", "/grids", "/stats",
              "/audit", "/api/docs"]


def test_main_pages_keep_to_the_content_security_policy(browser, live_server, hostile):
    base = live_server.url
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1440, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    watch = Watch(page, base)
    log_in(page, base, "admin")
    for path in MAIN_PAGES:
        path = path.format(open=hostile["open"])
        resp = page.goto(base + path)
        assert resp.status == 200, path
        assert "script-src 'self'" in resp.headers["content-security-policy"], path
        if path == "/stats":
            wait_for_statistics(base)
        if path == "/api/docs":  # Swagger UI drew the document, offline
            page.wait_for_selector(".opblock-tag", timeout=TIMEOUT_MS)
            assert "incidents" in page.inner_text("#swagger-ui")
        elif path in ("/grids", "/stats"):
            page.wait_for_selector('#grid-map[data-rendered="1"]')
        else:
            page.wait_for_load_state("networkidle") if path != "/incidents/board" and not path.startswith("/incidents/") \
                else page.wait_for_selector("main")
        watch.assert_clean(path)
    context.close()
