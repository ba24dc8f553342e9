"""Fact sources (事实表): what the columnar store copies from the operational database.

A :class:`FactSource` declares one fact table of the statistics store — its columns, the
columns derived from them when rows are loaded, the dimensions it can be cut by, the permission
that may read it — and the three operational queries that feed it (in the owning module's
``system.py``): the rows, the watermarks, and the ids changed since given watermarks. The store
and the engine know nothing else about a source: a module declares its sources in its statistics
contribution (:mod:`pingan.stats.contribution`), and :data:`SOURCES` is every installed module's.

Every fact table has ``id`` (the operational primary key), ``org_unit_id`` (the responsible
org unit: jurisdiction and roll-up along the org tree) and a local-time column (the period it
belongs to; see :mod:`pingan.stats.period` for the boundary rule).

A :class:`DimensionTable` is a table of the store that names the values of a dimension (the
grids of geo, the incident categories); the org units are the statistics' own (the roll-up
backbone, ``org.system.org_unit_rows``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import CompoundSelect, Select
from sqlalchemy.orm import Session

from pingan.stats.contribution import declared

Label = tuple[str, str]  # (zh, en)


@dataclass(frozen=True)
class Dimension:
    """A way to cut a fact table (维度): a SQL expression over the fact row ``f``.

    ``labels`` names the store's dimension table (a :class:`DimensionTable` of some installed
    module) that gives each value its name; ``values`` names the values of a small closed set
    (zone classes, priorities) in (zh, en); neither: the value is its own label.
    """

    name: str
    zh: str
    en: str
    expr: str
    labels: str | None = None
    values: Mapping[str, Label] | None = field(default=None, hash=False, compare=False)


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
    # The permission (a ``Perm`` value) that may read the source: its KPIs, figures and records.
    permission: str
    # What one record is called, in counts ("3 起" / "3 incidents").
    unit: Label = ("条", "records")
    # The records page's table of these records (a template including its links), and the
    # address of one record ('/incidents/{id}'); None: the generic table, no link.
    records_template: str | None = None
    record_href: str | None = None
    # Extra context of ``records_template`` (labels, code tables): (db) → dict.
    records_context: Callable[[Session], dict] | None = None

    @property
    def table(self) -> str:
        return f"fact_{self.name}"

    @property
    def all_columns(self) -> list[str]:
        return [c for c, _ in self.columns] + [c for c, _, _ in self.derived]


SOURCES: Mapping[str, FactSource] = declared("sources")
"""Every installed module's fact sources, by name (loaded on first use)."""


@dataclass(frozen=True)
class DimensionTable:
    """A table of the store naming the values of a dimension (``dim_<name>``): its columns as
    read from the operational database (the key first), the query that reads them (every row:
    dimension tables are small), and a fingerprint query whose answer changes when they change.
    ``org_column``, when the values belong to org units (a grid to its station), lets the
    engine list a scope's values (``engine.members``) and refuse a value outside the actor's
    jurisdiction."""

    name: str
    columns: tuple[tuple[str, str], ...]
    rows: Callable[[], Select]
    fingerprint: Callable[[Session], tuple]
    label: str = "name"
    label_en: str | None = None  # the column naming a value in English (else ``label``)
    org_column: str | None = None
    order: str | None = None

    @property
    def table(self) -> str:
        return f"dim_{self.name}"

    @property
    def key(self) -> str:
        return self.columns[0][0]


def timestamp_sql(moment: datetime) -> str:
    """A naive local time as a DuckDB TIMESTAMP literal (a period's bounds in a fact query)."""
    return f"TIMESTAMP '{moment.isoformat(sep=' ')}'"


def seconds_between(later: str, earlier: str) -> str:
    """A derived column: seconds from ``earlier`` to ``later`` (None when either is missing or
    they are out of order)."""
    return f"CASE WHEN {later} >= {earlier} THEN date_diff('microsecond', {earlier}, {later}) / 1000000.0 END"
