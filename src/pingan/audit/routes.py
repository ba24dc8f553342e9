"""JSON API: list and filter the audit log (auditors)."""

from __future__ import annotations

from fastapi import Depends, Query
from sqlalchemy.orm import Session

from pingan.audit import repository
from pingan.audit.models import AuditAction
from pingan.audit.schemas import AuditLogRead, AuditPage
from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.web.deps import get_db, require
from pingan.web.params import Moment
from pingan.web.routing import api_router

router = api_router(prefix="/audit", tags=["audit"])


@router.get("", response_model=AuditPage)
def list_audit(
    action: AuditAction | None = None,
    entity: str | None = Query(None, max_length=40),
    entity_id: str | None = Query(None, max_length=40),
    actor_name: str | None = Query(None, max_length=40),
    since: Moment | None = Query(None, description="ISO 8601; without a time zone, the bureau's local time; years 1900–2200"),
    until: Moment | None = Query(None, description="ISO 8601; without a time zone, the bureau's local time; years 1900–2200"),
    request_id: str | None = Query(None, max_length=40),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10_000_000),
    actor: Actor = Depends(require(Perm.AUDIT_READ)),
    db: Session = Depends(get_db),
) -> AuditPage:
    rows, total = repository.list_entries(db=db, actor=actor, action=action, entity=entity, entity_id=entity_id,
                                          actor_name=actor_name, since=since, until=until,
                                          request_id=request_id, limit=limit, offset=offset)
    return AuditPage(total=total, items=[AuditLogRead.model_validate(r) for r in rows])
