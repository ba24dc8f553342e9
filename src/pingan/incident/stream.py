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

Bounds (issue 12):

- A ``Last-Event-ID`` more than ``REPLAY_LIMIT_IDS`` ids behind the newest event (ids are shared by
  every jurisdiction, so this is a bound on the work, not on what the actor sees), or ahead of it
  (a database restored, another deployment's id), is not replayed: the stream sends one
  ``event: snapshot`` (data ``{event_id}``, the newest id) and goes on from there; the page
  reloads its list instead, as it does on every reconnect.
- At most ``MAX_STREAMS_PER_SESSION`` streams at once per session (the session token) in each
  web worker: the next one is refused with 429 and ``Retry-After`` (bilingual message), rather
  than closing the oldest — two tabs taking turns to close each other would reconnect forever.
  The board's script tries again after a while. The count is per worker process (the streams
  live in its event loop); with W workers a session can hold at most W × the limit.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable

from fastapi import Request
from fastapi.responses import StreamingResponse

from pingan.auth.actor import Actor
from pingan.db import session as db_session
from pingan.errors import TooManyRequests
from pingan.incident import repository

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
LOOKBACK_IDS = 200
RETRY_MS = 3000
REPLAY_LIMIT_IDS = 2000
MAX_STREAMS_PER_SESSION = 3
BUSY_RETRY_SECONDS = 30


class TooManyStreams(TooManyRequests):
    code = "too_many_streams"
    retry_after = BUSY_RETRY_SECONDS


class StreamSlots:
    """Open streams per session in this worker. Used on the event loop's thread only (acquired by
    the async route, released when the response ends), so no lock."""

    def __init__(self) -> None:
        self.open: dict[str, int] = {}

    def acquire(self, key: str) -> None:
        held = self.open.get(key, 0)
        if held >= MAX_STREAMS_PER_SESSION:
            raise TooManyStreams(
                f"实时连接过多：每个登录会话最多同时 {MAX_STREAMS_PER_SESSION} 个，请关闭其他页面后重试",
                f"Too many live streams: at most {MAX_STREAMS_PER_SESSION} at once per session; "
                "close other pages and try again",
            )
        self.open[key] = held + 1

    def release(self, key: str) -> None:
        held = self.open.get(key, 0) - 1
        if held > 0:
            self.open[key] = held
        else:
            self.open.pop(key, None)


slots = StreamSlots()


def session_key(request: Request) -> str:
    """The session a stream belongs to: its token (bearer or cookie), hashed as the table keeps it."""
    from pingan.web.deps import _token_from

    token, _ = _token_from(request)
    return hashlib.sha256((token or "").encode()).hexdigest()


class StageEventStream(StreamingResponse):
    """The stream's response: it gives its slot back when it ends, however it ends (the client
    gone, the time up, the task cancelled) — or, should it never be sent, when it is collected."""

    def __init__(self, content, *, key: str, **kwargs) -> None:
        super().__init__(content, **kwargs)
        self._release = weakref.finalize(self, slots.release, key)

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def open_stream(request: Request, actor: Actor, *, last_event_id: int | None, max_seconds: float) -> StageEventStream:
    """The actor's stream, within the session's limit (:class:`TooManyStreams`, 429, otherwise)."""
    key = session_key(request)
    slots.acquire(key)
    try:
        return StageEventStream(
            stage_events(actor, last_event_id=last_event_id, is_disconnected=request.is_disconnected,
                         max_seconds=max_seconds),
            key=key, media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
    except BaseException:
        slots.release(key)
        raise


def _read(actor: Actor, after: int | None, floor: int) -> tuple[list[dict], int]:
    """One poll in its own short session: (events after ``floor``, the latest id seen)."""
    db = db_session.get_sessionmaker()()
    try:
        if after is None:
            return [], repository.latest_event_id_unscoped(db=db)
        events = repository.events_since(db=db, actor=actor, last_id=floor, limit=500)
        return [
            {"event_id": e.id, "incident_id": e.incident_id, "stage": e.stage,
             "assignment_id": e.assignment_id, "at": e.at.isoformat()}
            for e in events
        ], (events[-1].id if events else floor)
    finally:
        db.rollback()
        db.close()


def format_event(data: dict, kind: str = "stage") -> str:
    return f"id: {data['event_id']}\nevent: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


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
    else:
        _, latest = await asyncio.to_thread(_read, actor, None, 0)
        if last_event_id > latest or latest - last_event_id > REPLAY_LIMIT_IDS:
            # too far behind (or ahead) to replay: the page reloads its list, the stream goes on from now
            last_event_id = latest
            yield format_event({"event_id": latest}, "snapshot")
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
