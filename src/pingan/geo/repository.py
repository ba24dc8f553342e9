"""Queries over divisions, grids and standard addresses.

Every query that returns records to a caller is filtered to the actor's jurisdiction: grids
by their org unit, addresses by their grid's org unit (an address with no grid yet is seen
only from the root of the org tree). The few unfiltered reads at the bottom feed the
process-wide matcher and spatial indexes, which filter per actor in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.geo.models import Address, Division, DivisionLevel, Grid
from pingan.org.models import OrgUnit
from pingan.org.repository import subtree_ids


def sees_unassigned(actor: Actor) -> bool:
    """Addresses not yet in any grid are seen from the root of the org tree ('/1/') only."""
    return actor.org_path.count("/") <= 2


def grid_ids_visible(actor: Actor) -> Select:
    return select(Grid.id).where(Grid.org_unit_id.in_(subtree_ids(actor)))


def _address_visible(actor: Actor):
    visible = Address.grid_id.in_(grid_ids_visible(actor))
    if sees_unassigned(actor):
        return or_(visible, Address.grid_id.is_(None))
    return visible


# --- addresses ---------------------------------------------------------------------------

def get_address(*, db: Session, actor: Actor, address_id: int) -> Address | None:
    return db.scalar(select(Address).where(Address.id == address_id, _address_visible(actor)))


# Built once (taking a call runs it every time): the jurisdiction test is on the joined grid's
# org unit, by path prefix — index lookups only, no subtree scan. Paths hold only digits and "/",
# so the prefix needs no LIKE escaping.
_ADDRESS_LOCATION = (
    select(Address.id, Address.full_text, Address.lat, Address.lon, Address.division_code, Address.grid_id,
           Grid.zone_class, Grid.org_unit_id)
    .outerjoin(Grid, Grid.id == Address.grid_id)
    .outerjoin(OrgUnit, OrgUnit.id == Grid.org_unit_id)
    .where(Address.id == bindparam("address_id"))
)
_IN_SUBTREE = OrgUnit.path.startswith(bindparam("org_path"))
_ADDRESS_LOCATION_IN_SUBTREE = _ADDRESS_LOCATION.where(_IN_SUBTREE)
_ADDRESS_LOCATION_IN_SUBTREE_OR_UNASSIGNED = _ADDRESS_LOCATION.where(or_(_IN_SUBTREE, Address.grid_id.is_(None)))


def address_location_statement(actor: Actor) -> Select:
    """The statement :func:`address_location` runs, for a caller that reads it together with
    something else in one round trip; bound parameters ``address_id`` and ``org_path``
    (:func:`address_location_params`)."""
    return _ADDRESS_LOCATION_IN_SUBTREE_OR_UNASSIGNED if sees_unassigned(actor) else _ADDRESS_LOCATION_IN_SUBTREE


def address_location_params(actor: Actor, address_id: int) -> dict:
    return {"address_id": address_id, "org_path": actor.org_path}


def address_location(*, db: Session, actor: Actor, address_id: int):
    """A standard address with its grid in one query (for taking a call), or None when the actor
    may not see it. Columns: id, full_text, lat, lon, division_code, grid_id, zone_class, org_unit_id
    (the last two from the grid; None for an address not yet in a grid)."""
    return db.connection().execute(address_location_statement(actor),
                                   address_location_params(actor, address_id)).first()


def list_addresses(*, db: Session, actor: Actor, q: str | None = None, grid_id: int | None = None,
                   county_code: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list[Address], int]:
    stmt = select(Address).where(_address_visible(actor))
    if q:
        stmt = stmt.where(Address.full_text.contains(q, autoescape=True))
    if grid_id is not None:
        stmt = stmt.where(Address.grid_id == grid_id)
    if county_code:
        stmt = stmt.where(Address.county_code == county_code)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(db.scalars(stmt.order_by(Address.id).limit(limit).offset(offset)))
    return rows, total


def get_addresses_by_ids(*, db: Session, actor: Actor, ids: Sequence[int]) -> dict[int, Address]:
    if not ids:
        return {}
    rows = db.scalars(select(Address).where(Address.id.in_(list(ids)), _address_visible(actor)))
    return {a.id: a for a in rows}


def existing_address_codes(*, db: Session, codes: Iterable[str]) -> set[str]:
    """Which of these address codes are already taken (codes are unique bureau-wide)."""
    found: set[str] = set()
    batch: list[str] = []
    for code in codes:
        batch.append(code)
        if len(batch) == 500:
            found.update(db.scalars(select(Address.code).where(Address.code.in_(batch))))
            batch = []
    if batch:
        found.update(db.scalars(select(Address.code).where(Address.code.in_(batch))))
    return found


# --- grids -------------------------------------------------------------------------------

def get_grid(*, db: Session, actor: Actor, grid_id: int) -> Grid | None:
    return db.scalar(select(Grid).where(Grid.id == grid_id, Grid.org_unit_id.in_(subtree_ids(actor))))


def list_grids(*, db: Session, actor: Actor, bbox: tuple[float, float, float, float] | None = None,
               zone_class: str | None = None, org_unit_id: int | None = None, limit: int = 5000,
               offset: int = 0) -> tuple[list[Grid], int]:
    """Grids of the jurisdiction; ``org_unit_id`` narrows them to the grids kept in that org
    unit's subtree (a branch's, a station's), still inside the jurisdiction."""
    stmt = select(Grid).where(Grid.org_unit_id.in_(subtree_ids(actor)))
    if org_unit_id is not None:
        # paths hold only digits and "/": the prefix needs no LIKE escaping
        below = select(OrgUnit.path).where(OrgUnit.id == org_unit_id).scalar_subquery()
        stmt = stmt.where(Grid.org_unit_id.in_(select(OrgUnit.id).where(OrgUnit.path.startswith(below))))
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = bbox
        stmt = stmt.where(and_(Grid.max_lon >= min_lon, Grid.min_lon <= max_lon,
                               Grid.max_lat >= min_lat, Grid.min_lat <= max_lat))
    if zone_class:
        stmt = stmt.where(Grid.zone_class == zone_class)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(db.scalars(stmt.order_by(Grid.code).limit(limit).offset(offset)))
    return rows, total


