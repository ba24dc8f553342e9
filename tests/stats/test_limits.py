"""Bounds on a statistics request: repeated KPIs count once, at most N KPIs / cuts / filters (422
naming the field), at most N requests of one user at once (429), and a time budget whose end
stops the statement (503). The concurrency limit is driven by holding the limiter here, the time
budget by a statement that never ends on any machine — no test waits on the clock."""

from __future__ import annotations

import time

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from pingan.config import get_settings
from pingan.errors import Unavailable
from pingan.stats import limits, routes
from pingan.stats.limits import IN_FLIGHT
from pingan.stats.metrics import METRICS
from pingan.stats.store import deadline_var

V = "/api/v1/stats"
ENDLESS = "SELECT count(*) FROM range(1000000000000000) t(i) WHERE i % 7 = 3"  # years, on any machine


@pytest.fixture
def settings_env(monkeypatch):
    """settings_env(NAME=value, …): the settings read again with these environment variables."""

    def _set(**env: str) -> None:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield _set
    monkeypatch.undo()
    get_settings.cache_clear()


def _error(resp) -> dict:
    return resp.json()["error"]


# --- what a request names -------------------------------------------------------------------------


def test_repeated_kpis_and_cuts_count_once(api, client, login):
    resp = client.get(f"{V}/values", headers=login("admin"), params=[
        ("period", "2026-07"), ("kpi", "incidents_received"), ("kpi", "incidents_received,incidents_received"),
        ("kpi", "arrived_within_target"), ("by", "station"), ("by", "station,station")])
    assert resp.status_code == 200, resp.text
    assert [r["kpi"]["slug"] for r in resp.json()] == ["incidents_received", "arrived_within_target"]
    assert {c["labels"]["station"]: c["value"] for c in resp.json()[0]["cells"]} == {"西街派出所": 2, "胜利路派出所": 1}


def test_every_declared_kpi_named_at_once_is_within_the_default_bounds(api, client, login):
    resp = client.get(f"{V}/values", headers=login("admin"),
                      params=[("period", "2026-07"), ("by", "branch,month,priority"), *[("kpi", s) for s in METRICS]])
    assert resp.status_code == 200, resp.text
    assert len(resp.json()) == len(METRICS)


def test_one_kpi_more_than_allowed_is_422_naming_the_field(api, client, login, settings_env):
    settings_env(PINGAN_STATS_MAX_KPIS="3")
    headers = login("admin")
    three = ["incidents_received", "incidents_valid", "escalations"]
    ok = client.get(f"{V}/values", headers=headers,
                    params=[("period", "2026-07"), *[("kpi", s) for s in three + three]])
    assert ok.status_code == 200 and len(ok.json()) == 3  # six named, three distinct
    resp = client.get(f"{V}/values", headers=headers,
                      params=[("period", "2026-07"), *[("kpi", s) for s in three + ["arrived_within_target"]]])
    assert resp.status_code == 422
    assert _error(resp) == {"code": "validation_failed", "field": "kpi",
                            "message": "kpi：一次最多 3 个指标，「arrived_within_target」是第 4 个",
                            "message_en": "kpi: at most 3 KPIs per request; 'arrived_within_target' is number 4"}


def test_more_cuts_than_allowed_is_422_naming_by(api, client, login):
    resp = client.get(f"{V}/kpis/incidents_received", headers=login("admin"),
                      params={"period": "2026-07", "by": "branch,month,priority,hour"})
    assert resp.status_code == 422
    assert _error(resp)["field"] == "by" and "「hour」是第 4 个" in _error(resp)["message"]
    assert "at most 3 cuts" in _error(resp)["message_en"]


def test_more_filters_than_allowed_is_422_naming_filter_in_the_api_and_the_records_page(api, client, login):
    headers = login("admin")
    eleven = [("filter", f"priority:{n}") for n in range(11)]
    resp = client.get(f"{V}/kpis/incidents_received/records", headers=headers,
                      params=[("period", "2026-07"), *eleven])
    assert resp.status_code == 422 and _error(resp)["field"] == "filter"
    assert "at most 10 filters" in _error(resp)["message_en"]
    repeated = client.get(f"{V}/kpis/incidents_received", headers=headers,
                          params=[("period", "2026-07"), *[("filter", "priority:1")] * 11])
    assert repeated.status_code == 200  # one filter, named eleven times
    page = client.get("/stats/records", headers=headers,
                      params=[("kpi", "incidents_received"), ("period", "2026-07"), *eleven])
    assert page.status_code == 422 and "一次最多 10 个筛选条件" in page.text


# --- how many at once -------------------------------------------------------------------------------


