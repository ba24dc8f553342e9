"""FastAPI dependencies: the request's unit of work, the actor, permissions and CSRF.

The request owns the transaction: ``get_db`` commits when the handler returns and rolls
back when it raises. Handlers and services never commit.
"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import StringConstraints, TypeAdapter, ValidationError
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


async def _csrf_sent(request: Request) -> str | None:
    """The CSRF token an unsafe cookie-authenticated request carries (header, or form field)."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        sent = form.get(CSRF_FIELD)
    return None if sent is None else str(sent)


def _check_csrf(credentials: Credentials, actor: Actor) -> None:
    if not credentials.csrf_required:
        return
    sent = credentials.csrf_sent
    # As bytes: compare_digest refuses a str with non-ASCII characters (a TypeError, a 500).
    if not sent or not hmac.compare_digest(sent.encode(), actor.csrf_token.encode()):
        raise Forbidden("表单已失效，请刷新页面后重试（CSRF 校验失败）",
                        "The form has expired; reload the page and try again (CSRF check failed)")


@dataclass(frozen=True)
class Credentials:
    """What a request presents to prove who it is — read from the request without touching the
    database. :func:`actor_from` checks them in a session: a route that does its database work in
    one thread-pool call authenticates in that same call (one thread hop instead of two)."""

    token: str
    csrf_required: bool  # an unsafe method authenticated by the session cookie
    csrf_sent: str | None
    perm: Perm | None = None


async def _credentials(request: Request) -> Credentials:
    token, from_cookie = _token_from(request)
    if not token:
        raise NotAuthenticated("请先登录", "Please log in")
    csrf_required = from_cookie and request.method not in SAFE_METHODS
    return Credentials(token=token, csrf_required=csrf_required,
                       csrf_sent=await _csrf_sent(request) if csrf_required else None)


def actor_from(db: Session, credentials: Credentials) -> Actor:
    """The actor behind ``credentials`` (one query), CSRF-checked, holding ``credentials.perm``;
    recorded on the session for the audit log. Blocking: run it off the event loop."""
    actor = auth_service.authenticate(db=db, token=credentials.token)
    _check_csrf(credentials, actor)
    db.info["actor"] = actor
    if credentials.perm is not None:
        actor.require(credentials.perm)
    return actor


def credentials_for(perm: Perm):
    """Dependency factory: the request's credentials, to be checked — for ``perm`` — by
    :func:`actor_from` in the route's own thread-pool call (see ``incident.routes.create_incident``).
    A request without any credentials is refused here, before its body is validated."""

    # One level (the request itself), not ``Depends(_credentials)``: each level of FastAPI's
    # dependency solving costs the hot path CPU.
    async def _dep(request: Request) -> Credentials:
        return dataclasses.replace(await _credentials(request), perm=perm)

    _dep.__name__ = f"credentials_for_{perm.value.replace('.', '_')}"
    return _dep


async def current_actor(request: Request, db: Session = Depends(get_db),
                        credentials: Credentials = Depends(_credentials)) -> Actor:
    # A blocking database call must not run on the event loop (on SQLite it would wait for a
    # write lock held by a request whose commit is queued on this same loop).
    actor = await run_in_threadpool(actor_from, db, credentials)
    request.state.actor = actor
    return actor


async def optional_actor(request: Request, db: Session = Depends(get_db)) -> Actor | None:
    try:
        return await current_actor(request, db, await _credentials(request))
    except NotAuthenticated:
        return None


def require(perm: Perm):
    """Dependency factory: the actor, who must hold ``perm``."""

    async def _dep(actor: Actor = Depends(current_actor)) -> Actor:  # async: no thread hop for a check
        actor.require(perm)
        return actor

    _dep.__name__ = f"require_{perm.value.replace('.', '_')}"
    return _dep


class OptionalHeader:
    """An optional request header read by the handler itself, for the hot path. FastAPI's
    ``Header()`` parameter cost about 0.25 ms of event-loop CPU per request (taking a call, in
    process, alternating A/B), a tenth of the whole call. Read here, it is validated as FastAPI
    would (a 422 naming the header, through the same ``RequestValidationError``) and documented in
    the OpenAPI document the same way (pass :meth:`openapi` as the route's ``openapi_extra``)."""

    def __init__(self, name: str, *, min_length: int, max_length: int):
        self.name = name
        self._adapter = TypeAdapter(Annotated[str, StringConstraints(min_length=min_length, max_length=max_length)])

    def read(self, request: Request) -> str | None:
        raw = request.headers.get(self.name)
        if raw is None:
            return None
        try:
            return self._adapter.validate_python(raw)
        except ValidationError as error:
            raise RequestValidationError(
                [{**e, "loc": ("header", self.name)} for e in error.errors(include_url=False)]) from None

    def openapi(self) -> dict:
        schema = {"anyOf": [self._adapter.json_schema(), {"type": "null"}], "title": self.name}
        return {"parameters": [{"name": self.name, "in": "header", "required": False, "schema": schema}]}
