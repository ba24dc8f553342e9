"""Operational-database queries of the statistics module (统计).

What feeds the columnar store comes from the modules' own ``system.py`` (their fact sources and
dimension tables, declared in their statistics contributions; the org tree, the roll-up backbone,
from ``org.system``). Here are only the statistics' own issued reports, read as an actor asks for
them: every one is restricted to the reports of org units inside the actor's subtree.
"""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session



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
