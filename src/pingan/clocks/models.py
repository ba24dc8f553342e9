"""The official calendar (节假日表) and clocks (期限) with their pauses and extensions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from pingan.auth.permissions import Perm
from pingan.clocks.rules import DayKind, Unit
from pingan.db.base import Base
from pingan.db.enum import LabelledEnum, enum_column_type
from pingan.db.mixins import IdMixin, TimestampMixin
from pingan.db.types import UTCDateTime
from pingan.states import StateMachine, transition


class Holiday(IdMixin, TimestampMixin, Base):
    """One day of the official arrangement: a public holiday or a make-up working day (调休上班)."""

    __tablename__ = "holiday"
    __label__ = ("节假日", "holiday")
    __auditable__ = True

    day: Mapped[date] = mapped_column(Date, unique=True)
    kind: Mapped[DayKind] = mapped_column(enum_column_type(DayKind))
    name: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(16), default="admin")  # "package" (chinese-calendar) or "admin"


class ClockState(LabelledEnum):
    RUNNING = "running", "计时中", "running"
    DUE_SOON = "due_soon", "即将到期", "due soon"
    OVERDUE = "overdue", "已超期", "overdue"
    PAUSED = "paused", "已中止", "paused"
    MET = "met", "已按期完成", "met"
    MET_LATE = "met_late", "超期完成", "met late"
    SUPERSEDED = "superseded", "已被取代", "superseded"


OPEN_STATES = (ClockState.RUNNING, ClockState.DUE_SOON, ClockState.OVERDUE, ClockState.PAUSED)
TICKING = (ClockState.RUNNING, ClockState.DUE_SOON, ClockState.OVERDUE)

CLOCK_STATES = StateMachine(
    noun=("期限", "clock"),
    states=ClockState,
    transitions=(
        transition("warn", ("临近到期", "due soon"), {ClockState.RUNNING}, ClockState.DUE_SOON),
        transition("lapse", ("超期", "overdue"), {ClockState.RUNNING, ClockState.DUE_SOON}, ClockState.OVERDUE),
        transition("pause", ("中止", "pause"), TICKING, ClockState.PAUSED, permissions=(Perm.CLOCK_MANAGE,)),
        transition("resume", ("恢复计算", "resume"), {ClockState.PAUSED}, ClockState.RUNNING,
                   permissions=(Perm.CLOCK_MANAGE,)),
        transition("extend", ("延长", "extend"), OPEN_STATES, permissions=(Perm.CLOCK_MANAGE,)),
        transition("meet", ("完成", "met"), {ClockState.RUNNING, ClockState.DUE_SOON, ClockState.PAUSED},
                   ClockState.MET),
        transition("meet_late", ("超期完成", "met late"), {ClockState.OVERDUE}, ClockState.MET_LATE),
        transition("supersede", ("被取代", "superseded"), OPEN_STATES, ClockState.SUPERSEDED),
        transition("recompute", ("重算", "recompute"), OPEN_STATES),
    ),
    state_of=lambda clock: clock.state,
)


class Clock(IdMixin, TimestampMixin, Base):
    """One deadline of a record of some module (owner module + entity + id)."""

    __tablename__ = "clock"
    __label__ = ("期限", "clock")
    __table_args__ = (
        Index("ix_clock_owner", "owner_module", "entity", "entity_id"),
        Index("ix_clock_open_warn", "warn_at", sqlite_where=text("state = 'running'"),
              postgresql_where=text("state = 'running'")),
        Index("ix_clock_open_due", "due_at", sqlite_where=text("state IN ('running', 'due_soon')"),
              postgresql_where=text("state IN ('running', 'due_soon')")),
    )

    owner_module: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column(Integer)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    clock_type: Mapped[str] = mapped_column(String(48))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    amount: Mapped[int] = mapped_column(Integer)
    unit: Mapped[Unit] = mapped_column(enum_column_type(Unit))
    legal: Mapped[bool] = mapped_column(Boolean, default=False)
    in_custody: Mapped[bool] = mapped_column(Boolean, default=False)
    calendar_dependent: Mapped[bool] = mapped_column(Boolean, default=False)  # read in id order, no index
    # no index of its own: the flagging job reads the two partial indexes, and each index on the
    # state is one more entry to move for every clock the job flags
    state: Mapped[ClockState] = mapped_column(enum_column_type(ClockState), default=ClockState.RUNNING)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)  # a year without calendar data
    explanation_zh: Mapped[str] = mapped_column(String(1000), default="")
    explanation_en: Mapped[str] = mapped_column(String(1000), default="")
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("clock.id"), nullable=True)


class ClockPause(IdMixin, Base):
    """A stretch in which the clock stops (an appraisal, waiting for the citizen)."""

    __tablename__ = "clock_pause"
    __label__ = ("期限中止", "clock pause")
    __auditable__ = True

    clock_id: Mapped[int] = mapped_column(ForeignKey("clock.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reason: Mapped[str] = mapped_column(String(200))


class ClockExtension(IdMixin, Base):
    """An approved extension: the new period, who approved it, why, on what basis."""

    __tablename__ = "clock_extension"
    __label__ = ("期限延长", "clock extension")
    __auditable__ = True

    clock_id: Mapped[int] = mapped_column(ForeignKey("clock.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    unit: Mapped[Unit] = mapped_column(enum_column_type(Unit))
    approver: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200))
    basis: Mapped[str] = mapped_column(String(200))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime())
