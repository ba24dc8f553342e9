"""User management (issue 12, item 6): API, pages and CLI, inside the admin's jurisdiction, audited."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from pingan.audit.models import AuditLog
from pingan.auth.models import AuthSession
from pingan.cli import app as cli_app
from pingan.org import service as org_service
from pingan.org.models import Role, User
from tests.factories import PASSWORD

V = "/api/v1"


def audit_rows(db, user_id: int) -> list[AuditLog]:
    return list(db.scalars(select(AuditLog).where(AuditLog.entity == "app_user",
                                                  AuditLog.entity_id == str(user_id)).order_by(AuditLog.id)))


def test_reset_password_is_one_time_forces_a_change_and_ends_sessions(client, world, login, db):
    admin = login("admin")
    victim = login("patrol_a")
    uid = world.users["patrol_a"].id
    resp = client.post(f"{V}/users/{uid}/reset-password", headers=admin)
    assert resp.status_code == 200
    otp = resp.json()["one_time_password"]
    assert resp.json()["user"]["must_change_password"] is True
    assert client.get(f"{V}/auth/me", headers=victim).status_code == 401  # sessions ended
    # the one-time password logs in, but allows nothing but changing it
    token = client.post(f"{V}/auth/login", json={"username": "patrol_a", "password": otp}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    refused = client.get(f"{V}/incidents", headers=headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "password_change_required"
    assert client.get(f"{V}/auth/me", headers=headers).json()["must_change_password"] is True
    weak = client.post(f"{V}/auth/password", json={"current_password": otp, "new_password": "password123"},
                       headers=headers)
    assert weak.status_code == 422 and weak.json()["error"]["field"] == "new_password"
    assert client.post(f"{V}/auth/password", json={"current_password": otp, "new_password": "Str0ng-and-long"},
                       headers=headers).status_code == 204
    assert client.get(f"{V}/incidents", headers=headers).status_code == 200
    # audited, without the hash
    rows = audit_rows(db, uid)
    assert any((r.changes or {}).get("after", {}).get("must_change_password") is True for r in rows)
    assert not any("password_hash" in str(r.changes) for r in rows)
    assert not any(otp in str(r.changes) for r in rows)


def test_changing_ones_own_password_needs_the_current_one_and_ends_other_sessions(client, world, login, db):
    first = login("dispatcher")
    second = login("dispatcher")
    wrong = client.post(f"{V}/auth/password", json={"current_password": "not-it-at-all",
                                                     "new_password": "Another-long-1"}, headers=first)
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "current_password"
    for bad, why in (("short-1", "10"), ("qwertyuiop", "常见"), ("my-dispatcher-pw", "用户名")):
        resp = client.post(f"{V}/auth/password", json={"current_password": PASSWORD, "new_password": bad},
                           headers=first)
        assert resp.status_code == 422 and why in resp.json()["error"]["message"], bad
    ok = client.post(f"{V}/auth/password", json={"current_password": PASSWORD, "new_password": "Another-long-1"},
                     headers=first)
    assert ok.status_code == 204
    assert client.get(f"{V}/auth/me", headers=first).status_code == 200
    assert client.get(f"{V}/auth/me", headers=second).status_code == 401


def test_disable_ends_sessions_and_refuses_login_until_enabled(client, world, login, db):
    admin = login("admin")
    victim = login("chief_b")
    uid = world.users["chief_b"].id
    assert client.get(f"{V}/auth/me", headers=victim).status_code == 200  # remembered now (auth.recent)
    assert client.post(f"{V}/users/{uid}/disable", headers=admin).json()["is_active"] is False
    assert client.get(f"{V}/auth/me", headers=victim).status_code == 401
    assert client.post(f"{V}/auth/login", json={"username": "chief_b", "password": PASSWORD}).status_code == 401
    assert client.post(f"{V}/users/{uid}/enable", headers=admin).json()["is_active"] is True
    assert client.post(f"{V}/auth/login", json={"username": "chief_b", "password": PASSWORD}).status_code == 200
    assert client.post(f"{V}/users/{world.users['admin'].id}/disable", headers=admin).status_code == 409


def test_end_sessions_assign_role_and_unit(client, world, login, db):
    admin = login("admin")
    victim = login("community_a")
    uid = world.users["community_a"].id
    assert client.get(f"{V}/auth/me", headers=victim).status_code == 200  # remembered now (auth.recent)
    assert client.post(f"{V}/users/{uid}/end-sessions", headers=admin).json()["sessions_ended"] >= 1
    assert client.get(f"{V}/auth/me", headers=victim).status_code == 401
    resp = client.patch(f"{V}/users/{uid}", json={"role": "patrol", "org_unit_id": world.org["station_a"].id},
                        headers=admin)
    assert resp.status_code == 200 and resp.json()["role"] == "patrol"
    changed = audit_rows(db, uid)[-1]
    assert changed.changes["after"]["role"] == "patrol" and changed.actor_name == "admin"


def test_create_refuses_weak_and_long_and_makes_a_one_time_password(client, world, login):
    admin = login("admin")
    base = {"display_name": "新人", "role": "patrol", "org_unit_id": world.org["station_a"].id}
    too_long = client.post(f"{V}/users", json={**base, "username": "x" * 41}, headers=admin)
    assert too_long.status_code == 422 and too_long.json()["error"]["fields"][0]["field"] == "username"
    common = client.post(f"{V}/users", json={**base, "username": "newbie", "password": "1qaz2wsx3edc"}, headers=admin)
    assert common.status_code == 422 and common.json()["error"]["field"] == "password"
    made = client.post(f"{V}/users", json={**base, "username": "NewBie"}, headers=admin)
    assert made.status_code == 201
    assert made.json()["user"]["username"] == "newbie" and made.json()["user"]["must_change_password"] is True
    assert re.fullmatch(r"\w{5}-\w{5}-\w{5}", made.json()["one_time_password"])


def test_an_admin_manages_only_their_own_subtree(client, world, db, login):
    org_service.create_user(db=db, username="admin_a", password=PASSWORD, display_name="admin_a",
                            role=Role.ADMIN, org_unit_id=world.org["branch_a"].id)
    headers = login("admin_a")
    inside, outside = world.users["patrol_a"].id, world.users["patrol_b"].id
    assert client.get(f"{V}/users/{inside}", headers=headers).status_code == 200
    for method, url in (("GET", f"{V}/users/{outside}"), ("POST", f"{V}/users/{outside}/disable"),
                        ("POST", f"{V}/users/{outside}/reset-password"), ("PATCH", f"{V}/users/{outside}")):
        assert client.request(method, url, headers=headers, json={} if method == "PATCH" else None).status_code == 404
    moved = client.patch(f"{V}/users/{inside}", json={"org_unit_id": world.org["station_b"].id}, headers=headers)
    assert moved.status_code == 422 and moved.json()["error"]["field"] == "org_unit_id"
    names = {u["username"] for u in client.get(f"{V}/users", headers=headers).json()}
    assert "patrol_a" in names and "patrol_b" not in names


def test_logout_with_a_basic_authorization_header_revokes_the_cookie_session(client, world, db):
    body = client.post(f"{V}/auth/login", json={"username": "dispatcher", "password": PASSWORD}).json()
    resp = client.post(f"{V}/auth/logout", headers={"Authorization": "Basic Zm9vOmJhcg==",
                                                    "X-CSRF-Token": body["csrf_token"]})
    assert resp.status_code == 204
    from pingan.auth.security import token_hash

    row = db.scalar(select(AuthSession).where(AuthSession.token_hash == token_hash(body["token"])))
    assert row.revoked is True


def test_the_demo_password_is_refused_in_production(client, world, db, monkeypatch):
    import dataclasses

    from pingan import config
    from pingan.auth import policy
    from pingan.demo.organisation import DEMO_PASSWORD

    assert policy.DEMO_PASSWORD == DEMO_PASSWORD
    demo = org_service.create_user(db=db, username="demo_user", password=DEMO_PASSWORD, display_name="d",
                                   role=Role.PATROL, org_unit_id=world.org["station_a"].id)  # development: allowed
    production = dataclasses.replace(config.get_settings(), env="production")
    monkeypatch.setattr(policy, "get_settings", lambda: production)
    resp = client.post(f"{V}/auth/login", json={"username": demo.username, "password": DEMO_PASSWORD})
    assert resp.status_code == 403 and "演示密码" in resp.json()["error"]["message"]
    with pytest.raises(Exception, match="demo password"):
        org_service.create_user(db=db, username="demo_user2", password=DEMO_PASSWORD, display_name="d",
                                role=Role.PATROL, org_unit_id=world.org["station_a"].id)


def test_cli_user_commands(world, db):
    runner = CliRunner()
    station = world.org["station_a"].code

    def run(*args, input=None):
        return runner.invoke(cli_app, ["user", *args], input=input)

    made = run("create", "cli_user", "--role", "patrol", "--org", station, "--password-stdin",
               input="Cli-password-77\n")
    assert made.exit_code == 0, made.output
    user = db.scalar(select(User).where(User.username == "cli_user"))
    assert user is not None and not user.must_change_password
    long = run("create", "u" * 41, "--role", "patrol", "--org", station, "--password-stdin", input="Cli-password-77\n")
    assert long.exit_code == 2 and "username" in long.output
    weak = run("create", "cli_weak", "--role", "patrol", "--org", station, "--password-stdin", input="password1234\n")
    assert weak.exit_code == 2 and "common" in weak.output
    prompted = run("create", "cli_prompt", "--role", "patrol", "--org", station,
                   input="Prompted-pass-9\nPrompted-pass-9\n")
    assert prompted.exit_code == 0, prompted.output
    assert "Prompted-pass-9" not in prompted.output  # hidden input
    reset = run("reset-password", "cli_user")
    assert reset.exit_code == 0 and re.search(r"\w{5}-\w{5}-\w{5}", reset.output)
    assert run("disable", "cli_user").exit_code == 0
    assert run("enable", "cli_user").exit_code == 0
    assert run("set", "cli_user", "--role", "community").exit_code == 0
    assert run("end-sessions", "cli_user").exit_code == 0
    assert "cli_user" in run("list").output
    db.expire_all()
    assert db.scalar(select(User.role).where(User.username == "cli_user")) == Role.COMMUNITY


def test_nul_and_control_characters_are_refused_or_ignored_not_a_500(client, world, login):
    admin = login("admin")
    base = {"username": "nul_user", "role": "patrol", "org_unit_id": world.org["station_a"].id}
    # NUL is refused before any handler (web.validation.refuse_nul), naming the field
    resp = client.post(f"{V}/users", json={**base, "display_name": "a\x00b"}, headers=admin)
    assert resp.status_code == 422 and [f["field"] for f in resp.json()["error"]["fields"]] == ["display_name"]
    resp = client.get(f"{V}/users", params={"q": "pat\x00rol"}, headers=admin)
    assert resp.status_code == 422 and [f["field"] for f in resp.json()["error"]["fields"]] == ["q"]
    resp = client.post(f"{V}/auth/login", json={"username": "ad\x00min", "password": "x"})
    assert resp.status_code == 422 and [f["field"] for f in resp.json()["error"]["fields"]] == ["username"]
    # other control characters are the service's to refuse
    resp = client.post(f"{V}/users", json={**base, "display_name": "a\x07b"}, headers=admin)
    assert resp.status_code == 422 and "display_name" in resp.text
    assert client.post(f"{V}/users/{world.users['admin'].id}/reset-password", headers=admin).status_code == 409
