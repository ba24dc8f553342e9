"""What an actor reads of the auth tables: the account locks of the login throttle (账号锁定), for
the administrator who may lift them (decision 0016). Sessions and login attempts are read before
there is an actor, in :mod:`pingan.auth.system`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.auth.models import LoginLock
from pingan.org import repository as org_repository


def _is_tree_root(actor: Actor) -> bool:
    return actor.org_path.count("/") == 2  # '/1/'


def readable_locks(actor: Actor) -> Select:
    """The account locks the actor may see: of the usernames of their jurisdiction's users, and —
    for an actor over the whole tree — of usernames that belong to no account (a lock is kept for
    any name tried, so that it tells nothing about whether the account exists)."""
    where = LoginLock.username.in_(org_repository.usernames(actor))
    if _is_tree_root(actor):
        where = where | LoginLock.username.not_in(org_repository.all_usernames_unscoped())
    return select(LoginLock).where(where)


def list_active_locks(*, db: Session, actor: Actor, at: datetime,
                      username: str | None = None) -> list[LoginLock]:
    """The locks in force at ``at`` that the actor may see (of one username, if given), newest first."""
    stmt = readable_locks(actor).where(LoginLock.expires_at > at, LoginLock.lifted_at.is_(None))
    if username is not None:
        stmt = stmt.where(LoginLock.username == username)
    return list(db.scalars(stmt.order_by(LoginLock.created_at.desc())))
