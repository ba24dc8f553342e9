"""The live stream of stage events (server-sent events) for the dispatcher's board.

The board's channel on :mod:`pingan.web.live`: one poller per process reads the new stage events
of the whole bureau about once a second, in one statement (:func:`repository.stream_events_unscoped`,
each event with its org unit's path and the users operating a unit sent to its incident), and
every connected stream sends those its actor may see (:func:`visible_to`, the rule of the
repository's ``_event_visible`` applied in memory) as ``event: stage`` with JSON data
``{event_id, incident_id, stage, assignment_id, at}``. However many boards are open, a process
asks the database once a tick; with none open, not at all.

Ids are handed out before commit, so on PostgreSQL a lower id can become visible after a higher
one: the poller looks back ``LOOKBACK_IDS`` ids and skips what it has already sent. A heartbeat
comment goes out every 15 s; ``Last-Event-ID`` resumes after a reconnect (from the poller's memory
of the last ids, or one read of the missing range); the server ends a stream after
``max_seconds`` and the browser's EventSource reconnects by itself.

Bounds (issue 12):

- A ``Last-Event-ID`` more than ``REPLAY_LIMIT_IDS`` ids behind the newest event (ids are shared by
  every jurisdiction, so this is a bound on the work, not on what the actor sees), or ahead of it
  (a database restored, another deployment's id), is not replayed: the stream sends one
  ``event: snapshot`` (data ``{event_id}``, the newest id) and goes on from there; the page
  reloads its list instead, as it does on every reconnect. So does a stream whose client has
  fallen 2,000 events behind.
- At most ``MAX_STREAMS_PER_SESSION`` streams at once per session (the session token) in each
  web worker: the next one is refused with 429 and ``Retry-After`` (bilingual message), rather
  than closing the oldest — two tabs taking turns to close each other would reconnect forever.
  The board's script tries again after a while. The count is per worker process (the streams
  live in its event loop); with W workers a session can hold at most W × the limit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from fastapi import Request

from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.incident import repository
from pingan.web import live
from pingan.web.live import (  # noqa: F401  (the board's bounds, named here as its docstring does)
    BUSY_RETRY_SECONDS,
    MAX_STREAMS_PER_SESSION,
    LiveStream,
    TooManyStreams,
    session_key,
    slots,
)

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
LOOKBACK_IDS = 200
RETRY_MS = 3000
REPLAY_LIMIT_IDS = 2000

# The repository's poll, called in this one place.
channel = live.hub.channel(
    "incident.stage",
    poll=lambda *, db, after, limit: repository.stream_events_unscoped(db=db, after=after, limit=limit),
    latest=lambda *, db: repository.latest_event_id_unscoped(db=db),
    poll_seconds=POLL_SECONDS, lookback_ids=LOOKBACK_IDS, keep_ids=REPLAY_LIMIT_IDS,
)


def visible_to(actor: Actor) -> Callable[[repository.StreamEvent], bool]:
    """Whether the actor may see a stage event, in memory: its org unit is in the actor's subtree,
    or (an officer operating a duty unit) their unit was sent to its incident — the repository's
    ``_event_visible`` (``tests/incident/test_stream.py`` checks they agree)."""
    actor.require(Perm.INCIDENT_READ)
    prefix = actor.org_path
    operator = actor.user_id if actor.user_id is not None and actor.can(Perm.ASSIGNMENT_OWN) else None

    def visible(event: repository.StreamEvent) -> bool:
        return (event.org_path is not None and event.org_path.startswith(prefix)) or operator in event.operators

    return visible


def render(event: repository.StreamEvent) -> dict:
    return {"event_id": event.id, "incident_id": event.incident_id, "stage": event.stage,
            "assignment_id": event.assignment_id, "at": event.at.isoformat()}


def open_stream(request: Request, actor: Actor, *, last_event_id: int | None, max_seconds: float) -> LiveStream:
    """The actor's stream, within the session's limit (:class:`TooManyStreams`, 429, otherwise)."""
    visible = visible_to(actor)
    return live.open_stream(request, lambda: stage_events(actor, last_event_id=last_event_id,
                                                          is_disconnected=request.is_disconnected,
                                                          max_seconds=max_seconds, visible=visible))


def stage_events(
    actor: Actor, *, last_event_id: int | None, is_disconnected: Callable, max_seconds: float = 300.0,
    visible: Callable[[repository.StreamEvent], bool] | None = None,
) -> AsyncIterator[str]:
    """SSE text of the actor's new stage events until the client goes away or time is up."""
    return live.sse(channel, visible=visible or visible_to(actor), render=render, kind="stage",
                    last_event_id=last_event_id, is_disconnected=is_disconnected, max_seconds=max_seconds,
                    replay_limit=REPLAY_LIMIT_IDS, poll_seconds=POLL_SECONDS, heartbeat_seconds=HEARTBEAT_SECONDS,
                    retry_ms=RETRY_MS)
