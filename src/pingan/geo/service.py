"""Geography services (标准地址 / 网格): match a caller's address, find the grid at a point,
and locate an incident from an address id, a point or free text.

Other domains code against :func:`match_address`, :func:`grid_at` and :func:`locate`.
Services never commit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.errors import NotFound, ValidationFailed, not_found
from pingan.geo import repository
from pingan.geo.divisions import parse_division
from pingan.geo.matcher import get_address_index
from pingan.geo.models import Address, Grid, ZoneClass
from pingan.geo.schemas import AddressCandidate
from pingan.geo.spatial import get_grid_index, haversine_m

__all__ = [
    "ACCEPT_SCORE", "AddressCandidate", "Location", "grid_at", "grid_lookup", "grids_geojson", "locate",
    "match_address", "parse",
]

# A text match is taken as the location only at this score or above.
ACCEPT_SCORE = 0.6
MAX_TEXT = 200


@dataclass(frozen=True)
class Location:
    """Where something is (位置): the chosen standard address or point, its grid and the candidates."""

    text: str | None
    address_id: int | None
    full_text: str | None
    score: float | None
    lat: float | None
    lon: float | None
    grid_id: int | None
    zone_class: ZoneClass | None
    org_unit_id: int | None
    division_code: str | None
    candidates: list[AddressCandidate] = field(default_factory=list)


def _check_point(lat: float, lon: float) -> None:
    if not isinstance(lat, int | float) or math.isnan(lat) or not -90 <= lat <= 90:
        raise ValidationFailed("纬度应在 -90 到 90 之间", "lat must be between -90 and 90", field="lat")
    if not isinstance(lon, int | float) or math.isnan(lon) or not -180 <= lon <= 180:
        raise ValidationFailed("经度应在 -180 到 180 之间", "lon must be between -180 and 180", field="lon")


def _matches(*, db: Session, actor: Actor, text: str, limit: int):
    text = (text or "").strip()[:MAX_TEXT]
    if not text:
        return []
    index = get_address_index(db)
    allowed = index.allowed_grids(actor.org_path, repository.sees_unassigned(actor))
    return index.match(text, limit=max(1, min(int(limit), 50)), allowed=allowed)


def match_address(*, db: Session, actor: Actor, text: str, limit: int = 5) -> list[AddressCandidate]:
    """Ranked standard addresses for free text, within the actor's jurisdiction (地址匹配)."""
    return [
        AddressCandidate(address_id=m.address_id, full_text=m.full_text, score=m.score, lat=m.lat, lon=m.lon,
                         grid_id=m.grid_id)
        for m in _matches(db=db, actor=actor, text=text, limit=limit)
    ]


def grid_at(*, db: Session, lat: float, lon: float) -> Grid | None:
    """The grid at a point: the polygon holding it, else the nearest centroid within 3 km, else None."""
    _check_point(lat, lon)
    grid_id = get_grid_index(db).lookup(lat, lon)
    return repository.get_grid_unscoped(db=db, grid_id=grid_id) if grid_id is not None else None


def grid_lookup(*, db: Session, actor: Actor, lat: float, lon: float) -> tuple[Grid, bool, float | None]:
    """The grid at a point within the actor's jurisdiction: (grid, inside the polygon, metres to centroid)."""
    _check_point(lat, lon)
    index = get_grid_index(db)
    grid_id = index.containing(lat, lon)
    inside = grid_id is not None
    distance = None
    if grid_id is None:
        near = index.nearest(lat, lon)
        if near is not None:
            grid_id, distance = near
    grid = repository.get_grid(db=db, actor=actor, grid_id=grid_id) if grid_id is not None else None
    if grid is None:
        raise NotFound("该位置不在辖区内任何网格中（3 公里内无网格）",
                       "No grid of your jurisdiction at or within 3 km of this point")
    if inside:
        distance = haversine_m(lat, lon, grid.centroid_lat, grid.centroid_lon)
    return grid, inside, distance


def _grid_fields(grid: Grid | None) -> dict:
    if grid is None:
        return {"grid_id": None, "zone_class": None, "org_unit_id": None}
    return {"grid_id": grid.id, "zone_class": ZoneClass(grid.zone_class), "org_unit_id": grid.org_unit_id}


