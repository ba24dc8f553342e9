"""Registering, correcting and merging people (人员). Services flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from pingan.auth.actor import Actor
from pingan.db.types import utcnow
from pingan.errors import Conflict, NotFound, ValidationFailed, not_found
from pingan.geo import divisions
from pingan.geo.repository import get_address
from pingan.org.repository import get_org_unit
from pingan.people import idnumber, repository
from pingan.people.models import DocumentKind, Person


@dataclass
class PersonData:
    """What a form or the API gives (already trimmed): see schemas.PersonCreate."""

    name: str
    id_number: str | None = None
    phones: list[str] = field(default_factory=list)
    documents: list[tuple[DocumentKind, str]] = field(default_factory=list)
    residence_text: str = ""
    residence_division_code: str | None = None
    address_id: int | None = None
    address_text: str = ""
    org_unit_id: int | None = None


def _check(db: Session, actor: Actor, data: PersonData, *, person_id: int | None = None) -> idnumber.CitizenId | None:
    if not data.name.strip():
        raise ValidationFailed("请填写姓名", "The name is required", field="name")
    citizen = idnumber.parse(data.id_number) if data.id_number else None
    if citizen is not None:
        holder = repository.id_number_taken_unscoped(db=db, id_number=citizen.number, other_than=person_id)
        if holder is not None:
            raise Conflict(f"证件号码已登记（人员编号 {holder}）", f"This citizen id is already registered (person {holder})",
                           field="id_number")
    if data.residence_division_code and divisions.get_division(data.residence_division_code) is None:
        raise ValidationFailed("户籍地行政区划代码无效", "The registered residence's division code is unknown",
                               field="residence_division_code")
    if data.address_id is not None and get_address(db=db, actor=actor, address_id=data.address_id) is None:
        raise not_found(("标准地址", "standard address"), field="address_id", error=ValidationFailed)
    return citizen


def _apply(person: Person, data: PersonData, citizen: idnumber.CitizenId | None) -> None:
    person.name = data.name.strip()
    person.id_number = citizen.number if citizen else None
    person.birth_date = citizen.birth_date if citizen else None
    person.sex = citizen.sex if citizen else None
    person.residence_text = data.residence_text
    # the id's division when none is given (a retired code is kept only where it is still listed)
    person.residence_division_code = data.residence_division_code or (
        citizen.division_code if citizen and citizen.division_is_current else None)
    person.address_id = data.address_id
    person.address_text = data.address_text


def create(*, db: Session, actor: Actor, data: PersonData) -> Person:
    """Register a person in ``data.org_unit_id`` (by default the actor's own unit), which must be
    in the actor's subtree. A citizen id registered already is refused (409) naming its holder."""
    org_unit_id = data.org_unit_id or actor.org_unit_id
    if get_org_unit(db=db, actor=actor, org_unit_id=org_unit_id) is None:
        raise not_found(("单位", "org unit"), field="org_unit_id")
    citizen = _check(db, actor, data)
    person = Person(org_unit_id=org_unit_id)
    _apply(person, data, citizen)
    repository.add_person_unscoped(db=db, person=person, phones=data.phones, documents=data.documents)
    return repository.reload(db=db, actor=actor, person_id=person.id)


def _editable(db: Session, actor: Actor, person_id: int) -> Person:
    person = repository.get_person(db=db, actor=actor, person_id=person_id)
    if person is None:
        raise not_found(Person)
    if person.merged_into_id is not None:
        raise Conflict(f"该人员已合并至人员 {person.merged_into_id}，请修改该记录",
                       f"This person was merged into person {person.merged_into_id}: edit that record",
                       field="merged_into_id")
    return person


def update(*, db: Session, actor: Actor, person_id: int, data: PersonData) -> Person:
    """Correct a person (the registering unit stays)."""
    person = _editable(db, actor, person_id)
    citizen = _check(db, actor, data, person_id=person.id)
    _apply(person, data, citizen)
    repository.replace_children_unscoped(db=db, person=person, phones=data.phones, documents=data.documents,
                                before=(list(person.phones), list(person.documents)))
    return repository.reload(db=db, actor=actor, person_id=person.id)


def merge(*, db: Session, actor: Actor, survivor_id: int, merged_id: int) -> Person:
    """Merge ``merged_id`` into ``survivor_id`` (合并重复人员). The merged record stays, pointing to
    the survivor (its history and audit rows with it); the survivor gains the phones and documents
    it lacked and, when it has none, the citizen id. Links of other modules follow the pointer.
    Two different citizen ids are two people: refused (409)."""
    if survivor_id == merged_id:
        raise ValidationFailed("不能与自身合并", "A person cannot be merged into itself", field="merged_id")
    survivor = _editable(db, actor, survivor_id)
    merged = repository.get_person(db=db, actor=actor, person_id=merged_id)
    if merged is None:
        raise NotFound("被合并人员不存在或不在辖区内", "No such person to merge in your jurisdiction", field="merged_id")
    if merged.merged_into_id is not None:
        raise Conflict("该人员已被合并", "This person has been merged already", field="merged_id")
    if survivor.id_number and merged.id_number and survivor.id_number != merged.id_number:
        raise Conflict("两人证件号码不同，不能合并", "The two have different citizen ids: they are not one person",
                       field="id_number")
    phones = [p.phone for p in survivor.phones]
    phones += [p.phone for p in merged.phones if p.phone not in phones]
    documents = [(d.kind, d.number) for d in survivor.documents]
    documents += [(d.kind, d.number) for d in merged.documents if (d.kind, d.number) not in documents]
    if merged.id_number and not survivor.id_number:
        number, merged.id_number = merged.id_number, None
        db.flush()  # the number is unique: off the merged record before it moves
        survivor.id_number, survivor.birth_date, survivor.sex = number, merged.birth_date, merged.sex
    for name in ("residence_text", "address_text"):
        if not getattr(survivor, name):
            setattr(survivor, name, getattr(merged, name))
    for name in ("residence_division_code", "address_id"):
        if getattr(survivor, name) is None:
            setattr(survivor, name, getattr(merged, name))
    merged.merged_into_id, merged.merged_at = survivor.id, utcnow()
    repository.replace_children_unscoped(db=db, person=survivor, phones=phones, documents=documents,
                                before=(list(survivor.phones), list(survivor.documents)))
    return repository.reload(db=db, actor=actor, person_id=survivor.id)
