"""Login sessions, login attempts (for the login throttle) and account locks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pingan.db.base import Base
from pingan.db.mixins import IdMixin
from pingan.db.types import UTCDateTime, utcnow

USERNAME_LENGTH = 40  # app_user.username, login_attempt.username, login_lock.username


class AuthSession(IdMixin, Base):
    """A login session. The cookie / bearer token is random; only its SHA-256 is stored."""

    __tablename__ = "auth_session"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginAttempt(IdMixin, Base):
    """One login attempt. ``username`` is the normalised name as stored (lower case, at most the
    column's length), so that long or case-varied names count against the same account;
    ``device`` the id of the known-device cookie the attempt presented, if any (auth.throttle)."""

    __tablename__ = "login_attempt"

    username: Mapped[str] = mapped_column(String(USERNAME_LENGTH), index=True)
    ip: Mapped[str] = mapped_column(String(45), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    success: Mapped[bool] = mapped_column(Boolean)
    device: Mapped[str | None] = mapped_column(String(32), index=True)


class LoginLock(IdMixin, Base):
    """An account-wide lock (账号锁定): the last resort against guessing spread over many addresses.

    Keyed by the normalised username (known or not, so that a lock tells nothing about whether
    an account exists). It ends at ``expires_at`` or when an admin lifts it; a device that has
    logged in to the account before still gets in (auth.throttle)."""

    __tablename__ = "login_lock"
    __auditable__ = True

    username: Mapped[str] = mapped_column(String(USERNAME_LENGTH), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    failures: Mapped[int] = mapped_column(Integer)
    addresses: Mapped[int] = mapped_column(Integer)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