def grid_is_visible(*, db: Session, actor: Actor, grid_id: int) -> bool:
    return db.scalar(select(func.count()).select_from(Grid).where(
        Grid.id == grid_id, Grid.org_unit_id.in_(subtree_ids(actor)))) == 1


def get_grid_unfiltered(*, db: Session, grid_id: int) -> Grid | None:
    """A grid by id for point lookup (geo.service.grid_at); callers filter by jurisdiction."""
    return db.get(Grid, grid_id)


# --- divisions of the bureau's own area (communities) -----------------------------------

def list_area_divisions(*, db: Session, parent_code: str | None = None,
                        level: DivisionLevel | None = None) -> list[Division]:
    """The bureau's own division table (reference data, the same for every user)."""
    stmt = select(Division)
    if parent_code is not None:
        stmt = stmt.where(Division.parent_code == parent_code)
    if level is not None:
        stmt = stmt.where(Division.level == level)
    return list(db.scalars(stmt.order_by(Division.code)))


# --- feeds for the in-memory indexes (not per actor: filtered in memory) ----------------

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
        select(func.max(OrgUnit.updated_at)).scalar_subquery(),
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
    return list(db.execute(select(Grid.id, OrgUnit.path).join(OrgUnit, OrgUnit.id == Grid.org_unit_id)).all())


def community_names(*, db: Session) -> list[tuple[str, str]]:
    """(code, name) of the communities and villages in the bureau's division table."""
    return list(db.execute(select(Division.code, Division.name).where(
        Division.level == DivisionLevel.COMMUNITY)).all())


def iter_grid_shapes(*, db: Session) -> Iterator[tuple]:
    """(id, polygon GeoJSON text, centroid lon, centroid lat) of every grid."""
    yield from db.execute(select(Grid.id, Grid.polygon, Grid.centroid_lon, Grid.centroid_lat).order_by(Grid.id))


def count_grids_by_zone(*, db: Session, actor: Actor) -> dict[str, int]:
    rows = db.execute(select(Grid.zone_class, func.count()).where(Grid.org_unit_id.in_(subtree_ids(actor)))
                      .group_by(Grid.zone_class)).all()
    return {str(zone): count for zone, count in rows}
