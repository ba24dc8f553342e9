"""Queries over org units, users and duty units (组织机构、用户、警力), always within the actor's
subtree. Each entity has one readable statement every read builds on (decision 0016):
:func:`readable_org_units`, :func:`readable_users`, :func:`readable_units` (and
:func:`operated_units`, the units an actor operates wherever they belong). Functions named
``*_unscoped`` read or change records a caller has already filtered; the reads that serve the
machinery (login, the command line) are in :mod:`pingan.org.system`.

The org package owns the duty units, their status included: dispatch (or any later module that
sends units) claims and releases a unit here (:func:`claim_unit_unscoped`,
:func:`release_unit_unscoped`) and finds available ones here (:func:`available_units_in_box`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Integer, Select, any_, cast, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY as PG_ARRAY
from sqlalchemy.orm import Session

from pingan.audit.mechanism import record_event
from pingan.audit.models import AuditAction
from pingan.auth.actor import Actor
from pingan.org.models import DutyUnit, OrgKind, OrgUnit, UnitKind, UnitStatus, User


def subtree_ids(actor: Actor, *, below: int | None = None) -> Select:
    """SELECT of the ids of the org units the actor may see (its own unit and everything below);
    with ``below``, only those in that org unit's subtree."""
    stmt = select(OrgUnit.id).where(OrgUnit.path.startswith(actor.org_path, autoescape=True))
    if below is not None:
        # paths hold only digits and "/": the prefix needs no LIKE escaping
        stmt = stmt.where(OrgUnit.path.startswith(select(OrgUnit.path).where(OrgUnit.id == below).scalar_subquery()))
    return stmt


def join_org_path_unscoped(stmt: Select, org_unit_id: ColumnElement[int], *,
                           outer: bool = True) -> tuple[Select, ColumnElement[str]]:
    """``stmt`` joined to the org unit ``org_unit_id`` names, and that unit's path column: for a
    jurisdiction test by path prefix inside another package's statement (one index look-up a row,
    no subtree scan: the address read of taking a call). The caller applies the test."""
    return stmt.join(OrgUnit, OrgUnit.id == org_unit_id, isouter=outer), OrgUnit.path


# --- org units ---------------------------------------------------------------------------------


def readable_org_units(actor: Actor) -> Select:
    """The org units of the actor's subtree: every org-unit read builds on this."""
    return select(OrgUnit).where(OrgUnit.id.in_(subtree_ids(actor)))


def get_org_unit(*, db: Session, actor: Actor, org_unit_id: int) -> OrgUnit | None:
    return db.scalar(readable_org_units(actor).where(OrgUnit.id == org_unit_id))


def get_org_unit_by_code(*, db: Session, actor: Actor, code: str) -> OrgUnit | None:
    return db.scalar(readable_org_units(actor).where(OrgUnit.code == code))


def list_org_units(*, db: Session, actor: Actor, kind: OrgKind | None = None) -> list[OrgUnit]:
    stmt = readable_org_units(actor).order_by(OrgUnit.path)
    if kind is not None:
        stmt = stmt.where(OrgUnit.kind == kind)
    return list(db.scalars(stmt))


def get_jurisdiction_root(*, db: Session, actor: Actor) -> OrgUnit | None:
    """The org unit at the top of the actor's jurisdiction (a command centre's member: its parent)."""
    return db.scalar(readable_org_units(actor).where(OrgUnit.path == actor.org_path))


def org_unit_path_unscoped(*, db: Session, org_unit_id: int) -> str | None:
    """The tree path of an org unit, wherever it is (to tell a caller's unit outside the
    jurisdiction from one that does not exist)."""
    unit = db.get(OrgUnit, org_unit_id)
    return unit.path if unit is not None else None


# --- users --------------------------------------------------------------------------------------


def readable_users(actor: Actor) -> Select:
    """The users of the actor's subtree: every user read builds on this."""
    return select(User).where(User.org_unit_id.in_(subtree_ids(actor)))


def get_own_user(*, db: Session, actor: Actor) -> User | None:
    """The actor's own account."""
    if actor.user_id is None:
        return None
    return db.scalar(readable_users(actor).where(User.id == actor.user_id))


def usernames(actor: Actor) -> Select:
    """SELECT of the usernames of the actor's subtree (a login lock is theirs to see)."""
    return readable_users(actor).with_only_columns(User.username)


