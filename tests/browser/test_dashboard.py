"""The statistics dashboard in headless Chromium against a real server.

A leader logs in, opens the dashboard (the current year to date), the charts and the grid map
draw (canvases, no script errors), follows a KPI card to its records and finds as many listed as
the card says, then clicks a bar of the subordinate-unit chart and a grid on the map and lands
each time on the records behind that bar or grid, as many as it counts. A station chief opening
/stats lands on their station's dashboard.
"""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

TIMEOUT_MS = 20_000
CHARTS = ("trend", "units", "distribution", "zone", "hours", "categories")


def api_headers(base: str, username: str) -> dict:
    token = httpx.post(timeout=60, url=base + "/api/v1/auth/login", json={"username": username, "password": PASSWORD}).json()
    return {"Authorization": f"Bearer {token['token']}"}


def seed(base: str) -> int:
    """Calls taken over the API now (both branches), some accepted; how many."""
    headers = api_headers(base, "dispatcher")
    made = 0
    for location, category, priority in [("红旗区平原路123号", "2001", 2), ("红旗区平原路125号", "1001", 1),
                                         ("卫滨区胜利路8号", "3001", 3), ("红旗区平原路123号门口", "5003", 4),
                                         ("卫滨区胜利路8号北", "2001", 2)]:
        resp = httpx.post(timeout=60, url=base + "/api/v1/incidents", headers=headers, json={
            "caller_phone": "13700001111", "caller_name": "赵先生", "location_text": location,
            "category_code": category, "priority": priority, "description": "统计看板测试"})
        assert resp.status_code == 201, resp.text
        made += 1
        if made % 2:
            assert httpx.post(timeout=60, url=base + f"/api/v1/incidents/{resp.json()['id']}/accept", headers=headers).status_code == 200
    return made


def wait_synced(base: str, at_least: int, seconds: float = 100.0) -> None:
    """Until the statistics store (synced every second in the test server) holds the calls and
    they are counted: a year to date is counted to the current minute, so a call is counted once
    the minute it came in has passed."""
    headers = api_headers(base, "admin")
    year = time.strftime("%Y")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = httpx.get(timeout=60, url=base + "/api/v1/stats/kpis/incidents_received", params={"period": year},
                         headers=headers).json()
        if body["cells"] and body["cells"][0]["value"] >= at_least:
            return
        time.sleep(0.5)
    raise AssertionError("the statistics store did not pick up the new calls")


def new_page(browser, errors: list):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    return page


