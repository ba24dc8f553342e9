"""JSON API of people: /api/v1/persons. Every answer is masked but the audited reveal's."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query
from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.auth.permissions import Perm
from pingan.db.types import MAX_ID
from pingan.errors import not_found
from pingan.people import idnumber, repository, service
from pingan.people.models import Person
from pingan.people.schemas import (
    DuplicateRead,
    MergeRequest,
    PersonCreate,
    PersonRead,
    PersonRevealed,
    PersonUpdate,
    RevealRequest,
)
from pingan.web.deps import get_db, require
from pingan.web.routing import api_router

router = api_router(prefix="/persons", tags=["people"])
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("", response_model=PersonRead, status_code=201)
def create_person(body: PersonCreate, actor: Actor = Depends(require(Perm.PERSON_WRITE)),
                  db: Session = Depends(get_db)):
    """登记人员 / register a person (409 when the citizen id is registered already)."""
    return PersonRead.of(service.create(db=db, actor=actor, data=body.data()))


@router.get("", response_model=list[PersonRead])
def search_persons(id_number: str = Query("", max_length=20), name: str = Query("", max_length=40),
                   phone: str = Query("", max_length=20), actor: Actor = Depends(require(Perm.PERSON_READ)),
                   db: Session = Depends(get_db)):
    """查找人员 / search people in your jurisdiction by citizen id, name, phone (exact values)."""
    found = repository.search_persons(db=db, actor=actor, id_number=idnumber.normalise(id_number) or None,
                                      name=name.strip() or None, phone="".join(phone.split()) or None)
    return [PersonRead.of(p) for p in found]


@router.get("/duplicates", response_model=list[DuplicateRead])
def list_duplicates(actor: Actor = Depends(require(Perm.PERSON_MERGE)), db: Session = Depends(get_db)):
    """疑似重复人员 / possible duplicates proposed for merging."""
    return [DuplicateRead(older=PersonRead.of(a), newer=PersonRead.of(b), reason=reason)
            for a, b, reason in repository.duplicate_pairs(db=db, actor=actor)]


@router.get("/{person_id}", response_model=PersonRead)
def get_person(person_id: Id, actor: Actor = Depends(require(Perm.PERSON_READ)), db: Session = Depends(get_db)):
    person = repository.get_person(db=db, actor=actor, person_id=person_id)
    if person is None:
        raise not_found(Person)
    return PersonRead.of(person)


@router.put("/{person_id}", response_model=PersonRead)
def update_person(person_id: Id, body: PersonUpdate, actor: Actor = Depends(require(Perm.PERSON_WRITE)),
                  db: Session = Depends(get_db)):
    """更正人员信息 / correct a person."""
    return PersonRead.of(service.update(db=db, actor=actor, person_id=person_id, data=body.data()))


@router.post("/{person_id}/reveal", response_model=PersonRevealed)
def reveal_person(person_id: Id, body: RevealRequest, actor: Actor = Depends(require(Perm.PERSON_REVEAL)),
                  db: Session = Depends(get_db)):
    """The person unmasked. The read and its purpose go to the audit log."""
    person = repository.get_person_revealed(db=db, actor=actor, person_id=person_id, purpose=body.purpose)
    if person is None:
        raise not_found(Person)
    return PersonRevealed.of(person)


@router.post("/{person_id}/merge", response_model=PersonRead)
def merge_person(person_id: Id, body: MergeRequest, actor: Actor = Depends(require(Perm.PERSON_MERGE)),
                 db: Session = Depends(get_db)):
    """合并 / merge ``merged_id`` into this person (the survivor)."""
    return PersonRead.of(service.merge(db=db, actor=actor, survivor_id=person_id, merged_id=body.merged_id))
