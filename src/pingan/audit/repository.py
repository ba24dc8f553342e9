"""Audit log queries. The auditor sees entries by actors within the auditor's subtree, and those
of no actor (jobs, the command line): :func:`readable_entries` is the statement every read
builds on. The log is written by the mechanism (:mod:`pingan.audit.mechanism`), never here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from pingan.audit.models import AuditAction, AuditLog
from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.org.repository import subtree_ids


def readable_entries(actor: Actor) -> Select:
    """The audit entries the actor may read: those written by actors of their subtree or by no actor."""
    actor.require(Perm.AUDIT_READ)
    return select(AuditLog).where(
        or_(AuditLog.actor_org_unit_id.in_(subtree_ids(actor)), AuditLog.actor_org_unit_id.is_(None)))


def _filtered(actor: Actor, *, action: AuditAction | None, entity: str | None, entity_id: str | None,
              actor_name: str | None, since: datetime | None, until: datetime | None,
              request_id: str | None) -> Select:
    stmt = readable_entries(actor)
    if action:
        stmt = stmt.where(AuditLog.action == action)
    if entity:
        stmt = stmt.where(AuditLog.entity == entity)
    if entity_id:
        stmt = stmt.where(AuditLog.entity_id == entity_id)
    if actor_name:
        stmt = stmt.where(AuditLog.actor_name == actor_name)
    if since:
        stmt = stmt.where(AuditLog.at >= since)
    if until:
        stmt = stmt.where(AuditLog.at < until)
    if request_id:
        stmt = stmt.where(AuditLog.request_id == request_id)
    return stmt


def list_entries(*, db: Session, actor: Actor, action: AuditAction | None = None, entity: str | None = None,
                 entity_id: str | None = None, actor_name: str | None = None, since: datetime | None = None,
                 until: datetime | None = None, request_id: str | None = None, limit: int = 100,
                 offset: int = 0) -> tuple[list[AuditLog], int]:
    stmt = _filtered(actor, action=action, entity=entity, entity_id=entity_id, actor_name=actor_name,
                     since=since, until=until, request_id=request_id)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(db.scalars(stmt.order_by(AuditLog.id.desc()).limit(limit).offset(offset)))
    return rows, total
