"""The incident JSON API: intake with idempotency, the dispatch flow, errors, the live stream."""

from __future__ import annotations

import json

import pytest

from pingan.incident import stream


def new_incident(client, headers, world, side="a", **fields):
    address = world.addresses[0] if side == "a" else world.addresses[2]
    body = {"caller_phone": "13812345678", "caller_name": "李四", "location_text": address.full_text,
            "address_id": address.id, "category_code": "2001", "priority": 2, "description": "有人打架"}
    body.update(fields)
    return client.post("/api/v1/incidents", json=body, headers=headers)


def test_create_returns_201_masked_and_replays_with_200(client, world, login):
    headers = {**login("dispatcher"), "Idempotency-Key": "abc-123"}
    first = new_incident(client, headers, world)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["caller_phone"] == "138****5678" and body["caller_name"] == "李*"
    assert body["stage"] == "received" and body["org_unit_id"] == world.org["office_a"].id
    again = new_incident(client, headers, world)
    assert again.status_code == 200 and again.json() == body
    listed = client.get("/api/v1/incidents", headers=headers).json()
    assert listed["total"] == 1


def test_taking_a_call_needs_credentials_before_its_body_is_read_and_csrf_with_the_cookie(client, world):
    from tests.factories import PASSWORD

    assert new_incident(client, {}, world, priority=9).status_code == 401  # no credentials: 401, not 422
    assert new_incident(client, {"Authorization": "Bearer not-a-token"}, world).status_code == 401
    resp = client.post("/api/v1/auth/login", json={"username": "dispatcher", "password": PASSWORD})
    csrf = resp.json()["csrf_token"]  # the session cookie is now set on the client
    refused = new_incident(client, {}, world)
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]["message_en"]
    assert new_incident(client, {"X-CSRF-Token": csrf}, world).status_code == 201
    client.cookies.clear()
    resp = client.post("/api/v1/auth/login", json={"username": "auditor", "password": PASSWORD})
    assert new_incident(client, {"X-CSRF-Token": resp.json()["csrf_token"]}, world).status_code == 403  # may not


def test_body_idempotency_key_and_a_disagreeing_header(client, world, login):
    headers = login("dispatcher")
    assert new_incident(client, headers, world, idempotency_key="k1").status_code == 201
    assert new_incident(client, headers, world, idempotency_key="k1").status_code == 200
    resp = new_incident(client, {**headers, "Idempotency-Key": "k2"}, world, idempotency_key="k1")
    assert resp.status_code == 422 and resp.json()["error"]["field"] == "idempotency_key"


def test_an_idempotency_key_reused_with_a_different_body_is_422(client, world, login, db):
    headers = {**login("dispatcher"), "Idempotency-Key": "same-key"}
    first = new_incident(client, headers, world)
    assert first.status_code == 201
    resp = new_incident(client, headers, world, description="另一起：有人持刀")
    assert resp.status_code == 422, resp.text
    error = resp.json()["error"]
    assert error["field"] == "idempotency_key"
    assert error["message_en"] == "Idempotency-Key reused with a different request" and "幂等键" in error["message"]
    assert new_incident(client, headers, world, priority=1).status_code == 422
    # The same request again — spelled differently, meaning the same, the key in the body — is a replay.
    again = new_incident(client, login("dispatcher"), world, caller_phone="138-1234-5678 ",
                         idempotency_key="same-key")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert client.get("/api/v1/incidents", headers=headers).json()["total"] == 1


def test_an_incident_taken_before_the_hash_was_kept_still_replays(client, world, login, db):
    from pingan.incident.models import Incident

    headers = {**login("dispatcher"), "Idempotency-Key": "old-key"}
    first = new_incident(client, headers, world)
    db.get(Incident, first.json()["id"]).idempotency_hash = None
    db.flush()
    assert new_incident(client, headers, world, description="whatever").status_code == 200


@pytest.mark.parametrize("key", ["", "k" * 81])
def test_an_idempotency_key_header_out_of_bounds_is_422_naming_it(client, world, login, key):
    resp = new_incident(client, {**login("dispatcher"), "Idempotency-Key": key}, world)
    assert resp.status_code == 422, resp.text
    error = resp.json()["error"]
    assert [f["field"] for f in error["fields"]] == ["Idempotency-Key"]
    assert "Idempotency-Key" in error["message_en"] and error["message"].startswith("输入有误")


