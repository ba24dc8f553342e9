"""Org queries that serve the machinery, not a reader (decision 0016): building an actor at
login and for a session, the root of the tree for the command line. None of them is filtered
by jurisdiction, since there is no actor yet to filter by; nothing here reaches a page or a
route's answer.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from pingan.org.models import OrgKind, OrgUnit, User

# Functional units serve the whole of their parent: a command centre dispatches for its bureau
# (or branch), a team patrols its parent's area. Their members see the parent's subtree.
SERVES_PARENT = (OrgKind.COMMAND_CENTRE, OrgKind.TEAM)


def jurisdiction_path(path: str, kind: str, parent_id: int | None) -> str:
    """The jurisdiction path of a user of an org unit with this path and kind (used to build an Actor)."""
    if kind in SERVES_PARENT and parent_id is not None:
        return path[: path.rstrip("/").rfind("/") + 1]
    return path


def org_path_of(*, db: Session, org_unit_id: int) -> str:
    """The jurisdiction path of a user of this org unit."""
    row = db.execute(select(OrgUnit.path, OrgUnit.kind, OrgUnit.parent_id).where(OrgUnit.id == org_unit_id)).first()
    if row is None:
        return "/nonexistent/"
    return jurisdiction_path(*row)


def get_root(*, db: Session) -> OrgUnit | None:
    """The root of the org tree (the command line acts as its administrator)."""
    return db.scalar(select(OrgUnit).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id))


def get_user_by_username(*, db: Session, username: str) -> User | None:
    """The account of a username, bureau-wide (logging in; a username is unique in the bureau)."""
    return db.scalar(select(User).where(User.username == username))


def org_units_changed_at():
    """A scalar subquery: when an org unit last changed (part of another package's index
    fingerprint; a path that moves moves its grids' jurisdiction)."""
    return select(func.max(OrgUnit.updated_at)).scalar_subquery()


# The columns an Actor is built from: the user's and their org unit's (auth.service.authenticate).
ACTOR_COLUMNS = (User.id, User.username, User.display_name, User.role, User.org_unit_id, User.language,
                 User.is_active, User.must_change_password, OrgUnit.path, OrgUnit.kind, OrgUnit.parent_id)


def with_actor_columns(stmt: Select, user_id: ColumnElement[int]) -> Select:
    """``stmt`` joined to the user ``user_id`` names and that user's org unit, with the columns an
    Actor is built from added (:data:`ACTOR_COLUMNS`): a session and its actor in one round trip."""
    return (stmt.add_columns(*ACTOR_COLUMNS).join(User, User.id == user_id)
            .join(OrgUnit, OrgUnit.id == User.org_unit_id))


# --- the statistics store's org dimension (stats.store) -----------------------------------------


def org_unit_rows() -> Select:
    """The org-unit dimension of the statistics store: id, parent, path, kind, code, name."""
    return select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.path, OrgUnit.kind, OrgUnit.code, OrgUnit.name)


def org_fingerprint(*, db: Session) -> tuple:
    """Changes when an org unit is added, removed or edited (the store reloads its dimensions)."""
    org = db.execute(select(func.count(), func.max(OrgUnit.updated_at)).select_from(OrgUnit)).one()
    return (org[0], str(org[1]))
