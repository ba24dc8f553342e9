"""Incident command (接处警): calls, incidents, assignments, stage events, callbacks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pingan.db.base import Base
from pingan.auth.permissions import Perm
from pingan.db.enum import LabelledEnum, LabelledIntEnum, enum_column_type
from pingan.db.mixins import IdMixin, TimestampMixin
from pingan.db.types import UTCDateTime, utcnow
from pingan.errors import Forbidden
from pingan.geo.models import ZoneClass
from pingan.states import StateMachine, transition


class Stage(LabelledEnum):
    """Incident stages, in order. Each is stamped with time and actor."""

    RECEIVED = "received", "已接警", "received"  # 接警
    ACCEPTED = "accepted", "已签收", "accepted"  # 签收
    DISPATCHED = "dispatched", "已派警", "dispatched"  # 派警
    DEPARTED = "departed", "已出警", "departed"  # 出警
    ARRIVED = "arrived", "已到场", "arrived"  # 到场
    RESOLVED = "resolved", "处置完毕", "resolved"
    CLOSED = "closed", "已结警", "closed"  # 结警


STAGE_ORDER: list[Stage] = list(Stage)


class AssignmentStatus(LabelledEnum):
    DISPATCHED = "dispatched", "已派", "dispatched"
    DEPARTED = "departed", "已出发", "departed"
    ARRIVED = "arrived", "已到场", "arrived"
    CLEARED = "cleared", "已完成", "cleared"
    CANCELLED = "cancelled", "已撤回", "cancelled"


class TimelineEvent(LabelledEnum):
    """Timeline entries that are not stages (时间轴中的其他事件)."""

    CALL = "call", "重复来电", "further call"  # a further call came in
    MERGED = "merged", "警情合并", "merged"  # a duplicate was merged in / this was merged away
    ESCALATED = "escalated", "超时未签收", "escalated: not accepted in time"  # flagged by the job
    CALLBACK = "callback", "回访", "callback"  # satisfaction callback recorded


def timeline_entry(stage: str, assignment_id: int | None) -> LabelledEnum | None:
    """What a ``stage_event`` row records: a unit's step (with an assignment), a stage, or
    another event; None for a value no enum knows."""
    kinds = (AssignmentStatus, Stage) if assignment_id is not None else (Stage, TimelineEvent)
    for kind in kinds:
        if stage in kind._value2member_map_:
            return kind(stage)
    return None


class Priority(LabelledIntEnum):
    """An incident's priority (警情级别), 1 the most urgent."""

    CRITICAL = 1, "一级 · 特急", "P1 · critical"
    URGENT = 2, "二级 · 紧急", "P2 · urgent"
    NORMAL = 3, "三级 · 一般", "P3 · normal"
    LOW = 4, "四级 · 非紧急", "P4 · low"


# Every stage but closed: the board's incidents. Listed (not `!= closed`) so that a query can
# use the (stage, received_at) index instead of scanning every closed incident.
OPEN_STAGES = tuple(s for s in Stage if s != Stage.CLOSED)
# Not yet closed, as SQL with the value written out: a partial index is used for a query whose
# condition repeats its own, and a bound parameter does not (ix_incident_open).
OPEN_SQL = f"stage != '{Stage.CLOSED.value}'"
ACTIVE_ASSIGNMENT = (AssignmentStatus.DISPATCHED, AssignmentStatus.DEPARTED, AssignmentStatus.ARRIVED)


class Disposition(LabelledEnum):
    """How an incident was closed (处警结果)."""

    HANDLED_ON_SCENE = "handled_on_scene", "现场处置", "handled on scene"
    CRIMINAL_CASE = "criminal_case", "转刑事案件", "passed to a criminal case"
    ADMIN_CASE = "admin_case", "转行政案件", "passed to an administrative case"
    MEDIATED = "mediated", "调解处理", "mediated"
    REFERRED = "referred", "移交其他部门", "referred to another agency"
    ASSISTANCE_GIVEN = "assistance_given", "求助已救助", "assistance given"
    INVALID_CALL = "invalid_call", "无效警情", "invalid call"
    DUPLICATE = "duplicate", "重复报警", "duplicate"
    FALSE_REPORT = "false_report", "谎报警情", "false report"


class Satisfaction(LabelledEnum):
    """The caller's answer to a callback (回访结果)."""

    SATISFIED = "satisfied", "满意", "satisfied"
    BASICALLY = "basically_satisfied", "基本满意", "basically satisfied"
    UNSATISFIED = "unsatisfied", "不满意", "unsatisfied"
    UNREACHABLE = "unreachable", "未联系上", "unreachable"


class IncidentCategory(Base):
    """A code of the incident category table (警情类别), two levels."""

    __tablename__ = "incident_category"
    __label__ = ("警情类别", "incident category")

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("incident_category.code"))
    sort: Mapped[int] = mapped_column(Integer, default=0)


class Incident(IdMixin, TimestampMixin, Base):
    """An incident (警情). Stage timestamps here are the read model; StageEvent rows are the timeline."""

    __tablename__ = "incident"
    __label__ = ("警情", "incident")
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
    __label__ = ("来电", "call")
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
    __label__ = ("派警任务", "assignment")
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
    __label__ = ("时间轴事件", "timeline event")

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
    __label__ = ("回访", "callback")
    __auditable__ = True

    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    satisfaction: Mapped[Satisfaction] = mapped_column(enum_column_type(Satisfaction))
    note: Mapped[str | None] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