@pytest.mark.parametrize("field,value,zh", [
    ("caller_phone", "110", "报警人电话"),
    ("priority", 9, "数值过大"),
    ("category_code", "0000", "警情类别代码不存在"),
    ("location_text", "   ", "案发地点"),
])
def test_invalid_input_is_422_naming_the_field_in_both_languages(client, world, login, field, value, zh):
    resp = new_incident(client, login("dispatcher"), world, **{field: value})
    assert resp.status_code == 422
    err = resp.json()["error"]
    assert err["fields"][0]["field"] == field
    assert zh in err["message"] and field in err["message_en"]


def test_dispatch_flow_over_the_api(client, world, login):
    dispatcher, patrol = login("dispatcher"), login("patrol_a")
    incident = new_incident(client, dispatcher, world).json()
    iid = incident["id"]
    assert client.post(f"/api/v1/incidents/{iid}/accept", headers=dispatcher).json()["stage"] == "accepted"
    again = client.post(f"/api/v1/incidents/{iid}/accept", headers=dispatcher)
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"
    recs = client.get(f"/api/v1/incidents/{iid}/recommendations", headers=dispatcher).json()
    assert recs[0]["call_sign"] == "红旗巡1" and recs[0]["eta_seconds"] > 0
    resp = client.post(f"/api/v1/incidents/{iid}/assignments", json={"unit_id": recs[0]["unit_id"]},
                       headers=dispatcher)
    assert resp.status_code == 201, resp.text
    assignment = resp.json()
    assert assignment["call_sign"] == "红旗巡1" and assignment["status"] == "dispatched"
    taken = client.post(f"/api/v1/incidents/{iid}/assignments", json={"unit_id": recs[0]["unit_id"]},
                        headers=dispatcher)
    assert taken.status_code == 409
    assert taken.json()["error"]["message"] == "该警力已被其他调度员派出"
    assert taken.json()["error"]["message_en"] == "unit already taken"
    for to in ("departed", "arrived"):
        resp = client.post(f"/api/v1/assignments/{assignment['id']}/advance", json={"to": to}, headers=patrol)
        assert resp.status_code == 200 and resp.json()["status"] == to
    detail = client.get(f"/api/v1/incidents/{iid}", headers=patrol).json()
    assert detail["stage"] == "arrived"
    assert [e["stage"] for e in detail["timeline"]] == ["received", "accepted", "dispatched", "departed", "arrived"]
    assert detail["assignments"][0]["call_sign"] == "红旗巡1"
    assert detail["calls"][0]["caller_phone"] == "138****5678"
    missing = client.post(f"/api/v1/incidents/{iid}/close", json={"note": "x"}, headers=dispatcher)
    assert missing.status_code == 422 and missing.json()["error"]["fields"][0]["field"] == "disposition"
    closed = client.post(f"/api/v1/incidents/{iid}/close", json={"disposition": "handled_on_scene"},
                         headers=dispatcher)
    assert closed.status_code == 200 and closed.json()["stage"] == "closed"
    assert closed.json()["resolved_at"] is not None
    cb = client.post(f"/api/v1/incidents/{iid}/callbacks", json={"satisfaction": "satisfied"}, headers=dispatcher)
    assert cb.status_code == 201 and cb.json()["satisfaction"] == "satisfied"
    units = client.get("/api/v1/units", headers=dispatcher).json()
    assert next(u for u in units if u["call_sign"] == "红旗巡1")["status"] == "available"


def test_resolve_then_close_and_the_board_filters(client, world, login):
    dispatcher = login("dispatcher")
    iid = new_incident(client, dispatcher, world, priority=1).json()["id"]
    client.post(f"/api/v1/incidents/{iid}/accept", headers=dispatcher)
    resp = client.post(f"/api/v1/incidents/{iid}/resolve", json={"note": "电话指导处置"}, headers=dispatcher)
    assert resp.json()["stage"] == "resolved"
    open_items = client.get("/api/v1/incidents", params={"stage": ["received", "resolved"]},
                            headers=dispatcher).json()
    assert [i["id"] for i in open_items["items"]] == [iid]
    assert client.get("/api/v1/incidents", params={"stage": "closed"}, headers=dispatcher).json()["total"] == 0


