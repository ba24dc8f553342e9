"""The statistics pages: the leadership and station dashboards and the records behind a figure —
who may open which, figures equal to the engine's, links that carry exactly the figure's
filters, records whose total is the figure, bilingual errors, and bounded query counts."""

from __future__ import annotations

import json
import re
from datetime import datetime
from html import unescape
from urllib.parse import parse_qs, parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest

from pingan.incident.models import Satisfaction
from pingan.stats import dashboard, engine, routes, wording
from pingan.stats.period import parse_period, year
from tests._db import count_statements
from tests.stats.conftest import actor_of, make_incident


@pytest.fixture
def pages(app, store, db, world):
    """The app with a test store holding July 2026 and July 2025 (hand-worked figures below)."""
    app.dependency_overrides[routes.current_store] = lambda: store
    dashboard.clear_cache()
    # July 2026, station A (community office A, grid A, city centre, target 180 s):
    make_incident(db, world, at="2026-07-10 09:00:00", side="a", priority=1, accept=20, arrive=150,
                  satisfaction=Satisfaction.SATISFIED)  # on target
    make_incident(db, world, at="2026-07-11 21:30:00", side="a", accept=45, arrive=200)  # late
    make_incident(db, world, at="2026-07-12 09:15:00", side="a", category="1001", accept=70)  # criminal, no arrival
    # July 2026, station B (grid B, suburban, target 600 s):
    make_incident(db, world, at="2026-07-12 09:00:00", side="b", accept=10, arrive=500)  # on target
    # June 2026 (环比) and July 2025 (同比):
    make_incident(db, world, at="2026-06-05 10:00:00", side="a", accept=10, arrive=100)
    make_incident(db, world, at="2025-07-03 10:00:00", side="a", accept=10, arrive=100)
    make_incident(db, world, at="2025-07-04 10:00:00", side="b", accept=10, arrive=700)
    store.sync(db=db)
    yield app
    app.dependency_overrides.pop(routes.current_store, None)
    dashboard.clear_cache()


def card(html: str, slug: str) -> str:
    """The HTML of one KPI card."""
    m = re.search(rf'<article class="kpi-card" data-kpi="{slug}">(.*?)</article>', html, re.S)
    assert m, f"no card {slug}"
    return m.group(1)


def link(html: str, figure: str) -> tuple[str, str]:
    """(href, text) of the first link marked data-figure=figure."""
    m = re.search(rf'<a href="([^"]+)" data-figure="{figure}">([^<]*)</a>', html)
    assert m, f"no {figure} link"
    return unescape(m.group(1)), m.group(2).strip()


def query(href: str) -> list[tuple[str, str]]:
    return sorted(parse_qsl(urlsplit(href).query))


def embedded(html: str) -> dict:
    """The figures of the charts the page computed itself (the units; a station's distribution)
    and those of the panels fetched with it (``dashboard_html``)."""
    m = re.search(r'<script type="application/json" id="stats-data">(.*?)</script>', html, re.S)
    data = json.loads(m.group(1))
    for panel in re.findall(r'<script type="application/json" data-stats-charts="panel">(.*?)</script>', html, re.S):
        data.update(json.loads(panel))
    return data


def dashboard_html(client, url: str, params: dict | None = None) -> str:
    """A dashboard page followed by its panels (one per fact source: the cards and the
    distribution), fetched as the browser fetches them (htmx)."""
    resp = client.get(url, params=params)
    assert resp.status_code == 200, resp.text
    html = resp.text
    for href in re.findall(r'hx-get="(/stats/panels\?[^"]+)"', html):
        panel = client.get(unescape(href))
        assert panel.status_code == 200, panel.text
        html += panel.text
    return html


def chart_parts(client, html: str) -> list[str]:
    """The parts of the charts that load after the page, as the browser asks for them (htmx)."""
    parts = []
    for href in re.findall(r'hx-get="(/stats/charts\?[^"]+)"', html):
        resp = client.get(unescape(href))
        assert resp.status_code == 200, resp.text
        parts.append(resp.text)
    assert len(parts) == 2
    return parts


