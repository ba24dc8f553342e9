"""Per-request context: the request id (set by middleware, read by the unit of work and logs) and
the request's unit of work (set by ``get_db``, committed by ``UnitOfWorkRoute``)."""

from __future__ import annotations

import itertools
import os
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
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


class RequestIdMiddleware:
    """Pure ASGI middleware: take X-Request-ID or make one, and echo it on the response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rid = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                rid = value.decode("latin-1")[:40]
                break
        rid = rid or new_request_id()
        token = request_id_var.set(rid)

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", rid.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
