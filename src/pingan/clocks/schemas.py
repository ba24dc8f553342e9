"""API shapes of clocks and the holiday table."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from pingan.clocks.models import ClockState
from pingan.clocks.rules import DayKind, Unit


class PauseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    started_at: datetime
    ended_at: datetime | None
    reason: str


class ExtensionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    amount: int
    unit: Unit
    approver: str
    reason: str
    basis: str
    approved_at: datetime


class ClockRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    owner_module: str
    entity: str
    entity_id: int
    org_unit_id: int
    clock_type: str
    started_at: datetime
    amount: int
    unit: Unit
    legal: bool
    in_custody: bool
    state: ClockState
    due_at: datetime | None
    warn_at: datetime | None
    provisional: bool
    explanation_zh: str
    explanation_en: str
    met_at: datetime | None
    superseded_by_id: int | None


class ClockDetail(ClockRead):
    pauses: list[PauseRead]
    extensions: list[ExtensionRead]


class PauseCreate(BaseModel):
    reason: str = Field(min_length=1, max_length=200)


class ExtensionCreate(BaseModel):
    amount: int = Field(ge=1, le=3650)
    unit: Unit
    reason: str = Field(min_length=1, max_length=200)
    basis: str = Field(min_length=1, max_length=200)


class HolidayRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: date
    kind: DayKind
    name: str
    source: str


class HolidayYear(BaseModel):
    year: int
    has_data: bool  # False: the arrangement of this year is not entered yet (never guessed)
    days: list[HolidayRead]


class HolidayWrite(BaseModel):
    kind: DayKind
    name: str = Field(min_length=1, max_length=40)