def log_in(page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_load_state("load")


def listed_total(page) -> int:
    return int(page.get_attribute("#total", "data-total"))


def test_dashboard_charts_and_every_figure_to_its_records(browser, live_server):
    base = live_server.url
    errors: list[str] = []
    made = seed(base)
    wait_synced(base, made)
    page = new_page(browser, errors)
    log_in(page, base, "admin")
    page.click('nav.mainnav a[href="/stats"]')
    page.wait_for_url(re.compile(re.escape(base) + r"/stats$"))
    for name in CHARTS:
        page.wait_for_selector(f'[data-chart="{name}"][data-rendered="1"] canvas', state="attached")
    page.wait_for_selector('#grid-map[data-rendered="1"]', state="attached")
    assert page.locator("#grid-map canvas").count() >= 1
    assert page.get_attribute(".period-line", "data-period") == time.strftime("%Y")
    assert errors == []

    # a card: its figure, then as many records listed
    value = page.locator('[data-kpi="incidents_received"] [data-figure="value"]')
    figure = int(value.inner_text().split()[0].replace(",", ""))
    assert figure >= made
    value.click()
    page.wait_for_url(re.compile(r"/stats/records\?kpi=incidents_received&period=\d{4}&until="))
    assert listed_total(page) == figure
    assert page.locator("table.records-list tbody tr[data-id]").count() == min(figure, 50)
    first = page.locator("table.records-list tbody tr[data-id] a.number").first
    first.click()
    page.wait_for_url(re.compile(r"/incidents/\d+$"))
    page.go_back()
    page.go_back()
    page.wait_for_selector('[data-chart="units"][data-rendered="1"] canvas', state="attached")

    # a bar of the subordinate-unit chart (a branch): its records, as many as the bar
    data = json.loads(page.inner_text("#stats-data"))
    units = data["units"]
    index = max(range(len(units["labels"])), key=lambda i: units["series"][0]["values"][i])
    bar_value = units["series"][0]["values"][index]
    assert bar_value > 0
    x, y = page.evaluate("""(i) => {
        const r = Pingan.stats.charts.units.getModel().getSeriesByIndex(0).getData().getItemLayout(i);
        return [r.x + r.width / 2, r.y + r.height / 2];
    }""", index)
    page.locator('[data-chart="units"]').scroll_into_view_if_needed()
    box = page.locator('[data-chart="units"]').bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_url(re.compile(r"/stats/records\?.*filter=branch%3A\d+"))
    assert listed_total(page) == bar_value
    assert units["labels"][index] in page.inner_text(".record-filters")
    page.go_back()
    page.wait_for_selector('#grid-map[data-rendered="1"]', state="attached")

    # a grid on the map: its records, as many as the map says
    grid_id, grid_value = page.evaluate("""() => {
        const values = Pingan.stats.values.values;
        const id = Object.keys(values).find(k => values[k][0] > 0);
        return [Number(id), values[id][0]];
    }""")
    page.locator("#grid-map").scroll_into_view_if_needed()
    x, y = page.evaluate("""(id) => {
        let point = null;
        Pingan.stats.layer.eachLayer(l => { if (l.feature.properties.id === id) {
            point = Pingan.stats.map.latLngToContainerPoint(l.getBounds().getCenter()); } });
        return [point.x, point.y];
    }""", grid_id)
    box = page.locator("#grid-map").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_url(re.compile(rf"/stats/records\?.*filter=grid%3A{grid_id}"))
    assert listed_total(page) == grid_value
    page.go_back()

    # the map's KPI select re-shades it without a reload
    page.wait_for_selector('#grid-map[data-rendered="1"]', state="attached")
    page.evaluate("window.__noReload = 'still here'")
    page.select_option("[data-map-select]", "arrived_within_target")
    page.wait_for_selector('#grid-map[data-kpi="arrived_within_target"][data-rendered="1"]', state="attached")
    assert page.evaluate("window.__noReload") == "still here"
    assert "按时到场率" in page.inner_text("#grid-map-legend")
    assert errors == []


def test_a_station_chief_lands_on_their_station(browser, live_server):
    errors: list[str] = []
    page = new_page(browser, errors)
    log_in(page, live_server.url, "chief_a")
    page.goto(live_server.url + "/stats")
    page.wait_for_url(re.compile(r"/stats/stations/\d+\?period=\d{4}$"))
    assert "西街派出所" in page.inner_text("h1")
    page.wait_for_selector('[data-chart="trend"][data-rendered="1"] canvas', state="attached")
    page.wait_for_selector('#grid-map[data-rendered="1"]', state="attached")
    assert page.locator("table.peer-ranks tbody tr").count() > 0
    assert errors == []


def test_a_part_of_the_charts_that_cannot_load_says_so(browser, live_server):
    """The charts after the page are requests of their own: when one fails (the statistics
    process down, say — here the network answers 503), its box says so and links to its
    figures; the page, its cards and the other charts stay as they are."""
    errors: list[str] = []
    page = new_page(browser, errors)
    log_in(page, live_server.url, "admin")
    page.route(re.compile(r".*/stats/charts\?part=breakdowns.*"),
               lambda route: route.fulfill(status=503, body="statistics unavailable"))
    page.goto(live_server.url + "/stats")
    page.wait_for_selector('[data-chart="trend"][data-rendered="1"] canvas', state="attached")
    failed = page.locator('[data-charts-part="breakdowns"][data-rendered="error"]')
    failed.wait_for(state="attached")
    assert failed.locator(".chart-failed").is_visible() and not failed.locator(".chart-counting").is_visible()
    assert "/stats/charts?part=breakdowns" in failed.locator(".chart-failed a").get_attribute("href")
    page.wait_for_selector('[data-chart="distribution"][data-rendered="1"] canvas', state="attached")  # a panel part
    assert page.locator('[data-chart="distribution"][data-rendered="1"] canvas').count() == 1
    assert page.locator('[data-kpi="incidents_received"] [data-figure="value"]').count() == 1
    assert errors == []
