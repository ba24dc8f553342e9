"""Dispatch recommendation (警力推荐): the nearest available duty units by estimated travel time.

Travel time is the great-circle distance times a road factor, divided by a typical urban speed
for the unit's kind. Candidates come from a growing lat/lon box served by the
(status, lat, lon) index: the search stops as soon as no unit outside the searched circle could
beat the current k-th best time, so a city of 10,000 units is answered from a few dozen rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.errors import ValidationFailed, not_found
from pingan.geo.spatial import haversine_m
from pingan.incident import repository
from pingan.org import repository as org_repository
from pingan.incident.models import Incident
from pingan.org.models import UnitKind

ROAD_FACTOR = 1.3  # road distance ≈ 1.3 × straight line in a city
SPEED_KMH: dict[UnitKind, float] = {
    UnitKind.PATROL_CAR: 30.0,
    UnitKind.MOTORCYCLE: 25.0,
    UnitKind.MOUNTED: 12.0,
    UnitKind.FOOT_PATROL: 5.0,
}
METRES_PER_DEGREE_LAT = 111_320.0
INITIAL_RADIUS_M = 2_000.0
MAX_RADIUS_M = 512_000.0
MAX_LIMIT = 50


@dataclass(frozen=True)
class UnitRecommendation:
    unit_id: int
    call_sign: str
    kind: UnitKind
    org_unit_id: int
    lat: float
    lon: float
    distance_m: float
    eta_seconds: int


def speed_mps(kind: UnitKind | str) -> float:
    return SPEED_KMH[UnitKind(kind)] / 3.6


def eta_seconds(distance_m: float, kind: UnitKind | str) -> int:
    """Estimated travel time (预计到达用时) over ``distance_m`` straight-line metres."""
    return int(math.ceil(distance_m * ROAD_FACTOR / speed_mps(kind)))


def _check_point(lat: float, lon: float) -> None:
    if not isinstance(lat, int | float) or not math.isfinite(lat) or not -90 <= lat <= 90:
        raise ValidationFailed("纬度应在 -90 到 90 之间", "lat must be between -90 and 90", field="lat")
    if not isinstance(lon, int | float) or not math.isfinite(lon) or not -180 <= lon <= 180:
        raise ValidationFailed("经度应在 -180 到 180 之间", "lon must be between -180 and 180", field="lon")


def recommend_units(
    *, db: Session, actor: Actor, lat: float, lon: float, limit: int = 5,
    kinds: list[UnitKind] | None = None,
) -> list[UnitRecommendation]:
    """The ``limit`` available units of the actor's jurisdiction that can reach (lat, lon) soonest."""
    actor.require(Perm.INCIDENT_DISPATCH)
    _check_point(lat, lon)
    limit = max(1, min(int(limit), MAX_LIMIT))
    kinds = [UnitKind(k) for k in kinds] if kinds else None
    fastest = max(speed_mps(k) for k in (kinds or list(UnitKind)))
    cos_lat = max(math.cos(math.radians(lat)), 0.01)
    radius = INITIAL_RADIUS_M
    while True:
        dlat = radius / METRES_PER_DEGREE_LAT
        dlon = radius / (METRES_PER_DEGREE_LAT * cos_lat)
        rows = org_repository.available_units_in_box(
            db=db, actor=actor, min_lat=lat - dlat, max_lat=lat + dlat, min_lon=lon - dlon, max_lon=lon + dlon,
            kinds=kinds)
        ranked = []
        for row in rows:
            distance = haversine_m(lat, lon, row.lat, row.lon)
            ranked.append((distance * ROAD_FACTOR / speed_mps(row.kind), distance, row))
        ranked.sort(key=lambda t: (t[0], t[1], t[2].id))
        # Every unit not yet seen is farther than `radius`, so it needs at least this long:
        unseen_at_least = radius * ROAD_FACTOR / fastest
        if (len(ranked) >= limit and ranked[limit - 1][0] <= unseen_at_least) or radius >= MAX_RADIUS_M:
            return [
                UnitRecommendation(unit_id=r.id, call_sign=r.call_sign, kind=UnitKind(r.kind),
                                   org_unit_id=r.org_unit_id, lat=r.lat, lon=r.lon, distance_m=round(d, 1),
                                   eta_seconds=int(math.ceil(t)))
                for t, d, r in ranked[:limit]
            ]
        radius *= 2


def recommend_for_incident(*, db: Session, actor: Actor, incident_id: int, limit: int = 5,
                           kinds: list[UnitKind] | None = None) -> list[UnitRecommendation]:
    """Recommendations for an incident: from its coordinates, else from its station's position.

    An incident with neither has nothing to measure from and gets no recommendation (the
    dispatcher then picks a unit by hand).
    """
    actor.require(Perm.INCIDENT_DISPATCH)
    incident = repository.get_incident(db=db, actor=actor, incident_id=incident_id)
    if incident is None:
        raise not_found(Incident)
    if incident.lat is not None and incident.lon is not None:
        point = (incident.lat, incident.lon)
    else:
        station = org_repository.get_org_unit(db=db, actor=actor, org_unit_id=incident.org_unit_id)
        point = (station.lat, station.lon) if station is not None and None not in (station.lat, station.lon) else None
    if point is None:
        return []
    return recommend_units(db=db, actor=actor, lat=point[0], lon=point[1], limit=limit, kinds=kinds)
