"""Login, sessions and the login rate limit."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from pingan.audit.mechanism import record_event
from pingan.audit.models import AuditAction
from pingan.auth import recent
from pingan.auth.actor import Actor
from pingan.auth.models import AuthSession, LoginAttempt
from pingan.auth.security import new_token, token_hash, verify_password
from pingan.config import get_settings
from pingan.db.types import utcnow
from pingan.errors import NotAuthenticated, TooManyRequests
from pingan.org import repository as org_repo
from pingan.org.models import OrgUnit, User


def _recent_failures(db: Session, *, username: str, ip: str) -> tuple[int, int]:
    since = utcnow() - timedelta(minutes=get_settings().login_window_minutes)
    by_user = db.scalar(
        select(func.count()).where(LoginAttempt.username == username, LoginAttempt.at >= since,
                                   LoginAttempt.success.is_(False))
    )
    by_ip = db.scalar(
        select(func.count()).where(LoginAttempt.ip == ip, LoginAttempt.at >= since,
                                   LoginAttempt.success.is_(False))
    )
    return by_user or 0, by_ip or 0


LOGIN_FAILED = NotAuthenticated("用户名或密码错误", "Wrong username or password")


def login(
    *, db: Session, username: str, password: str, ip: str
) -> tuple[str, AuthSession, Actor] | None:
    """Check the password; return (token, session row, actor), or None when it is wrong.

    A failure returns (not raises) so that the caller's unit of work commits the failed
    attempt, which the rate limit counts. Too many failures raise TooManyRequests.
    """
    settings = get_settings()
    by_user, by_ip = _recent_failures(db, username=username, ip=ip)
    if by_user >= settings.login_max_failures or by_ip >= settings.login_max_failures * 4:
        raise TooManyRequests(
            f"登录失败次数过多，请 {settings.login_window_minutes} 分钟后再试",
            f"Too many failed logins; try again in {settings.login_window_minutes} minutes",
        )
    user = org_repo.get_user_by_username(db=db, username=username)
    ok = user is not None and user.is_active and verify_password(user.password_hash, password)
    db.add(LoginAttempt(username=username[:40], ip=ip, success=ok))
    if not ok:
        record_event(db, action=AuditAction.LOGIN_FAILED, entity="app_user",
                     entity_id=user.id if user else None, detail={"username": username[:40], "ip": ip})
        db.flush()
        return None
    token = new_token()
    session_row = AuthSession(
        token_hash=token_hash(token), user_id=user.id, csrf_token=new_token(),
        expires_at=utcnow() + timedelta(hours=settings.session_hours),
    )
    db.add(session_row)
    db.flush()
    actor = Actor.for_user(user, org_repo.org_path_of(db=db, org_unit_id=user.org_unit_id),
                           session_row.csrf_token)
    db.info["actor"] = actor
    record_event(db, action=AuditAction.LOGIN, entity="app_user", entity_id=user.id, detail={"ip": ip})
    return token, session_row, actor


# One round trip per request: the session, its user and the user's org unit together.
_AUTHENTICATE = (
    select(AuthSession.csrf_token, AuthSession.expires_at, AuthSession.revoked, User.id, User.username,
           User.display_name, User.role, User.org_unit_id, User.language, User.is_active,
           OrgUnit.path, OrgUnit.kind, OrgUnit.parent_id)
    .join(User, User.id == AuthSession.user_id)
    .join(OrgUnit, OrgUnit.id == User.org_unit_id)
    .where(AuthSession.token_hash == bindparam("token_hash"))
)


def authenticate(*, db: Session, token: str) -> Actor:
    """The actor of a valid session: read from the database, or remembered from the last few
    seconds (``auth.recent``, decision 0013)."""
    key, now = token_hash(token), utcnow()
    actor = recent.recall(key, now)
    if actor is not None:
        return actor
    row = db.connection().execute(_AUTHENTICATE, {"token_hash": key}).first()
    if row is None or row.revoked or row.expires_at <= now:
        raise NotAuthenticated("请先登录", "Please log in")
    if not row.is_active:
        raise NotAuthenticated("账号已停用", "Account disabled")
    actor = Actor.for_user(row, org_repo.jurisdiction_path(row.path, row.kind, row.parent_id), row.csrf_token)
    recent.remember(key, row.expires_at, actor)
    return actor


def logout(*, db: Session, token: str) -> None:
    db.execute(update(AuthSession).where(AuthSession.token_hash == token_hash(token)).values(revoked=True))
    record_event(db, action=AuditAction.LOGOUT, entity="auth_session", entity_id=None)
