"""The one audit mechanism.

A session-level ``after_flush`` hook writes a row for every create, update or delete of a
model whose class sets ``__auditable__ = True``: before/after values, actor and request id
(taken from ``session.info``, set by whoever opened the unit of work). Handlers never call it.
Reads of personal data go through :func:`record_read`, called by the one repository function
that returns unmasked data.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from pingan.audit.models import AuditAction, AuditLog
from pingan.db.types import utcnow
from pingan.privacy import mask_name, mask_phone


def _jsonable(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def _actor_fields(session: Session) -> dict:
    actor = session.info.get("actor")
    return {
        "actor_id": getattr(actor, "user_id", None),
        "actor_name": getattr(actor, "username", None),
        "actor_org_unit_id": getattr(actor, "org_unit_id", None),
        "request_id": session.info.get("request_id"),
    }


def _columns(obj) -> list[str]:
    excluded = set(getattr(obj, "__audit_exclude__", ()))
    return [c.key for c in inspect(obj).mapper.column_attrs if c.key not in excluded]


def _entity_id(obj) -> str | None:
    # the identity key of a new object is set only after the flush; its primary key is set already
    ident = inspect(obj).mapper.primary_key_from_instance(obj)
    return None if any(i is None for i in ident) else ",".join(str(i) for i in ident)


_MASKS = {"phone": mask_phone, "name": mask_name}


def _value(obj, key: str):
    """A column's value for the log; personal fields (``__personal_fields__``) are stored masked."""
    kind = getattr(obj, "__personal_fields__", {}).get(key)
    value = _jsonable(getattr(obj, key))
    return _MASKS[kind](value) if kind else value


def _row(session: Session, obj, action: AuditAction, changes: dict | None) -> dict:
    return {
        "at": utcnow(),
        "action": action,
        "entity": obj.__tablename__,
        "entity_id": _entity_id(obj),
        "changes": changes,
        "purpose": None,
        **_actor_fields(session),
    }


@event.listens_for(Session, "after_flush")
def _audit_after_flush(session: Session, _flush_context) -> None:
    rows: list[dict] = []
    for obj in session.new:
        if getattr(obj, "__auditable__", False):
            after = {k: _value(obj, k) for k in _columns(obj)}
            rows.append(_row(session, obj, AuditAction.CREATE, {"after": after}))
    for obj in session.dirty:
        if not getattr(obj, "__auditable__", False) or not session.is_modified(obj):
            continue
        state = inspect(obj)
        before, after = {}, {}
        for key in _columns(obj):
            hist = state.attrs[key].history
            if hist.has_changes() and hist.deleted:
                old = hist.deleted[0] if hist.deleted else None
                new = hist.added[0] if hist.added else None
                if old != new:
                    kind = getattr(obj, "__personal_fields__", {}).get(key)
                    mask = _MASKS[kind] if kind else (lambda v: v)
                    before[key], after[key] = mask(_jsonable(old)), mask(_jsonable(new))
        if after:
            rows.append(_row(session, obj, AuditAction.UPDATE, {"before": before, "after": after}))
    for obj in session.deleted:
        if getattr(obj, "__auditable__", False):
            before = {k: _value(obj, k) for k in _columns(obj)}
            rows.append(_row(session, obj, AuditAction.DELETE, {"before": before}))
    if rows:
        session.connection().execute(insert(AuditLog), rows)


def record_read(
    session: Session, *, entity: str, entity_id: str | int, fields: list[str], purpose: str | None
) -> None:
    """Write one audit row for a read of personal data (who, which record, which fields, why)."""
    session.connection().execute(
        insert(AuditLog),
        [
            {
                "at": utcnow(),
                "action": AuditAction.READ,
                "entity": entity,
                "entity_id": str(entity_id),
                "changes": {"fields": fields},
                "purpose": purpose,
                **_actor_fields(session),
            }
        ],
    )


def record_event(session: Session, *, action: AuditAction, entity: str, entity_id: str | int | None,
                 detail: dict | None = None) -> None:
    """Write one audit row for a security event (login, failed login, logout)."""
    session.connection().execute(
        insert(AuditLog),
        [{"at": utcnow(), "action": action, "entity": entity,
          "entity_id": None if entity_id is None else str(entity_id), "changes": detail,
          "purpose": None, **_actor_fields(session)}],
    )
