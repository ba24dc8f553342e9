"""Operational-database queries of the statistics module (统计): what feeds the columnar store.

These are the only queries the statistics read from the operational tables. They are not
filtered by jurisdiction: the store holds the whole bureau, and every figure computed from it
is restricted to the actor's subtree by the engine (:mod:`pingan.stats.engine`). Records
behind a figure are then read back through the owning domain's repository, which filters
and masks as everywhere else.

Change detection (增量同步) for incidents: a row is re-read when its ``updated_at`` is past
the watermark less a safety margin (a transaction that stamped its rows before another
committed still gets picked up), when its id is past the highest id seen (rows written with
an old ``updated_at``, e.g. by the demo writer), or when it received a callback since
(callbacks do not touch the incident row). A sync reads nothing past its own marks: a record
committed while it runs is left for the next one, so the rows loaded always add up to the count
it compares with (under a steady stream of calls a count that never agreed would reload the
store in full every time).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import CompoundSelect, Select, func, or_, select, union
from sqlalchemy.orm import Session

from pingan.geo.models import Grid
from pingan.incident.models import Callback, Incident, IncidentCategory
from pingan.org.models import OrgUnit

# How far behind the updated_at watermark an incremental sync looks again.
SAFETY_MARGIN = timedelta(minutes=2)


def _latest_satisfaction():
    return (select(Callback.satisfaction).where(Callback.incident_id == Incident.id)
            .order_by(Callback.at.desc(), Callback.id.desc()).limit(1).correlate(Incident).scalar_subquery())


def incident_fact_rows(ids: Select | CompoundSelect | None) -> Select:
    """One row per incident in the columns of the incident fact table (see stats.facts)."""
    parent = func.coalesce(IncidentCategory.parent_code, IncidentCategory.code)
    stmt = (select(Incident.id, Incident.org_unit_id, Incident.grid_id, Incident.zone_class, Incident.category_code,
                   parent.label("top_category"), Incident.priority, Incident.stage, Incident.disposition,
                   _latest_satisfaction().label("satisfaction"), Incident.received_at, Incident.accepted_at,
                   Incident.dispatched_at, Incident.departed_at, Incident.arrived_at, Incident.resolved_at,
                   Incident.closed_at, Incident.escalated_at, Incident.updated_at)
            .join(IncidentCategory, IncidentCategory.code == Incident.category_code))
    if ids is not None:
        stmt = stmt.where(Incident.id.in_(ids))
    return stmt


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def incident_marks(db: Session) -> dict[str, Any]:
    """The current watermarks: highest incident id, the row count up to it, highest updated_at and
    callback id. Records keep being written while they are read, each statement seeing the latest
    commits: the count is of the ids up to the highest one read first, and a sync reads no record
    past these marks (``incident_changed_ids``), so what it loads adds up to the count."""
    # one aggregate a query: each max() is then read off its index
    max_id = db.scalar(select(func.max(Incident.id))) or 0
    count = db.scalar(select(func.count()).select_from(Incident).where(Incident.id <= max_id))
    updated = db.scalar(select(func.max(Incident.updated_at)))
    max_callback = db.scalar(select(func.max(Callback.id)))
    if isinstance(updated, str):  # SQLite returns max() of a datetime column as text
        updated = datetime.fromisoformat(updated)
    return {"updated_at": _iso(updated), "max_id": max_id, "max_callback_id": max_callback or 0,
            "count": count or 0}


def incident_changed_ids(marks: dict[str, Any], upto: dict[str, Any]) -> CompoundSelect:
    """Ids of the incidents changed since the watermarks ``marks`` and not past ``upto`` (the
    marks of this sync: what was written after them waits for the next one; see the module
    docstring)."""
    since = datetime.fromisoformat(marks["updated_at"]) - SAFETY_MARGIN if marks.get("updated_at") else None
    changed = [Incident.id > marks.get("max_id", 0)]
    if since is not None:
        changed.append(Incident.updated_at > since)
    return union(select(Incident.id).where(or_(*changed), Incident.id <= upto["max_id"]),
                 select(Callback.incident_id).where(Callback.id > marks.get("max_callback_id", 0),
                                                    Callback.id <= upto["max_callback_id"],
                                                    Callback.incident_id <= upto["max_id"]))


# --- dimensions ---------------------------------------------------------------------------------


def org_unit_rows() -> Select:
    """The org-unit dimension: id, parent, path, kind, code, name."""
    return select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.path, OrgUnit.kind, OrgUnit.code, OrgUnit.name)


def grid_rows() -> Select:
    """The grid dimension: id, code, name, zone class, keeping org unit (polygons stay behind)."""
    return select(Grid.id, Grid.code, Grid.name, Grid.zone_class, Grid.org_unit_id)


def category_rows() -> Select:
    """The incident category code table: code, name, English name, parent."""
    return select(IncidentCategory.code, IncidentCategory.name, IncidentCategory.name_en, IncidentCategory.parent_code)


def dimension_fingerprint(*, db: Session) -> tuple:
    """Changes when an org unit or grid is added, removed or edited (the dimensions are reloaded)."""
    org = db.execute(select(func.count(), func.max(OrgUnit.updated_at)).select_from(OrgUnit)).one()
    grid = db.execute(select(func.count(), func.max(Grid.updated_at)).select_from(Grid)).one()
    categories = db.scalar(select(func.count()).select_from(IncidentCategory))
    return (org[0], str(org[1]), grid[0], str(grid[1]), categories)


# --- issued work summaries (stats_report) ---------------------------------------------------------
# Unlike the feeding queries above, these read what an actor asked for: every one is restricted
# to the reports of org units inside the actor's subtree.

LARGE_COLUMNS = ("figures", "definitions", "docx", "records")


def add_report_unscoped(*, db: Session, report) -> None:
    """Store a new issued report (the audit hook logs it on flush); the service has checked that
    its org unit is the actor's to report on."""
    db.add(report)
    db.flush()


def readable_reports(actor) -> Select:
    """The issued reports of the org units of the actor's subtree: every report read builds on this."""
    from pingan.auth.permissions import Perm
    from pingan.org.repository import subtree_ids
    from pingan.stats.models import StatsReport

    actor.require(Perm.STATS_READ)
    return select(StatsReport).where(StatsReport.org_unit_id.in_(subtree_ids(actor)))


def list_reports(*, db: Session, actor, org_unit_id: int | None = None, limit: int = 50,
                 offset: int = 0) -> tuple[list, int]:
    """The reports of the actor's jurisdiction (or of one org unit in it), newest first, without
    their large columns; and how many there are."""
    from pingan.stats.models import StatsReport

    stmt = readable_reports(actor)
    if org_unit_id is not None:
        stmt = stmt.where(StatsReport.org_unit_id == org_unit_id)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(db.scalars(stmt.order_by(StatsReport.issued_at.desc(), StatsReport.id.desc())
                           .limit(limit).offset(offset)))
    return rows, total


def get_report(*, db: Session, actor, report_id: int, load: tuple[str, ...] = ()):
    """One report of the actor's jurisdiction (None when there is none), with the large columns
    named in ``load`` ('figures', 'definitions', 'docx', 'records') read too."""
    from sqlalchemy.orm import undefer

    from pingan.stats.models import StatsReport

    stmt = readable_reports(actor).where(StatsReport.id == report_id)
    for name in load:
        if name not in LARGE_COLUMNS:
            raise ValueError(f"stats_report has no large column {name!r}")
        stmt = stmt.options(undefer(getattr(StatsReport, name)))
    return db.scalar(stmt.execution_options(populate_existing=bool(load)))