ENGINE_URLS = [f"{V}/values?period=2026-07", f"{V}/kpis/incidents_received?period=2026-07",
               f"{V}/kpis/incidents_received/records?period=2026-07",
               f"{V}/rankings/incidents_received?period=2026-07&level=station",
               "/stats?period=2026-07", "/stats/charts?part=trend&period=2026-07",
               "/stats/charts?part=breakdowns&period=2026-07", "/stats/grid-values?kpi=incidents_received&period=2026-07",
               "/stats/records?kpi=incidents_received&period=2026-07"]


def test_beyond_the_users_concurrent_requests_is_429_and_other_users_go_on(api, client, login, world):
    admin, chief = login("admin"), login("chief_a")
    key = world.users["admin"].id
    limit = get_settings().stats_concurrency_per_user
    with IN_FLIGHT.hold(key, limit), IN_FLIGHT.hold(key, limit), IN_FLIGHT.hold(key, limit), \
            IN_FLIGHT.hold(key, limit):  # the admin's four places are taken (as by four requests)
        assert limit == 4
        for url in ENGINE_URLS:
            resp = client.get(url, headers=admin)
            assert resp.status_code == 429, (url, resp.text)
            assert resp.headers["retry-after"] == "2"
            assert "统计请求过多" in resp.text and "Too many statistics requests at once" in resp.text
        assert client.get(f"{V}/values?period=2026-07", headers=chief).status_code == 200  # another user
        assert client.get(f"{V}/kpis", headers=admin).status_code == 200  # definitions run no engine
        assert IN_FLIGHT.running(key) == 4  # a refused request took no place
    for url in ENGINE_URLS:
        assert client.get(url, headers=admin).status_code == 200, url
    assert IN_FLIGHT.running(key) == 0  # every request gave its place back
    assert client.get(f"{V}/values?period=2026-13", headers=admin).status_code == 422
    assert IN_FLIGHT.running(key) == 0  # a failed one too


def test_every_route_that_reads_the_store_is_bounded(app):
    """Each route or page whose handler takes the store takes it through the bounded dependency,
    but the reports list (which reads only the store's time zone)."""

    def reaches(dependant, call) -> list:
        return [d for d in dependant.dependencies if d.call is call or reaches(d, call)]

    bounded, unbounded = [], []
    for ctx in iter_route_contexts(app.router.routes):
        route = ctx.original_route
        if isinstance(route, APIRoute) and reaches(route.dependant, routes.current_store):
            direct = {d.call for d in route.dependant.dependencies}
            found = bounded if direct & {limits.statistics_store, limits.report_store} else unbounded
            found.append((sorted(ctx.methods)[0], ctx.path))
    assert unbounded == [("GET", "/stats/reports")]
    assert len(bounded) == 15 and ("POST", "/api/v1/stats/reports") in bounded and ("GET", "/stats/panels") in bounded


# --- how long ---------------------------------------------------------------------------------------


def test_a_local_store_stops_a_statement_at_the_request_deadline(store):
    token = deadline_var.set(time.monotonic() + 0.2)
    try:
        with store.reader() as cur:
            with pytest.raises(Unavailable) as raised:
                cur.execute(ENDLESS)
            assert raised.value.status_code == 503 and raised.value.retry_after == 5
            assert "统计查询超时" in raised.value.zh and "ran out of time" in raised.value.en
            with pytest.raises(Unavailable):  # the budget is spent: the request reads nothing more
                cur.execute("SELECT 42")
    finally:
        deadline_var.reset(token)
    with store.reader() as cur:  # outside a request: no budget, and the store serves on
        assert cur.execute("SELECT count(*) FROM range(10)").fetchone() == (10,)


# --- how far ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("period", "by"), [
    ("2006-01-01..2025-12-31", ""),  # twenty years
    ("1900", ""), ("3000-01", ""),  # before or after any record
    ("2016-01-01..2025-12-31", "day"),  # 3,653 days
])
def test_a_period_too_long_or_cut_into_too_many_buckets_is_422(api, client, login, period, by):
    resp = client.get(f"{V}/kpis/incidents_received", headers=login("admin"),
                      params={"period": period, "by": by} if by else {"period": period})
    assert resp.status_code == 422, resp.text
    assert _error(resp)["field"] == ("by" if by else "period")
    if by:
        assert _error(resp)["message_en"] == (f"by: {period} by day is 3653 buckets, at most 1100; shorten the "
                                              "period or cut by a longer unit")


@pytest.mark.parametrize(("period", "by", "buckets"), [
    ("2023-01-01..2025-12-31", "day", 1096),  # three years by day
    ("2016-01-01..2025-12-31", "month", 120),  # ten years by month
    ("2016-01-01..2025-12-31", "week", 523),
])
def test_the_longest_cuts_allowed_are_answered(api, client, login, period, by, buckets):
    resp = client.get(f"{V}/kpis/incidents_received", headers=login("admin"), params={"period": period, "by": by})
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["cells"]) == buckets
