"""HTML: the duty-unit list (警力), the organisation tree (机构) and user management (用户管理), within the
actor's subtree. Every action runs through ``web.actions``: a refusal is shown on the form it came
from, the page never touches the transaction."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from pingan.auth import policy
from pingan.auth import service as auth_service
from pingan.auth.actor import Actor
from pingan.auth.models import USERNAME_LENGTH
from pingan.auth.permissions import Perm
from pingan.db.types import MAX_ID
from pingan.errors import DomainError, ValidationFailed
from pingan.org import repository, service
from pingan.org.models import Role, UnitKind, UnitStatus
from pingan.web.actions import form_action
from pingan.web.deps import get_db, require
from pingan.web.params import ascii_id
from pingan.web.templating import render
from pingan.web.routing import api_router

router = api_router()

def _choice(value: str, allowed) -> str | None:
    """A filter value from the query string, or None when blank or unknown (a filter, not an error)."""
    value = (value or "").strip()
    return value if value in {str(a) for a in allowed} else None


@router.get("/units")
def units_page(
    request: Request,
    status: str = Query("", max_length=20),
    kind: str = Query("", max_length=20),
    org: str = Query("", max_length=12),
    actor: Actor = Depends(require(Perm.UNIT_READ)),
    db: Session = Depends(get_db),
):
    """警力一览：状态、所属单位、最后位置、当前任务。"""
    org_unit_id = ascii_id(org)
    rows = repository.list_units_overview(db=db, actor=actor, status=_choice(status, UnitStatus),
                                          kind=_choice(kind, UnitKind), org_unit_id=org_unit_id)
    orgs = repository.list_org_units(db=db, actor=actor)
    counts = {s.value: 0 for s in UnitStatus}
    for row in rows:
        counts[str(row.unit.status)] = counts.get(str(row.unit.status), 0) + 1
    return render(request, "org/units.html", {
        "rows": rows, "orgs": orgs, "counts": counts,
        "filters": {"status": _choice(status, UnitStatus) or "", "kind": _choice(kind, UnitKind) or "",
                    "org": org_unit_id},
        "kinds": UnitKind, "statuses": UnitStatus, "assignment_statuses": _assignment_statuses(),
    })


def _assignment_statuses():
    from pingan.incident.models import AssignmentStatus  # a unit's current task is the incident domain's

    return AssignmentStatus


@router.get("/org")
def org_page(request: Request, actor: Actor = Depends(require(Perm.ORG_READ)), db: Session = Depends(get_db)):
    """机构树：本单位及下级单位，含各级警力数（本级 / 含下级）。"""
    orgs = repository.list_org_units(db=db, actor=actor)
    own = repository.unit_counts_by_org(db=db, actor=actor)
    users = repository.user_counts_by_org(db=db, actor=actor)
    base_depth = min((o.path.count("/") for o in orgs), default=0)
    totals: dict[int, dict[str, int]] = {o.id: {s.value: 0 for s in UnitStatus} for o in orgs}
    for o in orgs:  # add each unit's own counts to itself and every visible ancestor
        for ancestor in (int(i) for i in o.path.strip("/").split("/") if i):
            if ancestor in totals:
                for status, n in own.get(o.id, {}).items():
                    totals[ancestor][status] = totals[ancestor].get(status, 0) + n
    nodes = [
        {"org": o, "depth": o.path.count("/") - base_depth, "own_units": sum(own.get(o.id, {}).values()),
         "total": totals[o.id], "total_units": sum(totals[o.id].values()), "users": users.get(o.id, 0)}
        for o in orgs  # ordered by path: a parent comes before its children
    ]
    return render(request, "org/tree.html", {
        "nodes": nodes, "statuses": UnitStatus,
    })


# --- users (用户管理): an admin, inside their jurisdiction ----------------------------------------

@router.get("/org/users")
def users_page(
    request: Request,
    q: str = Query("", max_length=40),
    org: str = Query("", max_length=12),
    actor: Actor = Depends(require(Perm.USER_MANAGE)),
    db: Session = Depends(get_db),
):
    """用户管理：辖区内的用户、状态，以及被锁定的账号。"""
    org_unit_id = int(org) if org.isascii() and org.isdigit() and int(org) <= MAX_ID else None
    rows = repository.list_users(db=db, actor=actor, q=q or None, org_unit_id=org_unit_id)
    locks = auth_service.list_locks(db=db, actor=actor)
    return render(request, "org/users.html", {
        "rows": rows, "locks": locks, "locked": {lk.username for lk in locks},
        "orgs": repository.list_org_units(db=db, actor=actor), "roles": Role,
        "filters": {"q": q, "org": org_unit_id}, "lifted": request.query_params.get("lifted"),
    })


@router.post("/org/users/locks/lift")
def lift_lock_submit(request: Request, username: str = Form("", max_length=USERNAME_LENGTH),
                     actor: Actor = Depends(require(Perm.USER_MANAGE)), db: Session = Depends(get_db)):
    """解除锁定."""
    return form_action(
        db, lambda: auth_service.lift_lock(db=db, actor=actor, username=policy.throttle_key(username)),
        done=lambda _lock: RedirectResponse("/org/users?lifted=1", status_code=303),
        refused=lambda exc: render(request, "error.html", {"zh": exc.zh, "en": exc.en, "status": exc.status_code},
                                   exc.status_code))


@router.get("/org/users/new")
def user_new_form(request: Request, actor: Actor = Depends(require(Perm.USER_MANAGE)), db: Session = Depends(get_db)):
    return _user_new(request, db, actor)


def _user_new(request: Request, db: Session, actor: Actor, *, form: dict | None = None,
              error: DomainError | None = None, status: int = 200):
    return render(request, "org/user_new.html", {
        "orgs": repository.list_org_units(db=db, actor=actor), "roles": Role,
        "form": form or {}, "error": error,
    }, status_code=status)


@router.post("/org/users/new")
def user_new_submit(
    request: Request,
    username: str = Form("", max_length=200),
    display_name: str = Form("", max_length=200),
    role: str = Form("", max_length=24),
    org_unit_id: str = Form("", max_length=12),
    actor: Actor = Depends(require(Perm.USER_MANAGE)),
    db: Session = Depends(get_db),
):
    """新建用户：生成一次性密码，只显示一次，首次登录须修改。"""
    form = {"username": username, "display_name": display_name, "role": role, "org_unit_id": org_unit_id}

    def add():
        if len(username.strip()) > USERNAME_LENGTH:
            raise ValidationFailed(f"用户名最多 {USERNAME_LENGTH} 个字符", f"The username is at most {USERNAME_LENGTH} characters",
                                   field="username")
        chosen_role, unit = _role(role), _org_unit_id(org_unit_id)
        if chosen_role is None:
            raise ValidationFailed("请选择角色", "Choose a role", field="role")
        if unit is None:
            raise ValidationFailed("请选择所属单位", "Choose an org unit", field="org_unit_id")
        return service.add_user(db=db, actor=actor, username=username, display_name=display_name,
                                role=chosen_role, org_unit_id=unit)

    return form_action(
        db, add,
        done=lambda added: _user_detail(request, db, actor, added[0].id, one_time_password=added[1], done="created"),
        refused=lambda exc: _user_new(request, db, actor, form=form, error=exc, status=exc.status_code))


def _role(value: str) -> Role | None:
    """The role chosen on a form, None when none is; an unknown value is refused."""
    if not value:
        return None
    if value not in Role._value2member_map_:
        raise ValidationFailed("角色无效", "Unknown role", field="role")
    return Role(value)


def _org_unit_id(value: str) -> int | None:
    """The org unit chosen on a form, None when none is; a value that is no id is refused."""
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and int(value) <= MAX_ID):
        raise ValidationFailed("所属单位无效", "Unknown org unit", field="org_unit_id")
    return int(value)


def _user_detail(request: Request, db: Session, actor: Actor, user_id: int, *, one_time_password: str | None = None,
                 done: str | None = None, error: DomainError | None = None, form: dict | None = None,
                 status: int = 200):
    user = service.get_user(db=db, actor=actor, user_id=user_id)
    locks = [lk for lk in auth_service.list_locks(db=db, actor=actor) if lk.username == user.username]
    form = form or {"display_name": user.display_name, "role": str(user.role), "org_unit_id": str(user.org_unit_id)}
    return render(request, "org/user.html", {
        "user": user, "locks": locks, "orgs": repository.list_org_units(db=db, actor=actor),
        "roles": Role, "one_time_password": one_time_password, "done": done, "error": error, "form": form,
    }, status_code=status)


@router.get("/org/users/{user_id:int}")
def user_page(request: Request, user_id: Annotated[int, PathParam(ge=1, le=MAX_ID)],
              actor: Actor = Depends(require(Perm.USER_MANAGE)), db: Session = Depends(get_db)):
    return _user_detail(request, db, actor, user_id, done=request.query_params.get("done"))


def _user_action(request: Request, db: Session, actor: Actor, user_id: int, done: str, action, *,
                 form: dict | None = None):
    """Run one action on a user (web.actions); redirect back to the user's page, or show the
    refusal there with what was typed (``form``). A user out of reach is a 404 (the page itself)."""
    def went_through(result):
        if done == "reset":  # the one-time password is shown once, on this answer only
            return _user_detail(request, db, actor, user_id, one_time_password=result[1], done=done)
        return RedirectResponse(f"/org/users/{user_id}?done={done}", status_code=303)

    return form_action(db, action, done=went_through, refused=lambda exc: _user_detail(
        request, db, actor, user_id, error=exc, form=form, status=exc.status_code))


@router.post("/org/users/{user_id:int}/disable")
def user_disable(request: Request, user_id: Annotated[int, PathParam(ge=1, le=MAX_ID)],
                 actor: Actor = Depends(require(Perm.USER_MANAGE)), db: Session = Depends(get_db)):
    return _user_action(request, db, actor, user_id, "disabled",
                        lambda: service.disable_user(db=db, actor=actor, user_id=user_id))


@router.post("/org/users/{user_id:int}/enable")
def user_enable(request: Request, user_id: Annotated[int, PathParam(ge=1, le=MAX_ID)],
                actor: Actor = Depends(require(Perm.USER_MANAGE)), db: Session = Depends(get_db)):
    return _user_action(request, db, actor, user_id, "enabled",
                        lambda: service.enable_user(db=db, actor=actor, user_id=user_id))


@router.post("/org/users/{user_id:int}/reset-password")
def user_reset_password(request: Request, user_id: Annotated[int, PathParam(ge=1, le=MAX_ID)],
                        actor: Actor = Depends(require(Perm.USER_MANAGE)), db: Session = Depends(get_db)):
    return _user_action(request, db, actor, user_id, "reset",
                        lambda: service.reset_password(db=db, actor=actor, user_id=user_id))


@router.post("/org/users/{user_id:int}/end-sessions")
def user_end_sessions(request: Request, user_id: Annotated[int, PathParam(ge=1, le=MAX_ID)],
                      actor: Actor = Depends(require(Perm.USER_MANAGE)), db: Session = Depends(get_db)):
    return _user_action(request, db, actor, user_id, "sessions_ended",
                        lambda: service.end_user_sessions(db=db, actor=actor, user_id=user_id))


@router.post("/org/users/{user_id:int}/edit")
def user_edit(
    request: Request,
    user_id: Annotated[int, PathParam(ge=1, le=MAX_ID)],
    display_name: str = Form("", max_length=200),
    role: str = Form("", max_length=24),
    org_unit_id: str = Form("", max_length=12),
    actor: Actor = Depends(require(Perm.USER_MANAGE)),
    db: Session = Depends(get_db),
):
    """分配角色和单位."""
    form = {"display_name": display_name, "role": role, "org_unit_id": org_unit_id}
    return _user_action(request, db, actor, user_id, "updated", lambda: service.update_user(
        db=db, actor=actor, user_id=user_id, display_name=display_name or None, role=_role(role),
        org_unit_id=_org_unit_id(org_unit_id)), form=form)
