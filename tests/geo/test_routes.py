"""The geo JSON API: parse, match, addresses, grids, divisions — and jurisdiction."""

import pytest


def test_parse_endpoint(client, registry, login):
    h = login("dispatcher")
    body = client.get("/api/v1/geo/parse", params={"text": "紅旗區平原路123號5-2-301"}, headers=h).json()
    assert body["division"]["county"]["name"] == "红旗区"
    assert body["division"]["remainder"] == "平原路123号5-2-301"
    assert body["candidates"][0]["address_id"] == registry["5-2-301"].id
    body = client.get("/api/v1/geo/parse", params={"text": "莱芜市"}, headers=h).json()
    assert body["division"]["county"]["code"] == "370116" and "莱芜" in body["division"]["note"]


def test_match_endpoint_is_filtered_to_the_jurisdiction(client, registry, login):
    text = "人民路9号"
    everyone = client.get("/api/v1/addresses/match", params={"q": text}, headers=login("dispatcher")).json()
    assert {c["address_id"] for c in everyone[:2]} == {registry["人民路9号-红旗"].id, registry["人民路9号-卫滨"].id}
    chief_b = client.get("/api/v1/addresses/match", params={"q": text}, headers=login("chief_b")).json()
    assert [c["address_id"] for c in chief_b] == [registry["人民路9号-卫滨"].id]
    assert set(chief_b[0]) == {"address_id", "full_text", "score", "lat", "lon", "grid_id"}
    limited = client.get("/api/v1/addresses/match", params={"q": "平原路123号", "limit": 2},
                         headers=login("dispatcher")).json()
    assert len(limited) == 2


def test_address_list_and_detail_respect_the_jurisdiction(client, registry, login):
    a_id = registry["平原路123号"].id
    h_b = login("chief_b")
    page = client.get("/api/v1/addresses", headers=h_b).json()
    ids = {i["id"] for i in page["items"]}
    assert a_id not in ids and registry["胜利路8号"].id in ids
    assert page["total"] == len(ids) == 3  # 胜利路8号, 人民路9号 (卫滨), 张庄村15号
    assert client.get(f"/api/v1/addresses/{a_id}", headers=h_b).status_code == 404
    h_a = login("chief_a")
    detail = client.get(f"/api/v1/addresses/{a_id}", headers=h_a).json()
    assert detail["road"] == "平原路" and detail["grid_id"] == registry.world.grids["a"].id
    found = client.get("/api/v1/addresses", params={"q": "新华小区5号楼2单元"}, headers=h_a).json()
    assert found["total"] == 7  # the unit and its six rooms
    by_grid = client.get("/api/v1/addresses", params={"grid_id": registry.world.grids["b"].id, "limit": 1},
                         headers=login("dispatcher")).json()
    assert by_grid["total"] == 3 and len(by_grid["items"]) == 1
    # the address with no grid is seen from the bureau only
    assert client.get(f"/api/v1/addresses/{registry['无网格'].id}", headers=h_a).status_code == 404
    assert client.get(f"/api/v1/addresses/{registry['无网格'].id}", headers=login("admin")).status_code == 200


def test_grids_list_geojson_and_detail(client, world, login):
    h = login("dispatcher")
    page = client.get("/api/v1/grids", headers=h).json()
    assert page["total"] == 2
    assert {g["code"] for g in page["items"]} == {"G410702001001", "G410703001001"}
    assert {g["target_seconds"] for g in page["items"]} == {180, 600}
    fc = client.get("/api/v1/grids", params={"format": "geojson"}, headers=h).json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 2
    feature = next(f for f in fc["features"] if f["properties"]["code"] == "G410702001001")
    assert feature["geometry"]["type"] == "Polygon" and feature["properties"]["zone_class"] == "centre"
    boxed = client.get("/api/v1/grids", params={"bbox": "113.89,35.29,113.92,35.32"}, headers=h).json()
    assert [g["code"] for g in boxed["items"]] == ["G410702001001"]
    grid_a = world.grids["a"].id
    detail = client.get(f"/api/v1/grids/{grid_a}", headers=h).json()
    assert detail["polygon"]["type"] == "Polygon" and detail["zone_class"] == "centre"
    h_b = login("chief_b")
    assert client.get(f"/api/v1/grids/{grid_a}", headers=h_b).status_code == 404
    assert [g["code"] for g in client.get("/api/v1/grids", headers=h_b).json()["items"]] == ["G410703001001"]



