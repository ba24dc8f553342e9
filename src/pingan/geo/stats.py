"""The geography module's statistics contribution (统计): the grid dimension table, and the zone
classes' names and response targets for the sources that cut by zone (``incident.stats``).

The grid queries (in ``geo.system``) are deliberately unscoped: the statistics store holds every grid
of the bureau, and the engine restricts what an actor sees to their subtree through the grid's
org unit (``DimensionTable.org_column``).
"""

from __future__ import annotations

from pingan.geo import system
from pingan.geo.models import ZONE_TARGET_SECONDS, ZoneClass
from pingan.stats.contribution import Contribution
from pingan.stats.facts import DimensionTable

# The zone classes by value, named as every statistics page names them.
ZONE_VALUES: dict[str, tuple[str, str]] = {zone.value: zone.pair for zone in ZoneClass}


def zone_target_case(column: str) -> str:
    """The response target in seconds of a zone class (城市中心区 3 分钟 …), as a SQL expression
    over ``column`` (a derived column of a fact source)."""
    whens = " ".join(f"WHEN '{zone.value}' THEN {seconds}" for zone, seconds in ZONE_TARGET_SECONDS.items())
    return f"(CASE {column} {whens} END)"


GRIDS = DimensionTable(
    name="grid",
    columns=(("id", "BIGINT"), ("code", "VARCHAR"), ("name", "VARCHAR"), ("zone_class", "VARCHAR"),
             ("org_unit_id", "BIGINT")),
    rows=system.grid_rows_unscoped,
    fingerprint=system.grid_fingerprint_unscoped,
    org_column="org_unit_id",
    order="code",
)

CONTRIBUTION = Contribution(dimension_tables=(GRIDS,))
