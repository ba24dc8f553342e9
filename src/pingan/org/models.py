"""Organisation (机构 / 警力): org units as a tree, officers, users and duty units."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pingan.db.base import Base
from pingan.db.enum import LabelledEnum, enum_column_type
from pingan.db.mixins import IdMixin, TimestampMixin
from pingan.db.types import UTCDateTime
from pingan.states import StateMachine, transition


class OrgKind(LabelledEnum):
    BUREAU = "bureau", "市公安局", "bureau"
    BRANCH = "branch", "分局", "branch"  # 分局 / 县(市)公安局
    STATION = "station", "派出所", "police station"
    COMMUNITY_OFFICE = "community_office", "社区警务室", "community office"
    COMMAND_CENTRE = "command_centre", "指挥中心", "command centre"
    TEAM = "team", "大队", "team"  # 巡特警大队等


class Role(LabelledEnum):
    """Roles. What each may do is written in auth.permissions."""

    ADMIN = "admin", "局管理员", "Bureau admin"
    DISPATCHER = "dispatcher", "指挥中心接处警员", "Command-centre dispatcher"
    STATION_CHIEF = "station_chief", "派出所所长", "Station chief"
    PATROL = "patrol", "巡逻民警", "Patrol officer"
    COMMUNITY = "community", "社区民警", "Community officer"
    AUDITOR = "auditor", "督察", "Auditor"


class UnitKind(LabelledEnum):
    PATROL_CAR = "patrol_car", "巡逻车", "patrol car"
    FOOT_PATROL = "foot_patrol", "步巡", "foot patrol"
    MOUNTED = "mounted_team", "骑警", "mounted team"
    MOTORCYCLE = "motorcycle", "摩托巡逻", "motorcycle"


class UnitStatus(LabelledEnum):
    AVAILABLE = "available", "空闲", "available"
    ASSIGNED = "assigned", "执行任务", "on a task"
    OFF_DUTY = "off_duty", "不在岗", "off duty"  # 离线 / 不在岗



class OrgUnit(IdMixin, TimestampMixin, Base):
    """A node of the organisation tree. ``path`` is '/1/4/17/' so a subtree is one LIKE."""

    __tablename__ = "org_unit"
    __label__ = ("机构", "org unit")
    __auditable__ = True

    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[OrgKind] = mapped_column(enum_column_type(OrgKind))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), index=True, default="")
    division_code: Mapped[str | None] = mapped_column(String(12), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)

    parent: Mapped[OrgUnit | None] = relationship(remote_side="OrgUnit.id", lazy="raise")


class Officer(IdMixin, TimestampMixin, Base):
    """A police officer (民警) or auxiliary (辅警), identified by badge number (警号)."""

    __tablename__ = "officer"
    __label__ = ("民警", "officer")
    __auditable__ = True
    __personal_fields__ = {"phone": "phone"}

    badge_no: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    is_auxiliary: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str | None] = mapped_column(String(20))

    org_unit: Mapped[OrgUnit] = relationship(lazy="raise")


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "app_user"
    __label__ = ("用户", "user")
    __auditable__ = True
    __audit_exclude__ = ("password_hash",)

    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column_type(Role))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(5), default="zh")
    # set by an admin's password reset: the user can do nothing but change it (auth.actor)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    org_unit: Mapped[OrgUnit] = relationship(lazy="raise")


class DutyUnit(IdMixin, TimestampMixin, Base):
    """A duty unit (勤务单元): patrol car, foot patrol, mounted team, with status and last position."""

    __tablename__ = "duty_unit"
    __label__ = ("警力单元", "duty unit")
    __auditable__ = True
    __audit_exclude__ = ("lat", "lon", "position_at", "updated_at", "version")

    call_sign: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[UnitKind] = mapped_column(enum_column_type(UnitKind))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    status: Mapped[UnitStatus] = mapped_column(enum_column_type(UnitStatus), default=UnitStatus.AVAILABLE)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    position_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    leader_officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"))
    # The patrol user who operates this unit from the mobile page.
    operator_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    org_unit: Mapped[OrgUnit] = relationship(lazy="raise")

    __table_args__ = (Index("ix_duty_unit_status_lat_lon", "status", "lat", "lon"),)


# A duty unit's status moves with its assignments (incident.service): claimed when sent
# (available → assigned: the conditional UPDATE of incident.repository.claim_unit is the race's
# guard), released when its assignment ends. On and off duty is set by the unit import.
UNIT_STATES = StateMachine(
    noun=DutyUnit.__label__,
    states=UnitStatus,
    transitions=[
        transition("claim", ("派出", "Send"), {UnitStatus.AVAILABLE}, UnitStatus.ASSIGNED, verb=("派出", "be sent"),
                   refusals={UnitStatus.ASSIGNED: ("该警力已被其他调度员派出", "unit already taken")}),
        transition("release", ("释放", "Release"), {UnitStatus.ASSIGNED}, UnitStatus.AVAILABLE),
    ],
)