def charts_of(client, html: str) -> dict:
    """Every chart's figures of a dashboard: the page's, each part's and the map's grid values
    (for the KPI its select shows), fetched as stats.js fetches them."""
    data = embedded(html)
    for part in chart_parts(client, html):
        m = re.search(r'<script type="application/json" data-stats-charts="\w+">(.*?)</script>', part, re.S)
        data.update(json.loads(m.group(1)))
    values = unescape(re.search(r'data-values-href="([^"]+)"', html).group(1))
    select = re.search(r'<select name="map"[^>]*data-map-select[^>]*>(.*?)</select>', html, re.S).group(1)
    kpi = re.search(r'<option value="(\w+)" selected', select).group(1)
    resp = client.get(values + "&kpi=" + kpi)
    assert resp.status_code == 200, resp.text
    data["map"] = resp.json()
    return data


def records_total(client, href: str) -> int:
    resp = client.get(href)
    assert resp.status_code == 200, resp.text
    return int(re.search(r'data-total="(\d+)"', resp.text).group(1))


# --- who may open which page -------------------------------------------------------------------


def test_statistics_pages_need_the_permission_and_a_login(pages, client, sign_in, world):
    resp = client.get("/stats", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login?next=/stats")
    sign_in("patrol_a")
    for url in ("/stats", f"/stats/stations/{world.org['station_a'].id}",
                "/stats/records?kpi=incidents_received&period=2026-07", "/stats/charts?part=trend&period=2026-07"):
        resp = client.get(url)
        assert resp.status_code == 403 and "stats.read" in resp.text
    sign_in("dispatcher")
    home = client.get("/stats?period=2026-07")
    assert home.status_code == 200 and '<a href="/stats">统计</a>' in home.text


def test_a_station_chief_lands_on_their_station(pages, client, sign_in, world):
    sign_in("chief_a")
    resp = client.get("/stats?period=2026-07", follow_redirects=False)
    station = world.org["station_a"].id
    assert resp.status_code == 303 and resp.headers["location"] == f"/stats/stations/{station}?period=2026-07"
    page = client.get(resp.headers["location"])
    assert page.status_code == 200 and "西街派出所" in page.text


def test_a_chief_cannot_open_another_branchs_station_or_its_records(pages, client, sign_in, world):
    sign_in("chief_a")
    other = world.org["station_b"].id
    for url in (f"/stats/stations/{other}?period=2026-07",
                f"/stats/records?kpi=incidents_received&period=2026-07&org={other}",
                f"/stats/records?kpi=incidents_received&period=2026-07&filter=station:{other}",
                f"/stats/records?kpi=incidents_received&period=2026-07&filter=grid:{world.grids['b'].id}",
                f"/stats?period=2026-07&org={world.org['branch_b'].id}",
                f"/stats/charts?part=breakdowns&period=2026-07&org={other}",
                f"/stats/charts?part=trend&period=2026-07&org={world.org['branch_b'].id}"):
        resp = client.get(url)
        assert resp.status_code == 404, url
        assert "不在辖区内" in resp.text and "jurisdiction" in resp.text


# --- the leadership dashboard --------------------------------------------------------------------


def test_the_cards_show_the_engines_figures_in_words(pages, client, sign_in, db, world, store):
    sign_in("admin")
    html = dashboard_html(client, "/stats?period=2026-07")
    # July 2026: 4 received (June 1, July 2025 2); arrivals 150 s (centre, on target), 200 s (late),
    # 500 s (suburban, on target) → 2 / 3; accepted within 30 s: 20 s and 10 s of 4
    received = card(html, "incidents_received")
    assert link(received, "value")[1] == "4 起"
    assert "同比上升 100.0%" in received and "环比上升 300.0%" in received
    arrived = card(html, "arrived_within_target")
    assert link(arrived, "value")[1] == "66.7%"
    assert link(arrived, "numerator")[1] == "2" and link(arrived, "denominator")[1] == "3"
    assert "同比上升 16.7 个百分点" in arrived  # July 2025: 100 s on target, 700 s late → 50 %
    fast = card(html, "accepted_within_30s")
    assert link(fast, "value")[1] == "50.0%" and "同比下降 50.0 个百分点" in fast
    criminal = card(html, "incidents_criminal")
    assert "去年同期为零" in criminal and "上期为零" in criminal
    # every card equals the engine's figure
    admin = actor_of(db, world, "admin")
    results = engine.compute(store=store, actor=admin, metrics=dashboard.card_metrics(admin), period=parse_period("2026-07"))
    for result in results:
        c = result.cells[0]
        value_text = link(card(html, result.metric.slug), "value")[1]
        assert value_text == wording.number(c.value, result.metric.unit), result.metric.slug
    assert 'data-kpi="accept_0_30s"' not in html  # the distribution is a chart, not cards


def test_charts_and_rankings_carry_the_figures_and_their_filters(pages, client, sign_in, world):
    sign_in("admin")
    html = dashboard_html(client, "/stats?period=2026-07&rank=arrived_within_target")
    data = charts_of(client, html)
    branch_a, branch_b = world.org["branch_a"].id, world.org["branch_b"].id
    units = data["units"]
    assert units["labels"] == ["红旗分局", "卫滨分局"]
    assert units["series"][0]["values"] == [3, 1] and units["series"][1]["values"] == [1, 1]
    assert query(units["series"][0]["hrefs"][0]) == sorted(
        [("kpi", "incidents_received"), ("period", "2026-07"), ("filter", f"branch:{branch_a}")])
    assert query(units["series"][1]["hrefs"][1]) == sorted(
        [("kpi", "incidents_received"), ("period", "2025-07"), ("filter", f"branch:{branch_b}")])
    trend = data["trend"]  # a month is drawn by day, last year's same days beside it
    tenth = trend["labels"].index("2026-07-10")
    assert trend["series"][0]["values"][tenth] == 1 and len(trend["labels"]) == 31
    assert query(trend["series"][0]["hrefs"][tenth]) == sorted(
        [("kpi", "incidents_received"), ("period", "2026-07"), ("filter", "day:2026-07-10")])
    assert query(trend["series"][1]["hrefs"][2]) == sorted(
        [("kpi", "incidents_received"), ("period", "2025-07"), ("filter", "day:2025-07-03")])
    assert trend["series"][1]["values"][2] == 1
    hours = data["hours"]
    assert hours["series"][0]["values"][9] == 3 and hours["series"][0]["values"][21] == 1 and len(hours["labels"]) == 24
    assert ("filter", "hour:21") in query(hours["series"][0]["hrefs"][21])
    zone = data["zone"]
    assert zone["labels"] == ["城市中心区", "城区", "城郊及农村"] and zone["series"][0]["values"] == [50.0, None, 100.0]
    assert ("filter", "zone_class:centre") in query(zone["series"][0]["hrefs"][0])
    categories = data["categories"]
    assert categories["labels"] == ["治安警情", "刑事警情"] and categories["series"][0]["values"] == [3, 1]
    distribution = data["distribution"]  # the incident panel's
    assert distribution["series"][0]["values"] == [50.0, 25.0, 25.0, 0.0, 0.0]
    assert distribution["series"][0]["counts"] == [2, 1, 1, 0, 0]
    grid_map = data["map"]
    assert grid_map["values"][str(world.grids["a"].id)] == [3, 1]
    assert query(grid_map["href"]) == [("kpi", "incidents_received"), ("period", "2026-07")]
    # the ranking: B 100 % first, A 50 % second and named last; A was first in June (only one ranked)
    ranking = re.search(r'<table class="table dense ranking".*?</table>', html, re.S).group(0)
    rows = re.findall(r'<tr data-unit="(\d+)">\s*<td class="num">(\d+|—)</td>', ranking)
    assert rows == [(str(branch_b), "1"), (str(branch_a), "2")]
    assert "↓1" in ranking and "末位" in html and "红旗分局（50.0%）" in html


def test_following_any_figure_lists_as_many_records_as_it_counts(pages, client, sign_in, world):
    sign_in("admin")
    html = dashboard_html(client, "/stats?period=2026-07")
    arrived = card(html, "arrived_within_target")
    assert records_total(client, link(arrived, "numerator")[0]) == 2
    assert records_total(client, link(arrived, "denominator")[0]) == 3
    assert records_total(client, link(card(html, "incidents_received"), "last_year")[0]) == 2
    assert records_total(client, link(card(html, "incidents_received"), "previous")[0]) == 1
    assert records_total(client, link(card(html, "mean_arrive_seconds"), "numerator")[0]) == 3
    data = charts_of(client, html)
    for name in ("units", "trend", "hours", "zone", "categories", "distribution"):
        spec = data[name]
        for series in spec["series"]:
            for value, count, href in zip(series["values"], series.get("counts", series["values"]), series["hrefs"]):
                if href is None or count is None:
                    continue
                if spec["rate"] and "counts" not in series:  # last year's share: its numerator is not drawn
                    continue
                assert records_total(client, href) == count, href
    grid_href = data["map"]["href"] + f"&filter=grid:{world.grids['b'].id}"
    assert records_total(client, grid_href) == data["map"]["values"][str(world.grids["b"].id)][0] == 1


def test_the_records_page_lists_the_masked_incidents_each_linking_to_its_page(pages, client, sign_in, db, world):
    sign_in("admin")
    station_a = world.org["station_a"].id
    resp = client.get(f"/stats/records?kpi=arrived_within_target&period=2026-07&filter=station:{station_a}")
    assert resp.status_code == 200
    html = resp.text
    assert 'data-total="1"' in html and "按时到场率：<span class=\"figure-value\" data-figure-value>50.0%" in html
    assert "派出所：<b>西街派出所</b>" in html
    ids = re.findall(r'<tr class="prio-row-\d" data-id="(\d+)">', html)
    assert len(ids) == 1 and f'href="/incidents/{ids[0]}"' in html
    assert "2m30s" in html  # its time to arrive, 150 s
    detail = client.get(f"/incidents/{ids[0]}")
    assert detail.status_code == 200


def test_records_are_paged_and_the_total_is_the_figure(pages, client, sign_in, db, world, store):
    for i in range(53):
        make_incident(db, world, at=f"2026-08-{1 + i % 28:02d} 08:{i:02d}:00", side="b", accept=5)
    store.sync(db=db)
    sign_in("admin")
    first = client.get("/stats/records?kpi=incidents_received&period=2026-08").text
    assert 'data-total="53"' in first and first.count('<tr class="prio-row-') == 50 and "第 1 / 2 页" in first
    second = client.get("/stats/records?kpi=incidents_received&period=2026-08&page=2").text
    assert second.count('<tr class="prio-row-') == 3 and 'rel="prev"' in second


def test_a_period_to_date_is_counted_to_the_minute_and_its_links_say_so(pages, client, sign_in, db, world, store):
    local = ZoneInfo("Asia/Shanghai")
    now = datetime.now(local).replace(tzinfo=None, second=0, microsecond=0)
    make_incident(db, world, at=(now.replace(minute=0) if now.minute else now).isoformat(sep=" "), side="a",
                  accept=10)
    store.sync(db=db)
    sign_in("admin")
    html = dashboard_html(client, "/stats")  # default: the current year to date
    until = now.strftime("%Y-%m-%dT%H:%M")
    assert f'data-period="{year(now.year).label}"' in html and "统计至今" in html
    href, text = link(card(html, "incidents_received"), "value")
    params = parse_qs(urlsplit(href).query)
    assert params["period"] == [str(now.year)] and params["until"][0][:13] == until[:13]
    assert records_total(client, href) == int(text.split()[0].replace(",", ""))
    last_year, _ = link(card(html, "incidents_received"), "last_year")
    ly = parse_qs(urlsplit(last_year).query)
    assert ly["period"] == [str(now.year - 1)] and ly["until"][0][4:] == params["until"][0][4:]


def test_the_period_picker_spells_each_kind(pages, client, sign_in, world):
    sign_in("admin")
    for params, label, span in [
        ({"kind": "year", "year": "2025"}, "2025", "2025-01-01 至 2025-12-31"),
        ({"kind": "quarter", "year": "2026", "quarter": "3"}, "2026-Q3", "2026-07-01 至 2026-09-30"),
        ({"kind": "month", "month": "2026-07", "year": "2026"}, "2026-07", "2026-07-01 至 2026-07-31"),
        ({"kind": "week", "week": "2026-W28"}, "2026-W28", "2026-07-06 至 2026-07-12"),
        ({"kind": "day", "day": "2026-07-12"}, "2026-07-12", "2026-07-12 至 2026-07-12"),
        ({"kind": "custom", "from": "2026-07-10", "to": "2026-07-11"}, "2026-07-10..2026-07-11",
         "2026-07-10 至 2026-07-11"),
    ]:
        html = dashboard_html(client, "/stats", params=params)
        assert f'data-period="{label}"' in html and span in html, params
    # two days: the incidents of 10 and 11 July, both of station A
    html = dashboard_html(client, "/stats", params={"kind": "custom", "from": "2026-07-10", "to": "2026-07-11"})
    assert link(card(html, "incidents_received"), "value")[1] == "2 起"
    assert charts_of(client, html)["trend"]["labels"] == ["2026-07-10", "2026-07-11"]  # a short range by day
    day = charts_of(client, dashboard_html(client, "/stats", params={"period": "2026-07-12"}))
    assert len(day["trend"]["labels"]) == 24 and day["trend"]["series"][0]["values"][9] == 2  # a day by hour


def test_bad_input_is_a_bilingual_error_page(pages, client, sign_in, world):
    sign_in("admin")
    cases = [
        ("/stats?period=2026-13", "统计周期格式无效", "invalid period"),
        ("/stats?kind=quarter&year=2026&quarter=5", "统计周期格式无效", "invalid period"),
        ("/stats?period=2026-07&level=grid", "level", "level"),
        ("/stats?period=2026-07&rank=nope", "指标「nope」不存在", "no KPI"),
        ("/stats/records?kpi=nope&period=2026-07", "指标「nope」不存在", "no KPI"),
        ("/stats/records?kpi=incidents_received&period=2026-07&until=2026-08-02T10:00", "截止时间", "cut-off"),
        ("/stats/records?kpi=incidents_received&period=2026-07&filter=colour:red", "未知维度", "unknown dimension"),
        ("/stats/records?kpi=incidents_received&period=2026-07&filter=station:abc", "应为编号", "takes an id"),
        ("/stats/records?kpi=incidents_received&period=2026-07&part=denominator", "没有分母", "no denominator"),
        (f"/stats/stations/{world.org['branch_a'].id}?period=2026-07", "不是派出所", "not a police station"),
        ("/stats/charts?part=map&period=2026-07", "part", "part"),
        ("/stats/charts?part=trend&period=2026-13", "统计周期格式无效", "invalid period"),
        ("/stats/charts?part=trend&period=2026-07&until=2026-08-02T10:00", "截止时间", "cut-off"),
        ("/stats/charts?part=trend&period=2026-07&chart=nope", "指标「nope」不存在", "no KPI"),
    ]
    for url, zh, en in cases:
        resp = client.get(url)
        assert resp.status_code in (404, 422), (url, resp.status_code)
        assert zh in resp.text and en in resp.text, url
        assert "Traceback" not in resp.text and "<html" in resp.text


def test_a_branch_dashboard_compares_its_stations(pages, client, sign_in, world):
    sign_in("admin")
    branch_a = world.org["branch_a"].id
    html = dashboard_html(client, f"/stats?period=2026-07&org={branch_a}")
    assert 'data-scope="%d"' % branch_a in html and "红旗分局" in html
    assert link(card(html, "incidents_received"), "value") == (
        f"/stats/records?kpi=incidents_received&period=2026-07&org={branch_a}", "3 起")
    data = embedded(html)
    assert data["units"]["labels"] == ["西街派出所"]
    assert ("org", str(branch_a)) in query(data["units"]["series"][0]["hrefs"][0])
    # picking a station on the leadership dashboard opens the station's dashboard
    resp = client.get(f"/stats?period=2026-07&org={world.org['station_b'].id}", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith(f"/stats/stations/{world.org['station_b'].id}")


# --- the station dashboard -----------------------------------------------------------------------


def test_the_station_dashboard_its_grids_and_its_rank_among_its_peers(pages, client, sign_in, db, world, store):
    sign_in("chief_a")
    station = world.org["station_a"].id
    html = client.get(f"/stats/stations/{station}?period=2026-07").text
    assert link(card(html, "incidents_received"), "value") == (
        f"/stats/records?kpi=incidents_received&period=2026-07&org={station}", "3 起")
    grid = re.search(rf'<tr data-grid="{world.grids["a"].id}">(.*?)</tr>', html, re.S).group(1)
    href, text = link(grid, "arrived_within_target")
    assert text == "50.0%" and query(href) == sorted([("kpi", "arrived_within_target"), ("period", "2026-07"),
                                                      ("filter", f"grid:{world.grids['a'].id}"), ("org", str(station))])
    assert records_total(client, href) == 1
    # incidents received (fewer is better): A 3, B 1 → A second of 2 in the bureau, first of 1 in its branch;
    # arrived on target: A 50 %, B 100 % → second; in June A was the only one with arrivals (first)
    received = re.search(r'<tr data-kpi="incidents_received">(.*?)</tr>', html, re.S).group(1)
    assert re.search(r'data-rank="branch">1 / 1<', received) and re.search(r'data-rank="bureau">2 / 2<', received)
    arrived = re.search(r'<tr data-kpi="arrived_within_target">(.*?)</tr>', html, re.S).group(1)
    assert re.search(r'data-rank="bureau">2 / 2<', arrived)
    # the cards come from the bureau-wide computation by station: equal to the chief's own figures
    chief = actor_of(db, world, "chief_a")
    for result in engine.compute(store=store, actor=chief, metrics=dashboard.card_metrics(chief),
                                 period=parse_period("2026-07"), org_unit_id=station):
        c = result.cells[0]
        assert link(card(html, result.metric.slug), "value")[1] == wording.number(c.value, result.metric.unit)
        if c.last_year.baseline is not None:
            assert wording.change_phrase(c.last_year, basis="last_year", rate=result.metric.kind.value == "rate") in \
                card(html, result.metric.slug)
    # the chief sees only their own figures: the peers' values are not on the page
    for text in [html, *chart_parts(client, html)]:
        assert "胜利路派出所" not in text and "卫滨分局" not in text
    assert charts_of(client, html)["map"]["values"].keys() == {str(world.grids["a"].id)}


def test_grid_values_for_the_map_select(pages, client, sign_in, world):
    sign_in("admin")
    resp = client.get("/stats/grid-values", params={"kpi": "arrived_within_target", "period": "2026-07"})
    assert resp.status_code == 200
    body = resp.json()
    a, b = str(world.grids["a"].id), str(world.grids["b"].id)
    assert body["values"][a] == [50.0, 100.0]  # 150 s on target, 200 s late; July 2025: 100 s
    assert body["values"][b] == [100.0, 0.0]  # 500 s within 600 s; July 2025: 700 s late
    assert body["rate"] is True and query(body["href"]) == [("kpi", "arrived_within_target"), ("period", "2026-07")]
    sign_in("chief_a")
    mine = client.get("/stats/grid-values", params={"kpi": "incidents_received", "period": "2026-07"}).json()
    assert set(mine["values"]) == {a}


def test_the_dashboard_in_english(pages, client, sign_in):
    sign_in("admin")
    client.cookies.set("lang", "en")
    html = dashboard_html(client, "/stats?period=2026-07")
    received = card(html, "incidents_received")
    assert "4 incidents" in received and "up 100.0% year on year" in received
    assert "zero a year earlier" in card(html, "incidents_criminal")


def test_page_query_counts_do_not_grow_with_the_records(pages, client, sign_in, db, world, store, engine):
    sign_in("admin")
    station = world.org["station_a"].id
    urls = ["/stats?period=2026-07", f"/stats/stations/{station}?period=2026-07",
            f"/stats/records?kpi=incidents_received&period=2026-07&filter=station:{station}",
            "/stats/panels?source=incident&period=2026-07"]
    def statements() -> list[int]:
        counts = []
        for url in urls:
            dashboard.clear_cache()
            n, resp = count_statements(engine, lambda: client.get(url))
            assert resp.status_code == 200
            counts.append(n)
        return counts

    client.get(urls[0])  # the session is then remembered (auth.recent) for every count
    before = statements()
    for i in range(30):
        make_incident(db, world, at=f"2026-07-{1 + i % 28:02d} 1{i % 10}:00:00", side="a" if i % 3 else "b",
                      category="1001" if i % 2 else "2001", accept=10 + i, arrive=100 + 10 * i)
    store.sync(db=db)
    after = statements()
    assert before == after, (before, after)
    assert max(after) <= 10, after  # the session, the units, categories, the records and their unit names
