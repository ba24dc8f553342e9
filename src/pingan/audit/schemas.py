from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from pingan.audit.models import AuditAction


class AuditLogRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: int | None
    actor_name: str | None
    action: AuditAction
    entity: str
    entity_id: str | None
    changes: dict | None
    purpose: str | None
    request_id: str | None
    client_request_id: str | None = None  # the client's own X-Request-ID, beside ours


class AuditPage(BaseModel):
    total: int
    items: list[AuditLogRead]
