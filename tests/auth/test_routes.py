from tests.factories import PASSWORD


def test_login_returns_token_and_sets_httponly_samesite_cookie(client, world):
    resp = client.post("/api/v1/auth/login", json={"username": "dispatcher", "password": PASSWORD})
    assert resp.status_code == 200
    body = resp.json()
    assert body["user"]["role"] == "dispatcher"
    cookie = resp.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_wrong_password_is_401_in_both_languages(client, world):
    resp = client.post("/api/v1/auth/login", json={"username": "dispatcher", "password": "nope-nope"})
    assert resp.status_code == 401
    err = resp.json()["error"]
    assert err["message"] == "用户名或密码错误" and err["message_en"] == "Wrong username or password"


def test_cookie_session_needs_csrf_for_unsafe_methods(client, world):
    resp = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    csrf = resp.json()["csrf_token"]
    assert client.get("/api/v1/auth/me").status_code == 200  # cookie works for reads
    assert client.post("/api/v1/auth/logout").status_code == 403  # no CSRF token
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401


def test_validation_error_names_the_field_in_chinese_and_english(client, world):
    resp = client.post("/api/v1/auth/login", json={"username": "admin"})
    assert resp.status_code == 422
    err = resp.json()["error"]
    assert err["fields"][0]["field"] == "password"
    assert "必填" in err["message"] and "password" in err["message_en"]


def test_login_failure_and_success_are_audited(client, world, login):
    client.post("/api/v1/auth/login", json={"username": "admin", "password": "bad-password"})
    headers = login("auditor")
    items = client.get("/api/v1/audit", params={"action": "login_failed"}, headers=headers).json()["items"]
    assert any(i["changes"]["username"] == "admin" for i in items)
