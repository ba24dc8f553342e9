"""Fact sources (事实表): what the columnar store copies from the operational database.

A :class:`FactSource` declares one fact table of the statistics store — its columns, the
columns derived from them when rows are loaded, the dimensions it can be cut by — and the
three operational queries that feed it (all in :mod:`pingan.stats.repository`): the rows, the
watermarks, and the ids changed since given watermarks. The store and the engine know nothing
else about a source, so a later module (cases, disputes, fraud warnings …) adds its own fact
table by declaring a ``FactSource`` and registering it with :func:`register_source`, and its
KPIs in :mod:`pingan.stats.metrics` name that source.

Every fact table has ``id`` (the operational primary key), ``org_unit_id`` (the responsible
org unit: jurisdiction and roll-up along the org tree) and a local-time column (the period it
belongs to; see :mod:`pingan.stats.period` for the boundary rule).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CompoundSelect, Select
from sqlalchemy.orm import Session

from pingan.geo.models import ZONE_TARGET_SECONDS
from pingan.stats import repository


@dataclass(frozen=True)
class Dimension:
    """A way to cut a fact table (维度): a SQL expression over the fact row ``f``.

    ``labels`` names the store's dimension table that gives each value its name: ``org``
    (org units), ``grid``, ``category``, or ``None`` when the value is its own label.
    """

    name: str
    zh: str
    en: str
    expr: str
    labels: str | None = None


@dataclass(frozen=True)
class FactSource:
    """One fact table of the statistics store and how it is fed (see the module docstring)."""

    name: str
    zh: str
    en: str
    # Columns as read from the operational database, ``id`` first: (name, DuckDB type).
    columns: tuple[tuple[str, str], ...]
    # Computed when rows are loaded: (name, DuckDB type, expression over the columns; ``{tz}``
    # is the bureau's time zone).
    derived: tuple[tuple[str, str, str], ...]
    # The local-time column that places a row in a period (its reception, creation …).
    time_column: str
    # Dimensions of this source beyond the common ones (period, hour, org levels).
    dimensions: tuple[Dimension, ...]
    rows: Callable[[Select | CompoundSelect | None], Select]  # the fact rows (all, or those whose id is in the select)
    marks: Callable[[Session], dict[str, Any]]  # the current watermarks
    # ids changed since the first watermarks and not past the second (this sync's own marks)
    changed_ids: Callable[[dict[str, Any], dict[str, Any]], Select | CompoundSelect]
    # The records behind a figure, read back through the owning domain's repository
    # (jurisdiction-filtered, personal data masked): (db, actor, ids) → API rows in id order.
    list_records: Callable[[Session, Any, list[int]], list]
    grid_column: str | None = None

    @property
    def table(self) -> str:
        return f"fact_{self.name}"

    @property
    def all_columns(self) -> list[str]:
        return [c for c, _ in self.columns] + [c for c, _, _ in self.derived]


SOURCES: dict[str, FactSource] = {}


def register_source(source: FactSource) -> FactSource:
    """Add a fact source to the store (its table is created and fed on the next sync)."""
    if source.name in SOURCES and SOURCES[source.name] is not source:
        raise ValueError(f"fact source {source.name!r} declared twice")
    SOURCES[source.name] = source
    return source


def zone_target_case(column: str) -> str:
    """The response target in seconds of a zone class (城市中心区 3 分钟 …), from geo.models."""
    whens = " ".join(f"WHEN '{zone.value}' THEN {seconds}" for zone, seconds in ZONE_TARGET_SECONDS.items())
    return f"(CASE {column} {whens} END)"


def timestamp_sql(moment: datetime) -> str:
    """A naive local time as a DuckDB TIMESTAMP literal (a period's bounds in a fact query)."""
    return f"TIMESTAMP '{moment.isoformat(sep=' ')}'"


def _seconds(later: str, earlier: str = "received_at") -> str:
    return f"CASE WHEN {later} >= {earlier} THEN date_diff('microsecond', {earlier}, {later}) / 1000000.0 END"


def _incident_records(db: Session, actor, ids: list[int]) -> list:
    from pingan.incident import repository as incident_repository
    from pingan.incident.schemas import IncidentRead

    return [IncidentRead.model_validate(r) for r in incident_repository.list_by_ids(db=db, actor=actor, ids=ids)]


INCIDENTS = register_source(FactSource(
    name="incident",
    zh="警情",
    en="Incidents",
    columns=(
        ("id", "BIGINT"), ("org_unit_id", "BIGINT"), ("grid_id", "BIGINT"), ("zone_class", "VARCHAR"),
        ("category_code", "VARCHAR"), ("top_category", "VARCHAR"), ("priority", "INTEGER"), ("stage", "VARCHAR"),
        ("disposition", "VARCHAR"), ("satisfaction", "VARCHAR"),
        ("received_at", "TIMESTAMP"), ("accepted_at", "TIMESTAMP"), ("dispatched_at", "TIMESTAMP"),
        ("departed_at", "TIMESTAMP"), ("arrived_at", "TIMESTAMP"), ("resolved_at", "TIMESTAMP"),
        ("closed_at", "TIMESTAMP"), ("escalated_at", "TIMESTAMP"), ("updated_at", "TIMESTAMP"),
    ),
    derived=(
        ("t_local", "TIMESTAMP", "timezone('{tz}', received_at::TIMESTAMPTZ)"),
        ("accept_s", "DOUBLE", _seconds("accepted_at")),
        ("dispatch_s", "DOUBLE", _seconds("dispatched_at")),
        ("depart_s", "DOUBLE", _seconds("departed_at")),
        ("arrive_s", "DOUBLE", _seconds("arrived_at")),
        ("resolve_s", "DOUBLE", _seconds("resolved_at")),
        # the zone's response target, once per row: a CASE over the zone's name in every
        # on-target count costs a third of the whole KPI set's query (bench/stats.py)
        ("zone_target_s", "INTEGER", zone_target_case("zone_class")),
    ),
    time_column="t_local",
    dimensions=(
        Dimension("grid", "网格", "grid", "f.grid_id", "grid"),
        Dimension("zone_class", "区域类别", "zone class", "f.zone_class"),
        Dimension("category", "警情类别", "category", "f.category_code", "category"),
        Dimension("top_category", "警情大类", "top-level category", "f.top_category", "category"),
        Dimension("priority", "紧急程度", "priority", "f.priority"),
        Dimension("disposition", "处警结果", "disposition", "f.disposition"),
    ),
    rows=repository.incident_fact_rows,
    marks=repository.incident_marks,
    changed_ids=repository.incident_changed_ids,
    list_records=_incident_records,
    grid_column="grid_id",
))
