"""API shapes of the incident domain (接处警).

Caller names and phone numbers are masked in every read schema; the only unmasked shape is
:class:`CallerContactRead`, filled from the one audited repository read.
Custom validators raise ``ValueError("中文 / English")``; the app's 422 handler splits the two
languages and names the field.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

from pingan.config import get_settings
from pingan.db.types import MAX_ID, utcnow
from pingan.geo.models import ZoneClass
from pingan.incident.models import AssignmentStatus, Disposition, Priority, Satisfaction, Stage
from pingan.incident.reference import CATEGORIES
from pingan.org.models import UnitKind
from pingan.privacy import mask_name, mask_phone
from pingan.web.params import Latitude, Longitude

CATEGORY_CODES: frozenset[str] = frozenset(
    [code for code, _, _, _ in CATEGORIES] + [s for _, _, _, subs in CATEGORIES for s, _, _ in subs]
)

_SEPARATORS = re.compile(r"[\s\-()（）]")
_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
_LANDLINE = re.compile(r"^(0\d{9,11})$")


def normalize_phone(value: str | None) -> str | None:
    """A caller's number (报警人电话), normalised; ``None``/blank means the number was withheld.

    Accepts a mobile number (1[3-9] and 9 more digits, optionally +86) or a landline with its
    area code (010 / 02x take three digits, the rest four; the local number has 7–8 digits).
    Service numbers (110, 120, 119, 12345, 95xxx …) are not callers' numbers and are refused.
    """
    if value is None:
        return None
    raw = _SEPARATORS.sub("", value.strip())
    if not raw:
        return None
    if m := _MOBILE.match(raw):
        return m.group(1)
    if m := _LANDLINE.match(raw):
        digits = m.group(1)
        area_len = 3 if digits.startswith(("010", "02")) else 4
        local = digits[area_len:]
        if len(local) in (7, 8) and local[0] not in "01":
            return f"{digits[:area_len]}-{local}"
    raise ValueError(
        "报警人电话格式不正确：应为手机号（1 开头 11 位）或带区号的固定电话，特服号（如 110、120）不是来电号码"
        " / must be a mobile number (11 digits starting with 1) or a landline with its area code;"
        " service numbers such as 110 or 120 are not callers' numbers"
    )


def _clean_text(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


class _CallerFields(BaseModel):
    caller_phone: str | None = Field(None, max_length=30, description="报警人电话 / caller's phone")
    caller_name: str | None = Field(None, max_length=40, description="报警人姓名 / caller's name")

    @field_validator("caller_phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        return normalize_phone(v)

    @field_validator("caller_name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        v = _clean_text(v)
        if v is not None and any(ch.isdigit() for ch in v):
            raise ValueError("报警人姓名不应包含数字 / must not contain digits")
        return v


_REQUIRED = {
    "location_text": "请填写案发地点 / The location is required",
    "category_code": "请选择警情类别 / Choose a category",
    "priority": "请选择警情级别（1–4） / Choose a priority (1–4)",
}


class IncidentCreate(_CallerFields):
    """A new call that opens an incident (接警)."""

    model_config = ConfigDict(extra="forbid")

    location_text: str = Field(..., min_length=1, max_length=255, description="案发地点 / location as told")
    address_id: int | None = Field(None, ge=1, le=MAX_ID, description="选定的标准地址 / chosen standard address")
    lat: Latitude | None = None
    lon: Longitude | None = None
    category_code: str = Field(..., min_length=2, max_length=8, description="警情类别代码 / category code")
    priority: int = Field(..., ge=1, le=4, description="1 最紧急 … 4 / 1 most urgent … 4")
    description: str = Field("", max_length=2000, description="简要案情 / what happened")
    idempotency_key: str | None = Field(None, min_length=1, max_length=80)

    @field_validator("location_text", "category_code", "priority", mode="before")
    @classmethod
    def _given(cls, v, info):
        """A blank field is missing input, said as such (a form sends "" for an empty field)."""
        if v is None or (isinstance(v, str) and not v.strip()):
            raise ValueError(_REQUIRED[info.field_name])
        return v

    @field_validator("location_text")
    @classmethod
    def _location(cls, v: str) -> str:
        return v.strip()

    @field_validator("description")
    @classmethod
    def _description(cls, v: str) -> str:
        return v.strip()

    @field_validator("category_code")
    @classmethod
    def _category(cls, v: str) -> str:
        v = v.strip()
        if v not in CATEGORY_CODES:
            raise ValueError("警情类别代码不存在 / no such incident category code")
        return v

    @field_validator("lat", "lon")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError("坐标应为有限数值 / must be a finite number")
        return v

    @model_validator(mode="after")
    def _point_complete(self) -> IncidentCreate:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("经纬度须同时给出 / lat and lon must be given together")
        return self


class CallCreate(_CallerFields):
    """A further call about an existing incident (重复来电)."""

    model_config = ConfigDict(extra="forbid")

    location_text: str = Field("", max_length=255)
    description: str = Field("", max_length=2000)

    @field_validator("location_text", "description")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.strip()


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_id: int = Field(..., ge=1, le=MAX_ID, description="并入本警情的重复警情 / the duplicate to merge in")


class AssignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_id: int = Field(..., ge=1, le=MAX_ID)


class AdvanceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: AssignmentStatus


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=255)


class CloseRequest(BaseModel):
    """Close an incident (结警): a disposition is required."""

    model_config = ConfigDict(extra="forbid")

    disposition: Disposition
    note: str | None = Field(None, max_length=2000)


class CallbackCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    satisfaction: Satisfaction
    note: str | None = Field(None, max_length=2000)


class CallerContactRequest(BaseModel):
    """An unmasked read of the caller's contact needs a purpose; it is written to the audit log."""

    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(..., min_length=2, max_length=200, description="查看事由 / why you need it")

    @field_validator("purpose")
    @classmethod
    def _purpose(cls, v: str) -> str:
        v = v.strip()
        if len(v) < 2:
            raise ValueError("请填写查看事由 / a purpose is required")
        return v


class PositionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: Latitude
    lon: Longitude

    @field_validator("lat", "lon")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("坐标应为有限数值 / must be a finite number")
        return v


# --- reads ---------------------------------------------------------------------------------

class _Masked(BaseModel):
    """Caller fields are masked whatever the source object holds."""

    caller_phone: str | None = None
    caller_name: str | None = None

    @field_validator("caller_phone", mode="after")
    @classmethod
    def _mask_phone(cls, v: str | None) -> str | None:
        return mask_phone(v)

    @field_validator("caller_name", mode="after")
    @classmethod
    def _mask_name(cls, v: str | None) -> str | None:
        return mask_name(v)


def accept_overdue(*, stage: Stage | str, priority: int, received_at: datetime, now: datetime | None = None) -> bool:
    """Still not accepted (签收) after the target for its priority."""
    if stage != Stage.RECEIVED:
        return False
    target = get_settings().accept_target_seconds.get(priority)
    if target is None:
        return False
    return ((now or utcnow()) - received_at).total_seconds() > target


class IncidentRead(_Masked):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str | None
    category_code: str
    priority: Priority
    stage: Stage
    description: str
    location_text: str
    address_id: int | None
    lat: float | None
    lon: float | None
    grid_id: int | None
    zone_class: ZoneClass | None
    org_unit_id: int
    division_code: str | None
    call_count: int
    received_at: datetime
    accepted_at: datetime | None
    dispatched_at: datetime | None
    departed_at: datetime | None
    arrived_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    escalated_at: datetime | None
    disposition: Disposition | None
    disposition_note: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def overdue(self) -> bool:
        """Not accepted within the target for its priority (超时未签收)."""
        if self.stage != Stage.RECEIVED:
            return False
        return self.escalated_at is not None or accept_overdue(
            stage=self.stage, priority=self.priority, received_at=self.received_at)


class IncidentPage(BaseModel):
    total: int
    items: list[IncidentRead]


class StageEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    incident_id: int
    assignment_id: int | None
    stage: str
    at: datetime
    actor_id: int | None
    note: str | None


class AssignmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    incident_id: int
    unit_id: int
    call_sign: str | None = None
    unit_kind: UnitKind | None = None
    status: AssignmentStatus
    active: bool
    dispatcher_id: int | None
    eta_seconds: int | None
    dispatched_at: datetime
    departed_at: datetime | None
    arrived_at: datetime | None
    cleared_at: datetime | None

    @classmethod
    def build(cls, assignment, unit=None) -> AssignmentRead:
        read = cls.model_validate(assignment)
        if unit is not None:
            read.call_sign = unit.call_sign
            read.unit_kind = unit.kind
        return read


class CallRead(_Masked):
    model_config = ConfigDict(from_attributes=True)

    id: int
    incident_id: int
    received_at: datetime
    location_text: str
    description: str
    taker_id: int | None


class CallbackRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    incident_id: int
    at: datetime
    satisfaction: Satisfaction
    note: str | None
    by_id: int | None


class IncidentDetail(IncidentRead):
    timeline: list[StageEventRead] = []
    assignments: list[AssignmentRead] = []
    calls: list[CallRead] = []
    callbacks: list[CallbackRead] = []


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    name_en: str
    parent_code: str | None


class UnitRecommendationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    unit_id: int
    call_sign: str
    kind: UnitKind
    org_unit_id: int
    lat: float
    lon: float
    distance_m: float
    eta_seconds: int


class CallerRead(BaseModel):
    call_id: int
    caller_name: str | None
    caller_phone: str | None


class CallerContactRead(BaseModel):
    """Unmasked caller contact (报警人联系方式); every read of it is in the audit log."""

    incident_id: int
    caller_name: str | None
    caller_phone: str | None
    calls: list[CallerRead]


class UnitPositionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    call_sign: str
    lat: float | None
    lon: float | None
    position_at: datetime | None

