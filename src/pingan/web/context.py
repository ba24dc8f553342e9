"""Per-request context: the request id (set by middleware, read by the unit of work and logs), the
client's own request id beside it, and the request's unit of work (set by ``get_db``, committed by
``UnitOfWorkRoute``)."""

from __future__ import annotations

import itertools
import os
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
# The client's own X-Request-ID (sanitised), kept beside ours; the audit log stores both.
client_request_id_var: ContextVar[str | None] = ContextVar("client_request_id", default=None)
# The request's session. Thread-pool calls copy the context, so a sync handler's thread sees it.
unit_of_work_var: ContextVar[Session | None] = ContextVar("unit_of_work", default=None)


class _RequestIds:
    """Request ids: 16 random hex digits per process and a 16-digit counter (32 characters, like a
    UUID). Unique across workers and restarts without a system call per request: ``uuid4`` reads
    the kernel's random source each time, and on the event loop that call gives up the GIL."""

    def __init__(self) -> None:
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)

    def reseed(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter):016x}"


new_request_id = _RequestIds().next


CLIENT_REQUEST_ID_MAX = 64


def client_request_id(raw: bytes) -> str | None:
    """A client's own ``X-Request-ID``, kept if it is 1–64 printable ASCII characters (space
    included, surrounding spaces dropped), else dropped: it goes into a header and the audit log."""
    value = raw.strip()
    if not value or len(value) > CLIENT_REQUEST_ID_MAX or not all(0x20 <= b <= 0x7E for b in value):
        return None
    return value.decode("ascii")


class RequestIdMiddleware:
    """Pure ASGI middleware: every request gets an id of ours (``X-Request-ID`` on the response).
    A client's own ``X-Request-ID`` is kept beside it, never instead of it — a client may not
    choose the id our logs and audit rows carry — echoed as ``X-Client-Request-ID`` and written to
    the audit log (``audit_log.client_request_id``). ``create_app`` puts this outside even the
    500 handler (Starlette's ``ServerErrorMiddleware``), so a 500 carries the id it names."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        client_rid = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                client_rid = client_request_id(value)
                break
        rid = new_request_id()
        ours = [(b"x-request-id", rid.encode())]
        if client_rid is not None:
            ours.append((b"x-client-request-id", client_rid.encode()))
        token = request_id_var.set(rid)
        client_token = client_request_id_var.set(client_rid)

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*(message.get("headers") or ()), *ours]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
            client_request_id_var.reset(client_token)
