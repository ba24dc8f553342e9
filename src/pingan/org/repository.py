"""Queries over org units, officers, users and duty units — always within the actor's subtree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.org.models import DutyUnit, OrgKind, OrgUnit, UnitKind, UnitStatus, User


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


def get_jurisdiction_root(*, db: Session, actor: Actor) -> OrgUnit | None:
    """The org unit at the top of the actor's jurisdiction (a command centre's member: its parent)."""
    return db.scalar(select(OrgUnit).where(OrgUnit.path == actor.org_path))


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


# --- read models for the units and organisation pages ----------------------------------------


@dataclass(frozen=True)
class UnitOverview:
    """One row of the units page (警力一览): the unit, its org unit's name and its active task."""

    unit: DutyUnit
    org_name: str
    assignment_id: int | None
    assignment_status: str | None
    incident_id: int | None
    incident_number: str | None


def list_units_overview(
    *, db: Session, actor: Actor, status: UnitStatus | str | None = None, kind: UnitKind | str | None = None,
    org_unit_id: int | None = None, limit: int = 500,
) -> list[UnitOverview]:
    """Duty units of the actor's subtree with their org unit's name and active assignment, in one query."""
    from pingan.incident.models import Assignment, Incident  # the units page reads across domains

    stmt = (
        select(DutyUnit, OrgUnit.name, Assignment.id, Assignment.status, Incident.id, Incident.number)
        .join(OrgUnit, OrgUnit.id == DutyUnit.org_unit_id)
        .outerjoin(Assignment, and_(Assignment.unit_id == DutyUnit.id, Assignment.active.is_(True)))
        .outerjoin(Incident, Incident.id == Assignment.incident_id)
        .where(DutyUnit.org_unit_id.in_(subtree_ids(actor)))
        .order_by(DutyUnit.call_sign)
        .limit(limit)
    )
    if status:
        stmt = stmt.where(DutyUnit.status == status)
    if kind:
        stmt = stmt.where(DutyUnit.kind == kind)
    if org_unit_id is not None:
        stmt = stmt.where(DutyUnit.org_unit_id == org_unit_id)
    return [
        UnitOverview(unit=u, org_name=name, assignment_id=aid, assignment_status=str(astatus) if astatus else None,
                     incident_id=iid, incident_number=number)
        for u, name, aid, astatus, iid, number in db.execute(stmt)
    ]


def unit_counts_by_org(*, db: Session, actor: Actor) -> dict[int, dict[str, int]]:
    """{org unit id: {unit status: count}} over the actor's subtree (the org page's unit counts)."""
    stmt = (
        select(DutyUnit.org_unit_id, DutyUnit.status, func.count())
        .where(DutyUnit.org_unit_id.in_(subtree_ids(actor)))
        .group_by(DutyUnit.org_unit_id, DutyUnit.status)
    )
    counts: dict[int, dict[str, int]] = {}
    for org_unit_id, status, n in db.execute(stmt):
        counts.setdefault(org_unit_id, {})[str(status)] = n
    return counts


def user_counts_by_org(*, db: Session, actor: Actor) -> dict[int, int]:
    """{org unit id: active users} over the actor's subtree."""
    stmt = (
        select(User.org_unit_id, func.count())
        .where(User.org_unit_id.in_(subtree_ids(actor)), User.is_active.is_(True))
        .group_by(User.org_unit_id)
    )
    return {org_unit_id: n for org_unit_id, n in db.execute(stmt)}


def org_unit_names(*, db: Session, org_unit_ids: Iterable[int]) -> dict[int, str]:
    """Names of the given org units (labels for rows already filtered to the actor's jurisdiction)."""
    ids = sorted({i for i in org_unit_ids if i is not None})
    if not ids:
        return {}
    return dict(db.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids))).all())


def user_display_names(*, db: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    """Display names of users (who did what on a timeline), in one query."""
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return {}
    return dict(db.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


# --- users, for their management (用户管理) -----------------------------------------------------


def readable_users(actor: Actor) -> Select:
    """The users of the actor's subtree: every user-management read builds on this."""
    return select(User).where(User.org_unit_id.in_(subtree_ids(actor)))


def get_user_in(*, db: Session, actor: Actor, user_id: int) -> User | None:
    return db.scalar(readable_users(actor).where(User.id == user_id))


def list_users(
    *, db: Session, actor: Actor, q: str | None = None, org_unit_id: int | None = None,
    active: bool | None = None, limit: int = 500,
) -> list[tuple[User, str]]:
    """(user, org unit name) of the actor's subtree, by username."""
    stmt = (readable_users(actor).add_columns(OrgUnit.name).join(OrgUnit, OrgUnit.id == User.org_unit_id)
            .order_by(User.username).limit(limit))
    if q:
        like = f"%{q.replace(chr(0), '').strip().lower()}%"
        stmt = stmt.where(func.lower(User.username).like(like) | func.lower(User.display_name).like(like))
    if org_unit_id is not None:
        stmt = stmt.where(User.org_unit_id == org_unit_id)
    if active is not None:
        stmt = stmt.where(User.is_active.is_(active))
    return [(user, name) for user, name in db.execute(stmt)]
