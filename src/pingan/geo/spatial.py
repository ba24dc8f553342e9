"""Point → grid (坐标落格): which grid polygon holds a point.

The grid polygons (GeoJSON text on :class:`~pingan.geo.models.Grid`) are loaded once per
process into a shapely 2 ``STRtree`` of prepared geometries and rebuilt when the grid table
changes (a flush of a grid in this process, or a changed fingerprint checked at most every few
seconds). A point in no polygon falls back to the grid whose centroid is nearest, within 3 km.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time

import numpy as np
import shapely
from shapely.geometry import shape
from sqlalchemy import event
from sqlalchemy.orm import Session

from pingan.db.session import flushed_any
from pingan.geo import system

log = logging.getLogger("pingan.geo")

EARTH_RADIUS_M = 6_371_008.8
NEAREST_WITHIN_M = 3_000.0
CHECK_INTERVAL_SECONDS = 3.0


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def haversine_many(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    p1 = math.radians(lat)
    p2 = np.radians(lats)
    dp = p2 - p1
    dl = np.radians(lons - lon)
    a = np.sin(dp / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))


class GridIndex:
    """Grid polygons in an STRtree, plus centroid arrays for the nearest-grid fallback."""

    def __init__(self, shapes, signature):
        self.signature = signature
        ids, geoms, clat, clon = [], [], [], []
        for grid_id, polygon, centroid_lon, centroid_lat in shapes:
            try:
                geom = shape(json.loads(polygon))
                if not geom.is_valid:
                    geom = geom.buffer(0)
            except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.ShapelyError):
                log.warning("grid %s has an unreadable polygon; skipped", grid_id)
                continue
            ids.append(grid_id)
            geoms.append(geom)
            clat.append(centroid_lat)
            clon.append(centroid_lon)
        self.ids = np.array(ids, dtype=np.int64)
        self.geoms = np.array(geoms, dtype=object)
        shapely.prepare(self.geoms)
        self.tree = shapely.STRtree(self.geoms) if len(geoms) else None
        self.centroid_lat = np.array(clat, dtype=np.float64)
        self.centroid_lon = np.array(clon, dtype=np.float64)

    def __len__(self) -> int:
        return len(self.ids)

    # The bureau's area: the bounding box of all its grids, widened by this much (about 11 km
    # north–south) so that a point just over the edge of the outermost grid is still taken.
    AREA_MARGIN_DEG = 0.1

    def in_area(self, lat: float, lon: float) -> bool:
        """Whether a point lies within the bureau's area (True when no grid is known yet)."""
        if self.tree is None:
            return True
        if not hasattr(self, "_extent"):
            self._extent = tuple(float(v) for v in shapely.total_bounds(self.geoms))
        min_lon, min_lat, max_lon, max_lat = self._extent
        m = self.AREA_MARGIN_DEG
        return min_lat - m <= lat <= max_lat + m and min_lon - m <= lon <= max_lon + m

    def containing(self, lat: float, lon: float) -> int | None:
        """The grid whose polygon covers the point (the smallest one if polygons overlap)."""
        if self.tree is None:
            return None
        point = shapely.Point(lon, lat)
        hits = self.tree.query(point, predicate="covered_by")
        if len(hits) == 0:
            return None
        if len(hits) > 1:
            areas = shapely.area(self.geoms[hits])
            return int(self.ids[hits[int(np.argmin(areas))]])
        return int(self.ids[hits[0]])

    def nearest(self, lat: float, lon: float, within_m: float = NEAREST_WITHIN_M) -> tuple[int, float] | None:
        """(grid id, metres) of the nearest grid centroid within ``within_m``."""
        if not len(self.ids):
            return None
        d = haversine_many(lat, lon, self.centroid_lat, self.centroid_lon)
        i = int(np.argmin(d))
        if d[i] > within_m:
            return None
        return int(self.ids[i]), float(d[i])

    def lookup(self, lat: float, lon: float) -> int | None:
        grid_id = self.containing(lat, lon)
        if grid_id is not None:
            return grid_id
        near = self.nearest(lat, lon)
        return near[0] if near else None


_lock = threading.Lock()
_index: GridIndex | None = None
_dirty = True
_last_check = 0.0


def invalidate() -> None:
    """Mark the grid index stale (bulk loaders call this after writing grids)."""
    global _dirty
    _dirty = True


def get_grid_index(db: Session) -> GridIndex:
    """The process-wide grid index, rebuilt when the grid table changed."""
    global _index, _dirty, _last_check
    index = _index
    if index is not None and not _dirty and time.monotonic() - _last_check < CHECK_INTERVAL_SECONDS:
        return index
    with _lock:
        signature = system.grid_signature(db=db)
        _dirty = False
        _last_check = time.monotonic()
        if _index is not None and _index.signature == signature:
            return _index
        started = time.perf_counter()
        _index = GridIndex(system.iter_grid_shapes(db=db), signature)
        log.info("grid index: %d grids in %.2fs", len(_index), time.perf_counter() - started)
        return _index


def grid_id_at(*, db: Session, lat: float, lon: float) -> int | None:
    """The id of the grid at a point: polygon hit, else nearest centroid within 3 km, else None."""
    return get_grid_index(db).lookup(lat, lon)


@event.listens_for(Session, "after_flush")
def _mark_dirty_on_flush(session: Session, _ctx) -> None:
    global _dirty
    if _dirty:
        return
    from pingan.geo.models import Grid

    if flushed_any(session, Grid):
        _dirty = True
