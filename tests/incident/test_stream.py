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
