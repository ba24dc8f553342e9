"""The login throttle (auth.throttle): slow the attacker, not the owner (issue 12, items 4, 7, 10)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from pingan.auth import security, throttle
from pingan.auth.models import LoginAttempt, LoginLock
from pingan.audit.models import AuditLog
from pingan.db.types import utcnow
from tests.factories import PASSWORD

LOGIN = "/api/v1/auth/login"


@pytest.fixture
def clock(monkeypatch):
    """The throttle's clock, moved by hand (no waiting in tests)."""
    now = [utcnow()]
    monkeypatch.setattr(throttle, "now", lambda: now[0])
    return now


def client_at(app, ip: str) -> TestClient:
    return TestClient(app, base_url="http://testserver", client=(ip, 50000))


def attempt(c: TestClient, username: str, password: str):
    return c.post(LOGIN, json={"username": username, "password": password})


def test_failures_from_one_address_do_not_lock_the_owner_out_elsewhere(app, world, clock):
    attacker = client_at(app, "198.51.100.7")
    for _ in range(5):  # five wrong passwords (each after the back-off): once enough to lock everyone out
        assert attempt(attacker, "dispatcher", "wrong-pass-1").status_code == 401
        clock[0] += timedelta(minutes=1)
    assert attempt(attacker, "dispatcher", "wrong-pass-1").status_code == 401
    # the attacker now waits (back-off), the owner at another address gets in at once
    slowed = attempt(attacker, "dispatcher", PASSWORD)
    assert slowed.status_code == 429 and int(slowed.headers["retry-after"]) >= 1
    assert attempt(client_at(app, "203.0.113.20"), "dispatcher", PASSWORD).status_code == 200


def test_back_off_doubles_and_ends(app, world, clock):
    c = client_at(app, "198.51.100.8")
    for _ in range(3):
        assert attempt(c, "dispatcher", "wrong-pass-1").status_code == 401
    assert throttle.backoff_seconds(3) == 2 and throttle.backoff_seconds(4) == 4 and throttle.backoff_seconds(6) == 16
    assert attempt(c, "dispatcher", "wrong-pass-1").status_code == 429
    clock[0] += timedelta(seconds=2)
    assert attempt(c, "dispatcher", "wrong-pass-1").status_code == 401  # 4th failure: now 4 s
    clock[0] += timedelta(seconds=3)
    assert attempt(c, "dispatcher", PASSWORD).status_code == 429
    clock[0] += timedelta(seconds=1)
    assert attempt(c, "dispatcher", PASSWORD).status_code == 200
    # a success ends the streak
    assert attempt(c, "dispatcher", "wrong-pass-1").status_code == 401


def test_case_varied_and_long_names_count_against_the_same_account(app, world, clock, db):
    c = client_at(app, "198.51.100.9")
    for name in ("DISPATCHER", "Dispatcher", " dispatcher"):
        assert attempt(c, name, "wrong-pass-1").status_code == 401
    assert attempt(c, "dispatcher", PASSWORD).status_code == 429
    stored = set(db.scalars(select(LoginAttempt.username).where(LoginAttempt.ip == "198.51.100.9")))
    assert stored == {"dispatcher"}
    too_long = attempt(c, "d" * 41, "wrong-pass-1")
    assert too_long.status_code == 422 and too_long.json()["error"]["fields"][0]["field"] == "username"


def test_the_owner_logs_in_on_a_known_device_while_the_shared_address_is_blocked(app, world, clock, db):
    nat = "198.51.100.50"  # a command centre behind one NAT
    owner = client_at(app, nat)
    assert attempt(owner, "dispatcher", PASSWORD).status_code == 200  # this browser becomes known
    assert owner.cookies.get(throttle.DEVICE_COOKIE)
    stranger = client_at(app, nat)
    for i in range(20):  # someone else on the NAT guesses many names
        assert attempt(stranger, f"guess{i}", "wrong-pass-1").status_code == 401
    assert attempt(stranger, "guess99", "wrong-pass-1").status_code == 429
    assert attempt(client_at(app, nat), "dispatcher", PASSWORD).status_code == 429  # a new browser waits
    assert attempt(owner, "dispatcher", PASSWORD).status_code == 200  # the known device does not


