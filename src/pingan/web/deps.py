"""FastAPI dependencies: the request's unit of work, the actor, permissions and CSRF.

The request owns the transaction: ``get_db`` commits when the handler returns and rolls
back when it raises. Handlers and services never commit.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from pingan.auth import service as auth_service
from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.db.session import get_sessionmaker
from pingan.errors import Forbidden, NotAuthenticated
from pingan.web.context import request_id_var, unit_of_work_var

SESSION_COOKIE = "pingan_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


async def get_db(request: Request) -> AsyncIterator[Session]:
    """The request's session. Async so that opening and closing it costs no thread hop: creating
    a session touches no database, and after ``UnitOfWorkRoute`` has committed, closing it does
    not either. Whatever may touch the database (a commit left over, a rollback) goes to the
    thread pool, never onto the event loop."""
    session = get_sessionmaker()()
    session.info["request_id"] = request_id_var.get()
    session.info["actor"] = None
    request.state.db = session
    unit_of_work_var.set(session)
    try:
        yield session
    except BaseException:
        await run_in_threadpool(session.close)  # rolls back
        raise
    finally:
        unit_of_work_var.set(None)
    if session.in_transaction():
        await run_in_threadpool(_commit_and_close, session)
    else:
        session.close()


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    finally:
        session.close()


def _token_from(request: Request) -> tuple[str | None, bool]:
    """(token, came_from_cookie)."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip(), False
    return request.cookies.get(SESSION_COOKIE), True


async def _check_csrf(request: Request, actor: Actor) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        sent = form.get(CSRF_FIELD)
    if not sent or not hmac.compare_digest(str(sent), actor.csrf_token):
        raise Forbidden("表单已失效，请刷新页面后重试（CSRF 校验失败）",
                        "The form has expired; reload the page and try again (CSRF check failed)")


async def current_actor(request: Request, db: Session = Depends(get_db)) -> Actor:
    token, from_cookie = _token_from(request)
    if not token:
        raise NotAuthenticated("请先登录", "Please log in")
    # A blocking database call must not run on the event loop (on SQLite it would wait for a
    # write lock held by a request whose commit is queued on this same loop).
    actor = await run_in_threadpool(auth_service.authenticate, db=db, token=token)
    if from_cookie and request.method not in SAFE_METHODS:
        await _check_csrf(request, actor)
    db.info["actor"] = actor
    request.state.actor = actor
    return actor


async def optional_actor(request: Request, db: Session = Depends(get_db)) -> Actor | None:
    try:
        return await current_actor(request, db)
    except NotAuthenticated:
        return None


def require(perm: Perm):
    """Dependency factory: the actor, who must hold ``perm``."""

    async def _dep(actor: Actor = Depends(current_actor)) -> Actor:  # async: no thread hop for a check
        actor.require(perm)
        return actor

    _dep.__name__ = f"require_{perm.value.replace('.', '_')}"
    return _dep
