"""The statistics API: 200 / 401 / 403 / 404 / 422, jurisdiction, and drill-down = figure."""

from __future__ import annotations

import pytest

V = "/api/v1/stats"


def test_list_kpis_with_their_definitions(api, client, login):
    resp = client.get(f"{V}/kpis", headers=login("chief_a"))
    assert resp.status_code == 200
    kpis = {k["slug"]: k for k in resp.json()}
    assert kpis["arrived_within_target"]["unit"] == "%" and kpis["arrived_within_target"]["has_denominator"]
    assert "城市中心区3分钟" in kpis["departed_within_target"]["definition"]
    assert {"station", "grid", "hour"} <= {d["name"] for d in kpis["incidents_received"]["dimensions"]}


def test_values_by_station_with_comparisons(api, client, login, world):
    resp = client.get(f"{V}/kpis/incidents_received", params={"period": "2026-07", "by": "station"},
                      headers=login("admin"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["period"] == {"label": "2026-07", "kind": "month", "start": "2026-07-01", "end": "2026-07-31",
                              "until": None, "span": "2026-07-01 至 2026-07-31",
                              "previous": "2026-06", "previous_span": "2026-06-01 至 2026-06-30",
                              "last_year": "2025-07", "last_year_span": "2025-07-01 至 2025-07-31"}
    cells = {c["labels"]["station"]: c for c in body["cells"]}
    assert cells["西街派出所"]["value"] == 2 and cells["胜利路派出所"]["value"] == 1
    # nothing was recorded before July 2026: no baseline to compare with
    assert cells["西街派出所"]["last_year"] == {"baseline": None, "absolute": None, "percent": None,
                                                "note": "baseline_missing"}


def test_several_kpis_at_once_and_a_station_chief_sees_own_station(api, client, login):
    resp = client.get(f"{V}/values", params=[("period", "2026-07"), ("kpi", "incidents_received"),
                                             ("kpi", "arrived_within_target")], headers=login("chief_a"))
    assert resp.status_code == 200
    got = {r["kpi"]["slug"]: r["cells"][0] for r in resp.json()}
    assert got["incidents_received"]["value"] == 2  # station B's incident is not theirs
    assert got["arrived_within_target"]["value"] == 50.0  # 150 s on target, 200 s late (centre: 180 s)


def test_drill_down_returns_the_masked_records_counted(api, client, login, world):
    headers = login("admin")
    figure = client.get(f"{V}/kpis/arrived_within_target", params={"period": "2026-07"}, headers=headers).json()
    cell = figure["cells"][0]
    records = client.get(f"{V}/kpis/arrived_within_target/records", params={"period": "2026-07"},
                         headers=headers).json()
    assert records["total"] == cell["numerator"] == len(records["items"]) == 2
    whole = client.get(f"{V}/kpis/arrived_within_target/records",
                       params={"period": "2026-07", "part": "denominator"}, headers=headers).json()
    assert whole["total"] == cell["denominator"] == 3
    station = world.org["station_a"].id
    one = client.get(f"{V}/kpis/incidents_received/records",
                     params={"period": "2026-07", "filter": f"station:{station}"}, headers=headers).json()
    assert one["total"] == 2 and all(i["org_unit_id"] == world.org["office_a"].id for i in one["items"])
    assert all("caller_phone" in i for i in one["items"])  # the incident schema, which masks


def test_ranking(api, client, login):
    resp = client.get(f"{V}/rankings/arrived_within_target", params={"period": "2026-07", "level": "station",
                                                                     "bottom": 1}, headers=login("dispatcher"))
    assert resp.status_code == 200
    body = resp.json()
    assert [(r["name"], r["rank"]) for r in body["rows"]] == [("胜利路派出所", 1), ("西街派出所", 2)]
    assert [r["name"] for r in body["bottom"]] == ["西街派出所"]


def test_401_without_login_and_403_without_the_permission(api, client, login):
    assert client.get(f"{V}/kpis").status_code == 401
    for role in ("patrol_a", "community_a"):
        resp = client.get(f"{V}/kpis/incidents_received", params={"period": "2026"}, headers=login(role))
        assert resp.status_code == 403 and "stats.read" in resp.json()["error"]["message_en"]


def test_404_for_an_org_unit_outside_the_jurisdiction(api, client, login, world):
    resp = client.get(f"{V}/kpis/incidents_received", params={"period": "2026", "org": world.org["station_b"].id},
                      headers=login("chief_a"))
    assert resp.status_code == 404


@pytest.mark.parametrize("url,params,field,zh", [
    (f"{V}/kpis/incidents_received", {"period": "2026-13"}, "period", "统计周期"),
    (f"{V}/kpis/incidents_received", {"period": "2026", "by": "planet"}, "by", "未知维度"),
    (f"{V}/kpis/satisfaction_rate", {"period": "2026", "by": "disposition"}, "by", "不适用"),
    (f"{V}/kpis/no_such_kpi", {"period": "2026"}, "slug", "指标"),
    (f"{V}/kpis/incidents_received/records", {"period": "2026", "filter": "station"}, "filter", "维度:取值"),
    (f"{V}/kpis/incidents_received/records", {"period": "2026", "part": "denominator"}, "part", "分母"),
    (f"{V}/rankings/incidents_received", {"period": "2026", "level": "province"}, "level", "level"),
    (f"{V}/values", {"period": "2026", "kpi": "nope"}, "kpi", "指标"),
])
def test_422_names_the_field_in_both_languages(api, client, login, url, params, field, zh):
    resp = client.get(url, params=params, headers=login("admin"))
    assert resp.status_code == 422, resp.text
    err = resp.json()["error"]
    assert err.get("field") == field or err.get("fields", [{}])[0].get("field") == field
    assert zh in err["message"] and field in err["message_en"]
