"""Sessions remembered for a few seconds after they authenticate (auth.recent, decision 0013)."""

from datetime import timedelta

import pytest
from sqlalchemy import text

from pingan.auth import recent
from pingan.auth.security import token_hash
from pingan.org.models import User


@pytest.fixture
def clock(monkeypatch):
    """A hand-moved monotonic clock for the memory's seconds."""
    now = [1000.0]
    monkeypatch.setattr(recent, "clock", lambda: now[0])
    return now


def me(client, headers):
    return client.get("/api/v1/auth/me", headers=headers).status_code


def test_a_session_is_read_once_then_remembered(client, world, login, recorded_statements, clock):
    headers = login("dispatcher")
    first = recorded_statements(lambda: me(client, headers))
    again = recorded_statements(lambda: me(client, headers))
    assert any("auth_session" in s for s in first)
    assert not any("auth_session" in s for s in again)
    clock[0] += 5.0  # PINGAN_AUTH_CACHE_SECONDS' default: read afresh
    assert any("auth_session" in s for s in recorded_statements(lambda: me(client, headers)))


def test_a_logout_in_this_process_ends_the_session_at_once(client, world, login, clock):
    headers = login("dispatcher")
    assert me(client, headers) == 200  # remembered now
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert me(client, headers) == 401


def test_a_user_disabled_in_this_process_is_refused_at_once(client, world, login, db, clock):
    headers = login("dispatcher")
    assert me(client, headers) == 200
    user = db.query(User).filter_by(username="dispatcher").one()
    user.is_active = False
    db.commit()
    assert me(client, headers) == 401


def test_a_revocation_by_another_process_takes_effect_within_the_seconds(client, world, login, connection, clock):
    headers = login("dispatcher")
    assert me(client, headers) == 200
    # Another worker's logout: a plain UPDATE this process's sessions never see.
    token = headers["Authorization"].removeprefix("Bearer ")
    connection.execute(text("UPDATE auth_session SET revoked = :yes WHERE token_hash = :h"),
                       {"yes": True, "h": token_hash(token)})
    clock[0] += 4.9
    assert me(client, headers) == 200  # still remembered: the bound decision 0013 accepts
    clock[0] += 0.1
    assert me(client, headers) == 401


def test_a_remembered_session_still_expires_on_time(client, world, login, monkeypatch, clock):
    headers = login("dispatcher")
    assert me(client, headers) == 200
    import pingan.auth.service as service

    later = service.utcnow() + timedelta(hours=13)  # past the 12-hour session
    monkeypatch.setattr(service, "utcnow", lambda: later)
    assert me(client, headers) == 401


def test_zero_seconds_turns_the_memory_off(client, world, login, recorded_statements, monkeypatch, clock):
    from pingan.config import get_settings

    monkeypatch.setenv("PINGAN_AUTH_CACHE_SECONDS", "0")
    get_settings.cache_clear()
    try:
        headers = login("dispatcher")
        me(client, headers)
        assert any("auth_session" in s for s in recorded_statements(lambda: me(client, headers)))
    finally:
        monkeypatch.delenv("PINGAN_AUTH_CACHE_SECONDS")
        get_settings.cache_clear()


def test_a_refusal_is_not_remembered(client, world, clock):
    headers = {"Authorization": "Bearer not-a-token"}
    assert me(client, headers) == 401
    assert token_hash("not-a-token") not in recent._entries
