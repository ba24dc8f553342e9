"""Geography (标准地址 / 网格): divisions, grids and standard addresses."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pingan.db.base import Base
from pingan.db.enum import LabelledEnum, enum_column_type
from pingan.db.mixins import IdMixin, TimestampMixin


class ZoneClass(LabelledEnum):
    """A grid's zone class (区域类别) sets its arrival target."""

    CENTRE = "centre", "城市中心区", "city centre"  # 3 min
    URBAN = "urban", "城区", "urban"  # 5 min
    SUBURBAN = "suburban", "城郊及农村", "suburban and rural"  # 10 min


ZONE_TARGET_SECONDS: dict[ZoneClass, int] = {
    ZoneClass.CENTRE: 180,
    ZoneClass.URBAN: 300,
    ZoneClass.SUBURBAN: 600,
}


class DivisionLevel(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"  # 乡镇 / 街道 (9-digit statistical code, stored 12 with 000)
    COMMUNITY = "community"  # 社区 / 村 (12-digit statistical code)


class Division(Base):
    """An administrative division of the bureau's own area (the national list stays in geo.divisions)."""

    __tablename__ = "division"
    __label__ = ("行政区划", "division")

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    level: Mapped[DivisionLevel] = mapped_column(enum_column_type(DivisionLevel))
    parent_code: Mapped[str | None] = mapped_column(String(12), index=True)


class Grid(IdMixin, TimestampMixin, Base):
    """A grid (网格): a polygon with a zone class, kept by a community office or station."""

    __tablename__ = "grid"
    __label__ = ("网格", "grid")
    __auditable__ = True
    __audit_exclude__ = ("polygon",)

    code: Mapped[str] = mapped_column(String(24), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    zone_class: Mapped[ZoneClass] = mapped_column(enum_column_type(ZoneClass))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    division_code: Mapped[str | None] = mapped_column(String(12), index=True)
    # GeoJSON Polygon or MultiPolygon geometry, WGS-84 lon/lat.
    polygon: Mapped[str] = mapped_column(Text)
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    centroid_lon: Mapped[float] = mapped_column(Float)
    centroid_lat: Mapped[float] = mapped_column(Float)


class Address(IdMixin, TimestampMixin, Base):
    """A standard address (标准地址) down to room level, with coordinates and grid."""

    __tablename__ = "address"
    __label__ = ("标准地址", "standard address")
    __auditable__ = True

    code: Mapped[str] = mapped_column(String(32), unique=True)
    # The canonical full text, e.g. 河南省新乡市红旗区西街街道新华社区平原路123号5号楼2单元301室
    full_text: Mapped[str] = mapped_column(String(255))
    division_code: Mapped[str] = mapped_column(String(12), index=True)  # community, 12 digits
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    road: Mapped[str | None] = mapped_column(String(60))
    house_no: Mapped[str | None] = mapped_column(String(20))
    place_name: Mapped[str | None] = mapped_column(String(80))  # 小区 / 单位 / 村组名
    building: Mapped[str | None] = mapped_column(String(20))
    unit_no: Mapped[str | None] = mapped_column(String(10))
    room: Mapped[str | None] = mapped_column(String(10))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("address.id"), index=True)
    level: Mapped[int] = mapped_column(Integer, default=1)  # 1 house/gate, 2 building, 3 unit, 4 room

    __table_args__ = (Index("ix_address_road_house", "road", "house_no"),)