def all_usernames_unscoped() -> Select:
    """SELECT of every username of the bureau (a lock on a name no account has is the root's)."""
    return select(User.username)


# --- duty units (警力), their status included ------------------------------------------------------


def readable_units(actor: Actor) -> Select:
    """The duty units of the actor's subtree: every duty-unit read builds on this."""
    return select(DutyUnit).where(DutyUnit.org_unit_id.in_(subtree_ids(actor)))


def operated_units(actor: Actor) -> Select:
    """The duty units the actor operates (a patrol officer's own car), wherever they belong."""
    return select(DutyUnit).where(DutyUnit.operator_user_id == actor.user_id)


def list_units(
    *, db: Session, actor: Actor, status: str | None = None, limit: int = 500
) -> list[DutyUnit]:
    stmt = readable_units(actor).order_by(DutyUnit.call_sign)
    if status:
        stmt = stmt.where(DutyUnit.status == status)
    return list(db.scalars(stmt.limit(limit)))


def get_unit(*, db: Session, actor: Actor, unit_id: int) -> DutyUnit | None:
    """A duty unit in the actor's subtree."""
    return db.scalar(readable_units(actor).where(DutyUnit.id == unit_id))


def get_operated_unit(*, db: Session, actor: Actor, unit_id: int | None = None) -> DutyUnit | None:
    """The duty unit the actor operates (``unit_id``: that one, if the actor operates it)."""
    if actor.user_id is None:
        return None
    stmt = operated_units(actor)
    if unit_id is not None:
        stmt = stmt.where(DutyUnit.id == unit_id)
    return db.scalars(stmt.order_by(DutyUnit.id)).first()


def operated_unit_ids(actor: Actor) -> Select:
    """SELECT of the ids of the duty units the actor operates."""
    return operated_units(actor).with_only_columns(DutyUnit.id)


def unit_operators_unscoped() -> Select:
    """(unit id, operator user id) of every duty unit that has an operator: for another package's
    statement that decides in memory whom a record concerns (the live stream's poll)."""
    return select(DutyUnit.id.label("unit_id"), DutyUnit.operator_user_id).where(DutyUnit.operator_user_id.is_not(None))


def get_unit_unscoped(*, db: Session, unit_id: int) -> DutyUnit | None:
    """One duty unit by id, wherever it belongs: the unit of a record the caller has already
    filtered (an assignment of a visible incident). From the session's identity map when loaded."""
    return db.get(DutyUnit, unit_id)


def units_by_ids_unscoped(*, db: Session, ids: Select | Iterable[int]) -> dict[int, DutyUnit]:
    """Duty units by id, wherever they belong: the units of records the caller has already
    filtered (the units sent to a visible incident, for their call signs)."""
    return {u.id: u for u in db.scalars(select(DutyUnit).where(DutyUnit.id.in_(ids)))}


def existing_call_signs_unscoped(*, db: Session, call_signs: Iterable[str]) -> set[str]:
    """Which of these call signs are already taken, bureau-wide (call signs are unique in the
    bureau: an importer learns only that a name is taken)."""
    taken: set[str] = set()
    batch: list[str] = []
    for sign in call_signs:
        batch.append(sign)
        if len(batch) == 500:
            taken.update(db.scalars(select(DutyUnit.call_sign).where(DutyUnit.call_sign.in_(batch))))
            batch = []
    if batch:
        taken.update(db.scalars(select(DutyUnit.call_sign).where(DutyUnit.call_sign.in_(batch))))
    return taken


