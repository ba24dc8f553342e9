"""Request ids: made per request without a system call, unique across processes, on every response
(a 500 too); a client's own id is kept beside ours, never instead of it, and in the audit log."""

from __future__ import annotations

import os
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pingan.audit.models import AuditAction, AuditLog
from pingan.web.context import client_request_id, new_request_id


def test_each_request_gets_its_own_id_and_a_clients_is_kept_beside_it(client):
    first = client.get("/healthz").headers["x-request-id"]
    second = client.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and re.fullmatch(r"[0-9a-f]{32}", second)
    assert first != second and first[:16] == second[:16]  # one process: one prefix, a counter after it
    given = client.get("/healthz", headers={"X-Request-ID": "call-centre-7"})
    assert re.fullmatch(r"[0-9a-f]{32}", given.headers["x-request-id"])  # ours, never the client's
    assert given.headers["x-client-request-id"] == "call-centre-7"
    assert given.headers.get_list("x-request-id") == [given.headers["x-request-id"]]
    # too long, or not printable ASCII: dropped, not cut
    assert "x-client-request-id" not in client.get("/healthz", headers={"X-Request-ID": "x" * 65}).headers
    assert client.get("/healthz", headers={"X-Request-ID": "x" * 64}).headers["x-client-request-id"] == "x" * 64


@pytest.mark.parametrize("raw, kept", [
    (b"abc-123", "abc-123"), (b"  padded id  ", "padded id"), (b"a" * 64, "a" * 64), (b"a" * 65, None),
    (b"", None), (b"   ", None), (b"tab\there", None), (b"nl\nx", None), ("中文".encode(), None),
    (b"\x7f", None), (b"<script>", "<script>"),  # printable: kept, and only ever shown as text
])
def test_a_clients_request_id_is_kept_only_if_printable_ascii_of_at_most_64(raw, kept):
    assert client_request_id(raw) == kept


def test_the_clients_request_id_is_in_the_audit_log_beside_ours(client, db, world, login):
    from tests.incident.test_routes import new_incident

    headers = login("dispatcher")
    # the hot path (intake's own unit of work, audit rows by insert_new) ...
    resp = new_incident(client, {**headers, "X-Request-ID": "ext-call-42"}, world)
    assert resp.status_code == 201, resp.text
    ours = resp.headers["x-request-id"]
    rows = db.scalars(select(AuditLog).where(AuditLog.request_id == ours)).all()
    assert rows and {(r.request_id, r.client_request_id) for r in rows} == {(ours, "ext-call-42")}
    # ... and a request's session (the flush hook)
    accepted = client.post(f"/api/v1/incidents/{resp.json()['id']}/accept",
                           headers={**headers, "X-Request-ID": "ext-accept-1"})
    assert accepted.status_code == 200, accepted.text
    rows = db.scalars(select(AuditLog).where(AuditLog.request_id == accepted.headers["x-request-id"])).all()
    assert rows and {r.client_request_id for r in rows} == {"ext-accept-1"}
    # a request without one, and one whose id is dropped, store none
    login_rows = db.scalars(select(AuditLog).where(AuditLog.action == AuditAction.LOGIN)).all()
    assert login_rows and all(r.client_request_id is None for r in login_rows)
    listed = client.get("/api/v1/audit", params={"request_id": ours}, headers=login("auditor")).json()
    assert {i["client_request_id"] for i in listed["items"]} == {"ext-call-42"}


@pytest.fixture
def failing_app(app):
    async def boom_async():
        raise RuntimeError("boom")

    def boom_sync():
        raise RuntimeError("boom")

    app.add_api_route("/api/v1/test-boom", boom_sync)
    app.add_api_route("/test-boom", boom_async)
    return app


def test_a_500_carries_its_request_id_header_and_names_it(failing_app, caplog):
    with TestClient(failing_app, raise_server_exceptions=False) as c:
        api = c.get("/api/v1/test-boom", headers={"X-Request-ID": "mine-1"})
        page = c.get("/test-boom")
    assert api.status_code == 500 and page.status_code == 500
    rid = api.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid) and api.headers["x-client-request-id"] == "mine-1"
    error = api.json()["error"]
    assert error["code"] == "internal" and rid in error["message"] and rid in error["message_en"]
    assert "boom" not in api.text and "Traceback" not in api.text
    page_rid = page.headers["x-request-id"]
    assert page_rid != rid and page_rid in page.text and "Traceback" not in page.text
    assert page.headers["content-type"].startswith("text/html")
    # the security headers are on the 500 too
    assert api.headers["x-content-type-options"] == "nosniff" and page.headers["cache-control"] == "no-store"
    assert any(rid in r.getMessage() for r in caplog.records)  # the log names the same id


def test_a_forked_worker_numbers_its_requests_under_a_prefix_of_its_own():
    parent = new_request_id()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its first id and leave at once
        try:
            os.write(write_end, new_request_id().encode())
        finally:
            os._exit(0)
    os.close(write_end)
    child = os.read(read_end, 64).decode()
    os.close(read_end)
    os.waitpid(pid, 0)
    assert re.fullmatch(r"[0-9a-f]{32}", child)
    assert child[:16] != parent[:16]
    assert new_request_id()[:16] == parent[:16]