def locate(*, db: Session, actor: Actor, text: str | None = None, lat: float | None = None,
           lon: float | None = None, address_id: int | None = None,
           read_address: Callable[..., Any] = repository.address_location) -> Location:
    """Locate from an address id (wins), else a point, else the best text match (定位).

    A text match is taken only at score ≥ 0.6; below that the location is empty but the
    candidates are still returned for the call-taker to choose from.

    ``read_address(db=, actor=, address_id=)`` reads the chosen standard address, at most once,
    as :func:`repository.address_location` does (the default). Taking a call passes one that
    reads it together with the new incident's ids, in one round trip.
    """
    candidates = match_address(db=db, actor=actor, text=text) if text and text.strip() else []
    if address_id is not None:
        found = _address_location(db, actor, address_id, text=text, score=1.0, candidates=candidates,
                                  read_address=read_address)
        if found is None:
            raise not_found(Address, field="address_id", error=ValidationFailed)
        return found
    if lat is not None or lon is not None:
        if lat is None:
            raise ValidationFailed("给出经度时须同时给出纬度", "lat is required with lon", field="lat")
        if lon is None:
            raise ValidationFailed("给出纬度时须同时给出经度", "lon is required with lat", field="lon")
        grid = grid_at(db=db, lat=lat, lon=lon)
        return Location(text=text, address_id=None, full_text=None, score=None, lat=lat, lon=lon,
                        division_code=grid.division_code if grid else None, candidates=candidates,
                        **_grid_fields(grid))
    if candidates and candidates[0].score >= ACCEPT_SCORE:
        top = candidates[0]
        found = _address_location(db, actor, top.address_id, text=text, score=top.score, candidates=candidates,
                                  read_address=read_address)
        if found is not None:
            return found
    return Location(text=text, address_id=None, full_text=None, score=None, lat=None, lon=None, grid_id=None,
                    zone_class=None, org_unit_id=None, division_code=None, candidates=candidates)


def _address_location(db: Session, actor: Actor, address_id: int, *, text: str | None, score: float,
                      candidates: list[AddressCandidate], read_address: Callable[..., Any]) -> Location | None:
    """The location of a standard address the actor may see (its grid, else the grid at its point)."""
    row = read_address(db=db, actor=actor, address_id=address_id)
    if row is None:
        return None
    if row.grid_id is not None:
        fields = {"grid_id": row.grid_id, "zone_class": ZoneClass(row.zone_class), "org_unit_id": row.org_unit_id}
    else:
        fields = _grid_fields(grid_at(db=db, lat=row.lat, lon=row.lon))
    return Location(text=text, address_id=row.id, full_text=row.full_text, score=score, lat=row.lat, lon=row.lon,
                    division_code=row.division_code, candidates=candidates, **fields)


def parse(text: str, *, db: Session | None = None, actor: Actor | None = None, limit: int = 5) -> dict:
    """Division parse (行政区划解析) plus, given a session and actor, the best standard addresses."""
    text = (text or "").strip()[:MAX_TEXT]
    if not text:
        raise ValidationFailed("请输入地址", "Enter an address", field="text")
    index_prefer = None
    candidates: list[AddressCandidate] = []
    if db is not None and actor is not None:
        index = get_address_index(db)
        index_prefer = index.prefer or None
        candidates = match_address(db=db, actor=actor, text=text, limit=limit)
    division = parse_division(text, prefer=index_prefer)
    return {
        "text": text,
        "division": division.as_dict(),
        "candidates": [c.__dict__ for c in candidates],
    }


def grids_geojson(grids: list[Grid]) -> dict:
    """A GeoJSON FeatureCollection of grids for the maps."""
    features = []
    for g in grids:
        features.append({
            "type": "Feature",
            "id": g.id,
            "geometry": json.loads(g.polygon),
            "properties": {"id": g.id, "code": g.code, "name": g.name, "zone_class": str(g.zone_class),
                           "org_unit_id": g.org_unit_id, "division_code": g.division_code},
        })
    return {"type": "FeatureCollection", "features": features}
