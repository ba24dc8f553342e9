"""The audit log (督察): every change of an auditable record and every read of personal data."""

from __future__ import annotations

from datetime import datetime
from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from pingan.db.base import Base
from pingan.db.enum import LabelledEnum, enum_column_type
from pingan.db.mixins import IdMixin
from pingan.db.types import UTCDateTime, utcnow


class AuditAction(LabelledEnum):
    CREATE = "create", "新增", "create"
    UPDATE = "update", "修改", "update"
    DELETE = "delete", "删除", "delete"
    READ = "read", "查看个人信息", "personal-data read"  # a read of personal data
    LOGIN = "login", "登录", "login"
    LOGIN_FAILED = "login_failed", "登录失败", "failed login"
    LOGOUT = "logout", "退出", "logout"


class AuditLog(IdMixin, Base):
    __tablename__ = "audit_log"

    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    actor_name: Mapped[str | None] = mapped_column(String(40))
    actor_org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    action: Mapped[AuditAction] = mapped_column(enum_column_type(AuditAction))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(40))
    changes: Mapped[dict | None] = mapped_column(JSON)
    purpose: Mapped[str | None] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(40), index=True)
    # the client's own X-Request-ID, kept beside ours (web.context.RequestIdMiddleware)
    client_request_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)