def test_grids_of_one_org_unit_inside_the_jurisdiction(client, world, login):
    h = login("dispatcher")
    branch_a, station_b = world.org["branch_a"].id, world.org["station_b"].id
    mine = client.get("/api/v1/grids", params={"org": branch_a, "format": "geojson"}, headers=h).json()
    assert [f["properties"]["code"] for f in mine["features"]] == ["G410702001001"]  # kept by a community office below
    assert [g["code"] for g in client.get("/api/v1/grids", params={"org": station_b}, headers=h).json()["items"]] == [
        "G410703001001"]
    h_a = login("chief_a")
    refused = client.get("/api/v1/grids", params={"org": station_b}, headers=h_a)
    assert refused.status_code == 404 and "不在辖区内" in refused.json()["error"]["message"]


def test_grid_at_point(client, world, login):
    h = login("dispatcher")
    inside = client.get("/api/v1/grids/at", params={"lat": 35.305, "lon": 113.905}, headers=h).json()
    assert inside["grid"]["id"] == world.grids["a"].id and inside["inside"] is True
    near = client.get("/api/v1/grids/at", params={"lat": 35.305, "lon": 113.925}, headers=h).json()
    assert near["grid"]["id"] == world.grids["a"].id and near["inside"] is False and 0 < near["distance_m"] < 3000
    assert client.get("/api/v1/grids/at", params={"lat": 36.5, "lon": 115.0}, headers=h).status_code == 404
    # station B may not learn about station A's grid
    assert client.get("/api/v1/grids/at", params={"lat": 35.305, "lon": 113.905},
                      headers=login("chief_b")).status_code == 404


@pytest.mark.parametrize("url, params, field", [
    ("/api/v1/grids/at", {"lat": 91, "lon": 113.9}, "lat"),
    ("/api/v1/grids/at", {"lat": 35.3, "lon": -181}, "lon"),
    ("/api/v1/grids/at", {"lat": "north", "lon": 113.9}, "lat"),
    ("/api/v1/addresses/match", {"q": ""}, "q"),
    ("/api/v1/addresses/match", {"q": "x" * 201}, "q"),
    ("/api/v1/addresses/match", {"q": "平原路", "limit": 0}, "limit"),
    ("/api/v1/geo/parse", {}, "text"),
    ("/api/v1/addresses", {"county_code": "41070"}, "county_code"),
    ("/api/v1/divisions", {"parent": "41"}, "parent"),
    ("/api/v1/grids", {"bbox": "1,2,3"}, "bbox"),
    ("/api/v1/grids", {"bbox": "114,35,113,36"}, "bbox"),
    ("/api/v1/grids", {"format": "kml"}, "format"),
])
def test_bad_input_is_a_bilingual_422_naming_the_field(client, world, login, url, params, field):
    resp = client.get(url, params=params, headers=login("dispatcher"))
    assert resp.status_code == 422, resp.text
    err = resp.json()["error"]
    assert err["message"] and err["message_en"]
    fields = [f["field"] for f in err.get("fields", [])] + [err.get("field")]
    assert field in fields


def test_divisions(client, world, login):
    h = login("patrol_a")
    provinces = client.get("/api/v1/divisions", headers=h).json()
    assert len(provinces) == 34 and provinces[0] == {"code": "110000", "name": "北京市", "level": "province"}
    counties = client.get("/api/v1/divisions", params={"parent": "410700"}, headers=h).json()
    assert {"code": "410702", "name": "红旗区", "level": "county"} in counties
    towns = client.get("/api/v1/divisions", params={"parent": "410702"}, headers=h).json()
    assert towns[0]["code"] == "410702001000" and towns[0]["level"] == "township"
    communities = client.get("/api/v1/divisions", params={"parent": "410702001000"}, headers=h).json()
    assert communities == [{"code": "410702001001", "name": "新华社区", "level": "community"}]
    assert client.get("/api/v1/divisions", params={"parent": "999999"}, headers=h).status_code == 404


@pytest.mark.parametrize("url", ["/api/v1/geo/parse?text=x", "/api/v1/addresses/match?q=x", "/api/v1/addresses",
                                 "/api/v1/grids", "/api/v1/grids/at?lat=35&lon=113", "/api/v1/divisions"])
def test_every_endpoint_needs_a_login(client, world, url):
    assert client.get(url).status_code == 401


def test_every_role_may_read_geography(client, world, login):
    for username in ("admin", "dispatcher", "chief_a", "patrol_a", "community_a", "auditor"):
        assert client.get("/api/v1/grids", headers=login(username)).status_code == 200, username
