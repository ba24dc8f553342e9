"""Incident command (接处警): calls, incidents, assignments, stage events, callbacks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pingan.db.base import Base
from pingan.db.enum import enum_column_type
from pingan.db.mixins import IdMixin, TimestampMixin
from pingan.db.types import UTCDateTime, utcnow
from pingan.geo.models import ZoneClass


class Stage(StrEnum):
    """Incident stages, in order. Each is stamped with time and actor."""

    RECEIVED = "received"  # 接警
    ACCEPTED = "accepted"  # 签收
    DISPATCHED = "dispatched"  # 派警
    DEPARTED = "departed"  # 出警
    ARRIVED = "arrived"  # 到场
    RESOLVED = "resolved"  # 处置完毕
    CLOSED = "closed"  # 结警


STAGE_ORDER: list[Stage] = list(Stage)

# Allowed next stages of an incident. Departed/arrived follow the first assignment.
INCIDENT_TRANSITIONS: dict[Stage, set[Stage]] = {
    Stage.RECEIVED: {Stage.ACCEPTED, Stage.CLOSED},  # closed directly: invalid / duplicate call
    Stage.ACCEPTED: {Stage.DISPATCHED, Stage.RESOLVED, Stage.CLOSED},
    Stage.DISPATCHED: {Stage.DEPARTED, Stage.RESOLVED, Stage.CLOSED},
    Stage.DEPARTED: {Stage.ARRIVED, Stage.RESOLVED},
    Stage.ARRIVED: {Stage.RESOLVED},
    Stage.RESOLVED: {Stage.CLOSED},
    Stage.CLOSED: set(),
}


class AssignmentStatus(StrEnum):
    DISPATCHED = "dispatched"  # 已派
    DEPARTED = "departed"  # 已出发
    ARRIVED = "arrived"  # 已到场
    CLEARED = "cleared"  # 已完成
    CANCELLED = "cancelled"  # 已撤回


ASSIGNMENT_TRANSITIONS: dict[AssignmentStatus, set[AssignmentStatus]] = {
    AssignmentStatus.DISPATCHED: {AssignmentStatus.DEPARTED, AssignmentStatus.CANCELLED},
    AssignmentStatus.DEPARTED: {AssignmentStatus.ARRIVED, AssignmentStatus.CANCELLED},
    AssignmentStatus.ARRIVED: {AssignmentStatus.CLEARED},
    AssignmentStatus.CLEARED: set(),
    AssignmentStatus.CANCELLED: set(),
}

# Every stage but closed: the board's incidents. Listed (not `!= closed`) so that a query can
# use the (stage, received_at) index instead of scanning every closed incident.
OPEN_STAGES = tuple(s for s in Stage if s != Stage.CLOSED)
# Not yet closed, as SQL with the value written out: a partial index is used for a query whose
# condition repeats its own, and a bound parameter does not (ix_incident_open).
OPEN_SQL = f"stage != '{Stage.CLOSED.value}'"
ACTIVE_ASSIGNMENT = (AssignmentStatus.DISPATCHED, AssignmentStatus.DEPARTED, AssignmentStatus.ARRIVED)


class Disposition(StrEnum):
    """How an incident was closed (处警结果)."""

    HANDLED_ON_SCENE = "handled_on_scene"  # 现场处置
    CRIMINAL_CASE = "criminal_case"  # 转刑事案件
    ADMIN_CASE = "admin_case"  # 转行政案件
    MEDIATED = "mediated"  # 调解处理
    REFERRED = "referred"  # 移交其他部门
    ASSISTANCE_GIVEN = "assistance_given"  # 求助已救助
    INVALID_CALL = "invalid_call"  # 无效警情
    DUPLICATE = "duplicate"  # 重复报警
    FALSE_REPORT = "false_report"  # 谎报警情


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY = "basically_satisfied"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意
    UNREACHABLE = "unreachable"  # 未联系上


class IncidentCategory(Base):
    """A code of the incident category table (警情类别), two levels."""

    __tablename__ = "incident_category"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("incident_category.code"))
    sort: Mapped[int] = mapped_column(Integer, default=0)


class Incident(IdMixin, TimestampMixin, Base):
    """An incident (警情). Stage timestamps here are the read model; StageEvent rows are the timeline."""

    __tablename__ = "incident"
    __auditable__ = True
    __audit_exclude__ = ("updated_at", "version", "idempotency_hash")
    __personal_fields__ = {"caller_phone": "phone", "caller_name": "name"}

    number: Mapped[str | None] = mapped_column(String(24), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    # SHA-256 of the request that used the key (incident.service.request_hash): the same key with
    # another request is refused. None for rows taken before it was kept.
    idempotency_hash: Mapped[str | None] = mapped_column(String(64))
    category_code: Mapped[str] = mapped_column(ForeignKey("incident_category.code"), index=True)
    priority: Mapped[int] = mapped_column(Integer)
    stage: Mapped[Stage] = mapped_column(enum_column_type(Stage), default=Stage.RECEIVED)
    description: Mapped[str] = mapped_column(Text, default="")
    location_text: Mapped[str] = mapped_column(String(255))
    address_id: Mapped[int | None] = mapped_column(ForeignKey("address.id"))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"), index=True)
    zone_class: Mapped[ZoneClass | None] = mapped_column(enum_column_type(ZoneClass))
    # The station responsible (jurisdiction); division_code is the future distribution key.
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    division_code: Mapped[str | None] = mapped_column(String(12))
    caller_phone: Mapped[str | None] = mapped_column(String(20))
    caller_name: Mapped[str | None] = mapped_column(String(40))
    call_count: Mapped[int] = mapped_column(Integer, default=1)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    departed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disposition: Mapped[Disposition | None] = mapped_column(enum_column_type(Disposition))
    disposition_note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    category: Mapped[IncidentCategory] = relationship(lazy="raise")

    __table_args__ = (
        Index("ix_incident_org_received", "org_unit_id", "received_at"),
        Index("ix_incident_stage_received", "stage", "received_at"),
        # The dispatcher's board: the open incidents alone (repository.list_open_for_board).
        Index("ix_incident_open", "received_at", sqlite_where=text(OPEN_SQL), postgresql_where=text(OPEN_SQL)),
        # The statistics store's watermark: the incidents changed since its last sync.
        Index("ix_incident_updated_at", "updated_at"),
    )


class Call(IdMixin, Base):
    """One call (来电). Several calls about the same event may point at one incident."""

    __tablename__ = "call"
    __auditable__ = True
    __personal_fields__ = {"caller_phone": "phone", "caller_name": "name"}

    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    caller_phone: Mapped[str | None] = mapped_column(String(20))
    caller_name: Mapped[str | None] = mapped_column(String(40))
    location_text: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    taker_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    # Orders each flush (the incident row before the rows that refer to it), so that a new
    # incident and its first call and event go to the database in one flush. Never loaded.
    incident: Mapped[Incident] = relationship(lazy="raise")


class Assignment(IdMixin, Base):
    """A duty unit sent to an incident. A unit holds at most one active assignment."""

    __tablename__ = "assignment"
    __auditable__ = True

    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("duty_unit.id"))
    status: Mapped[AssignmentStatus] = mapped_column(enum_column_type(AssignmentStatus))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    dispatcher_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    eta_seconds: Mapped[int | None] = mapped_column(Integer)
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    departed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        # A unit's active assignment, found without reading its history (the units page joins it).
        Index("ix_assignment_unit_active", "unit_id", "active"),
        # The database itself refuses a second active assignment of one unit.
        Index(
            "uq_assignment_active_unit",
            "unit_id",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )


class StageEvent(IdMixin, Base):
    """The timeline (时间轴): one row per stage reached, by incident or by assignment."""

    __tablename__ = "stage_event"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignment.id"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    stage: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    note: Mapped[str | None] = mapped_column(String(255))

    # Orders each flush (the incident row before the rows that refer to it), so that a new
    # incident and its first call and event go to the database in one flush. Never loaded.
    incident: Mapped[Incident] = relationship(lazy="raise")


class Callback(IdMixin, Base):
    """A satisfaction callback (回访) to the caller after closing."""

    __tablename__ = "callback"
    __auditable__ = True

    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    satisfaction: Mapped[Satisfaction] = mapped_column(enum_column_type(Satisfaction))
    note: Mapped[str | None] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
