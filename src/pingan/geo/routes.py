"""JSON API: divisions, grids and standard addresses, all within the actor's jurisdiction."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query
from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.db.types import MAX_ID
from pingan.errors import NotFound, ValidationFailed, not_found
from pingan.geo import repository, service
from pingan.geo.divisions import get_division, list_divisions
from pingan.geo.models import Address, DivisionLevel, Grid, ZoneClass
from pingan.geo.schemas import (
    AddressCandidateRead,
    AddressPage,
    AddressRead,
    DivisionRefRead,
    GridAt,
    GridDetail,
    GridPage,
    GridRead,
    ParseResult,
)
from pingan.org import repository as org_repository
from pingan.org.models import OrgUnit
from pingan.web.deps import get_db, require
from pingan.web.routing import api_router

router = api_router(tags=["geo"])


@router.get("/geo/parse", response_model=ParseResult)
def parse_address(text: str = Query(..., min_length=1, max_length=200, description="free address text"),
                  limit: int = Query(5, ge=1, le=20),
                  actor: Actor = Depends(require(Perm.GEO_READ)), db: Session = Depends(get_db)):
    """Division parse (province … township, retired names) and the best standard addresses."""
    return service.parse(text, db=db, actor=actor, limit=limit)


@router.get("/addresses/match", response_model=list[AddressCandidateRead])
def match_addresses(q: str = Query(..., min_length=1, max_length=200), limit: int = Query(5, ge=1, le=20),
                    actor: Actor = Depends(require(Perm.GEO_READ)), db: Session = Depends(get_db)):
    """Ranked standard-address candidates for the call-taker's live box."""
    return service.match_address(db=db, actor=actor, text=q, limit=limit)


@router.get("/addresses", response_model=AddressPage)
def list_addresses(q: str | None = Query(None, max_length=100), grid_id: int | None = Query(None, ge=1, le=MAX_ID),
                   county_code: str | None = Query(None, pattern=r"^\d{6}$"),
                   limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=10_000_000),
                   actor: Actor = Depends(require(Perm.GEO_READ)), db: Session = Depends(get_db)):
    rows, total = repository.list_addresses(db=db, actor=actor, q=q, grid_id=grid_id, county_code=county_code,
                                            limit=limit, offset=offset)
    return AddressPage(total=total, items=[AddressRead.model_validate(r) for r in rows])


@router.get("/addresses/{address_id}", response_model=AddressRead)
def get_address(address_id: Annotated[int, Path(ge=1, le=MAX_ID)], actor: Actor = Depends(require(Perm.GEO_READ)),
                db: Session = Depends(get_db)):
    address = repository.get_address(db=db, actor=actor, address_id=address_id)
    if address is None:
        raise not_found(Address)
    return address


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    try:
        parts = [float(p) for p in value.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or not all(p == p for p in parts):
        raise ValidationFailed("bbox 应为 最小经度,最小纬度,最大经度,最大纬度",
                               "bbox must be min_lon,min_lat,max_lon,max_lat", field="bbox")
    min_lon, min_lat, max_lon, max_lat = parts
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise ValidationFailed("bbox 超出范围或最小值大于最大值",
                               "bbox out of range, or a minimum above its maximum", field="bbox")
    return min_lon, min_lat, max_lon, max_lat


@router.get("/grids", response_model=GridPage | dict[str, Any])
def list_grids(bbox: str | None = Query(None, max_length=100, description="min_lon,min_lat,max_lon,max_lat"),
               zone_class: ZoneClass | None = None,
               format: Literal["json", "geojson"] = "json",
               org: int | None = Query(None, ge=1, le=MAX_ID, description="only the grids of this org unit's subtree"),
               limit: int = Query(5000, ge=1, le=10000), offset: int = Query(0, ge=0, le=10_000_000),
               actor: Actor = Depends(require(Perm.GEO_READ)), db: Session = Depends(get_db)):
    """Grids of the jurisdiction (or of one org unit's subtree inside it); ``format=geojson``
    gives a FeatureCollection for the maps."""
    if org is not None and org_repository.get_org_unit(db=db, actor=actor, org_unit_id=org) is None:
        raise not_found(OrgUnit)
    rows, total = repository.list_grids(db=db, actor=actor, bbox=_bbox(bbox), zone_class=zone_class,
                                        org_unit_id=org, limit=limit, offset=offset)
    if format == "geojson":
        return service.grids_geojson(rows)
    return GridPage(total=total, items=[GridRead.model_validate(g) for g in rows])


@router.get("/grids/at", response_model=GridAt)
def grid_at_point(lat: float = Query(..., ge=-90, le=90), lon: float = Query(..., ge=-180, le=180),
                  actor: Actor = Depends(require(Perm.GEO_READ)), db: Session = Depends(get_db)):
    """The grid holding a point, or the nearest one within 3 km."""
    grid, inside, distance = service.grid_lookup(db=db, actor=actor, lat=lat, lon=lon)
    return GridAt(grid=GridRead.model_validate(grid), inside=inside,
                  distance_m=round(distance, 1) if distance is not None else None)


@router.get("/grids/{grid_id}", response_model=GridDetail)
def get_grid(grid_id: Annotated[int, Path(ge=1, le=MAX_ID)], actor: Actor = Depends(require(Perm.GEO_READ)),
             db: Session = Depends(get_db)):
    grid = repository.get_grid(db=db, actor=actor, grid_id=grid_id)
    if grid is None:
        raise not_found(Grid)
    return grid


@router.get("/divisions", response_model=list[DivisionRefRead])
def divisions(parent: str | None = Query(None, pattern=r"^(\d{6}|\d{9}|\d{12})$",
                                         description="parent code; provinces when absent"),
              actor: Actor = Depends(require(Perm.GEO_READ)), db: Session = Depends(get_db)):
    """Children of a division: the national list down to townships, then the bureau's own
    communities (社区 / 村) under a township."""
    if parent is None:
        return [DivisionRefRead(**d.as_dict()) for d in list_divisions(None)]
    ref = get_division(parent)
    if ref is not None and ref.level < 4:
        return [DivisionRefRead(**d.as_dict()) for d in list_divisions(parent)]
    code = parent + "000" if len(parent) == 9 else parent
    rows = repository.list_area_divisions(db=db, actor=actor, parent_code=code, level=DivisionLevel.COMMUNITY)
    if ref is None and not rows:
        raise NotFound("行政区划代码不存在", "No such division code")
    return [DivisionRefRead(code=d.code, name=d.name, level=str(d.level)) for d in rows]
