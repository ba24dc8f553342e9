"""Live streams (实时推送): one poller per process and channel fans new rows out to every stream.

A *channel* is a board's feed (the incident stage events today; cases and fraud warnings later),
declared by its module with two bureau-wide functions over the database:

- ``poll(*, db, after, limit)`` → items after id ``after``, ids ascending, at most ``limit``; each
  item has an ``id`` and carries what a stream needs to decide in memory whether its actor may
  see it (the org path of the record's unit, say);
- ``latest(*, db)`` → the highest id (where a fresh stream starts).

While at least one stream of this process listens to a channel, one asyncio task polls it every
``poll_seconds`` — one statement in a worker thread, whatever the number of streams — and offers
each new item to every :class:`Subscription`, which keeps those its ``visible(item)`` accepts (the
actor's jurisdiction, applied in memory). With no stream left the task ends: no listener, no
query. Polling the table rather than an in-process queue makes it work across workers and
processes.

Ids are handed out before commit, so on PostgreSQL a lower id can become visible after a higher
one: each poll looks back ``lookback_ids`` ids (never before where the poller started) and skips
what it has already seen. The channel keeps the items of the last ``keep_ids`` ids in memory, so
a stream resuming (``Last-Event-ID``) within them replays from memory; from further back it reads
the missing range once. A resume point more than ``replay_limit`` ids behind the newest, or ahead
of it, is not replayed: the stream gets a ``snapshot`` event (data ``{event_id}``, the newest id)
and goes on from there; so does a stream whose client has fallen ``max_pending`` items behind.

:func:`sse` is the server-sent-events text of one stream (``retry``, the events, a heartbeat
comment every ``heartbeat_seconds``, the end after ``max_seconds``). :data:`slots` bounds the
streams of one session in this worker (``MAX_STREAMS_PER_SESSION``, 429 beyond) whatever their
channel, and :class:`LiveStream` gives its slot back however the response ends.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse

from pingan.db import session as db_session
from pingan.errors import TooManyRequests

log = logging.getLogger("pingan.live")

MAX_STREAMS_PER_SESSION = 3
BUSY_RETRY_SECONDS = 30


# --- channels -----------------------------------------------------------------------------------


class Subscription:
    """One stream's place on a channel: the items for it not yet sent, in id order. Used on the
    event loop's thread only."""

    def __init__(self, visible: Callable[[Any], bool], *, max_pending: int) -> None:
        self.visible = visible
        self.start = 0  # items at or below this id are not for this stream
        self.snapshot: int | None = None  # set: the resume point was not replayed; go on from this id
        self.fell_behind = False
        self.pending: list = []
        self.max_pending = max_pending
        self._wake = asyncio.Event()

    def offer(self, items: list) -> None:
        kept = [item for item in items if item.id > self.start and self.visible(item)]
        if not kept:
            return
        self.pending.extend(kept)
        if len(self.pending) > self.max_pending:  # the client does not keep up: it reloads instead
            self.pending.clear()
            self.fell_behind = True
        self._wake.set()

    def take(self) -> list:
        """The items waiting for this stream (the wake-up cleared)."""
        self._wake.clear()
        items, self.pending = self.pending, []
        return items

    async def wait(self, timeout: float) -> None:
        """Until an item is offered, or ``timeout`` seconds."""
        if self.pending or self.fell_behind:
            return
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except TimeoutError:
            pass


