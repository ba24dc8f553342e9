"""Geography queries that feed the process-wide indexes (decision 0016): the address matcher
(:mod:`pingan.geo.matcher`) and the grid polygons (:mod:`pingan.geo.spatial`) are built once per
process from every row and filter per actor in memory, so these reads are bureau-wide by design.
Nothing here reaches a page or a route's answer directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from pingan.geo.models import Address, Division, DivisionLevel, Grid
from pingan.org import repository as org_repository
from pingan.org import system as org_system


def index_signature(*, db: Session, with_updates: bool = True) -> tuple:
    """A cheap fingerprint of the address, grid, org-unit and division tables.

    Counts and maxima by primary key are index look-ups. ``max(address.updated_at)`` scans the
    table unless ``address.updated_at`` is indexed; ``with_updates=False`` leaves it out (None).
    """
    columns = [
        select(func.count()).select_from(Address).scalar_subquery(),
        select(func.max(Address.id)).scalar_subquery(),
        select(func.count()).select_from(Grid).scalar_subquery(),
        select(func.max(Grid.updated_at)).scalar_subquery(),
        org_system.org_units_changed_at(),
        select(func.count()).select_from(Division).scalar_subquery(),
    ]
    if with_updates:
        columns.append(select(func.max(Address.updated_at)).scalar_subquery())
    row = db.execute(select(*columns)).one()
    values = tuple(str(v) for v in row)
    return values if with_updates else (*values, None)


def grid_signature(*, db: Session) -> tuple:
    row = db.execute(select(func.count(), func.max(Grid.id), func.max(Grid.updated_at)).select_from(Grid)).one()
    return tuple(str(v) for v in row)


def iter_address_index_rows(*, db: Session, batch: int = 2_000,
                            between_batches: Callable[[], None] | None = None) -> Iterator[tuple]:
    """Every address as a plain tuple, in id order, streamed in batches (keyset paging).
    ``between_batches`` (e.g. ``db.commit``) lets a background reader end its transaction
    between batches."""
    stmt = select(
        Address.id, Address.full_text, Address.county_code, Address.division_code, Address.road,
        Address.house_no, Address.place_name, Address.building, Address.unit_no, Address.room,
        Address.lat, Address.lon, Address.grid_id,
    ).order_by(Address.id)
    last = 0
    while True:
        rows = db.execute(stmt.where(Address.id > last).limit(batch)).all()
        if not rows:
            return
        last = rows[-1][0]
        if between_batches is not None:
            between_batches()
        yield from rows


def grid_org_paths(*, db: Session) -> list[tuple[int, str]]:
    """(grid id, org path of the grid's org unit) for every grid."""
    stmt, org_path = org_repository.join_org_path_unscoped(select(Grid.id), Grid.org_unit_id, outer=False)
    return list(db.execute(stmt.add_columns(org_path)).all())


def community_names(*, db: Session) -> list[tuple[str, str]]:
    """(code, name) of the communities and villages in the bureau's division table."""
    return list(db.execute(select(Division.code, Division.name).where(
        Division.level == DivisionLevel.COMMUNITY)).all())


def iter_grid_shapes(*, db: Session) -> Iterator[tuple]:
    """(id, polygon GeoJSON text, centroid lon, centroid lat) of every grid."""
    yield from db.execute(select(Grid.id, Grid.polygon, Grid.centroid_lon, Grid.centroid_lat).order_by(Grid.id))


# --- the statistics store's grid dimension (geo.stats) -----------------------------------------


def grid_rows_unscoped() -> Select:
    """The grid dimension: id, code, name, zone class, keeping org unit (polygons stay behind)."""
    return select(Grid.id, Grid.code, Grid.name, Grid.zone_class, Grid.org_unit_id)


def grid_fingerprint_unscoped(db: Session) -> tuple:
    """Changes when a grid is added, removed or edited (the store reloads its dimensions)."""
    row = db.execute(select(func.count(), func.max(Grid.updated_at)).select_from(Grid)).one()
    return (row[0], str(row[1]))