def _unit_status_change(db: Session, unit_id: int, before: UnitStatus, after: UnitStatus) -> bool:
    """Conditionally move a unit from ``before`` to ``after`` in one UPDATE; False if it was not ``before``.

    The row-level condition is what makes two concurrent dispatchers safe: on PostgreSQL the
    second UPDATE waits for the first transaction and then finds the status changed; on
    SQLite writers are serialised from BEGIN. The change is written to the audit log in the
    same shape as the automatic hook (which a bulk UPDATE bypasses).
    """
    result = db.execute(
        update(DutyUnit)
        .where(DutyUnit.id == unit_id, DutyUnit.status == before)
        .values(status=after, version=DutyUnit.version + 1)
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:
        return False
    record_event(db, action=AuditAction.UPDATE, entity=DutyUnit.__tablename__, entity_id=unit_id,
                 detail={"before": {"status": before.value}, "after": {"status": after.value}})
    return True


def claim_unit_unscoped(*, db: Session, unit_id: int) -> bool:
    """available → assigned, atomically. False when another dispatcher got there first. The
    caller has read the unit through :func:`get_unit`."""
    return _unit_status_change(db, unit_id, UnitStatus.AVAILABLE, UnitStatus.ASSIGNED)


def release_unit_unscoped(*, db: Session, unit_id: int) -> bool:
    """assigned → available (the unit's assignment ended; the unit may lie outside the
    jurisdiction of whoever ends it)."""
    return _unit_status_change(db, unit_id, UnitStatus.ASSIGNED, UnitStatus.AVAILABLE)


@dataclass(frozen=True)
class UnitRow:
    id: int
    call_sign: str
    kind: UnitKind
    org_unit_id: int
    lat: float
    lon: float


def available_units_in_box(
    *, db: Session, actor: Actor, min_lat: float, max_lat: float, min_lon: float, max_lon: float,
    kinds: list[UnitKind] | None = None,
) -> list[UnitRow]:
    """Available duty units in a lat/lon box within the actor's subtree (dispatch's candidates).

    Served by the (status, lat, lon) index: an equality on status and a range on lat.
    """
    if db.get_bind().dialect.name == "postgresql":
        # The subtree's ids as one array computed once per query (an InitPlan): PostgreSQL's generic
        # plan for the prepared statement would otherwise re-scan org_unit for every unit in the box.
        subtree_array = (select(func.array_agg(OrgUnit.id))
                         .where(OrgUnit.path.startswith(actor.org_path, autoescape=True)).scalar_subquery())
        in_jurisdiction = DutyUnit.org_unit_id == any_(cast(subtree_array, PG_ARRAY(Integer)))
    else:
        in_jurisdiction = DutyUnit.org_unit_id.in_(subtree_ids(actor))
    stmt = select(DutyUnit.id, DutyUnit.call_sign, DutyUnit.kind, DutyUnit.org_unit_id, DutyUnit.lat,
                  DutyUnit.lon).where(
        DutyUnit.status == UnitStatus.AVAILABLE,
        DutyUnit.lat.between(min_lat, max_lat),
        DutyUnit.lon.between(min_lon, max_lon),
        in_jurisdiction,
    )
    if kinds:
        stmt = stmt.where(DutyUnit.kind.in_(list(kinds)))
    return [UnitRow(*row) for row in db.execute(stmt)]


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
    """Duty units of the actor's subtree with their org unit's name and active task, in one query.
    The task (an assignment and its incident) is the incident package's: its repository gives the
    statement (:func:`pingan.incident.repository.active_tasks`, the tasks of incidents the actor
    may see), joined here."""
    from pingan.incident import repository as incident_repository  # the incident package builds on org

    task = incident_repository.active_tasks(actor).subquery("task")
    stmt = (
        readable_units(actor)
        .add_columns(OrgUnit.name, task.c.assignment_id, task.c.assignment_status, task.c.incident_id,
                     task.c.incident_number)
        .join(OrgUnit, OrgUnit.id == DutyUnit.org_unit_id)
        .outerjoin(task, task.c.unit_id == DutyUnit.id)
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
    stmt = (readable_units(actor).with_only_columns(DutyUnit.org_unit_id, DutyUnit.status, func.count())
            .group_by(DutyUnit.org_unit_id, DutyUnit.status))
    counts: dict[int, dict[str, int]] = {}
    for org_unit_id, status, n in db.execute(stmt):
        counts.setdefault(org_unit_id, {})[str(status)] = n
    return counts


def user_counts_by_org(*, db: Session, actor: Actor) -> dict[int, int]:
    """{org unit id: active users} over the actor's subtree."""
    stmt = (readable_users(actor).with_only_columns(User.org_unit_id, func.count())
            .where(User.is_active.is_(True)).group_by(User.org_unit_id))
    return {org_unit_id: n for org_unit_id, n in db.execute(stmt)}


def org_unit_names_unscoped(*, db: Session, org_unit_ids: Iterable[int]) -> dict[int, str]:
    """Names of the given org units (labels for rows already filtered to the actor's jurisdiction)."""
    ids = sorted({i for i in org_unit_ids if i is not None})
    if not ids:
        return {}
    return dict(db.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids))).all())


def user_display_names_unscoped(*, db: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    """Display names of users (who did what on a timeline), in one query."""
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return {}
    return dict(db.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


# --- users, for their management (用户管理) -----------------------------------------------------


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
