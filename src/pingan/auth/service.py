"""Login, sessions, one's own password, and the login throttle's account locks."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from pingan.audit.mechanism import record_event
from pingan.audit.models import AuditAction
from pingan.auth import policy, recent, system, throttle
from pingan.auth import repository as auth_repository
from pingan.auth.actor import Actor
from pingan.auth.models import AuthSession, LoginLock
from pingan.auth.security import hash_password, new_token, token_hash, verify_dummy, verify_password
from pingan.config import get_settings
from pingan.db.types import utcnow
from pingan.errors import Forbidden, NotAuthenticated, NotFound, ValidationFailed
from pingan.org import repository as org_repo
from pingan.org import system as org_system
from pingan.org.models import User

LOGIN_FAILED = NotAuthenticated("用户名或密码错误", "Wrong username or password")


def login(
    *, db: Session, username: str, password: str, ip: str, device: str | None = None
) -> tuple[str, AuthSession, Actor] | None:
    """Check the password; return (token, session row, actor), or None when it is wrong.

    ``device`` is the id of the browser's known-device cookie for this username, if it presented
    a valid one (``auth.throttle``). A failure returns (not raises) so that the caller's unit of
    work commits the failed attempt, which the throttle counts; an attempt that must wait raises
    TooManyRequests. An unknown username costs the same argon2 verification as a known one and
    gets the same answer as a wrong password.
    """
    settings = get_settings()
    key = policy.throttle_key(username)
    device = throttle.check(db=db, username=key, ip=ip, device=device)
    user = org_system.get_user_by_username(db=db, username=key) if key else None
    ok = verify_password(user.password_hash, password) if user is not None else verify_dummy(password)
    throttle.record(db=db, username=key, ip=ip, device=device, success=ok)
    if not ok:
        record_event(db, action=AuditAction.LOGIN_FAILED, entity="app_user",
                     entity_id=user.id if user else None, detail={"username": key, "ip": ip})
        db.flush()
        return None
    if not user.is_active:
        # said only to whoever knows the password
        raise NotAuthenticated("账号已停用，请联系管理员", "This account is disabled; ask an administrator")
    if policy.is_demo_password_refused(password):
        raise Forbidden("生产环境不能使用演示密码登录，请联系管理员重置密码",
                        "The demo password cannot log in in production; ask an administrator to reset it")
    token = new_token()
    session_row = AuthSession(
        token_hash=token_hash(token), user_id=user.id, csrf_token=new_token(),
        expires_at=utcnow() + timedelta(hours=settings.session_hours),
    )
    db.add(session_row)
    db.flush()
    actor = Actor.for_user(user, org_system.org_path_of(db=db, org_unit_id=user.org_unit_id),
                           session_row.csrf_token)
    db.info["actor"] = actor
    record_event(db, action=AuditAction.LOGIN, entity="app_user", entity_id=user.id, detail={"ip": ip})
    return token, session_row, actor


def authenticate(*, db: Session, token: str) -> Actor:
    """The actor of a valid session: read from the database, or remembered from the last few
    seconds (``auth.recent``, decision 0013)."""
    key, now = token_hash(token), utcnow()
    actor = recent.recall(key, now)
    if actor is not None:
        return actor
    row = system.session_with_actor(db=db, token_hash=key)
    if row is None or row.revoked or row.expires_at <= now:
        raise NotAuthenticated("请先登录", "Please log in")
    if not row.is_active:
        raise NotAuthenticated("账号已停用", "Account disabled")
    actor = Actor.for_user(row, org_system.jurisdiction_path(row.path, row.kind, row.parent_id), row.csrf_token)
    recent.remember(key, row.expires_at, actor)
    return actor


def logout(*, db: Session, token: str) -> None:
    system.revoke_session(db=db, token_hash=token_hash(token))
    record_event(db, action=AuditAction.LOGOUT, entity="auth_session", entity_id=None)


def end_sessions(*, db: Session, user_id: int, keep_token: str | None = None) -> int:
    """Revoke every live session of a user (but ``keep_token``'s); audited. The remembered
    sessions of this process are forgotten at the commit (``auth.recent``)."""
    keep = token_hash(keep_token) if keep_token else None
    ended = system.revoke_sessions(db=db, user_id=user_id, keep_token_hash=keep)
    record_event(db, action=AuditAction.LOGOUT, entity="app_user", entity_id=user_id,
                 detail={"sessions_ended": ended, "kept_current": bool(keep_token)})
    return ended


def set_password(*, db: Session, user: User, password: str, must_change: bool) -> None:
    """Store a new password (checked against the policy by the caller) and its change-flag."""
    user.password_hash = hash_password(password)
    user.must_change_password = must_change
    user.password_changed_at = utcnow()
    db.flush()


WRONG_CURRENT_PASSWORD = ValidationFailed("当前密码不正确", "The current password is wrong", field="current_password")


def change_own_password(*, db: Session, actor: Actor, current: str, new: str, token: str, ip: str) -> bool:
    """A user changes their own password: the current one is required (and throttled like a login);
    every other session of theirs ends. A wrong current password returns False (not raised, so
    that the failed attempt is committed and counted, as a login's); a refused new one raises."""
    user = org_repo.get_own_user(db=db, actor=actor)
    if user is None:
        raise NotFound("用户不存在", "No such user")
    key = policy.throttle_key(user.username)
    throttle.check(db=db, username=key, ip=ip, device=None)
    ok = verify_password(user.password_hash, current)
    throttle.record(db=db, username=key, ip=ip, device=None, success=ok)
    if not ok:
        record_event(db, action=AuditAction.LOGIN_FAILED, entity="app_user", entity_id=user.id,
                     detail={"username": key, "ip": ip, "during": "password_change"})
        db.flush()
        return False
    if new == current:
        raise ValidationFailed("新密码不能与当前密码相同", "The new password must differ from the current one",
                               field="new_password")
    policy.check_password(new, username=user.username, field="new_password")
    set_password(db=db, user=user, password=new, must_change=False)
    end_sessions(db=db, user_id=user.id, keep_token=token)
    return True


# --- account locks (the throttle's last resort), for the admin ----------------------------------


def list_locks(*, db: Session, actor: Actor) -> list[LoginLock]:
    """The active account locks the actor may see: of users in their jurisdiction, and — for an
    admin of the whole tree — of usernames that belong to no account."""
    return auth_repository.list_active_locks(db=db, actor=actor, at=throttle.now())


def lift_lock(*, db: Session, actor: Actor, username: str) -> int:
    """Lift the active locks of a username (audited through login_lock's own rows)."""
    locks = auth_repository.list_active_locks(db=db, actor=actor, at=throttle.now(), username=username)
    if not locks:
        raise NotFound("该用户名没有生效的锁定", "No active lock for this username in your jurisdiction",
                       field="username")
    for lock in locks:
        lock.lifted_at = utcnow()
        lock.lifted_by_id = actor.user_id
    db.flush()
    return len(locks)
