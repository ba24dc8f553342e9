"""How a page runs a form's action: one shape for every page, none of them touching the
transaction.

The action (a call into a service) runs in a savepoint (``db.begin_nested()``). If the service
refuses it with a :class:`~pingan.errors.DomainError`, the savepoint is rolled back — whatever
the action wrote before refusing goes, the request's transaction stays usable for rendering —
and the error becomes the form's message: the page re-renders its form with the user's input
and the error, with the error's status. Otherwise the page answers with its success response.
The request's unit of work commits (or rolls back) as for any other request; a page never calls
``commit`` or ``rollback`` (decision 0017).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from pingan.errors import DomainError


def is_htmx(request: Request) -> bool:
    """The request comes from htmx (it wants a fragment, not a page)."""
    return request.headers.get("hx-request") == "true"


def attempt(db: Session, action: Callable[[], Any]) -> tuple[Any, DomainError | None]:
    """Run ``action`` in a savepoint: (its result, None), or (None, the refusal) with the
    savepoint rolled back."""
    try:
        with db.begin_nested():
            return action(), None
    except DomainError as exc:
        return None, exc


def form_action(db: Session, action: Callable[[], Any], *, done: Callable[[Any], Any],
                refused: Callable[[DomainError], Any]):
    """Run a form's ``action`` (see :func:`attempt`); answer ``done(result)`` when it went
    through, ``refused(error)`` — the form again, with the user's input and the message — when
    the service refused it."""
    result, error = attempt(db, action)
    if error is not None:
        return refused(error)
    return done(result)
