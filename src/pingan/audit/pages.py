"""HTML: the audit log for auditors (督察), filterable, with each change shown field by field."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from pingan.audit import repository
from pingan.audit.models import AuditAction
from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.config import get_settings
from pingan.db.labels import table_labels
from pingan.privacy import mask_name, mask_phone
from pingan.registry import audit_entities
from pingan.web.deps import get_db, require
from pingan.web.params import local_day
from pingan.web.templating import render
from pingan.web.routing import api_router

router = api_router()

PAGE_SIZE = 50

def _entity_labels() -> dict[str, tuple[str, str]]:
    """The audited tables (each module's list) with their names: the model's own ``__label__``,
    else the name its module gives."""
    own = table_labels()
    return {table: own.get(table, label) for table, label in audit_entities().items()}


# Fields of citizens' personal data: always masked on this page (an unmasked read goes through the
# one audited repository function of its domain, never through the log).
PERSONAL_FIELDS = {"caller_phone": mask_phone, "caller_name": mask_name}


_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$")


def _readable(value):
    """A recorded value as a reader wants it: UTC timestamps in local time."""
    if isinstance(value, str) and _ISO_TIME.match(value):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        return moment.astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%d %H:%M:%S")
    return value


def _masked(values: dict) -> dict:
    return {k: _readable(PERSONAL_FIELDS[k](v) if k in PERSONAL_FIELDS and isinstance(v, str) else v)
            for k, v in values.items()}


def _changes(entry) -> dict:
    """The entry's changes as rows for the page: [(field, before, after)], read fields, or other detail.
    Caller names and phones recorded in a change are masked like everywhere else."""
    changes = entry.changes or {}
    if not isinstance(changes, dict):
        return {"other": changes}
    before, after = changes.get("before"), changes.get("after")
    if isinstance(before, dict) or isinstance(after, dict):
        before, after = _masked(before or {}), _masked(after or {})
        keys = list(after) + [k for k in before if k not in after]
        return {"rows": [(k, before.get(k), after.get(k)) for k in keys],
                "has_before": bool(before), "has_after": bool(after)}
    if "fields" in changes:
        return {"fields": changes["fields"]}
    return {"pairs": list(_masked(changes).items())} if changes else {}


@router.get("/audit")
def audit_page(
    request: Request,
    action: str = Query("", max_length=20), entity: str = Query("", max_length=40),
    entity_id: str = Query("", max_length=40), actor_name: str = Query("", max_length=40),
    since: str = Query("", max_length=10), until: str = Query("", max_length=10),
    request_id: str = Query("", max_length=40), page: int = Query(1, ge=1, le=100_000),
    actor: Actor = Depends(require(Perm.AUDIT_READ)), db: Session = Depends(get_db),
):
    """审计日志：按操作、对象、操作人、日期、请求号筛选；修改前后逐字段显示。"""
    problems = []
    chosen_action = AuditAction(action) if action in {a.value for a in AuditAction} else None
    since_day, until_day = local_day(since), local_day(until)
    if since and since_day is None:
        problems.append(("起始日期格式应为 年-月-日（1900–2200 年）", "The from date must be YYYY-MM-DD, years 1900–2200"))
    if until and until_day is None:
        problems.append(("截止日期格式应为 年-月-日（1900–2200 年）", "The to date must be YYYY-MM-DD, years 1900–2200"))
    zone = ZoneInfo(get_settings().timezone)
    since_at = datetime.combine(since_day, time.min, tzinfo=zone) if since_day else None
    until_at = datetime.combine(until_day + timedelta(days=1), time.min, tzinfo=zone) if until_day else None
    filters = {"action": chosen_action.value if chosen_action else "", "entity": entity.strip(),
               "entity_id": entity_id.strip(), "actor_name": actor_name.strip(),
               "since": since if since_day else "", "until": until if until_day else "",
               "request_id": request_id.strip()}
    rows, total = repository.list_entries(
        db=db, actor=actor, action=chosen_action, entity=filters["entity"] or None,
        entity_id=filters["entity_id"] or None, actor_name=filters["actor_name"] or None, since=since_at,
        until=until_at, request_id=filters["request_id"] or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))

    def page_url(n: int) -> str:
        return "/audit?" + urlencode({**{k: v for k, v in filters.items() if v}, "page": n})

    def filter_url(**kw) -> str:
        return "/audit?" + urlencode({k: v for k, v in kw.items() if v})

    return render(request, "audit/log.html", {
        "entries": [{"e": e, "changes": _changes(e)} for e in rows], "total": total, "page": page,
        "pages": pages, "page_url": page_url, "filter_url": filter_url, "filters": filters, "problems": problems,
        "actions": AuditAction, "entity_labels": _entity_labels(),
    })
