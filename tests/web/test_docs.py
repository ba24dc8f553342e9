"""The API docs page: Swagger UI from our own static files, shown by PINGAN_API_DOCS."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from pingan.app import STATIC_DIR


@pytest.fixture
def app_with_docs(db, monkeypatch):
    from pingan.app import create_app
    from pingan.config import get_settings

    def make(mode: str | None):
        if mode is None:
            monkeypatch.delenv("PINGAN_API_DOCS", raising=False)
        else:
            monkeypatch.setenv("PINGAN_API_DOCS", mode)
        get_settings.cache_clear()
        return create_app(background_jobs=False)

    yield make
    get_settings.cache_clear()


def _sign_in(c: TestClient) -> None:
    from tests.factories import log_in

    log_in(c, "dispatcher")


def test_by_default_only_signed_in_users_see_the_docs(app_with_docs, world):
    with TestClient(app_with_docs(None)) as c:
        resp = c.get("/api/docs", follow_redirects=False)
        assert resp.status_code == 303 and resp.headers["location"] == "/login?next=/api/docs"
        _sign_in(c)
        page = c.get("/api/docs")
        assert page.status_code == 200
        # no CDN: every script and style comes from this server's static files
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in sources
        assert "/static/vendor/swagger-ui/swagger-ui.css" in sources and "/static/swagger-init.js" in sources
        assert all(s.startswith("/static/") for s in sources), sources
        assert 'data-openapi-url="/openapi.json"' in page.text
        assert c.get("/openapi.json").status_code == 200


def test_public_docs_need_no_sign_in(app_with_docs):
    with TestClient(app_with_docs("public")) as c:
        assert c.get("/api/docs").status_code == 200
        assert c.get("/openapi.json").json()["info"]["title"].startswith("Ping'an")


def test_docs_switched_off_serve_neither_page_nor_document(app_with_docs, world):
    with TestClient(app_with_docs("off")) as c:
        _sign_in(c)
        assert c.get("/api/docs").status_code == 404
        assert c.get("/openapi.json").status_code == 404


def test_an_unknown_setting_is_refused(app_with_docs):
    with pytest.raises(ValueError, match="PINGAN_API_DOCS"):
        app_with_docs("sometimes")


@pytest.mark.skipif(not (STATIC_DIR / "vendor" / "swagger-ui").is_dir(), reason="assets not built")
def test_the_swagger_assets_are_served(client):
    for path in ("/static/vendor/swagger-ui/swagger-ui-bundle.js", "/static/vendor/swagger-ui/swagger-ui.css",
                 "/static/swagger-init.js"):
        assert client.get(path).status_code == 200, path
