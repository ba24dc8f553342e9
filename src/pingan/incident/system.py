"""Deliberately unscoped queries of the incident module (接处警): what feeds the statistics.

These read the whole bureau: the statistics store holds every incident, and every figure
computed from it is restricted to the actor's subtree by the statistics engine; the records
behind a figure are read back through ``incident.repository`` (jurisdiction-filtered, masked).
Named in the incident's statistics contribution (``incident.stats``).

Change detection (增量同步): a row is re-read when its ``updated_at`` is past the watermark less
a safety margin (a transaction that stamped its rows before another committed still gets picked
up), when its id is past the highest id seen (rows written with an old ``updated_at``, e.g. by
the demo writer), or when it received a callback since (callbacks do not touch the incident
row). A sync reads nothing past its own marks: a record committed while it runs is left for the
next one, so the rows loaded always add up to the count it compares with (under a steady stream
of calls a count that never agreed would reload the store in full every time).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import CompoundSelect, Select, func, or_, select, union
from sqlalchemy.orm import Session

from pingan.incident.models import Callback, Incident, IncidentCategory

# How far behind the updated_at watermark an incremental sync looks again.
SAFETY_MARGIN = timedelta(minutes=2)


def _latest_satisfaction():
    return (select(Callback.satisfaction).where(Callback.incident_id == Incident.id)
            .order_by(Callback.at.desc(), Callback.id.desc()).limit(1).correlate(Incident).scalar_subquery())


def incident_fact_rows(ids: Select | CompoundSelect | None) -> Select:
    """One row per incident in the columns of the incident fact table (see incident.stats)."""
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



def category_rows() -> Select:
    """The incident category code table: code, name, English name, parent."""
    return select(IncidentCategory.code, IncidentCategory.name, IncidentCategory.name_en, IncidentCategory.parent_code)


def category_fingerprint(db: Session) -> tuple:
    """Changes when a category is added or removed (reference data: names change with a code)."""
    return (db.scalar(select(func.count()).select_from(IncidentCategory)),)
