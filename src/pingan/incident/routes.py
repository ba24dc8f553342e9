"""JSON API of the incident domain (接处警), under /api/v1. Thin: each handler calls one service
or repository function; permissions are declared with ``require``; jurisdiction is in the query."""

from __future__ import annotations

from typing import Annotated

import anyio
from anyio.lowlevel import RunVar
from fastapi import Depends, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.config import get_settings
from pingan.db.types import MAX_ID
from pingan.db.unit_of_work import unit_of_work
from pingan.errors import ValidationFailed, not_found
from pingan.incident import dispatch, repository, service, stream
from pingan.incident.models import Incident, Stage
from pingan.incident.schemas import (
    AdvanceRequest,
    AssignmentRead,
    AssignRequest,
    CallbackCreate,
    CallbackRead,
    CallCreate,
    CallerContactRead,
    CallerContactRequest,
    CallerRead,
    CallRead,
    CategoryRead,
    CloseRequest,
    IncidentCreate,
    IncidentDetail,
    IncidentPage,
    IncidentRead,
    MergeRequest,
    PositionUpdate,
    ResolveRequest,
    StageEventRead,
    UnitPositionRead,
    UnitRecommendationRead,
)
from pingan.org.models import UnitKind
from pingan.web.context import request_id_var
from pingan.web.deps import (
    Credentials,
    OptionalHeader,
    actor_from,
    credentials_for,
    current_actor,
    get_db,
    require,
)
from pingan.web.params import Moment
from pingan.web.routing import api_router

router = api_router(tags=["incidents"])

Id = Annotated[int, Path(ge=1, le=MAX_ID)]

_ERRORS = {403: {"description": "role may not do this"}, 404: {"description": "not found or outside jurisdiction"},
           409: {"description": "refused in the current state"}, 422: {"description": "invalid input"}}


def _detail(db: Session, actor: Actor, incident) -> IncidentDetail:
    units = repository.assignment_units(db=db, actor=actor, incident_id=incident.id)
    return IncidentDetail.model_validate(incident).model_copy(update={
        "timeline": [StageEventRead.model_validate(e)
                     for e in repository.timeline(db=db, actor=actor, incident_id=incident.id)],
        "assignments": [AssignmentRead.build(a, units.get(a.unit_id))
                        for a in repository.assignments_of(db=db, actor=actor, incident_id=incident.id)],
        "calls": [CallRead.model_validate(c) for c in repository.calls_of(db=db, actor=actor, incident_id=incident.id)],
        "callbacks": [CallbackRead.model_validate(c)
                      for c in repository.callbacks_of(db=db, actor=actor, incident_id=incident.id)],
    })


_IDEMPOTENCY_KEY = OptionalHeader("Idempotency-Key", min_length=1, max_length=80)


@router.post("/incidents", response_model=IncidentRead, status_code=201,
             responses={200: {"description": "idempotent replay: the incident created earlier with this key",
                              "model": IncidentRead}, **_ERRORS},
             openapi_extra=_IDEMPOTENCY_KEY.openapi())
async def create_incident(
    request: Request,
    body: IncidentCreate,
    credentials: Credentials = Depends(credentials_for(Perm.INCIDENT_CREATE)),
) -> Response:
    """Take a call (接警). Repeating a request with the same ``Idempotency-Key`` (header or body)
    returns the incident created the first time, with status 200."""
    idempotency_key = _IDEMPOTENCY_KEY.read(request)
    if idempotency_key is not None:
        if body.idempotency_key is not None and body.idempotency_key != idempotency_key:
            raise ValidationFailed("请求头与请求体中的幂等键不一致", "The Idempotency-Key header and body disagree",
                                   field="idempotency_key")
        body = body.model_copy(update={"idempotency_key": idempotency_key})
    # The hot path: authentication, the call and the commit in one thread-pool call, at most
    # ``intake_concurrency`` of them at a time in this worker (the rest wait on the event loop).
    return await anyio.to_thread.run_sync(_take_call, credentials, body, limiter=_intake_limiter())


_limiter: RunVar[anyio.CapacityLimiter] = RunVar("pingan_intake_limiter")


def _intake_limiter() -> anyio.CapacityLimiter:
    """How many calls a worker takes at once (``PINGAN_INTAKE_CONCURRENCY``). Taking a call is
    mostly Python holding the GIL with a few database round trips in between: two threads per
    worker keep the core busy, while forty (the default pool) fight for the GIL and the tail
    grows — at 16 connections on 2 cores p99 91–129 ms with the default pool, 55–63 ms with two
    (bench/intake.py, alternating, same throughput). One per event loop, as anyio's own pool."""
    try:
        return _limiter.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(get_settings().intake_concurrency)
        _limiter.set(limiter)
        return limiter


