"""Queries of sessions and login attempts (会话、登录尝试), before there is an actor (decision 0016):
authenticating a token, counting failed logins for the throttle (``auth.throttle``), ending
sessions. They are keyed by a token, a username, an address or a device, never filtered by
jurisdiction; nothing here reaches a page or a route's answer directly. What an administrator
reads of them (the account locks) is in :mod:`pingan.auth.repository`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, bindparam, distinct, func, select, update
from sqlalchemy.orm import Session

from pingan.auth.models import AuthSession, LoginAttempt, LoginLock
from pingan.org import system as org_system

# One round trip per request: the session, its user and the user's org unit together.
_AUTHENTICATE = org_system.with_actor_columns(
    select(AuthSession.csrf_token, AuthSession.expires_at, AuthSession.revoked), AuthSession.user_id,
).where(AuthSession.token_hash == bindparam("token_hash"))


def session_with_actor(*, db: Session, token_hash: str) -> Row | None:
    """The session of a token hash with what its actor is built from (csrf_token, expires_at,
    revoked and :data:`pingan.org.system.ACTOR_COLUMNS`), or None."""
    return db.connection().execute(_AUTHENTICATE, {"token_hash": token_hash}).first()


def revoke_session(*, db: Session, token_hash: str) -> None:
    db.execute(update(AuthSession).where(AuthSession.token_hash == token_hash).values(revoked=True))


def revoke_sessions(*, db: Session, user_id: int, keep_token_hash: str | None = None) -> int:
    """Revoke every live session of a user but ``keep_token_hash``'s; how many were revoked."""
    stmt = update(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked.is_(False))
    if keep_token_hash:
        stmt = stmt.where(AuthSession.token_hash != keep_token_hash)
    return db.execute(stmt.values(revoked=True)).rowcount or 0


# --- the login throttle's counts -----------------------------------------------------------------


def device_failures(*, db: Session, device: str, since: datetime) -> int:
    """Failed attempts with a known-device cookie since ``since``."""
    return db.scalar(select(func.count()).where(
        LoginAttempt.device == device, LoginAttempt.at >= since, LoginAttempt.success.is_(False)))


def active_lock(*, db: Session, username: str, at: datetime) -> LoginLock | None:
    """The newest lock of a username in force at ``at``."""
    return db.scalar(select(LoginLock).where(LoginLock.username == username, LoginLock.expires_at > at,
                                             LoginLock.lifted_at.is_(None)).order_by(LoginLock.id.desc()).limit(1))


def recent_attempts(*, db: Session, username: str, ip: str, since: datetime, limit: int = 64) -> list[Row]:
    """(at, success) of the attempts for a username from an address since ``since``, newest first."""
    return db.execute(
        select(LoginAttempt.at, LoginAttempt.success)
        .where(LoginAttempt.username == username, LoginAttempt.ip == ip, LoginAttempt.at >= since)
        .order_by(LoginAttempt.at.desc(), LoginAttempt.id.desc()).limit(limit)
    ).all()


def address_failures(*, db: Session, ip: str, since: datetime) -> int:
    """Failed attempts from an address since ``since``, over any usernames."""
    return db.scalar(select(func.count()).where(LoginAttempt.ip == ip, LoginAttempt.at >= since,
                                                LoginAttempt.success.is_(False)))


def oldest_address_failure(*, db: Session, ip: str, since: datetime) -> datetime | None:
    return db.scalar(select(func.min(LoginAttempt.at)).where(
        LoginAttempt.ip == ip, LoginAttempt.at >= since, LoginAttempt.success.is_(False)))


def account_failures(*, db: Session, username: str, since: datetime) -> tuple[int, int]:
    """(failed attempts, distinct addresses they came from) for a username since ``since``."""
    failures, addresses = db.execute(
        select(func.count(), func.count(distinct(LoginAttempt.ip))).where(
            LoginAttempt.username == username, LoginAttempt.at >= since, LoginAttempt.success.is_(False))
    ).one()
    return failures, addresses
