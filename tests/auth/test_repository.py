"""auth.repository (what an actor reads: account locks) and auth.system (sessions and the
throttle's counts, before there is an actor)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from pingan.auth import repository, system
from pingan.auth.actor import Actor
from pingan.auth.models import AuthSession, LoginAttempt, LoginLock
from pingan.auth.security import token_hash
from pingan.db.types import utcnow
from pingan.org.system import org_path_of


def actor_of(db, user) -> Actor:
    return Actor.for_user(user, org_path_of(db=db, org_unit_id=user.org_unit_id))


def lock(db, username: str, *, expires_in: timedelta = timedelta(minutes=30), lifted: bool = False) -> LoginLock:
    now = utcnow()
    row = LoginLock(username=username, created_at=now, failures=20, addresses=5, expires_at=now + expires_in,
                    lifted_at=now if lifted else None)
    db.add(row)
    db.flush()
    return row


def test_locks_are_read_within_the_jurisdiction_and_unknown_names_from_the_root_only(db, world):
    for username in ("chief_a", "patrol_a", "chief_b", "no_such_account"):
        lock(db, username)
    now = utcnow()

    def seen(user) -> set[str]:
        return {row.username for row in repository.list_active_locks(db=db, actor=actor_of(db, user), at=now)}

    assert seen(world.users["admin"]) == {"chief_a", "patrol_a", "chief_b", "no_such_account"}
    assert seen(world.users["chief_a"]) == {"chief_a", "patrol_a"}
    assert seen(world.users["chief_b"]) == {"chief_b"}
    # a command centre's member sees its parent's subtree: the bureau, which is the root
    assert seen(world.users["dispatcher"]) == {"chief_a", "patrol_a", "chief_b", "no_such_account"}


def test_only_locks_in_force_are_listed_and_one_username_can_be_asked_for(db, world):
    lock(db, "chief_a", lifted=True)
    lock(db, "chief_a", expires_in=timedelta(minutes=-1))
    live = lock(db, "patrol_a")
    lock(db, "chief_a")
    admin, now = actor_of(db, world.users["admin"]), utcnow()
    assert {row.username for row in repository.list_active_locks(db=db, actor=admin, at=now)} == {"chief_a",
                                                                                                  "patrol_a"}
    assert [row.id for row in repository.list_active_locks(db=db, actor=admin, at=now, username="patrol_a")] == [
        live.id]


def test_a_session_is_read_with_what_its_actor_is_built_from(db, world):
    user = world.users["dispatcher"]
    db.add(AuthSession(token_hash=token_hash("tok-1"), user_id=user.id, csrf_token="c1",
                       expires_at=utcnow() + timedelta(hours=1)))
    db.flush()
    row = system.session_with_actor(db=db, token_hash=token_hash("tok-1"))
    assert (row.csrf_token, row.revoked, row.id, row.username, row.org_unit_id) == ("c1", False, user.id,
                                                                                   "dispatcher", user.org_unit_id)
    assert (row.path, row.parent_id) == (world.org["command"].path, world.org["bureau"].id)
    assert system.session_with_actor(db=db, token_hash=token_hash("no-such-token")) is None


def test_revoking_a_users_sessions_keeps_the_one_named(db, world):
    user = world.users["chief_a"]
    for token in ("keep", "end-1", "end-2"):
        db.add(AuthSession(token_hash=token_hash(token), user_id=user.id, csrf_token=token,
                           expires_at=utcnow() + timedelta(hours=1)))
    db.flush()
    assert system.revoke_sessions(db=db, user_id=user.id, keep_token_hash=token_hash("keep")) == 2
    db.expire_all()
    revoked = {s.csrf_token: s.revoked for s in db.scalars(select(AuthSession).where(AuthSession.user_id == user.id))}
    assert revoked == {"keep": False, "end-1": True, "end-2": True}


def test_the_throttle_counts_failures_by_account_address_and_device(db, world):
    now = utcnow()
    since = now - timedelta(minutes=15)
    for ip, success, device, minutes_ago in [("10.0.0.1", False, None, 1), ("10.0.0.2", False, "d1", 2),
                                             ("10.0.0.2", False, None, 3), ("10.0.0.2", True, None, 4),
                                             ("10.0.0.3", False, None, 30)]:
        db.add(LoginAttempt(username="chief_a", ip=ip, success=success, device=device,
                            at=now - timedelta(minutes=minutes_ago)))
    db.flush()
    assert system.account_failures(db=db, username="chief_a", since=since) == (3, 2)
    assert system.address_failures(db=db, ip="10.0.0.2", since=since) == 2
    assert system.oldest_address_failure(db=db, ip="10.0.0.2", since=since) == now - timedelta(minutes=3)
    assert system.device_failures(db=db, device="d1", since=since) == 1
    assert [r.success for r in system.recent_attempts(db=db, username="chief_a", ip="10.0.0.2", since=since)] == [
        False, False, True]
