"""The live stream's bounds: a few streams per session, and a resume point too far behind (or
ahead) answered with a snapshot instead of the whole history."""

from __future__ import annotations

import gc
import json

import pytest
from starlette.requests import Request

from pingan.incident import stream
from pingan.incident.stream import TooManyStreams


def sse(text: str) -> list[tuple[str, dict]]:
    """(event kind, data) of each event in a stream's text."""
    out = []
    for block in text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in lines:
            out.append((lines["event"], {"id": int(lines["id"]), **json.loads(lines["data"])}))
    return out


def _request(headers: dict) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/api/v1/incidents/stream", "headers": raw,
                    "query_string": b""})


@pytest.fixture(autouse=True)
def _no_streams_left_open():
    yield
    gc.collect()
    assert stream.slots.open == {}


def test_a_session_holds_at_most_three_streams_and_the_next_gets_429(client, world, login, actors, monkeypatch):
    monkeypatch.setattr(stream, "POLL_SECONDS", 0.01)
    d = login("dispatcher")
    held = [stream.open_stream(_request(d), actors["dispatcher"], last_event_id=None, max_seconds=0)
            for _ in range(stream.MAX_STREAMS_PER_SESSION)]
    with pytest.raises(TooManyStreams):
        stream.open_stream(_request(d), actors["dispatcher"], last_event_id=None, max_seconds=0)
    refused = client.get("/api/v1/incidents/stream", params={"max_seconds": 0}, headers=d)
    assert refused.status_code == 429 and refused.headers["retry-after"] == str(stream.BUSY_RETRY_SECONDS)
    error = refused.json()["error"]
    assert error["code"] == "too_many_streams" and "实时连接过多" in error["message"]
    assert "at most 3" in error["message_en"]
    # another session of the same user, and another user, are not affected
    assert client.get("/api/v1/incidents/stream", params={"max_seconds": 0}, headers=login("dispatcher")).status_code == 200
    assert client.get("/api/v1/incidents/stream", params={"max_seconds": 0}, headers=login("chief_a")).status_code == 200
    # a stream never sent gives its place back once it is collected; one that ends (here: its time
    # is up at once) gives it back when it ends, so the session can open streams one after another
    del held[0]
    gc.collect()
    for _ in range(3):
        assert client.get("/api/v1/incidents/stream", params={"max_seconds": 0}, headers=d).status_code == 200
    held.clear()


@pytest.mark.anyio
async def test_a_stream_gives_its_place_back_when_the_client_goes(db, world, actors, monkeypatch):
    monkeypatch.setattr(stream, "POLL_SECONDS", 0.0)
    request = _request({"Authorization": "Bearer some-session"})
    key = stream.session_key(request)
    response = stream.open_stream(request, actors["dispatcher"], last_event_id=None, max_seconds=3600)
    assert stream.slots.open[key] == 1
    sent: list[dict] = []

    async def receive():
        return {"type": "http.disconnect"}  # the client is gone at once

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "method": "GET",
             "path": "/api/v1/incidents/stream", "headers": [], "query_string": b""}
    await response(scope, receive, send)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 200
    assert key not in stream.slots.open


def test_a_resume_point_far_behind_or_ahead_gets_a_snapshot(client, world, login, monkeypatch):
    from tests.incident.test_routes import new_incident

    monkeypatch.setattr(stream, "POLL_SECONDS", 0.01)
    monkeypatch.setattr(stream, "REPLAY_LIMIT_IDS", 2)
    d = login("dispatcher")
    ids = [new_incident(client, d, world).json()["id"] for _ in range(2)]
    for incident_id in ids:
        assert client.post(f"/api/v1/incidents/{incident_id}/accept", headers=d).status_code == 200
    everything = sse(client.get("/api/v1/incidents/stream", params={"last_event_id": 0, "max_seconds": 0},
                                headers=d).text)
    # from the beginning is far behind: one snapshot at the newest event, no history
    assert [kind for kind, _ in everything] == ["snapshot"]
    latest = everything[0][1]["event_id"]
    assert everything[0][1]["id"] == latest and latest >= 4
    # within the window: replayed as before (the header as the browser sends it, and the query)
    near = sse(client.get("/api/v1/incidents/stream", params={"max_seconds": 0},
                          headers={**d, "Last-Event-ID": str(latest - 2)}).text)
    assert [(kind, e["event_id"]) for kind, e in near] == [("stage", latest - 1), ("stage", latest)]
    near = sse(client.get("/api/v1/incidents/stream", params={"last_event_id": latest - 1, "max_seconds": 0},
                          headers=d).text)
    assert [(kind, e["event_id"]) for kind, e in near] == [("stage", latest)]
    # just past the window: a snapshot again
    far = sse(client.get("/api/v1/incidents/stream", params={"max_seconds": 0},
                         headers={**d, "Last-Event-ID": str(latest - 3)}).text)
    assert far == [("snapshot", {"id": latest, "event_id": latest})]
    # ahead of the newest (another database's id, a huge number, digits that are not ASCII)
    for ahead in (str(latest + 1), "99999999999999999999999"):
        assert sse(client.get("/api/v1/incidents/stream", params={"max_seconds": 0},
                              headers={**d, "Last-Event-ID": ahead}).text) == [("snapshot", {"id": latest, "event_id": latest})]
    # "²" (as Latin-1): str.isdigit() says yes, int() says no
    assert client.get("/api/v1/incidents/stream", params={"max_seconds": 0},
                      headers={**d, "Last-Event-ID": b"\xb2"}).status_code == 200