def _take_call(credentials: Credentials, body: IncidentCreate) -> Response:
    with unit_of_work(request_id=request_id_var.get()) as db:  # committed before the response exists
        actor = actor_from(db, credentials)
        incident, created = service.create_incident(db=db, actor=actor, data=body)
        # Serialised once, here: a Response is not validated again against ``response_model``
        # (which stays for the API's documentation).
        content = IncidentRead.model_validate(incident).model_dump_json()
    return Response(content, status_code=201 if created else 200, media_type="application/json")


@router.get("/incidents", response_model=IncidentPage, responses=_ERRORS)
def list_incidents(
    stage: list[Stage] | None = Query(None, description="one or more stages"),
    priority: int | None = Query(None, ge=1, le=4),
    category: str | None = Query(None, max_length=8),
    since: Moment | None = Query(None, description="ISO 8601; without a time zone, the bureau's local time; years 1900–2200"),
    until: Moment | None = Query(None, description="ISO 8601; without a time zone, the bureau's local time; years 1900–2200"),
    q: str | None = Query(None, max_length=80, description=(
        "an incident number (any age), or text in the location or description: received since "
        "`since`, or in the last 90 days without it")),
    limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=10_000_000),
    actor: Actor = Depends(require(Perm.INCIDENT_READ)), db: Session = Depends(get_db),
) -> IncidentPage:
    rows, total = repository.list_incidents(db=db, actor=actor, stages=stage, priority=priority, category=category,
                                            since=since, until=until, q=q, limit=limit, offset=offset)
    return IncidentPage(total=total, items=[IncidentRead.model_validate(r) for r in rows])


@router.get("/incidents/categories", response_model=list[CategoryRead])
def list_categories(actor: Actor = Depends(require(Perm.INCIDENT_READ)), db: Session = Depends(get_db)):
    """The incident category code table (警情类别)."""
    return [CategoryRead.model_validate(c) for c in repository.list_categories_unscoped(db=db)]


@router.get("/incidents/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "server-sent events"},
                       429: {"description": "too many live streams open for this session"}})
async def stream_events(
    request: Request,
    last_event_id: int | None = Query(None, ge=0, description="resume after this event id"),
    max_seconds: float = Query(300.0, ge=0, le=3600, description="the server ends the stream after this"),
    last_event_id_header: str | None = Header(None, alias="Last-Event-ID"),
    actor: Actor = Depends(require(Perm.INCIDENT_READ)),
):
    """Stage events as they happen (server-sent events, ``event: stage``); ``event: snapshot`` when
    the resume point is too far behind to replay (reload the list). At most three streams at once
    per session (429 beyond)."""
    resume = last_event_id
    if last_event_id_header and last_event_id_header.strip().isascii() and last_event_id_header.strip().isdigit():
        resume = int(last_event_id_header.strip())
    return stream.open_stream(request, actor, last_event_id=resume, max_seconds=max_seconds)


@router.get("/incidents/{incident_id}", response_model=IncidentDetail, responses=_ERRORS)
def get_incident(incident_id: Id, actor: Actor = Depends(require(Perm.INCIDENT_READ)),
                 db: Session = Depends(get_db)) -> IncidentDetail:
    incident = repository.get_incident(db=db, actor=actor, incident_id=incident_id)
    if incident is None:
        raise not_found(Incident)
    return _detail(db, actor, incident)


@router.post("/incidents/{incident_id}/calls", response_model=CallRead, status_code=201, responses=_ERRORS)
def add_call(incident_id: Id, body: CallCreate, actor: Actor = Depends(require(Perm.INCIDENT_CREATE)),
             db: Session = Depends(get_db)):
    """Another call about the same incident (重复来电)."""
    return CallRead.model_validate(service.add_call(db=db, actor=actor, incident_id=incident_id, data=body))


@router.post("/incidents/{incident_id}/merge", response_model=IncidentDetail, responses=_ERRORS)
def merge(incident_id: Id, body: MergeRequest, actor: Actor = Depends(require(Perm.INCIDENT_DISPATCH)),
          db: Session = Depends(get_db)):
    """Merge the duplicate ``source_id`` into this incident (警情合并)."""
    target = service.merge_incidents(db=db, actor=actor, target_id=incident_id, source_id=body.source_id)
    return _detail(db, actor, target)


@router.post("/incidents/{incident_id}/accept", response_model=IncidentRead, responses=_ERRORS)
def accept(incident_id: Id, actor: Actor = Depends(require(Perm.INCIDENT_DISPATCH)), db: Session = Depends(get_db)):
    """Accept (签收)."""
    return IncidentRead.model_validate(service.accept(db=db, actor=actor, incident_id=incident_id))


