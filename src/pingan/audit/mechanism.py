"""The one audit mechanism.

A session-level ``after_flush`` hook writes a row for every create, update or delete of a
model whose class sets ``__auditable__ = True``: before/after values, actor and request id
(taken from ``session.info``, set by whoever opened the unit of work; the client's own request id,
if it sent one, from the request's context). Handlers never call it.
Reads of personal data go through :func:`record_read`, called by the one repository function
that returns unmasked data.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from datetime import date, datetime
from enum import Enum

import orjson
from sqlalchemy import Column, Insert, event, insert, inspect
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from pingan.audit.models import AuditAction, AuditLog
from pingan.db.types import utcnow
from pingan.privacy import mask_document, mask_id_number, mask_name, mask_phone
from pingan.web.context import client_request_id_var


_PLAIN = frozenset((int, float, str, bool))


def _jsonable(value):
    if value is None or type(value) in _PLAIN:
        return value
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
        # A request's session sets neither: the client's id is the request's context (copied into
        # the thread a handler or the intake's unit of work runs in); CLI and jobs have none.
        "client_request_id": session.info.get("client_request_id", client_request_id_var.get()),
    }


# Built once: every audit row goes in through this statement (several rows: one executemany).
_INSERT = insert(AuditLog)


@functools.cache
def _columns_of(cls: type) -> tuple[str, ...]:
    excluded = set(getattr(cls, "__audit_exclude__", ()))
    return tuple(c.key for c in inspect(cls).column_attrs if c.key not in excluded)


def _columns(obj) -> tuple[str, ...]:
    return _columns_of(type(obj))


def _entity_id(obj) -> str | None:
    # the identity key of a new object is set only after the flush; its primary key is set already
    ident = inspect(obj).mapper.primary_key_from_instance(obj)
    return None if any(i is None for i in ident) else ",".join(str(i) for i in ident)


_MASKS = {"phone": mask_phone, "name": mask_name, "id_number": mask_id_number, "document": mask_document}


def _value(obj, key: str):
    """A column's value for the log; personal fields (``__personal_fields__``) are stored masked."""
    kind = getattr(obj, "__personal_fields__", {}).get(key)
    value = _jsonable(getattr(obj, key))
    return _MASKS[kind](value) if kind else value


@functools.cache
def _logged_columns(cls: type) -> tuple[tuple[str, object], ...]:
    """(column, its mask or None) for every logged column of a class: what :func:`_value` looks
    up per column, worked out once."""
    personal = getattr(cls, "__personal_fields__", {})
    return tuple((key, _MASKS[personal[key]] if key in personal else None) for key in _columns_of(cls))


def _row(session: Session, obj, action: AuditAction, changes: dict | None) -> dict:
    return _log_row(session, obj.__tablename__, _entity_id(obj), action, changes)


def _log_row(session: Session, entity: str, entity_id: str | None, action: AuditAction, changes: dict | None) -> dict:
    return {
        "at": utcnow(),
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "changes": changes,
        "purpose": None,
        **_actor_fields(session),
    }


def _changed(cls: type, key: str, old, new) -> tuple:
    """A changed column's (before, after) as the log holds them: JSON values, personal ones masked."""
    kind = getattr(cls, "__personal_fields__", {}).get(key)
    mask = _MASKS[kind] if kind else (lambda v: v)
    return mask(_jsonable(old)), mask(_jsonable(new))


def _created(session: Session, obj) -> dict:
    after = {}
    for key, mask in _logged_columns(type(obj)):
        value = _jsonable(getattr(obj, key))
        after[key] = mask(value) if mask else value
    return _row(session, obj, AuditAction.CREATE, {"after": after})


@event.listens_for(Session, "after_flush")
def _audit_after_flush(session: Session, _flush_context) -> None:
    rows: list[dict] = []
    for obj in session.new:
        if getattr(obj, "__auditable__", False):
            rows.append(_created(session, obj))
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
                    before[key], after[key] = _changed(type(obj), key, old, new)
        if after:
            rows.append(_row(session, obj, AuditAction.UPDATE, {"before": before, "after": after}))
    for obj in session.deleted:
        if getattr(obj, "__auditable__", False):
            before = {k: _value(obj, k) for k in _columns(obj)}
            rows.append(_row(session, obj, AuditAction.DELETE, {"before": before}))
    if rows:
        session.connection().execute(_INSERT, rows)


@functools.cache
def _insert_plan(cls: type) -> tuple[list[tuple[str, Column]], str, Insert]:
    """(attribute key, column) pairs, the primary key's attribute, and INSERT … RETURNING it."""
    mapper = inspect(cls)
    (pk,) = mapper.primary_key
    columns = [(attr.key, attr.columns[0]) for attr in mapper.column_attrs]
    pk_key = next(key for key, column in columns if column is pk)
    return columns, pk_key, insert(mapper.local_table).returning(pk)


def _default(column: Column):
    default = column.default
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg


def _column_values(obj) -> dict[Column, object]:
    """Every column of a new object with a value: unset columns take their Python defaults, set
    on the object too, so that none is left expired (which would load the row again on first
    read). A primary key not set stays None."""
    columns, pk_key, _ = _insert_plan(type(obj))
    loaded = obj.__dict__
    values = {}
    for key, column in columns:
        value = loaded.get(key)
        if value is None and key != pk_key:
            value = _default(column)
            # no change event: the object is made persistent "as loaded" right after the insert
            set_committed_value(obj, key, value)
        values[column] = value
    return values


