"""API shapes for divisions, grids and standard addresses, and the address import row."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from pingan.geo.models import ZONE_TARGET_SECONDS, ZoneClass


@dataclass(frozen=True)
class AddressCandidate:
    """A standard address proposed for a caller's text (候选标准地址), score 0–1."""

    address_id: int
    full_text: str
    score: float
    lat: float
    lon: float
    grid_id: int | None


class AddressCandidateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    address_id: int
    full_text: str
    score: float
    lat: float
    lon: float
    grid_id: int | None


class AddressRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    full_text: str
    county_code: str
    division_code: str
    road: str | None
    house_no: str | None
    place_name: str | None
    building: str | None
    unit_no: str | None
    room: str | None
    lat: float
    lon: float
    grid_id: int | None
    parent_id: int | None
    level: int


class AddressPage(BaseModel):
    total: int
    items: list[AddressRead]


class GridRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    zone_class: ZoneClass
    target_seconds: int = 0
    org_unit_id: int
    division_code: str | None
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float
    centroid_lon: float
    centroid_lat: float

    @model_validator(mode="after")
    def _target(self) -> GridRead:
        self.target_seconds = ZONE_TARGET_SECONDS[self.zone_class]
        return self


class GridDetail(GridRead):
    polygon: dict[str, Any]

    @field_validator("polygon", mode="before")
    @classmethod
    def _geojson(cls, value):
        return json.loads(value) if isinstance(value, str) else value


class GridPage(BaseModel):
    total: int
    items: list[GridRead]


class GridAt(BaseModel):
    """The grid at a point and how it was found (inside the polygon, or nearest centroid)."""

    grid: GridRead
    inside: bool
    distance_m: float | None


class DivisionRefRead(BaseModel):
    code: str
    name: str
    level: str


class DivisionCandidateRead(BaseModel):
    province: DivisionRefRead | None
    city: DivisionRefRead | None
    county: DivisionRefRead | None
    township: DivisionRefRead | None
    full_name: str
    score: float


class DivisionParseRead(BaseModel):
    text: str
    province: DivisionRefRead | None
    city: DivisionRefRead | None
    county: DivisionRefRead | None
    township: DivisionRefRead | None
    remainder: str
    score: float
    note: str | None
    note_en: str | None
    candidates: list[DivisionCandidateRead]


class ParseResult(BaseModel):
    """``GET /geo/parse``: the division parse and the best standard-address candidates."""

    text: str
    division: DivisionParseRead
    candidates: list[AddressCandidateRead]


# --- import ------------------------------------------------------------------------------

def _digits(value: str, n: int, zh: str, en: str) -> str:
    if not (len(value) == n and value.isdigit()):
        raise ValueError(f"{zh}应为 {n} 位数字 / {en} must be {n} digits")
    return value


class AddressImportRow(BaseModel):
    """One row of an address import file (批量导入标准地址)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=32)
    full_text: str = Field(min_length=2, max_length=255)
    county_code: str
    division_code: str
    road: str | None = Field(None, max_length=60)
    house_no: str | None = Field(None, max_length=20)
    place_name: str | None = Field(None, max_length=80)
    building: str | None = Field(None, max_length=20)
    unit_no: str | None = Field(None, max_length=10)
    room: str | None = Field(None, max_length=10)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)

    @field_validator("county_code")
    @classmethod
    def _county(cls, value: str) -> str:
        from pingan.geo.divisions import is_current_county

        _digits(value, 6, "区县代码", "county_code")
        if not is_current_county(value):
            raise ValueError("不是现行的区县代码 / not a current county code")
        return value

    @field_validator("division_code")
    @classmethod
    def _division(cls, value: str, info: ValidationInfo) -> str:
        _digits(value, 12, "社区代码", "division_code")
        county = info.data.get("county_code")
        if county and not value.startswith(county):
            raise ValueError(f"社区代码不在区县 {county} 内 / division_code does not lie in county {county}")
        return value

    def problems(self) -> list[tuple[str, str, str]]:
        """Cross-field problems as (column, 中文, English)."""
        out = []
        if not (self.road and self.house_no) and not self.place_name:
            out.append(("road", "须有道路和门牌号，或小区/单位名", "needs road and house_no, or place_name"))
        if self.room and not (self.building or self.unit_no):
            out.append(("room", "有室号时须有楼栋或单元", "a room needs a building or unit"))
        return out

    @property
    def level(self) -> int:
        if self.room:
            return 4
        if self.unit_no:
            return 3
        if self.building:
            return 2
        return 1
