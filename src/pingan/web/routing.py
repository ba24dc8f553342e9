"""The route class every router uses: the request's unit of work commits before the response.

FastAPI runs the exit code of request-scoped ``yield`` dependencies after the response has gone
out, so a commit there could fail after a client was told 201. ``UnitOfWorkRoute`` wraps each
handler: when it returns, the session ``get_db`` left on ``request.state.db`` is committed, and
only then is the response sent. When the handler raises, nothing is committed and ``get_db``
rolls back.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute


class UnitOfWorkRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def commit_then_respond(request: Request) -> Response:
            response = await handler(request)
            db = getattr(request.state, "db", None)
            if db is not None:
                await run_in_threadpool(db.commit)
            return response

        return commit_then_respond


def api_router(**kwargs) -> APIRouter:
    """An APIRouter whose routes commit the request's unit of work before responding."""
    return APIRouter(route_class=UnitOfWorkRoute, **kwargs)