def test_jurisdiction_and_roles_over_the_api(client, world, login):
    iid = new_incident(client, login("dispatcher"), world, side="b").json()["id"]
    assert client.get(f"/api/v1/incidents/{iid}", headers=login("chief_a")).status_code == 404
    assert client.get(f"/api/v1/incidents/{iid}", headers=login("chief_b")).status_code == 200
    assert client.post(f"/api/v1/incidents/{iid}/accept", headers=login("community_a")).status_code == 403
    assert new_incident(client, login("chief_b"), world).status_code == 403
    client.cookies.clear()  # logging in also set a session cookie
    assert client.get("/api/v1/incidents").status_code == 401


def test_merge_and_further_calls(client, world, login):
    d = login("dispatcher")
    target = new_incident(client, d, world).json()["id"]
    source = new_incident(client, d, world, caller_phone="13900001111").json()["id"]
    resp = client.post(f"/api/v1/incidents/{source}/calls", json={"caller_phone": "0373-5551234"}, headers=d)
    assert resp.status_code == 201 and resp.json()["caller_phone"] == "037*****1234"
    merged = client.post(f"/api/v1/incidents/{target}/merge", json={"source_id": source}, headers=d)
    assert merged.status_code == 200 and merged.json()["call_count"] == 3 and len(merged.json()["calls"]) == 3
    src = client.get(f"/api/v1/incidents/{source}", headers=d).json()
    assert src["stage"] == "closed" and src["disposition"] == "duplicate"
    assert client.post(f"/api/v1/incidents/{target}/merge", json={"source_id": source}, headers=d).status_code == 409


def test_caller_contact_is_unmasked_only_with_a_purpose_and_audited(client, world, login):
    iid = new_incident(client, login("dispatcher"), world).json()["id"]
    chief = login("chief_a")
    assert client.post(f"/api/v1/incidents/{iid}/caller-contact", json={}, headers=chief).status_code == 422
    resp = client.post(f"/api/v1/incidents/{iid}/caller-contact", json={"purpose": "回访报警人"}, headers=chief)
    assert resp.status_code == 200
    assert resp.json()["caller_phone"] == "13812345678" and resp.json()["caller_name"] == "李四"
    assert client.post(f"/api/v1/incidents/{iid}/caller-contact", json={"purpose": "查看"},
                       headers=login("community_a")).status_code == 403
    audit = client.get("/api/v1/audit", params={"action": "read", "entity": "incident", "entity_id": str(iid)},
                       headers=login("auditor")).json()
    assert audit["total"] == 1
    assert audit["items"][0]["purpose"] == "回访报警人" and audit["items"][0]["actor_name"] == "chief_a"


def test_categories_and_unit_position(client, world, login):
    cats = client.get("/api/v1/incidents/categories", headers=login("patrol_a")).json()
    codes = {c["code"]: c for c in cats}
    assert codes["3001"]["name"] == "交通事故" and codes["3001"]["parent_code"] == "30"
    unit = world.units["红旗巡1"]
    resp = client.post(f"/api/v1/units/{unit.id}/position", json={"lat": 35.31, "lon": 113.91},
                       headers=login("patrol_a"))
    assert resp.status_code == 200 and resp.json()["lat"] == 35.31
    bad = client.post(f"/api/v1/units/{unit.id}/position", json={"lat": 95, "lon": 113.91}, headers=login("patrol_a"))
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "lat"


def sse_events(text: str) -> list[dict]:
    out = []
    for block in text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if lines.get("event") == "stage":
            out.append({"id": int(lines["id"]), **json.loads(lines["data"])})
    return out