@functools.cache
def _one_statement(tables: tuple[str, ...], audited: bool) -> str:
    """One INSERT for a new row of each table (in that order) and their audit rows, on PostgreSQL:
    each row travels as one JSON document, expanded by ``json_populate_record`` into the table's
    own row type (every column, in the table's order), the audit rows as one JSON array::

        WITH new_0 AS (INSERT INTO incident SELECT * FROM json_populate_record(NULL::incident, %s::json)),
             new_1 AS (INSERT INTO call SELECT * FROM json_populate_record(NULL::call, %s::json))
        INSERT INTO audit_log (at, …) SELECT at, … FROM json_populate_recordset(NULL::audit_log, %s::json)

    A few short parameters, so the driver prepares it once per connection. Foreign keys are
    checked at the end of the statement, so a row may refer to one inserted beside it."""
    rows = [f"INSERT INTO {table} SELECT * FROM json_populate_record(NULL::{table}, %s::json)" for table in tables]
    if audited:
        columns = ", ".join(c.name for c in AuditLog.__table__.columns if c.name != "id")
        last = (f"INSERT INTO audit_log ({columns}) SELECT {columns} "
                "FROM json_populate_recordset(NULL::audit_log, %s::json)")
    else:
        last = rows.pop()
    if not rows:
        return last
    return "WITH " + ", ".join(f"new_{n} AS ({row})" for n, row in enumerate(rows)) + " " + last


def insert_new(session: Session, objects: Iterable) -> None:
    """Insert new rows outside the ORM's flush, and write the audit rows the flush hook would
    have written for them — for the hot path (taking a call), where the unit of work's
    bookkeeping costs more than the statements. Objects are inserted in the order given (parents
    first); unset columns take their Python defaults; each object is then persistent in the
    session as if it had been loaded, so later changes to it flush, and are audited, as usual.

    On PostgreSQL, when every object has its primary key (taken beforehand from the sequences),
    the rows and their audit rows go in as one statement (:func:`_one_statement`): one round
    trip. Otherwise one INSERT … RETURNING per object gives the keys, and the audit rows follow
    in one executemany."""
    objects = list(objects)
    connection = session.connection()
    rows = [_column_values(obj) for obj in objects]
    pk_keys = [_insert_plan(type(obj))[1] for obj in objects]
    if connection.dialect.name == "postgresql" and all(getattr(o, k) is not None for o, k in zip(objects, pk_keys)):
        # Values are written as the audit log writes them (enums as their values, times in ISO
        # 8601 with their offset); PostgreSQL casts each to its column's type.
        audit_rows = [_created(session, obj) for obj in objects if getattr(obj, "__auditable__", False)]
        # The rows' documents only become typed columns, so the faster encoder serves them (the
        # same values); the audit rows' text is kept as the flush writes it (json.dumps).
        params = [orjson.dumps({column.name: value for column, value in row.items()}, default=_jsonable).decode()
                  for row in rows]
        if audit_rows:
            params.append(json.dumps(audit_rows, default=_jsonable))
        statement = _one_statement(tuple(type(o).__tablename__ for o in objects), bool(audit_rows))
        connection.exec_driver_sql(statement, tuple(params))
    else:
        audit_rows = []
        for obj, row, pk_key in zip(objects, rows, pk_keys):
            _, _, statement = _insert_plan(type(obj))
            values = {column.key: value for column, value in row.items()
                      if value is not None or not column.primary_key}
            setattr(obj, pk_key, connection.execute(statement, values).scalar_one())
            if getattr(obj, "__auditable__", False):
                audit_rows.append(_created(session, obj))
        if audit_rows:
            connection.execute(_INSERT, audit_rows)
    for obj in objects:
        make_transient_to_detached(obj)
        session.add(obj)


def record_updates(session: Session, cls: type, entity_ids: Iterable, before: dict, after: dict) -> None:
    """The audit rows of rows changed by one UPDATE statement outside the flush (a job that flags
    many incidents at once): for each id, the same ``{"before", "after"}`` row the flush hook
    writes, of the logged columns in ``before``/``after``."""
    logged = set(_columns_of(cls))
    pairs = {key: _changed(cls, key, before.get(key), after.get(key)) for key in after if key in logged}
    changes = {"before": {k: b for k, (b, _) in pairs.items()}, "after": {k: a for k, (_, a) in pairs.items()}}
    rows = [_log_row(session, cls.__tablename__, str(entity_id), AuditAction.UPDATE, changes) for entity_id in entity_ids]
    if rows:
        session.connection().execute(_INSERT, rows)


def record_read(
    session: Session, *, entity: str, entity_id: str | int, fields: list[str], purpose: str | None
) -> None:
    """Write one audit row for a read of personal data (who, which record, which fields, why)."""
    session.connection().execute(
        _INSERT,
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
        _INSERT,
        [{"at": utcnow(), "action": action, "entity": entity,
          "entity_id": None if entity_id is None else str(entity_id), "changes": detail,
          "purpose": None, **_actor_fields(session)}],
    )
