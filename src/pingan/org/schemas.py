from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from pingan.org.models import OrgKind, UnitKind, UnitStatus


class OrgUnitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    kind: OrgKind
    parent_id: int | None
    division_code: str | None


class DutyUnitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    call_sign: str
    kind: UnitKind
    org_unit_id: int
    status: UnitStatus
    lat: float | None
    lon: float | None
    position_at: datetime | None
