"""HTML pages: the standard-address search (live candidates) and the grid map."""

from sqlalchemy import event


def test_address_page_has_the_live_search_box(client, registry, login):
    resp = client.get("/addresses", headers=login("dispatcher"))
    assert resp.status_code == 200 and "text/html" in resp.headers["content-type"]
    html = resp.text
    assert 'hx-get="/addresses/candidates"' in html and "keyup changed delay:200ms" in html
    assert 'id="candidates"' in html and "标准地址查询" in html


def test_address_page_renders_results_without_javascript(client, registry, login):
    html = client.get("/addresses", params={"q": "紅旗區平原路123號5-2-301"}, headers=login("dispatcher")).text
    assert registry["5-2-301"].full_text in html
    assert "红旗区" in html and "410702" in html


def test_candidates_fragment_shows_divisions_and_ranked_addresses(client, registry, login):
    resp = client.get("/addresses/candidates", params={"q": "新乡红旗平原路123号5号楼2单元301室"},
                      headers={**login("dispatcher"), "HX-Request": "true"})
    assert resp.status_code == 200
    html = resp.text
    assert "<html" not in html  # a fragment
    assert f'data-address-id="{registry["5-2-301"].id}"' in html
    assert html.index(f'data-address-id="{registry["5-2-301"].id}"') < \
        html.index(f'data-address-id="{registry["b5u2"].id}"')
    divisions = html.split("候选标准地址")[0]
    assert "行政区划解析" in divisions and "新乡市" in divisions and "红旗区" in divisions


def test_candidates_fragment_notes_a_retired_name_and_respects_the_jurisdiction(client, registry, login):
    html = client.get("/addresses/candidates", params={"q": "湖北襄樊"}, headers=login("chief_b")).text
    assert "襄阳市" in html and "旧称" in html
    html = client.get("/addresses/candidates", params={"q": "红旗区平原路123号5-2-301"},
                      headers=login("chief_b")).text
    assert registry["5-2-301"].full_text not in html and "辖区内没有匹配的标准地址" in html


def test_english_page(client, registry, login):
    client.cookies.set("lang", "en")
    html = client.get("/addresses", headers=login("dispatcher")).text
    assert "Find a standard address" in html


def test_grid_map_page(client, world, login, engine):
    statements = []

    def count(*_args, **_kw):
        statements.append(1)

    headers = login("dispatcher")
    event.listen(engine, "before_cursor_execute", count)
    try:
        resp = client.get("/grids", headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert resp.status_code == 200
    html = resp.text
    assert "/static/vendor/leaflet/leaflet.js" in html and "/static/vendor/leaflet/leaflet.css" in html
    assert 'data-geojson="/api/v1/grids?format=geojson"' in html
    assert "城市中心区" in html and "#c0392b" in html
    assert len(statements) <= 6  # the session check and one grouped count; no query per grid


def test_pages_need_a_login(client, world):
    resp = client.get("/addresses", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login")
