"""Standard addresses of the demo city (演示标准地址): roads with house numbers, residential
compounds down to rooms, workplaces, and villages with 组 and house numbers.

Roads run east–west (路 / 大道) and north–south (街 / 路) across each built-up area (the city's
urban districts share one road network, so a road crosses district lines as real ones do); house
numbers rise along the road, odd on one side and even on the other. Every address point is
tested against the stored polygon of the grid it is written into. Full texts follow the
canonical form 河南省新乡市红旗区西街街道建设路社区平原路123号新华小区5号楼2单元301室.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import shapely

from pingan.demo.geography import CityPlan, Community, GridPlan
from pingan.demo.names import NamePool

ROAD_SPACING_KM = 0.55
SAMPLE_STEP_KM = 0.01
SIDE_OFFSET_KM = 0.012
COMPOUND_MEAN_ROWS = 120  # a compound's rows on average: gate, buildings, units, rooms
VILLAGE_GROUP_SIZE = 25  # houses per 村民小组 (组)
SAMPLE_PER_GRID = 60  # addresses kept per grid for placing incidents


@dataclass
class Sampled:
    """An address kept for placing incidents: id, coordinates, level and the caller-style text."""

    id: int
    lat: float
    lon: float
    level: int
    text: str  # as a caller says it: 平原路123号新华小区5号楼2单元301室, 王庄村3组15号
    county: str
    township: str
    division_code: str


@dataclass
class AddressBook:
    count: int = 0
    by_level: dict[int, int] = field(default_factory=dict)
    samples: dict[str, list[Sampled]] = field(default_factory=dict)  # grid code → sampled addresses


class AddressMaker:
    """Generates address rows grid by grid; ids and codes are sequential from ``start_id``."""

    def __init__(self, plan: CityPlan, rng: random.Random, names: NamePool, *, start_id: int, target: int,
                 now: datetime):
        self.plan = plan
        self.rng = rng
        self.names = names
        self.next_id = start_id
        self.seq = 0
        self.target = target
        self.now = now
        self.book = AddressBook()
        self._seen: dict[str, int] = {}  # per grid: how many rows offered to the sample (reservoir)
        proj = plan.projection
        self.kx, self.ky = proj.kx, proj.ky

    # --- rows ----------------------------------------------------------------------------------
    def _row(self, grid: GridPlan, lat: float, lon: float, *, road: str | None = None, house: str | None = None,
             place: str | None = None, building: str | None = None, unit: str | None = None,
             room: str | None = None, parent: int | None = None, tail: str, spoken: str | None = None) -> dict:
        """One address row; ``tail`` follows the community in the full text, ``spoken`` is how a
        caller names it (the tail, or the village and the tail for a village house)."""
        community = grid.community
        aid = self.next_id
        self.next_id += 1
        self.seq += 1
        level = 4 if room else 3 if unit else 2 if building else 1
        self.book.count += 1
        self.book.by_level[level] = self.book.by_level.get(level, 0) + 1
        row = {
            "id": aid, "code": f"A{self.seq:011d}", "full_text": self.plan.prefix(community) + tail,
            "division_code": community.code, "county_code": community.township.county.code, "road": road,
            "house_no": house, "place_name": place, "building": building, "unit_no": unit, "room": room,
            "lat": round(lat, 6), "lon": round(lon, 6), "grid_id": grid.id, "parent_id": parent, "level": level,
            "created_at": self.now, "updated_at": self.now,
        }
        self._sample(grid, row, community, spoken or tail)
        return row

    def _sample(self, grid: GridPlan, row: dict, community: Community, text: str) -> None:
        seen = self._seen.get(grid.code, 0) + 1
        self._seen[grid.code] = seen
        kept = self.book.samples.setdefault(grid.code, [])
        item = Sampled(id=row["id"], lat=row["lat"], lon=row["lon"], level=row["level"], text=text,
                       county=community.township.county.name, township=community.township.name,
                       division_code=community.code)
        if len(kept) < SAMPLE_PER_GRID:
            kept.append(item)
        else:
            k = self.rng.randrange(seen)
            if k < SAMPLE_PER_GRID:
                kept[k] = item

    def _near(self, grid: GridPlan, lat: float, lon: float, dx_km: float, dy_km: float) -> tuple[float, float]:
        """A point offset from (lat, lon) if it stays in the grid, else the point itself."""
        nlat, nlon = round(lat + dy_km / self.ky, 6), round(lon + dx_km / self.kx, 6)
        if shapely.contains_xy(grid.geom, nlon, nlat):
            return nlat, nlon
        return lat, lon

    def compound(self, grid: GridPlan, lat: float, lon: float, *, road: str | None, house: str | None,
                 inward: tuple[float, float], head: str) -> Iterator[dict]:
        """A residential compound (小区): gate, buildings, units and rooms."""
        rng = self.rng
        place = self.names.compound()
        gate = self._row(grid, lat, lon, road=road, house=house, place=place, tail=f"{head}{place}")
        yield gate
        for b in range(1, rng.randint(2, 7) + 1):
            bld = f"{b}号楼"
            depth = rng.uniform(0.03, 0.15)
            side = rng.uniform(-0.06, 0.06)
            blat, blon = self._near(grid, lat, lon, inward[0] * depth + inward[1] * side,
                                    inward[1] * depth + inward[0] * side)
            building = self._row(grid, blat, blon, road=road, house=house, place=place, building=bld,
                                 parent=gate["id"], tail=f"{head}{place}{bld}")
            yield building
            floors = rng.randint(3, 9)
            for u in range(1, rng.randint(1, 3) + 1):
                unit = f"{u}单元"
                unit_row = self._row(grid, blat, blon, road=road, house=house, place=place, building=bld,
                                     unit=unit, parent=building["id"], tail=f"{head}{place}{bld}{unit}")
                yield unit_row
                for floor in range(1, floors + 1):
                    for door in (1, 2):
                        room = f"{floor}{door:02d}室"
                        yield self._row(grid, blat, blon, road=road, house=house, place=place, building=bld,
                                        unit=unit, room=room, parent=unit_row["id"],
                                        tail=f"{head}{place}{bld}{unit}{room}")

    # --- the city ------------------------------------------------------------------------------
    def generate(self) -> Iterator[dict]:
        plan = self.plan
        built = [g for g in plan.grids if g.built_up]
        country = [g for g in plan.grids if not g.built_up]
        share_village = 0.25 if country else 0.0
        if not built:
            share_village = 1.0
        houses_target = self.target * (1 - share_village) * 0.25
        compound_target = self.target * (1 - share_village) * 0.75
        village_target = self.target * share_village
        positions = self._house_positions(built)
        n_positions = sum(len(p) for p in positions.values())  # both sides of every sampled step
        # Keep every k-th sampled position per road so that the house count meets its share.
        keep_every = max(1, round(n_positions / max(1.0, houses_target)))
        p_compound = min(0.9, (compound_target / COMPOUND_MEAN_ROWS) / max(1.0, n_positions / keep_every))
        covered: set[str] = set()
        for (road, east_west), items in positions.items():
            for p, side_no, grid, lat, lon, side in items:
                if p % keep_every:
                    continue
                covered.add(grid.code)
                house = f"{2 * (p // keep_every) + side_no}号"
                head = f"{road}{house}"
                inward = (0.0, side) if east_west else (side, 0.0)
                r = self.rng.random()
                if r < p_compound:
                    yield from self.compound(grid, lat, lon, road=road, house=house, inward=inward, head=head)
                elif r < p_compound + 0.08:
                    place = self.names.place()
                    yield self._row(grid, lat, lon, road=road, house=house, place=place, tail=f"{head}{place}")
                else:
                    yield self._row(grid, lat, lon, road=road, house=house, tail=head)
        # Built-up grids no road reached: a compound known by its name alone.
        for grid in built:
            if grid.code not in covered:
                lat, lon = _inner_point(grid)
                yield from self.compound(grid, lat, lon, road=None, house=None, inward=(0.0, 1.0), head="")
        if country:
            per_grid = max(8, round(village_target / len(country)))
            for community in plan.communities:
                if community.urban:
                    continue
                yield from self._village(community, per_grid)

    def _village(self, community: Community, per_grid: int) -> Iterator[dict]:
        """Houses of a village: 王庄村3组15号, numbered through the village, 组 of about 25 houses."""
        rng = self.rng
        number = 0
        for grid in community.grids:
            clat, clon = _inner_point(grid)
            n = max(4, round(per_grid * rng.uniform(0.6, 1.4)))
            for _ in range(n):
                number += 1
                group = (number - 1) // VILLAGE_GROUP_SIZE + 1
                lat, lon = self._scatter(grid, clat, clon)
                yield self._row(grid, lat, lon, place=community.name, house=f"{number}号",
                                tail=f"{group}组{number}号", spoken=f"{community.name}{group}组{number}号")

    def _scatter(self, grid: GridPlan, clat: float, clon: float) -> tuple[float, float]:
        for _ in range(12):
            lat = clat + self.rng.gauss(0, 0.15) / self.ky
            lon = clon + self.rng.gauss(0, 0.15) / self.kx
            if shapely.contains_xy(grid.geom, lon, lat):
                return round(lat, 6), round(lon, 6)
        return clat, clon

    def _house_positions(self, built: list[GridPlan]):
        """{(road, east-west?): [(step, 1 odd / 2 even side, grid, lat, lon, side sign)]} over the
        built-up grids, sampled every SAMPLE_STEP_KM along each road."""
        if not built:
            return {}
        plan = self.plan
        positions: dict[tuple[str, bool], list] = {}
        clusters: dict[str, list[GridPlan]] = {}
        for g in built:
            county = g.township.county
            key = "core" if county.is_district else county.code
            clusters.setdefault(key, []).append(g)
        step_lat = SAMPLE_STEP_KM / self.ky
        for key in sorted(clusters):
            grids = clusters[key]
            geoms = np.array([g.geom for g in grids], dtype=object)
            tree = shapely.STRtree(geoms)
            minx = min(g.bounds[0] for g in grids)
            miny = min(g.bounds[1] for g in grids)
            maxx = max(g.bounds[2] for g in grids)
            maxy = max(g.bounds[3] for g in grids)
            spacing_x = ROAD_SPACING_KM / self.kx
            spacing_y = ROAD_SPACING_KM / self.ky
            roads = []
            n_ew = max(1, int((maxy - miny) / spacing_y))
            for k in range(n_ew):
                roads.append((True, miny + (k + 0.5) * (maxy - miny) / n_ew, k % 4 == 1))
            n_ns = max(1, int((maxx - minx) / spacing_x))
            for k in range(n_ns):
                roads.append((False, minx + (k + 0.5) * (maxx - minx) / n_ns, k % 4 == 2))
            for east_west, at, major in roads:
                if east_west:
                    lons = np.arange(minx, maxx, SAMPLE_STEP_KM / self.kx)
                    lats = np.full(len(lons), at)
                    off_lat, off_lon = SIDE_OFFSET_KM / self.ky, 0.0
                else:
                    lats = np.arange(miny, maxy, step_lat)
                    lons = np.full(len(lats), at)
                    off_lat, off_lon = 0.0, SIDE_OFFSET_KM / self.kx
                found = []
                for side, sign in ((1, 1.0), (2, -1.0)):  # odd numbers on the north / east side
                    pts_lat = np.round(lats + sign * off_lat, 6)
                    pts_lon = np.round(lons + sign * off_lon, 6)
                    pts = shapely.points(pts_lon, pts_lat)
                    pi, gi = tree.query(pts, predicate="within")
                    for p, gidx in zip(pi.tolist(), gi.tolist(), strict=True):
                        found.append((p, side, grids[gidx], float(pts_lat[p]), float(pts_lon[p]), sign))
                if not found:
                    continue
                found.sort(key=lambda f: (f[0], f[1]))
                road = self.names.road(east_west=east_west, major=major)
                positions[(road, east_west)] = found
        return positions


def _inner_point(grid: GridPlan) -> tuple[float, float]:
    p = grid.geom.representative_point()
    return round(p.y, 6), round(p.x, 6)

