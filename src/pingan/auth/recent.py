"""Sessions authenticated in the last few seconds (最近认证的会话), kept in this process.

Authenticating is one query per request: the session row, its user and the user's org unit. A
client that sends many requests on one session — the 110 platform pushing calls through its
service account, a dispatcher's page loading its parts — pays it on every request. Within
``PINGAN_AUTH_CACHE_SECONDS`` (default 5; 0 turns this off) of a successful authentication, the
same token is answered from here (decision 0013).

What this costs, and what bounds it:

- the session's expiry is checked on every request against the remembered ``expires_at``, as if
  read afresh;
- a change this process commits to a session, a user or an org unit (a logout, a user disabled,
  a role or unit changed, an org unit moved) empties this memory at the commit;
- a change committed by another worker process takes effect here within the seconds above, not
  at once. A revoked session can thus go on working for up to that long in the other workers.

Only successful authentications are kept: a refusal is never remembered, so a session that has
just been created is read from the database on its first use.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from pingan.auth.actor import Actor
from pingan.config import get_settings
from pingan.db.session import flushed_any

# Entries beyond this are dropped oldest first (a dict keeps insertion order).
MAX_ENTRIES = 10_000

_entries: dict[str, tuple[float, datetime, Actor]] = {}
_lock = threading.Lock()
clock = time.monotonic  # replaced in tests


def recall(token_hash: str, now: datetime) -> Actor | None:
    """The actor of a session authenticated here within the last few seconds and not expired."""
    entry = _entries.get(token_hash)
    if entry is None:
        return None
    remembered_at, expires_at, actor = entry
    if clock() - remembered_at >= get_settings().auth_cache_seconds or expires_at <= now:
        _entries.pop(token_hash, None)
        return None
    return actor


def remember(token_hash: str, expires_at: datetime, actor: Actor) -> None:
    if get_settings().auth_cache_seconds <= 0:
        return
    with _lock:
        while len(_entries) >= MAX_ENTRIES:
            _entries.pop(next(iter(_entries)))
        _entries[token_hash] = (clock(), expires_at, actor)


def forget_all() -> None:
    with _lock:
        _entries.clear()


# --- emptied when this process commits a change that can alter an authentication --------------

_CHANGED = "auth_rows_changed"


def _watched() -> tuple[type, ...]:
    from pingan.auth.models import AuthSession
    from pingan.org.models import OrgUnit, User

    return AuthSession, User, OrgUnit


@event.listens_for(Session, "after_flush")
def _note_flushed(session: Session, _context) -> None:
    if session.info.get(_CHANGED):
        return
    if flushed_any(session, _watched()):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_change(state: ORMExecuteState) -> None:
    # UPDATE and DELETE statements bypass the flush (a logout revokes its session so).
    if (state.is_update or state.is_delete) and state.bind_mapper is not None \
            and issubclass(state.bind_mapper.class_, _watched()):
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _forget_on_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        forget_all()

