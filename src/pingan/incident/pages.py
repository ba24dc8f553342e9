"""HTML pages of the incident domain (接处警): the call-taker's form, the dispatcher's board, the
incident list and detail, and the patrol officer's page.

Pages are thin: they parse the form, call one service or repository function and render. Every
read goes through ``incident.repository`` (filtered to the actor's jurisdiction) and every change
through ``incident.service``, run by ``web.actions`` in a savepoint; a refused action is rendered
where it was asked for, in Chinese and English. The buttons shown are the actions the state
machines of ``incident.models`` allow the actor on the record (``allowed_actions``).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.config import get_settings
from pingan.db.types import MAX_ID, utcnow
from pingan.errors import DomainError, NotFound, ValidationFailed, not_found
from pingan.geo.models import ZONE_TARGET_SECONDS
from pingan.incident import dispatch, repository, service
from pingan.incident.models import (
    ASSIGNMENT_STATES,
    INCIDENT_STAGES,
    AssignmentStatus,
    Disposition,
    Incident,
    Priority,
    Satisfaction,
    Stage,
    UnitTask,
    timeline_entry,
)
from pingan.incident.schemas import (
    AssignmentRead,
    CallbackRead,
    CallCreate,
    CallRead,
    IncidentCreate,
    IncidentRead,
)
from pingan.org import repository as org_repository
from pingan.web.actions import attempt, form_action, is_htmx
from pingan.web.deps import get_db, require
from pingan.web.params import PathId, ascii_id, local_day
from pingan.web.templating import render
from pingan.web.validation import translate_errors
from pingan.web.routing import api_router

router = api_router()

PAGE_SIZE = 50
# Stage durations shown on the detail page: (from column, to column, 中文, English)
STAGE_SPANS = [
    ("received_at", "accepted_at", "接警→签收", "received → accepted"),
    ("accepted_at", "dispatched_at", "签收→派警", "accepted → dispatched"),
    ("dispatched_at", "departed_at", "派警→出警", "dispatched → departed"),
    ("departed_at", "arrived_at", "出警→到场", "departed → arrived"),
    ("arrived_at", "resolved_at", "到场→处置完毕", "arrived → resolved"),
    ("resolved_at", "closed_at", "处置完毕→结警", "resolved → closed"),
]


def _page(request: Request, name: str, context: dict, status_code: int = 200):
    return render(request, name, {"Stage": Stage, "Priority": Priority, "AssignmentStatus": AssignmentStatus, **context},
                  status_code)


def _zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def _categories(db: Session) -> dict:
    """{code: category} and the two-level tree [{code, name, name_en, subs: [...]}, ...]."""
    rows = repository.list_categories_unscoped(db=db)
    by_code = {c.code: c for c in rows}
    tree = [{"code": c.code, "name": c.name, "name_en": c.name_en,
             "subs": [{"code": s.code, "name": s.name, "name_en": s.name_en} for s in rows if s.parent_code == c.code]}
            for c in rows if c.parent_code is None]
    return {"by_code": by_code, "tree": tree}


def _accept_target(priority: int) -> int | None:
    return get_settings().accept_target_seconds.get(priority)


def _board_item(incident: Incident, org_names: dict[int, str], now: datetime) -> dict:
    read = IncidentRead.model_validate(incident)
    return {
        "inc": read, "org_name": org_names.get(incident.org_unit_id, ""),
        "elapsed": (now - incident.received_at).total_seconds(),
        "target": _accept_target(incident.priority) if incident.stage == Stage.RECEIVED else None,
    }


# --- the call-taker's page (接警) ----------------------------------------------------------


def _nearby_open(db: Session, actor: Actor, *, lat: float | None, lon: float | None,
                 address_id: int | None) -> list[dict]:
    """The open incidents the call may be about (service.merge_candidates), for the form."""
    return [{"inc": IncidentRead.model_validate(c.incident), "same": c.same_address, "distance": c.distance_m}
            for c in service.merge_candidates(db=db, actor=actor, lat=lat, lon=lon, address_id=address_id)]


def _float(value: str | None) -> float | None:
    try:
        result = float(value) if value not in (None, "") else None
    except ValueError:
        return None
    return result if result is not None and -180 <= result <= 180 else None


_int = ascii_id  # an id typed into a form: ASCII digits, within the database's integer


def _field_errors(exc: ValidationError) -> dict[str, tuple[str, str]]:
    errors: dict[str, tuple[str, str]] = {}
    for err in translate_errors(exc.errors()):
        field = err["field"] or "_form"
        zh = err["message"].split("：", 1)[-1] if err["field"] else err["message"]
        en = err["message_en"].split(": ", 1)[-1] if err["field"] else err["message_en"]
        errors.setdefault(field, (zh, en))
    return errors


def _call_form(request: Request, db: Session, actor: Actor, *, values: dict | None = None,
               errors: dict | None = None, created: Incident | None = None, added: Incident | None = None,
               status_code: int = 200):
    values = values or {}
    nearby = _nearby_open(db, actor, lat=_float(values.get("pick_lat")), lon=_float(values.get("pick_lon")),
                          address_id=_int(values.get("address_id"))) if values else []
    cats = _categories(db)
    return _page(request, "incident/new.html", {
        "values": values, "errors": errors or {}, "categories": cats["tree"], "category_names": cats["by_code"],
        "created": IncidentRead.model_validate(created) if created else None,
        "added": IncidentRead.model_validate(added) if added else None,
        "nearby": nearby, "merge_into": _int(values.get("merge_into")),
    }, status_code)


@router.get("/incidents/new")
def new_call(request: Request, created: int | None = Query(None, ge=1, le=MAX_ID),
             added: int | None = Query(None, ge=1, le=MAX_ID),
             actor: Actor = Depends(require(Perm.INCIDENT_CREATE)), db: Session = Depends(get_db)):
    """接警：键盘优先的来电录入。"""
    shown = {}
    for key, incident_id in (("created", created), ("added", added)):
        if incident_id is not None:
            shown[key] = repository.get_incident(db=db, actor=actor, incident_id=incident_id)
    return _call_form(request, db, actor, **shown)


@router.post("/incidents/new")
def take_call(
    request: Request,
    caller_phone: str = Form(""), caller_name: str = Form(""), location_text: str = Form(""),
    address_id: str = Form(""), pick_lat: str = Form(""), pick_lon: str = Form(""),
    category_top: str = Form(""), category_code: str = Form(""), priority: str = Form(""),
    description: str = Form(""), merge_into: str = Form(""), chosen_text: str = Form(""),
    actor: Actor = Depends(require(Perm.INCIDENT_CREATE)), db: Session = Depends(get_db),
):
    """Create the incident, or add the call to an open one nearby (重复来电并入)."""
    values = {"caller_phone": caller_phone, "caller_name": caller_name, "location_text": location_text,
              "address_id": address_id, "pick_lat": pick_lat, "pick_lon": pick_lon, "category_top": category_top,
              "category_code": category_code, "priority": priority, "description": description,
              "merge_into": merge_into, "chosen_text": chosen_text[:255]}
    target = _int(merge_into)

    def take():
        if target is not None:
            data = CallCreate(caller_phone=caller_phone or None, caller_name=caller_name or None,
                              location_text=location_text, description=description)
            service.add_call(db=db, actor=actor, incident_id=target, data=data)
            return f"/incidents/new?added={target}"
        data = IncidentCreate(caller_phone=caller_phone or None, caller_name=caller_name or None,
                              location_text=location_text, address_id=_int(address_id),
                              category_code=category_code or category_top, priority=priority,
                              description=description)
        incident, _created = service.create_incident(db=db, actor=actor, data=data)
        return f"/incidents/new?created={incident.id}"

    def refused(exc: DomainError):
        field = exc.field if exc.field in values or exc.field == "address_id" else "_form"
        if target is not None and field == "_form":
            field = "merge_into"
        return _call_form(request, db, actor, values=values, errors={field: (exc.zh, exc.en)},
                          status_code=exc.status_code)

    try:
        return form_action(db, take, done=lambda url: RedirectResponse(url, status_code=303), refused=refused)
    except ValidationError as exc:
        return _call_form(request, db, actor, values=values, errors=_field_errors(exc), status_code=422)


@router.get("/incidents/new/nearby")
def nearby_fragment(request: Request, lat: str = Query("", max_length=30), lon: str = Query("", max_length=30),
                    address_id: str = Query("", max_length=18),
                    actor: Actor = Depends(require(Perm.INCIDENT_CREATE)), db: Session = Depends(get_db)):
    """Open incidents near the chosen address, to add the call to one of them (htmx fragment)."""
    nearby = _nearby_open(db, actor, lat=_float(lat), lon=_float(lon), address_id=_int(address_id))
    cats = _categories(db)
    return _page(request, "incident/_nearby.html",
                 {"nearby": nearby, "merge_into": None, "category_names": cats["by_code"], "errors": {}})


# --- the dispatcher's board (指挥调度台) -----------------------------------------------------


def _board_context(db: Session, actor: Actor) -> dict:
    rows = repository.list_open_for_board(db=db, actor=actor)
    org_names = org_repository.org_unit_names_unscoped(db=db, org_unit_ids=[r.org_unit_id for r in rows])
    now = utcnow()
    items = [_board_item(r, org_names, now) for r in rows]
    # overdue first, then by priority; within a priority, what still waits for acceptance first
    items.sort(key=lambda i: (not i["inc"].overdue, i["inc"].priority, i["inc"].stage != Stage.RECEIVED,
                              -i["inc"].received_at.timestamp()))
    summary = {
        "open": len(items),
        "unaccepted": sum(1 for i in items if i["inc"].stage == Stage.RECEIVED),
        "overdue": sum(1 for i in items if i["inc"].overdue),
        "p1": sum(1 for i in items if i["inc"].priority == 1),
        "on_scene": sum(1 for i in items if i["inc"].stage == Stage.ARRIVED),
    }
    cats = _categories(db)
    return {"items": items, "summary": summary, "category_names": cats["by_code"]}


@router.get("/incidents/board")
def board(request: Request, actor: Actor = Depends(require(Perm.INCIDENT_READ)), db: Session = Depends(get_db)):
    """警情看板：未结警情列表 + 地图，实时更新。"""
    return _page(request, "incident/board.html", _board_context(db, actor))


@router.get("/incidents/board/rows")
def board_rows(request: Request, actor: Actor = Depends(require(Perm.INCIDENT_READ)),
               db: Session = Depends(get_db)):
    """The board's rows (htmx fragment), fetched again on every stage event."""
    return _page(request, "incident/_board_rows.html", _board_context(db, actor))