def test_stream_sends_stage_events_the_actor_may_see(client, world, login, monkeypatch):
    monkeypatch.setattr(stream, "POLL_SECONDS", 0.01)
    d = login("dispatcher")
    a = new_incident(client, d, world).json()["id"]
    b = new_incident(client, d, world, side="b").json()["id"]
    client.post(f"/api/v1/incidents/{a}/accept", headers=d)
    resp = client.get("/api/v1/incidents/stream", params={"last_event_id": 0, "max_seconds": 0}, headers=d)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
    assert resp.text.startswith("retry:")
    events = sse_events(resp.text)
    assert [(e["incident_id"], e["stage"]) for e in events] == [(a, "received"), (b, "received"), (a, "accepted")]
    assert all(e["id"] == e["event_id"] and e["at"] for e in events)
    # chief B sees only station B's incident
    mine = sse_events(client.get("/api/v1/incidents/stream", params={"last_event_id": 0, "max_seconds": 0},
                                 headers=login("chief_b")).text)
    assert [e["incident_id"] for e in mine] == [b]
    # Last-Event-ID resumes after the given event
    resumed = sse_events(client.get("/api/v1/incidents/stream", params={"max_seconds": 0},
                                    headers={**d, "Last-Event-ID": str(events[1]["id"])}).text)
    assert [e["stage"] for e in resumed] == ["accepted"]
    # a fresh stream starts from now
    assert sse_events(client.get("/api/v1/incidents/stream", params={"max_seconds": 0}, headers=d).text) == []


@pytest.mark.anyio
async def test_stream_generator_follows_new_events_and_heartbeats(db, world, actors, make_incident, monkeypatch):
    monkeypatch.setattr(stream, "POLL_SECONDS", 0.0)
    monkeypatch.setattr(stream, "HEARTBEAT_SECONDS", 0.0)
    incident = make_incident("a")
    polls = {"n": 0}

    async def disconnected() -> bool:
        polls["n"] += 1
        return polls["n"] > 1

    chunks = [c async for c in stream.stage_events(actors["chief_a"], last_event_id=0,
                                                    is_disconnected=disconnected)]
    assert chunks[0].startswith("retry:")
    assert any(c.startswith(": heartbeat") for c in chunks)
    assert [e["incident_id"] for e in sse_events("".join(chunks))] == [incident.id]


def test_intake_commits_before_the_201_is_sent(db, world, monkeypatch):
    """A 201 must never reach the client for an incident that is not yet committed. The route
    authenticates in the same unit of work: its audit rows carry the bearer and the request id."""
    from fastapi.testclient import TestClient
    from sqlalchemy.orm import Session

    from pingan.app import create_app
    from tests.factories import PASSWORD

    events: list[str] = []
    original_commit = Session.commit

    def commit(self):
        events.append("commit")
        return original_commit(self)

    app = create_app(background_jobs=False)

    async def outer(scope, receive, send):
        async def send_marking(message):
            if message["type"] == "http.response.start":
                events.append("response")
            await send(message)

        await app(scope, receive, send_marking)

    with TestClient(outer) as client:
        token = client.post("/api/v1/auth/login", json={"username": "dispatcher", "password": PASSWORD}).json()["token"]
        monkeypatch.setattr(Session, "commit", commit)
        events.clear()
        resp = new_incident(client, {"Authorization": f"Bearer {token}", "X-Request-ID": "req-hot-1"}, world)
    assert resp.status_code == 201
    assert "commit" in events and events.index("commit") < events.index("response"), events
    from sqlalchemy import select

    from pingan.audit.models import AuditLog

    entry = db.scalars(select(AuditLog).where(AuditLog.entity == "incident",
                                              AuditLog.entity_id == str(resp.json()["id"]))).one()
    assert (entry.actor_name, entry.request_id, entry.client_request_id) == (
        "dispatcher", resp.headers["x-request-id"], "req-hot-1")


@pytest.mark.parametrize("field,value", [("lat", True), ("lon", False), ("lat", "35.3"), ("lon", 181)])
def test_a_point_is_a_number_within_the_globe_never_a_boolean(client, world, login, field, value):
    resp = new_incident(client, login("dispatcher"), world, **{field: value})
    assert resp.status_code == 422, resp.text
    assert [f["field"] for f in resp.json()["error"]["fields"]] == [field]
    documented = client.get("/openapi.json").json()["components"]["schemas"]["IncidentCreate"]["properties"][field]
    assert {"type": "number", "minimum": -90 if field == "lat" else -180} .items() <= documented["anyOf"][0].items()
