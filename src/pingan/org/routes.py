"""JSON API: org units and duty units within the actor's subtree."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path
from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.db.types import MAX_ID
from pingan.errors import NotFound
from pingan.org import repository
from pingan.org.models import OrgKind, UnitStatus
from pingan.org.schemas import DutyUnitRead, OrgUnitRead
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
        raise NotFound("机构不存在或不在辖区内", "No such org unit in your jurisdiction")
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
        raise NotFound("警力单元不存在或不在辖区内", "No such duty unit in your jurisdiction")
    return unit