def test_a_device_cookie_is_signed_and_bound_to_its_user(app, world, clock):
    nat = "198.51.100.51"
    owner = client_at(app, nat)
    assert attempt(owner, "dispatcher", PASSWORD).status_code == 200
    cookie = owner.cookies.get(throttle.DEVICE_COOKIE)
    stranger = client_at(app, nat)
    for i in range(20):
        attempt(stranger, f"guess{i}", "wrong-pass-1")
    forged = client_at(app, nat)
    device, name, sig = cookie.split(".")
    forged.cookies.set(throttle.DEVICE_COOKIE, f"{device}.admin.{sig}")  # another user's name
    assert attempt(forged, "admin", PASSWORD).status_code == 429
    forged.cookies.set(throttle.DEVICE_COOKIE, f"{device}.{name}.{'0' * 32}")  # a made-up signature
    assert attempt(forged, "dispatcher", PASSWORD).status_code == 429


def test_a_known_device_gets_only_a_few_guesses(app, world, clock):
    c = client_at(app, "198.51.100.52")
    assert attempt(c, "dispatcher", PASSWORD).status_code == 200
    for _ in range(5):
        assert attempt(c, "dispatcher", "wrong-pass-1").status_code == 401
    # the device is no longer honoured: the ordinary back-off applies
    assert attempt(c, "dispatcher", PASSWORD).status_code == 429


def test_distributed_guessing_locks_the_account_until_an_admin_lifts_it(app, world, clock, db, login):
    for i in range(50):
        assert attempt(client_at(app, f"192.0.2.{i + 1}"), "chief_a", "wrong-pass-1").status_code == 401
    lock = db.scalar(select(LoginLock).where(LoginLock.username == "chief_a"))
    assert lock is not None and lock.failures == 50 and lock.addresses == 50
    locked = attempt(client_at(app, "203.0.113.99"), "chief_a", PASSWORD)
    assert locked.status_code == 429 and "锁定" in locked.json()["error"]["message"]
    created = db.scalar(select(AuditLog).where(AuditLog.entity == "login_lock", AuditLog.action == "create"))
    assert created is not None and created.changes["after"]["username"] == "chief_a"
    headers = login("admin")
    assert [lk["username"] for lk in app_client(app).get("/api/v1/login-locks", headers=headers).json()] == ["chief_a"]
    assert app_client(app).post("/api/v1/login-locks/lift", json={"username": "Chief_A"},
                                headers=headers).status_code == 204
    assert attempt(client_at(app, "203.0.113.99"), "chief_a", PASSWORD).status_code == 200
    lifted = db.scalar(select(AuditLog).where(AuditLog.entity == "login_lock", AuditLog.action == "update"))
    assert lifted.changes["after"]["lifted_by_id"] == world.users["admin"].id


def app_client(app) -> TestClient:
    return TestClient(app, base_url="http://testserver")


def test_unknown_and_known_usernames_cost_one_argon2_verification_each(app, world, clock, monkeypatch):
    calls = []
    real = security.verify_password
    monkeypatch.setattr(security, "verify_password", lambda h, p: calls.append(h) or real(h, p))
    import pingan.auth.service as auth_service

    monkeypatch.setattr(auth_service, "verify_password", security.verify_password)
    c = client_at(app, "198.51.100.60")
    unknown = attempt(c, "nobody-here", "wrong-pass-1")
    known = attempt(c, "dispatcher", "wrong-pass-1")
    assert unknown.status_code == known.status_code == 401
    assert unknown.json() == known.json()
    assert len(calls) == 2 and calls[0].startswith("$argon2") and calls[0] != world.users["dispatcher"].password_hash
    assert calls[0].split("$")[:4] == calls[1].split("$")[:4]  # the same algorithm and cost parameters


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(app, world, clock, db, monkeypatch):
    import dataclasses

    from pingan import config

    spoof = {"X-Forwarded-For": "203.0.113.1"}
    direct = client_at(app, "198.51.100.70")
    direct.post(LOGIN, json={"username": "admin", "password": "wrong-pass-1"}, headers=spoof)
    assert db.scalar(select(func.count()).where(LoginAttempt.ip == "198.51.100.70")) == 1
    settings = dataclasses.replace(config.get_settings(), trusted_proxies=("10.0.0.0/8",))
    monkeypatch.setattr(throttle, "get_settings", lambda: settings)
    proxied = client_at(app, "10.1.2.3")
    proxied.post(LOGIN, json={"username": "admin", "password": "wrong-pass-1"},
                 headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.2, 10.9.9.9"})
    assert db.scalar(select(func.count()).where(LoginAttempt.ip == "203.0.113.2")) == 1
    failed = db.scalar(select(AuditLog).where(AuditLog.action == "login_failed").order_by(AuditLog.id.desc()))
    assert failed.changes["ip"] == "203.0.113.2"


def test_a_bad_trusted_proxies_setting_is_refused_by_name():
    with pytest.raises(ValueError, match="PINGAN_TRUSTED_PROXIES"):
        throttle._networks(("10.0.0.0/33",))