class Channel:
    """One feed, polled once per process for all its streams (see the module docstring)."""

    def __init__(self, name: str, *, poll: Callable[..., list], latest: Callable[..., int],
                 poll_seconds: float = 1.0, lookback_ids: int = 200, batch: int = 500, keep_ids: int = 2000,
                 max_pending: int = 2000) -> None:
        if batch <= lookback_ids:
            raise ValueError("a poll must reach past its look-back: batch > lookback_ids")
        self.name = name
        self._poll, self._latest = poll, latest
        self.poll_seconds, self.lookback_ids, self.batch = poll_seconds, lookback_ids, batch
        self.keep_ids, self.max_pending = keep_ids, max_pending
        self.polls = 0  # polls since this process started (one statement each)
        self._subscribers: set[Subscription] = set()
        self._task: asyncio.Task | None = None
        self._ready: asyncio.Event | None = None
        self._failure: BaseException | None = None
        self.start = self.high = 0
        self._seen: deque[int] = deque(maxlen=4 * lookback_ids)
        self._seen_set: set[int] = set()
        self._recent: deque = deque()

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    # the database, in a worker thread: one short session per read

    def _read(self, work: Callable[..., Any], **kwargs) -> Any:
        db = db_session.get_sessionmaker()()
        try:
            return work(db=db, **kwargs)
        finally:
            db.rollback()
            db.close()

    # the poller

    def _running(self) -> bool:
        return (self._task is not None and not self._task.done()
                and self._task.get_loop() is asyncio.get_running_loop())

    async def _run(self) -> None:
        try:
            self.start = self.high = await asyncio.to_thread(self._read, self._latest)
        except Exception as exc:  # the streams waiting for it raise it; the next one starts again
            self._failure = exc
            return
        finally:
            self._ready.set()
        while self._subscribers:
            await asyncio.sleep(self.poll_seconds)
            try:
                while self._subscribers and await self.poll_now():
                    pass  # a full batch: more is waiting
            except Exception:  # the streams stay; the next tick tries again
                log.exception("live channel %s: poll failed", self.name)

    async def poll_now(self) -> bool:
        """Poll once (one statement) and offer what is new to every stream; whether the batch was
        full (more may be waiting)."""
        floor = max(self.start, self.high - self.lookback_ids)
        items = await asyncio.to_thread(self._read, self._poll, after=floor, limit=self.batch)
        self.polls += 1
        fresh = []
        for item in items:
            if item.id in self._seen_set:
                continue
            if len(self._seen) == self._seen.maxlen:
                self._seen_set.discard(self._seen[0])
            self._seen.append(item.id)
            self._seen_set.add(item.id)
            fresh.append(item)
            self.high = max(self.high, item.id)
        self._recent.extend(fresh)
        while self._recent and self._recent[0].id <= self.high - self.keep_ids:
            self._recent.popleft()
        for subscriber in list(self._subscribers):
            subscriber.offer(fresh)
        return len(items) >= self.batch

    async def _ensure_running(self) -> None:
        if not self._running():
            self._ready, self._failure = asyncio.Event(), None
            self._seen.clear()
            self._seen_set.clear()
            self._recent.clear()
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"live:{self.name}")
        await self._ready.wait()
        if self._failure is not None:
            raise self._failure

    # streams

    async def subscribe(self, *, visible: Callable[[Any], bool], last_id: int | None,
                        replay_limit: int) -> Subscription:
        """A stream's subscription: from now (``last_id`` None), or replaying what came after
        ``last_id`` when it is within ``replay_limit`` ids of the newest (else ``snapshot`` is set)."""
        subscriber = Subscription(visible, max_pending=self.max_pending)
        self._subscribers.add(subscriber)  # before any wait: nothing offered meanwhile is missed
        try:
            await self._ensure_running()
            if last_id is None:
                subscriber.start = self.high
                subscriber.pending = [item for item in subscriber.pending if item.id > self.high]
                return subscriber
            latest = self.high
            if last_id > latest:  # perhaps seen by another process's poller already
                latest = max(latest, await asyncio.to_thread(self._read, self._latest))
            if last_id > latest or latest - last_id > replay_limit:
                subscriber.start = subscriber.snapshot = latest
                subscriber.pending = [item for item in subscriber.pending if item.id > latest]
                return subscriber
            subscriber.start = last_id
            if last_id >= max(self.start, self.high - self.keep_ids):
                missed = [item for item in self._recent if item.id > last_id]
            else:
                missed = await asyncio.to_thread(self._read, self._replay, after=last_id, until=self.high)
            missed = [item for item in missed if subscriber.visible(item)]
            by_id = {item.id: item for item in (*missed, *subscriber.pending) if item.id > last_id}
            subscriber.pending = [by_id[i] for i in sorted(by_id)]
            return subscriber
        except BaseException:
            self._subscribers.discard(subscriber)
            raise

    def _replay(self, *, db, after: int, until: int) -> list:
        items: list = []
        while True:
            batch = self._poll(db=db, after=after, limit=self.batch)
            items += [item for item in batch if item.id <= until]
            if len(batch) < self.batch or batch[-1].id >= until:
                return items
            after = batch[-1].id

    def unsubscribe(self, subscriber: Subscription) -> None:
        self._subscribers.discard(subscriber)


