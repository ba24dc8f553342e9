"""The live stream of stage events (server-sent events) for the dispatcher's board.

Each connection polls the stage-event table about once a second in a worker thread, through
:func:`repository.events_since` (so it sees only what the actor may see), and sends every new
event as ``event: stage`` with JSON data ``{event_id, incident_id, stage, at}``. Polling the
table rather than an in-process queue makes it work across workers and processes.

Ids are handed out before commit, so on PostgreSQL a lower id can become visible after a higher
one. After its first poll the stream therefore looks back ``LOOKBACK_IDS`` ids and skips what it
has already sent. A heartbeat comment goes out every 15 s; ``Last-Event-ID`` resumes after a
reconnect; the server ends a stream after ``max_seconds`` and the browser's EventSource
reconnects by itself.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Callable

from pingan.auth.actor import Actor
from pingan.db import session as db_session
from pingan.incident import repository

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
LOOKBACK_IDS = 200
RETRY_MS = 3000


def _read(actor: Actor, after: int | None, floor: int) -> tuple[list[dict], int]:
    """One poll in its own short session: (events after ``floor``, the latest id seen)."""
    db = db_session.get_sessionmaker()()
    try:
        if after is None:
            return [], repository.latest_event_id(db=db)
        events = repository.events_since(db=db, actor=actor, last_id=floor, limit=500)
        return [
            {"event_id": e.id, "incident_id": e.incident_id, "stage": e.stage,
             "assignment_id": e.assignment_id, "at": e.at.isoformat()}
            for e in events
        ], (events[-1].id if events else floor)
    finally:
        db.rollback()
        db.close()


def format_event(data: dict) -> str:
    return f"id: {data['event_id']}\nevent: stage\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def stage_events(
    actor: Actor, *, last_event_id: int | None, is_disconnected: Callable, max_seconds: float = 300.0,
) -> AsyncIterator[str]:
    """Yield SSE text for the actor's new stage events until the client goes away or time is up."""
    yield f"retry: {RETRY_MS}\n\n"
    started = time.monotonic()
    last_beat = started
    sent: deque[int] = deque(maxlen=4 * LOOKBACK_IDS)
    sent_set: set[int] = set()
    if last_event_id is None:
        _, last_event_id = await asyncio.to_thread(_read, actor, None, 0)  # a fresh stream starts from now
    start = high = last_event_id
    while True:
        # look back for events whose lower ids committed late, never before where the stream started
        floor = max(start, high - LOOKBACK_IDS)
        events, _ = await asyncio.to_thread(_read, actor, high, floor)
        for data in events:
            event_id = data["event_id"]
            if event_id in sent_set:
                continue
            if len(sent) == sent.maxlen:
                sent_set.discard(sent[0])
            sent.append(event_id)
            sent_set.add(event_id)
            high = max(high, event_id)
            yield format_event(data)
        now = time.monotonic()
        if now - last_beat >= HEARTBEAT_SECONDS:
            last_beat = now
            yield ": heartbeat\n\n"
        if now - started >= max_seconds or await is_disconnected():
            return
        if len(events) < 500:
            await asyncio.sleep(POLL_SECONDS)
