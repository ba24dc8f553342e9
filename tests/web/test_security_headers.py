"""Security headers on every response: CSP without inline script, nosniff, referrer, framing, and
no-store on everything but the static files."""

from __future__ import annotations

import pytest

from pingan.web.security_headers import content_security_policy, tile_source


def _csp(resp) -> dict[str, str]:
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in resp.headers["content-security-policy"].split("; ")}


def _assert_headers(resp, *, cached: bool = False) -> None:
    csp = _csp(resp)
    assert csp["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["default-src"] == "'self'" and csp["object-src"] == "'none'" and csp["base-uri"] == "'self'"
    assert csp["frame-ancestors"] == "'none'" and csp["form-action"] == "'self'"
    assert csp["img-src"] == "'self' data:"
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["referrer-policy"] == "same-origin"
    assert resp.headers["x-frame-options"] == "DENY"
    if cached:
        assert "cache-control" not in resp.headers
    else:
        assert resp.headers.get_list("cache-control") == ["no-store"]


def test_every_kind_of_response_carries_the_headers(client, world, login, sign_in):
    headers = login("dispatcher")
    for resp in (
        client.get("/healthz"),
        client.get("/login"),
        client.get("/incidents/board", follow_redirects=False),  # a redirect to the login page
        client.get("/api/v1/incidents", headers=headers),  # an API answer
        client.get("/api/v1/incidents/999999", headers=headers),  # a 404
        client.get("/api/v1/incidents", params={"priority": "x"}, headers=headers),  # a 422
        client.get("/api/v1/incidents"),  # a 401
        client.get("/api/v1/incidents/stream", params={"max_seconds": 0}, headers=headers),  # its own no-store
    ):
        _assert_headers(resp)
    sign_in("dispatcher")
    board = client.get("/incidents/board")
    assert board.status_code == 200
    _assert_headers(board)


def test_an_unmasked_read_is_not_stored(client, world, login):
    from tests.incident.test_routes import new_incident

    headers = login("dispatcher")
    created = new_incident(client, headers, world).json()
    caller = client.post(f"/api/v1/incidents/{created['id']}/caller-contact", json={"purpose": "回拨核实情况"},
                         headers=headers)
    assert caller.status_code == 200 and caller.json()["caller_phone"] == "13812345678"
    _assert_headers(caller)


def test_static_files_may_be_cached_but_get_the_other_headers(client):
    resp = client.get("/static/app.js")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/javascript")
    _assert_headers(resp, cached=True)


def test_no_page_carries_an_inline_script_or_handler(client, world, sign_in):
    """The templates keep to the policy: a <script> has a src or is a JSON data block."""
    import re

    sign_in("admin")
    for path in ("/incidents/board", "/incidents", "/incidents/new", "/grids", "/audit", "/units", "/org",
                 "/addresses", "/api/docs"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        for tag in re.findall(r"<script\b[^>]*>", resp.text):
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
        assert not re.search(r"\son[a-z]+\s*=", resp.text), path
        assert "javascript:" not in resp.text, path


@pytest.mark.parametrize("url, source", [
    ("", None),
    ("/tiles/{z}/{x}/{y}.png", None),
    ("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", "https://*.tile.openstreetmap.org"),
    ("https://tiles.example.cn:8443/{z}/{x}/{y}.png", "https://tiles.example.cn:8443"),
    ("http://webrd0{s}.is.autonavi.com/appmaptile?x={x}", "http://*.is.autonavi.com"),
    ("//tiles.example.cn/{z}/{x}/{y}.png", "tiles.example.cn"),
    ("https://bad host/{z}", None),
])
def test_the_tile_server_is_allowed_for_images(url, source):
    assert tile_source(url) == source
    images = next(d for d in content_security_policy(url).split("; ") if d.startswith("img-src "))
    assert images == "img-src 'self' data:" + (f" {source}" if source else "")


def test_the_configured_tile_server_reaches_the_policy(db, monkeypatch):
    from fastapi.testclient import TestClient

    from pingan.app import create_app
    from pingan.config import get_settings

    monkeypatch.setenv("PINGAN_TILE_URL", "https://{s}.tiles.example.cn/{z}/{x}/{y}.png")
    get_settings.cache_clear()
    try:
        with TestClient(create_app(background_jobs=False)) as c:
            assert _csp(c.get("/healthz"))["img-src"] == "'self' data: https://*.tiles.example.cn"
    finally:
        get_settings.cache_clear()