# --- the incident list (警情列表) -----------------------------------------------------------


@router.get("/incidents")
def incident_list(
    request: Request,
    stage: str = Query("", max_length=20), priority: str = Query("", max_length=2),
    category: str = Query("", max_length=8), since: str = Query("", max_length=10),
    until: str = Query("", max_length=10), q: str = Query("", max_length=80), page: int = Query(1, ge=1, le=100_000),
    actor: Actor = Depends(require(Perm.INCIDENT_READ)), db: Session = Depends(get_db),
):
    """警情列表：按环节、级别、类别、日期、关键字筛选，分页。"""
    problems = []
    stages = [Stage(stage)] if stage in {s.value for s in Stage} else None
    prio = int(priority) if priority in ("1", "2", "3", "4") else None
    since_day, until_day = local_day(since), local_day(until)
    if since and since_day is None:
        problems.append(("起始日期格式应为 年-月-日（1900–2200 年）", "The from date must be YYYY-MM-DD, years 1900–2200"))
    if until and until_day is None:
        problems.append(("截止日期格式应为 年-月-日（1900–2200 年）", "The to date must be YYYY-MM-DD, years 1900–2200"))
    if since_day and until_day and since_day > until_day:
        problems.append(("起始日期晚于截止日期", "The from date is after the to date"))
    zone = _zone()
    since_at = datetime.combine(since_day, time.min, tzinfo=zone) if since_day else None
    until_at = datetime.combine(until_day + timedelta(days=1), time.min, tzinfo=zone) if until_day else None
    cats = _categories(db)
    category_code = category if category in cats["by_code"] else None
    rows, total = repository.list_incidents(db=db, actor=actor, stages=stages, priority=prio,
                                            category=category_code, since=since_at, until=until_at,
                                            q=q.strip() or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    org_names = org_repository.org_unit_names_unscoped(db=db, org_unit_ids=[r.org_unit_id for r in rows])
    filters = {"stage": stages[0].value if stages else "", "priority": str(prio or ""),
               "category": category_code or "", "since": since if since_day else "",
               "until": until if until_day else "", "q": q.strip()}
    pages = max(1, -(-total // PAGE_SIZE))

    def page_url(n: int) -> str:
        return "/incidents?" + urlencode({**{k: v for k, v in filters.items() if v}, "page": n})

    return _page(request, "incident/list.html", {
        "rows": [{"inc": IncidentRead.model_validate(r), "org_name": org_names.get(r.org_unit_id, "")} for r in rows],
        "total": total, "page": page, "pages": pages, "page_url": page_url, "filters": filters,
        "problems": problems, "categories": cats["tree"], "category_names": cats["by_code"],
    })


# --- the incident detail (警情详情) and its actions -----------------------------------------


def _load(db: Session, actor: Actor, incident_id: int) -> Incident:
    incident = repository.get_incident(db=db, actor=actor, incident_id=incident_id)
    if incident is None:
        raise not_found(Incident)
    return incident


def _panel_context(db: Session, actor: Actor, incident: Incident, *, error: DomainError | None = None,
                   section: str | None = None) -> dict:
    read = IncidentRead.model_validate(incident)
    events = repository.timeline(db=db, actor=actor, incident_id=incident.id)
    assignments = repository.assignments_of(db=db, actor=actor, incident_id=incident.id)
    units = repository.assignment_units(db=db, actor=actor, incident_id=incident.id) if assignments else {}
    calls = repository.calls_of(db=db, actor=actor, incident_id=incident.id)
    callbacks = repository.callbacks_of(db=db, actor=actor, incident_id=incident.id)
    names = org_repository.user_display_names_unscoped(
        db=db, user_ids=[e.actor_id for e in events] + [c.by_id for c in callbacks] + [c.taker_id for c in calls])
    org_names = org_repository.org_unit_names_unscoped(db=db, org_unit_ids=[incident.org_unit_id])
    timeline = []
    previous = None
    for e in events:
        timeline.append({"event": e, "what": timeline_entry(e.stage, e.assignment_id),
                         "actor": names.get(e.actor_id) if e.actor_id else None,
                         "since_previous": (e.at - previous).total_seconds() if previous else None,
                         "since_received": (e.at - incident.received_at).total_seconds()})
        previous = e.at
    spans = []
    for start, end, zh, en in STAGE_SPANS:
        a, b = getattr(incident, start), getattr(incident, end)
        if a is not None and b is not None:
            spans.append({"zh": zh, "en": en, "seconds": (b - a).total_seconds()})
    arrival_target = ZONE_TARGET_SECONDS.get(incident.zone_class) if incident.zone_class else None
    arrival_seconds = (incident.arrived_at - incident.received_at).total_seconds() if incident.arrived_at else None
    actions = INCIDENT_STAGES.allowed_actions(actor, incident)
    recommendations = []
    if "assign" in actions:
        recommendations = dispatch.recommend_for_incident(db=db, actor=actor, incident_id=incident.id, limit=5)
    cats = _categories(db)
    return {
        "inc": read, "category_names": cats["by_code"], "org_name": org_names.get(incident.org_unit_id, ""),
        "timeline": timeline, "spans": spans, "arrival_target": arrival_target, "arrival_seconds": arrival_seconds,
        "accept_target": _accept_target(incident.priority),
        "assignments": [{"a": AssignmentRead.build(a, units.get(a.unit_id)),
                         "actions": ASSIGNMENT_STATES.allowed_actions(actor, UnitTask.of(a, units.get(a.unit_id)))}
                        for a in assignments],
        "calls": [{"call": CallRead.model_validate(c), "taker": names.get(c.taker_id)} for c in calls],
        "callbacks": [{"cb": CallbackRead.model_validate(c), "by": names.get(c.by_id)} for c in callbacks],
        "recommendations": recommendations, "actions": actions,
        "can_reveal": actor.can(Perm.PERSONAL_READ),
        "dispositions": list(Disposition), "satisfactions": list(Satisfaction),
        "error": error, "section": section,
    }


def _detail_response(request: Request, db: Session, actor: Actor, incident_id: PathId, *,
                     error: DomainError | None = None, section: str | None = None, contact=None,
                     contact_error: DomainError | None = None):
    incident = _load(db, actor, incident_id)
    context = _panel_context(db, actor, incident, error=error, section=section)
    context.update({"contact": contact, "contact_error": contact_error})
    status = error.status_code if error else contact_error.status_code if contact_error else 200
    if is_htmx(request):
        return _page(request, "incident/_panel.html", context, status)
    return _page(request, "incident/detail.html", context, status)


@router.get("/incidents/{incident_id:int}")
def incident_detail(request: Request, incident_id: PathId, actor: Actor = Depends(require(Perm.INCIDENT_READ)),
                    db: Session = Depends(get_db)):
    """警情详情：时间轴、派警、处置、结警、回访。"""
    incident = _load(db, actor, incident_id)
    context = _panel_context(db, actor, incident)
    context.update({"contact": None, "contact_error": None})
    return _page(request, "incident/detail.html", context)


@router.get("/incidents/{incident_id:int}/panel")
def incident_panel(request: Request, incident_id: PathId, actor: Actor = Depends(require(Perm.INCIDENT_READ)),
                   db: Session = Depends(get_db)):
    """The live part of the detail page (htmx fragment), fetched again on the incident's stage events."""
    incident = _load(db, actor, incident_id)
    return _page(request, "incident/_panel.html", _panel_context(db, actor, incident))


def _act(request: Request, db: Session, actor: Actor, incident_id: PathId, section: str, action):
    """Run one action (web.actions); on success show the panel again (htmx) or redirect to the
    page; a refusal is shown in the section it came from."""
    def done(_result):
        if is_htmx(request):
            return _detail_response(request, db, actor, incident_id)
        return RedirectResponse(f"/incidents/{incident_id}", status_code=303)

    return form_action(db, action, done=done, refused=lambda exc: _detail_response(
        request, db, actor, incident_id, error=exc, section=section))


@router.post("/incidents/{incident_id:int}/accept")
def accept(request: Request, incident_id: PathId, actor: Actor = Depends(require(Perm.INCIDENT_DISPATCH)),
           db: Session = Depends(get_db)):
    return _act(request, db, actor, incident_id, "accept",
                lambda: service.accept(db=db, actor=actor, incident_id=incident_id))


@router.post("/incidents/{incident_id:int}/assign")
def assign(request: Request, incident_id: PathId, unit_id: str = Form(""),
           actor: Actor = Depends(require(Perm.INCIDENT_DISPATCH)), db: Session = Depends(get_db)):
    def run():
        unit = _int(unit_id)
        if unit is None:
            raise ValidationFailed("请选择要派出的警力", "Choose a unit to send", field="unit_id")
        service.assign_unit(db=db, actor=actor, incident_id=incident_id, unit_id=unit)

    return _act(request, db, actor, incident_id, "assign", run)


@router.post("/incidents/{incident_id:int}/assignments/{assignment_id:int}/advance")
def advance(request: Request, incident_id: PathId, assignment_id: PathId, to: str = Form(""),
            actor: Actor = Depends(require(Perm.INCIDENT_DISPATCH)), db: Session = Depends(get_db)):
    """A dispatcher moves or recalls (撤回) an assignment of this incident."""
    return _act(request, db, actor, incident_id, "assignments",
                lambda: service.advance_assignment(db=db, actor=actor, assignment_id=assignment_id, to=to))


@router.post("/incidents/{incident_id:int}/resolve")
def resolve(request: Request, incident_id: PathId, note: str = Form(""),
            actor: Actor = Depends(require(Perm.INCIDENT_CLOSE)), db: Session = Depends(get_db)):
    return _act(request, db, actor, incident_id, "resolve",
                lambda: service.resolve(db=db, actor=actor, incident_id=incident_id, note=note.strip()[:255] or None))


@router.post("/incidents/{incident_id:int}/close")
def close(request: Request, incident_id: PathId, disposition: str = Form(""), note: str = Form(""),
          actor: Actor = Depends(require(Perm.INCIDENT_CLOSE)), db: Session = Depends(get_db)):
    return _act(request, db, actor, incident_id, "close", lambda: service.close(
        db=db, actor=actor, incident_id=incident_id, disposition=disposition or None, note=note))


@router.post("/incidents/{incident_id:int}/callback")
def callback(request: Request, incident_id: PathId, satisfaction: str = Form(""), note: str = Form(""),
             actor: Actor = Depends(require(Perm.INCIDENT_CALLBACK)), db: Session = Depends(get_db)):
    return _act(request, db, actor, incident_id, "callback", lambda: service.record_callback(
        db=db, actor=actor, incident_id=incident_id, satisfaction=satisfaction, note=note))


@router.post("/incidents/{incident_id:int}/caller")
def reveal_caller(request: Request, incident_id: PathId, purpose: str = Form(""),
                  actor: Actor = Depends(require(Perm.PERSONAL_READ)), db: Session = Depends(get_db)):
    """Show the caller's name and phone: an audited read that needs a purpose (查看事由)."""
    def read():
        if len(purpose) > 200:
            raise ValidationFailed("查看事由不超过 200 字", "The purpose may have at most 200 characters",
                                   field="purpose")
        return repository.get_caller_contact(db=db, actor=actor, incident_id=incident_id, purpose=purpose)

    contact, error = attempt(db, read)
    if isinstance(error, NotFound):
        raise error
    if is_htmx(request):
        incident = _load(db, actor, incident_id)
        return _page(request, "incident/_caller.html",
                     {"inc": IncidentRead.model_validate(incident), "contact": contact, "contact_error": error,
                      "can_reveal": True, "purpose": purpose},
                     error.status_code if error else 200)
    return _detail_response(request, db, actor, incident_id, contact=contact, contact_error=error)


# --- the patrol officer's page (我的任务) ----------------------------------------------------


def _patrol_context(db: Session, actor: Actor, *, error: DomainError | None = None) -> dict:
    unit = org_repository.get_operated_unit(db=db, actor=actor)
    assignment = repository.assignment_for_operator(db=db, actor=actor) if unit else None
    incident = repository.get_incident(db=db, actor=actor, incident_id=assignment.incident_id) if assignment else None
    cats = _categories(db) if incident else {"by_code": {}}
    actions = ASSIGNMENT_STATES.allowed_actions(actor, UnitTask.of(assignment, unit)) if assignment else {}
    return {
        "unit": unit, "assignment": assignment, "inc": IncidentRead.model_validate(incident) if incident else None,
        "category_names": cats["by_code"], "actions": actions, "error": error,
        "arrival_target": ZONE_TARGET_SECONDS.get(incident.zone_class) if incident and incident.zone_class else None,
    }


@router.get("/patrol")
def patrol(request: Request, actor: Actor = Depends(require(Perm.ASSIGNMENT_OWN)), db: Session = Depends(get_db)):
    """巡逻民警的任务页（手机）：当前派警任务，出发 → 到达 → 完成，上报位置。"""
    return _page(request, "incident/patrol.html", _patrol_context(db, actor))


@router.get("/patrol/task")
def patrol_task(request: Request, actor: Actor = Depends(require(Perm.ASSIGNMENT_OWN)),
                db: Session = Depends(get_db)):
    """The current task (htmx fragment), fetched again when a stage event arrives."""
    return _page(request, "incident/_patrol_task.html", _patrol_context(db, actor))


@router.post("/patrol/assignments/{assignment_id:int}/advance")
def patrol_advance(request: Request, assignment_id: PathId, to: str = Form(""),
                   actor: Actor = Depends(require(Perm.ASSIGNMENT_OWN)), db: Session = Depends(get_db)):
    def answer(error: DomainError | None):
        status = error.status_code if error else 200
        if is_htmx(request):
            return _page(request, "incident/_patrol_task.html", _patrol_context(db, actor, error=error), status)
        if error is not None:
            return _page(request, "incident/patrol.html", _patrol_context(db, actor, error=error), status)
        return RedirectResponse("/patrol", status_code=303)

    return form_action(db, lambda: service.advance_assignment(db=db, actor=actor, assignment_id=assignment_id, to=to),
                       done=lambda _assignment: answer(None), refused=answer)
