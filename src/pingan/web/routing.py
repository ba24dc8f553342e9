"""The route class every router uses: the request's unit of work commits before the response.

FastAPI runs the exit code of request-scoped ``yield`` dependencies after the response has gone
out, so a commit there could fail after a client was told 201. ``UnitOfWorkRoute`` commits the
session ``get_db`` opened before anything is sent:

- a sync handler runs in a thread-pool thread; the commit runs in that same thread right after
  it returns (no second hand-off to the pool for the commit);
- an async handler (or one that left its transaction open) is followed by a commit in the pool.

When the handler raises, nothing is committed and ``get_db`` rolls back.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute

from pingan.web.context import unit_of_work_var
from pingan.web.validation import refuse_nul


def _commit_after(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a sync handler so that its thread commits the request's session when it returns.
    FastAPI reads the signature and annotations through ``__wrapped__``."""

    @functools.wraps(endpoint)
    def handle_then_commit(*args, **kwargs):
        result = endpoint(*args, **kwargs)
        db = unit_of_work_var.get()
        if db is not None and db.in_transaction():
            db.commit()
        return result

    handle_then_commit.commits_unit_of_work = True
    return handle_then_commit


def _is_sync_handler(endpoint: Callable[..., Any]) -> bool:
    plain = inspect.unwrap(endpoint)
    return not (inspect.iscoroutinefunction(plain) or inspect.isasyncgenfunction(plain)
                or inspect.isgeneratorfunction(plain))


class UnitOfWorkRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if _is_sync_handler(endpoint) and not getattr(endpoint, "commits_unit_of_work", False):
            endpoint = _commit_after(endpoint)
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def commit_then_respond(request: Request) -> Response:
            await refuse_nul(request)  # a NUL in any text: 422 naming the field, on both databases
            response = await handler(request)
            db = getattr(request.state, "db", None)
            if db is not None and db.in_transaction():
                await run_in_threadpool(db.commit)
            return response

        return commit_then_respond


def api_router(**kwargs) -> APIRouter:
    """An APIRouter whose routes commit the request's unit of work before responding."""
    return APIRouter(route_class=UnitOfWorkRoute, **kwargs)