@router.get("/incidents/{incident_id}/recommendations", response_model=list[UnitRecommendationRead],
            responses=_ERRORS)
def recommendations(incident_id: Id, limit: int = Query(5, ge=1, le=50),
                    kind: list[UnitKind] | None = Query(None),
                    actor: Actor = Depends(require(Perm.INCIDENT_DISPATCH)), db: Session = Depends(get_db)):
    """The nearest available units by estimated travel time (警力推荐)."""
    recs = dispatch.recommend_for_incident(db=db, actor=actor, incident_id=incident_id, limit=limit, kinds=kind)
    return [UnitRecommendationRead.model_validate(r) for r in recs]


@router.post("/incidents/{incident_id}/assignments", response_model=AssignmentRead, status_code=201,
             responses=_ERRORS)
def assign(incident_id: Id, body: AssignRequest, actor: Actor = Depends(require(Perm.INCIDENT_DISPATCH)),
           db: Session = Depends(get_db)):
    """Send a unit (派警). 409 when another dispatcher has just taken it."""
    assignment = service.assign_unit(db=db, actor=actor, incident_id=incident_id, unit_id=body.unit_id)
    units = repository.assignment_units(db=db, actor=actor, incident_id=incident_id)
    return AssignmentRead.build(assignment, units.get(assignment.unit_id))


@router.post("/assignments/{assignment_id}/advance", response_model=AssignmentRead, responses=_ERRORS)
def advance(assignment_id: Id, body: AdvanceRequest, actor: Actor = Depends(current_actor),
            db: Session = Depends(get_db)):
    """Move an assignment on: departed / arrived / cleared / cancelled. A patrol officer moves
    their own unit's; dispatchers any in their jurisdiction."""
    assignment = service.advance_assignment(db=db, actor=actor, assignment_id=assignment_id, to=body.to)
    return AssignmentRead.model_validate(assignment)


@router.post("/incidents/{incident_id}/resolve", response_model=IncidentRead, responses=_ERRORS)
def resolve(incident_id: Id, body: ResolveRequest | None = None,
            actor: Actor = Depends(require(Perm.INCIDENT_CLOSE)), db: Session = Depends(get_db)):
    """Mark handled (处置完毕)."""
    note = body.note if body else None
    return IncidentRead.model_validate(service.resolve(db=db, actor=actor, incident_id=incident_id, note=note))


@router.post("/incidents/{incident_id}/close", response_model=IncidentRead, responses=_ERRORS)
def close(incident_id: Id, body: CloseRequest, actor: Actor = Depends(require(Perm.INCIDENT_CLOSE)),
          db: Session = Depends(get_db)):
    """Close with a disposition (结警)."""
    incident = service.close(db=db, actor=actor, incident_id=incident_id, disposition=body.disposition,
                             note=body.note)
    return IncidentRead.model_validate(incident)


@router.post("/incidents/{incident_id}/callbacks", response_model=CallbackRead, status_code=201, responses=_ERRORS)
def callback(incident_id: Id, body: CallbackCreate, actor: Actor = Depends(require(Perm.INCIDENT_CALLBACK)),
             db: Session = Depends(get_db)):
    """Record a satisfaction callback (回访)."""
    cb = service.record_callback(db=db, actor=actor, incident_id=incident_id, satisfaction=body.satisfaction,
                                 note=body.note)
    return CallbackRead.model_validate(cb)


@router.post("/incidents/{incident_id}/caller-contact", response_model=CallerContactRead, responses=_ERRORS)
def caller_contact(incident_id: Id, body: CallerContactRequest,
                   actor: Actor = Depends(require(Perm.PERSONAL_READ)), db: Session = Depends(get_db)):
    """The caller's name and phone unmasked. The read and its purpose go to the audit log."""
    contact = repository.get_caller_contact(db=db, actor=actor, incident_id=incident_id, purpose=body.purpose)
    return CallerContactRead(
        incident_id=contact.incident_id, caller_name=contact.caller_name, caller_phone=contact.caller_phone,
        calls=[CallerRead(call_id=i, caller_name=n, caller_phone=p) for i, n, p in contact.calls],
    )


@router.post("/units/{unit_id}/position", response_model=UnitPositionRead, responses=_ERRORS)
def unit_position(unit_id: Id, body: PositionUpdate, actor: Actor = Depends(current_actor),
                  db: Session = Depends(get_db)):
    """Report a unit's position: its operator (patrol officer) or a unit manager."""
    unit = service.update_unit_position(db=db, actor=actor, unit_id=unit_id, lat=body.lat, lon=body.lon)
    return UnitPositionRead.model_validate(unit)