# --- one poller per process ---------------------------------------------------------------------


@pytest.fixture
def quiet_channel(monkeypatch):
    """The board's channel, polled only when the test says so (its task sleeps meanwhile)."""
    monkeypatch.setattr(stream.channel, "poll_seconds", 3600.0)
    yield stream.channel
    assert stream.channel.subscribers == 0


class _Statements:
    """The SQL statements sent through the test's engine while inside (from any thread), but the
    savepoints the test's sessions use to join its transaction."""

    def __init__(self, db):
        self.engine, self.sent = db.get_bind().engine, []

    def _record(self, _conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            self.sent.append(statement)

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._record)
        return self.sent

    def __exit__(self, *_exc):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._record)


ACTORS = ["admin", "dispatcher", "chief_a", "chief_b", "patrol_a", "patrol_b", "community_a", "auditor"]


@pytest.mark.anyio
async def test_one_poll_a_tick_serves_every_stream_what_its_actor_may_see(db, world, actors, make_incident,
                                                                           quiet_channel):
    from pingan.incident import repository, service

    channel = quiet_channel
    subscribers = []
    try:
        with _Statements(db) as sent:
            for name in ACTORS:
                for _ in range(5):  # five boards of each
                    subscribers.append((name, await channel.subscribe(
                        visible=stream.visible_to(actors[name]), last_id=None, replay_limit=stream.REPLAY_LIMIT_IDS)))
        assert len(sent) == 1  # where the streams start, read once for all forty
        start = channel.high

        in_a, in_b = make_incident("a", priority=1), make_incident("b", priority=2)
        service.accept(db=db, actor=actors["dispatcher"], incident_id=in_a.id)
        service.accept(db=db, actor=actors["dispatcher"], incident_id=in_b.id)
        # patrol_a's unit sent across to station B: its operator now sees that incident too
        service.assign_unit(db=db, actor=actors["dispatcher"], incident_id=in_b.id, unit_id=world.units["红旗巡1"].id)
        db.flush()

        with _Statements(db) as sent:
            assert await channel.poll_now() is False
        assert len(sent) == 1  # one statement for forty streams

        seen = {}
        for name, subscriber in subscribers:
            got = [event.id for event in subscriber.take()]
            expected = [e.id for e in repository.events_since(db=db, actor=actors[name], last_id=start, limit=500)]
            assert got == expected, name  # the repository's rule, applied in memory
            seen[name] = got
        events_of = {incident.id: [e.id for e in repository.events_since(db=db, actor=actors["admin"], last_id=start)
                                   if e.incident_id == incident.id] for incident in (in_a, in_b)}
        assert seen["admin"] == seen["dispatcher"] == sorted(events_of[in_a.id] + events_of[in_b.id])
        assert seen["chief_a"] == seen["community_a"] == events_of[in_a.id]
        assert seen["chief_b"] == seen["patrol_b"] == events_of[in_b.id]
        assert seen["patrol_a"] == sorted(events_of[in_a.id] + events_of[in_b.id])

        # a stream resuming within what the poller remembers replays from memory: no statement
        with _Statements(db) as sent:
            resumed = await channel.subscribe(visible=stream.visible_to(actors["chief_b"]), last_id=start,
                                              replay_limit=stream.REPLAY_LIMIT_IDS)
        subscribers.append(("chief_b", resumed))
        assert sent == [] and [event.id for event in resumed.take()] == events_of[in_b.id]
    finally:
        for _, subscriber in subscribers:
            channel.unsubscribe(subscriber)


@pytest.mark.anyio
async def test_a_resume_point_older_than_the_pollers_memory_is_read_once(db, world, actors, make_incident,
                                                                          quiet_channel, monkeypatch):
    from pingan.incident import repository

    channel = quiet_channel
    monkeypatch.setattr(channel, "keep_ids", 1)
    first = await channel.subscribe(visible=stream.visible_to(actors["chief_a"]), last_id=None, replay_limit=2000)
    try:
        start = channel.high
        make_incident("a")
        make_incident("b")
        make_incident("a")
        db.flush()
        await channel.poll_now()
        with _Statements(db) as sent:
            resumed = await channel.subscribe(visible=stream.visible_to(actors["chief_a"]), last_id=start,
                                              replay_limit=2000)
        channel.unsubscribe(resumed)
        assert len(sent) == 1
        expected = [e.id for e in repository.events_since(db=db, actor=actors["chief_a"], last_id=start)]
        assert [event.id for event in resumed.take()] == expected == [event.id for event in first.take()]
    finally:
        channel.unsubscribe(first)


def test_a_stream_needs_the_right_to_read_incidents(world, actors):
    from pingan.auth.actor import Actor
    from pingan.errors import Forbidden

    nobody = Actor(user_id=None, username="nobody", display_name="nobody", role=None, org_unit_id=0, org_path="/",
                   permissions=frozenset())
    with pytest.raises(Forbidden):
        stream.visible_to(nobody)
