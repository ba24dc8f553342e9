"""JSON API: org units, duty units and users within the actor's subtree."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Response
from sqlalchemy.orm import Session

from pingan.auth import policy
from pingan.auth import service as auth_service
from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.db.types import MAX_ID
from pingan.errors import not_found
from pingan.org import repository, service
from pingan.org.models import DutyUnit, OrgKind, OrgUnit, UnitStatus
from pingan.org.schemas import (
    DutyUnitRead, LockLift, LoginLockRead, OrgUnitRead, PasswordReset, SessionsEnded, UserCreate, UserCreated, UserRead,
    UserUpdate,
)
from pingan.web.deps import get_db, require
from pingan.web.routing import api_router

router = api_router(tags=["org"])


@router.get("/org-units", response_model=list[OrgUnitRead])
def list_org_units(kind: OrgKind | None = None, actor: Actor = Depends(require(Perm.ORG_READ)),
                   db: Session = Depends(get_db)):
    return repository.list_org_units(db=db, actor=actor, kind=kind)


@router.get("/org-units/{org_unit_id}", response_model=OrgUnitRead)
def get_org_unit(org_unit_id: Annotated[int, Path(ge=1, le=MAX_ID)], actor: Actor = Depends(require(Perm.ORG_READ)),
                 db: Session = Depends(get_db)):
    unit = repository.get_org_unit(db=db, actor=actor, org_unit_id=org_unit_id)
    if unit is None:
        raise not_found(OrgUnit)
    return unit


@router.get("/units", response_model=list[DutyUnitRead])
def list_units(status: UnitStatus | None = None, actor: Actor = Depends(require(Perm.UNIT_READ)),
               db: Session = Depends(get_db)):
    return repository.list_units(db=db, actor=actor, status=status)


@router.get("/units/{unit_id}", response_model=DutyUnitRead)
def get_unit(unit_id: Annotated[int, Path(ge=1, le=MAX_ID)], actor: Actor = Depends(require(Perm.UNIT_READ)),
             db: Session = Depends(get_db)):
    unit = repository.get_unit(db=db, actor=actor, unit_id=unit_id)
    if unit is None:
        raise not_found(DutyUnit)
    return unit


# --- users (用户管理): an admin, inside their jurisdiction ----------------------------------------

UserId = Annotated[int, Path(ge=1, le=MAX_ID)]
manage = require(Perm.USER_MANAGE)


@router.get("/users", response_model=list[UserRead])
def list_users(q: Annotated[str | None, Query(max_length=40)] = None, actor: Actor = Depends(manage),
               db: Session = Depends(get_db)):
    return [user for user, _org in repository.list_users(db=db, actor=actor, q=q)]


@router.post("/users", response_model=UserCreated, status_code=201)
def create_user(body: UserCreate, actor: Actor = Depends(manage), db: Session = Depends(get_db)):
    user, one_time = service.add_user(db=db, actor=actor, username=body.username, display_name=body.display_name,
                                      role=body.role, org_unit_id=body.org_unit_id, password=body.password)
    return UserCreated(user=UserRead.model_validate(user), one_time_password=one_time)


@router.get("/users/{user_id}", response_model=UserRead, responses={404: {"description": "not in your jurisdiction"}})
def get_user(user_id: UserId, actor: Actor = Depends(manage), db: Session = Depends(get_db)):
    return service.get_user(db=db, actor=actor, user_id=user_id)


@router.patch("/users/{user_id}", response_model=UserRead, responses={404: {"description": "not in your jurisdiction"}})
def update_user(user_id: UserId, body: UserUpdate, actor: Actor = Depends(manage), db: Session = Depends(get_db)):
    return service.update_user(db=db, actor=actor, user_id=user_id, display_name=body.display_name,
                               role=body.role, org_unit_id=body.org_unit_id)


@router.post("/users/{user_id}/disable", response_model=UserRead)
def disable_user(user_id: UserId, actor: Actor = Depends(manage), db: Session = Depends(get_db)):
    return service.disable_user(db=db, actor=actor, user_id=user_id)


@router.post("/users/{user_id}/enable", response_model=UserRead)
def enable_user(user_id: UserId, actor: Actor = Depends(manage), db: Session = Depends(get_db)):
    return service.enable_user(db=db, actor=actor, user_id=user_id)


@router.post("/users/{user_id}/reset-password", response_model=PasswordReset)
def reset_password(user_id: UserId, actor: Actor = Depends(manage), db: Session = Depends(get_db)):
    """A one-time password, shown in this answer only; the user must change it at the next login."""
    user, password = service.reset_password(db=db, actor=actor, user_id=user_id)
    return PasswordReset(user=UserRead.model_validate(user), one_time_password=password)


@router.post("/users/{user_id}/end-sessions", response_model=SessionsEnded)
def end_sessions(user_id: UserId, actor: Actor = Depends(manage), db: Session = Depends(get_db)):
    return SessionsEnded(sessions_ended=service.end_user_sessions(db=db, actor=actor, user_id=user_id))


@router.get("/login-locks", response_model=list[LoginLockRead])
def list_login_locks(actor: Actor = Depends(manage), db: Session = Depends(get_db)):
    """Active account locks (账号锁定) in your jurisdiction."""
    return auth_service.list_locks(db=db, actor=actor)


@router.post("/login-locks/lift", status_code=204, responses={404: {"description": "no active lock"}})
def lift_login_lock(body: LockLift, response: Response, actor: Actor = Depends(manage),
                    db: Session = Depends(get_db)):
    auth_service.lift_lock(db=db, actor=actor, username=policy.throttle_key(body.username))
    response.status_code = 204
    return response