# --- the state machines (decision 0017) ----------------------------------------------------

# An incident's stages. Accepting, resolving and closing are the dispatcher's and the station's
# actions; the stage moves to dispatched, departed and arrived with the first unit sent, on its
# way and on the scene (internal steps of the assignment's transitions, never buttons). Closing
# an incident whose units departed or arrived resolves it on the way.
_ASSIGNABLE = (Stage.RECEIVED, Stage.ACCEPTED, Stage.DISPATCHED, Stage.DEPARTED, Stage.ARRIVED)

INCIDENT_STAGES = StateMachine(
    noun=Incident.__label__,
    states=Stage,
    state_of=lambda incident: incident.stage,
    transitions=[
        transition("accept", ("签收", "Accept"), {Stage.RECEIVED}, Stage.ACCEPTED,
                   permissions=[Perm.INCIDENT_DISPATCH]),
        transition("assign", ("派警", "Send"), _ASSIGNABLE, permissions=[Perm.INCIDENT_DISPATCH],
                   verb=("再派警", "be dispatched to")),
        transition("dispatch", ("派警", "Dispatched"), {Stage.ACCEPTED}, Stage.DISPATCHED),
        transition("depart", ("出警", "Departed"), {Stage.DISPATCHED}, Stage.DEPARTED),
        transition("arrive", ("到场", "Arrived"), {Stage.DEPARTED}, Stage.ARRIVED),
        transition("resolve", ("处置完毕", "Resolved"),
                   {Stage.ACCEPTED, Stage.DISPATCHED, Stage.DEPARTED, Stage.ARRIVED}, Stage.RESOLVED,
                   permissions=[Perm.INCIDENT_CLOSE]),
        transition("close", ("结警", "Close incident"), OPEN_STAGES, Stage.CLOSED,
                   permissions=[Perm.INCIDENT_CLOSE]),
        transition("callback", ("记录回访", "Record callback"), {Stage.CLOSED},
                   permissions=[Perm.INCIDENT_CALLBACK], verb=("回访", "get a callback")),
        transition("add_call", ("并入本警情", "Add the call"), OPEN_STAGES, permissions=[Perm.INCIDENT_CREATE],
                   verb=("再并入来电", "take further calls")),
        # 警情合并: the duplicate is closed, so units on their way or on the scene forbid it
        transition("merge_away", ("并入", "Merge away"), {Stage.RECEIVED, Stage.ACCEPTED, Stage.DISPATCHED,
                                                          Stage.RESOLVED}, Stage.CLOSED,
                   permissions=[Perm.INCIDENT_DISPATCH], verb=("作为重复警情并入", "be merged away as a duplicate")),
        transition("merge_into", ("合并", "Merge into"), OPEN_STAGES, permissions=[Perm.INCIDENT_DISPATCH],
                   verb=("接收并入的警情", "take in a duplicate")),
    ],
)


@dataclass(frozen=True)
class UnitTask:
    """An assignment as its rules read it: its status and the user who operates its unit."""

    status: AssignmentStatus
    operator_user_id: int | None

    @classmethod
    def of(cls, assignment: Assignment, unit) -> UnitTask:
        return cls(assignment.status, unit.operator_user_id if unit is not None else None)


def _own_unit(actor, task: UnitTask) -> Forbidden | None:
    """A dispatcher moves any assignment in their jurisdiction; a patrol officer only those of the
    unit they operate."""
    if actor.can(Perm.INCIDENT_DISPATCH):
        return None
    if task.operator_user_id is not None and task.operator_user_id == actor.user_id:
        return None
    return Forbidden("只能操作本人所在警力的任务", "You may only move your own unit's assignments")


_MOVE = (Perm.INCIDENT_DISPATCH, Perm.ASSIGNMENT_OWN)

# A unit's assignment: on its way, on the scene, done; recalled (撤回) by a dispatcher before it
# arrives. Cleared and cancelled free the unit (UNIT_STATES "release"); closing an incident ends
# its assignments the same way (arrived ones clear, the others are recalled).
ASSIGNMENT_STATES = StateMachine(
    noun=Assignment.__label__,
    states=AssignmentStatus,
    transitions=[
        transition("depart", ("出发", "Departed"), {AssignmentStatus.DISPATCHED}, AssignmentStatus.DEPARTED,
                   permissions=_MOVE, guard=_own_unit),
        transition("arrive", ("到达", "Arrived"), {AssignmentStatus.DEPARTED}, AssignmentStatus.ARRIVED,
                   permissions=_MOVE, guard=_own_unit),
        transition("clear", ("完成", "Cleared"), {AssignmentStatus.ARRIVED}, AssignmentStatus.CLEARED,
                   permissions=_MOVE, guard=_own_unit),
        transition("cancel", ("撤回", "Recall"), {AssignmentStatus.DISPATCHED, AssignmentStatus.DEPARTED},
                   AssignmentStatus.CANCELLED, permissions=[Perm.INCIDENT_DISPATCH]),
    ],
)