class Hub:
    """The process's channels, by name."""

    def __init__(self) -> None:
        self.channels: dict[str, Channel] = {}

    def channel(self, name: str, **declaration) -> Channel:
        """Declare the channel ``name`` (``Channel``'s arguments), once per process."""
        if name in self.channels:
            raise ValueError(f"live channel {name!r} is declared twice")
        self.channels[name] = Channel(name, **declaration)
        return self.channels[name]


hub = Hub()


# --- the stream's text ----------------------------------------------------------------------------


def format_event(data: dict, kind: str) -> str:
    return f"id: {data['event_id']}\nevent: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def sse(channel: Channel, *, visible: Callable[[Any], bool], render: Callable[[Any], dict], kind: str,
              last_event_id: int | None, is_disconnected: Callable, max_seconds: float, replay_limit: int,
              poll_seconds: float, heartbeat_seconds: float, retry_ms: int) -> AsyncIterator[str]:
    """Yield SSE text: each item the actor may see as ``event: <kind>`` (``render(item)``, which
    has an ``event_id``) until the client goes away or ``max_seconds`` are up."""
    yield f"retry: {retry_ms}\n\n"
    started = time.monotonic()
    last_beat = started
    subscriber = await channel.subscribe(visible=visible, last_id=last_event_id, replay_limit=replay_limit)
    try:
        if subscriber.snapshot is not None:
            # too far behind (or ahead) to replay: the page reloads its list, the stream goes on from now
            yield format_event({"event_id": subscriber.snapshot}, "snapshot")
        while True:
            for item in subscriber.take():
                yield format_event(render(item), kind)
            if subscriber.fell_behind:
                subscriber.fell_behind = False
                yield format_event({"event_id": channel.high}, "snapshot")
            now = time.monotonic()
            if now - last_beat >= heartbeat_seconds:
                last_beat = now
                yield ": heartbeat\n\n"
            if now - started >= max_seconds or await is_disconnected():
                return
            await subscriber.wait(poll_seconds)
    finally:
        channel.unsubscribe(subscriber)


# --- bounds -----------------------------------------------------------------------------------------


class TooManyStreams(TooManyRequests):
    code = "too_many_streams"
    retry_after = BUSY_RETRY_SECONDS


class StreamSlots:
    """Open streams per session in this worker, whatever their channel. Used on the event loop's
    thread only (acquired by the async route, released when the response ends), so no lock."""

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


class LiveStream(StreamingResponse):
    """A stream's response: it gives its slot back when it ends, however it ends (the client
    gone, the time up, the task cancelled) — or, should it never be sent, when it is collected."""

    def __init__(self, content, *, key: str, **kwargs) -> None:
        super().__init__(content, **kwargs)
        self._release = weakref.finalize(self, slots.release, key)

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def open_stream(request: Request, content: Callable[[], AsyncIterator[str]]) -> LiveStream:
    """The response of a stream whose text ``content()`` makes, within the session's limit
    (:class:`TooManyStreams`, 429, otherwise)."""
    key = session_key(request)
    slots.acquire(key)
    try:
        return LiveStream(content(), key=key, media_type="text/event-stream",
                          headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    except BaseException:
        slots.release(key)
        raise
