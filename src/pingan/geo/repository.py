"""Queries over divisions, grids and standard addresses.

Every query that returns records to a caller is filtered to the actor's jurisdiction, built on
one readable statement per entity (decision 0016): :func:`readable_grids` (by their org unit),
:func:`readable_addresses` (by their grid's org unit; an address with no grid yet is seen only
from the root of the org tree) and :func:`readable_divisions` (the bureau's own division table,
the same for every reader of geography). The reads that feed the process-wide matcher and
spatial indexes, which filter per actor in memory, are in :mod:`pingan.geo.system`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.geo.models import Address, Division, DivisionLevel, Grid
from pingan.org import repository as org_repository
from pingan.org.repository import subtree_ids


def sees_unassigned(actor: Actor) -> bool:
    """Addresses not yet in any grid are seen from the root of the org tree ('/1/') only."""
    return actor.org_path.count("/") <= 2


def readable_grids(actor: Actor) -> Select:
    """The grids of the actor's subtree: every grid read builds on this."""
    return select(Grid).where(Grid.org_unit_id.in_(subtree_ids(actor)))


def grid_ids_visible(actor: Actor) -> Select:
    return readable_grids(actor).with_only_columns(Grid.id)


def readable_addresses(actor: Actor) -> Select:
    """The standard addresses the actor may see: every address read builds on this."""
    visible = Address.grid_id.in_(grid_ids_visible(actor))
    if sees_unassigned(actor):
        visible = or_(visible, Address.grid_id.is_(None))
    return select(Address).where(visible)


def readable_divisions(actor: Actor) -> Select:
    """The bureau's own division table (communities and villages): reference data, the same for
    every reader of geography."""
    actor.require(Perm.GEO_READ)
    return select(Division)


# --- addresses ---------------------------------------------------------------------------

def get_address(*, db: Session, actor: Actor, address_id: int) -> Address | None:
    return db.scalar(readable_addresses(actor).where(Address.id == address_id))


# Built once (taking a call runs it every time): the jurisdiction test is on the joined grid's
# org unit, by path prefix — index lookups only, no subtree scan. Paths hold only digits and "/",
# so the prefix needs no LIKE escaping.
_ADDRESS_LOCATION, _GRID_ORG_PATH = org_repository.join_org_path_unscoped(
    select(Address.id, Address.full_text, Address.lat, Address.lon, Address.division_code, Address.grid_id,
           Grid.zone_class, Grid.org_unit_id)
    .outerjoin(Grid, Grid.id == Address.grid_id), Grid.org_unit_id)
_ADDRESS_LOCATION = _ADDRESS_LOCATION.where(Address.id == bindparam("address_id"))
_IN_SUBTREE = _GRID_ORG_PATH.startswith(bindparam("org_path"))
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
    stmt = readable_addresses(actor)
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
    rows = db.scalars(readable_addresses(actor).where(Address.id.in_(list(ids))))
    return {a.id: a for a in rows}


def existing_address_codes_unscoped(*, db: Session, codes: Iterable[str]) -> set[str]:
    """Which of these address codes are already taken, bureau-wide (codes are unique in the bureau)."""
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
    return db.scalar(readable_grids(actor).where(Grid.id == grid_id))


def list_grids(*, db: Session, actor: Actor, bbox: tuple[float, float, float, float] | None = None,
               zone_class: str | None = None, org_unit_id: int | None = None, limit: int = 5000,
               offset: int = 0) -> tuple[list[Grid], int]:
    """Grids of the jurisdiction; ``org_unit_id`` narrows them to the grids kept in that org
    unit's subtree (a branch's, a station's), still inside the jurisdiction."""
    stmt = readable_grids(actor)
    if org_unit_id is not None:
        stmt = stmt.where(Grid.org_unit_id.in_(subtree_ids(actor, below=org_unit_id)))
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
    return db.scalar(readable_grids(actor).with_only_columns(func.count()).where(Grid.id == grid_id)) == 1


def get_grid_unscoped(*, db: Session, grid_id: int) -> Grid | None:
    """A grid by id for point lookup (geo.service.grid_at); callers filter by jurisdiction."""
    return db.get(Grid, grid_id)


# --- divisions of the bureau's own area (communities) -----------------------------------

def list_area_divisions(*, db: Session, actor: Actor, parent_code: str | None = None,
                        level: DivisionLevel | None = None) -> list[Division]:
    """The bureau's own division table (reference data, the same for every reader)."""
    stmt = readable_divisions(actor)
    if parent_code is not None:
        stmt = stmt.where(Division.parent_code == parent_code)
    if level is not None:
        stmt = stmt.where(Division.level == level)
    return list(db.scalars(stmt.order_by(Division.code)))


def count_grids_by_zone(*, db: Session, actor: Actor) -> dict[str, int]:
    rows = db.execute(readable_grids(actor).with_only_columns(Grid.zone_class, func.count())
                      .group_by(Grid.zone_class)).all()
    return {str(zone): count for zone, count in rows}
