"""Queries over org units, officers, users and duty units — always within the actor's subtree."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.org.models import DutyUnit, OrgKind, OrgUnit, User


def subtree_ids(actor: Actor) -> Select:
    """SELECT of the ids of the org units the actor may see (its own unit and everything below)."""
    return select(OrgUnit.id).where(OrgUnit.path.startswith(actor.org_path, autoescape=True))


def get_org_unit(*, db: Session, actor: Actor, org_unit_id: int) -> OrgUnit | None:
    return db.scalar(
        select(OrgUnit).where(OrgUnit.id == org_unit_id, OrgUnit.id.in_(subtree_ids(actor)))
    )


def get_org_unit_by_code(*, db: Session, actor: Actor, code: str) -> OrgUnit | None:
    return db.scalar(select(OrgUnit).where(OrgUnit.code == code, OrgUnit.id.in_(subtree_ids(actor))))


def list_org_units(*, db: Session, actor: Actor, kind: OrgKind | None = None) -> list[OrgUnit]:
    stmt = select(OrgUnit).where(OrgUnit.id.in_(subtree_ids(actor))).order_by(OrgUnit.path)
    if kind is not None:
        stmt = stmt.where(OrgUnit.kind == kind)
    return list(db.scalars(stmt))


# Functional units serve the whole of their parent: a command centre dispatches for its bureau
# (or branch), a team patrols its parent's area. Their members see the parent's subtree.
SERVES_PARENT = (OrgKind.COMMAND_CENTRE, OrgKind.TEAM)


def org_path_of(*, db: Session, org_unit_id: int) -> str:
    """The jurisdiction path of a user of this org unit (used to build an Actor)."""
    row = db.execute(select(OrgUnit.path, OrgUnit.kind, OrgUnit.parent_id).where(OrgUnit.id == org_unit_id)).first()
    if row is None:
        return "/nonexistent/"
    path, kind, parent_id = row
    if kind in SERVES_PARENT and parent_id is not None:
        return path[: path.rstrip("/").rfind("/") + 1]
    return path


def get_root(*, db: Session) -> OrgUnit | None:
    return db.scalar(select(OrgUnit).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id))


def get_user_by_username(*, db: Session, username: str) -> User | None:
    return db.scalar(select(User).where(User.username == username))


def get_user(*, db: Session, user_id: int) -> User | None:
    return db.get(User, user_id)


def list_units(
    *, db: Session, actor: Actor, status: str | None = None, limit: int = 500
) -> list[DutyUnit]:
    stmt = select(DutyUnit).where(DutyUnit.org_unit_id.in_(subtree_ids(actor))).order_by(DutyUnit.call_sign)
    if status:
        stmt = stmt.where(DutyUnit.status == status)
    return list(db.scalars(stmt.limit(limit)))


def get_unit(*, db: Session, actor: Actor, unit_id: int) -> DutyUnit | None:
    return db.scalar(
        select(DutyUnit).where(DutyUnit.id == unit_id, DutyUnit.org_unit_id.in_(subtree_ids(actor)))
    )


def get_unit_operated_by(*, db: Session, user_id: int) -> DutyUnit | None:
    return db.scalar(select(DutyUnit).where(DutyUnit.operator_user_id == user_id))
