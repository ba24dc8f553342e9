"""Request ids: made per request without a system call, unique across processes, echoed back."""

from __future__ import annotations

import os
import re

from pingan.web.context import new_request_id


def test_each_request_gets_its_own_id_and_a_given_one_is_kept(client):
    first = client.get("/healthz").headers["x-request-id"]
    second = client.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and re.fullmatch(r"[0-9a-f]{32}", second)
    assert first != second and first[:16] == second[:16]  # one process: one prefix, a counter after it
    assert client.get("/healthz", headers={"X-Request-ID": "call-centre-7"}).headers["x-request-id"] == "call-centre-7"
    assert client.get("/healthz", headers={"X-Request-ID": "x" * 60}).headers["x-request-id"] == "x" * 40


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
