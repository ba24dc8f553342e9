"""Reads and writes of people for an actor. Every read starts from :func:`readable_persons`.

Masked is the default: the schemas mask what they are given. The one function that returns a
person for unmasked display, :func:`get_person_revealed`, needs a purpose and writes a ``read``
row to the audit log.

Jurisdiction: a person is readable by actors whose subtree holds the org unit that registered
them, and by whatever a later module grants (a case's investigators read its suspects
registered elsewhere): such a module registers it with ``people.grants.grant_read``.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from pingan.audit.mechanism import record_read
from pingan.auth.actor import Actor
from pingan.errors import ValidationFailed
from pingan.org.repository import subtree_ids
from pingan.people import grants
from pingan.people.models import Person, PersonDocument, PersonPhone

LIST_LIMIT = 200


def readable_persons(actor: Actor) -> Select:
    """SELECT Person the actor may read: registered in their subtree, or granted by a module."""
    visible = Person.org_unit_id.in_(subtree_ids(actor))
    granted = [Person.id.in_(grant(actor)) for grant in grants.READ_GRANTS]
    return select(Person).where(or_(visible, *granted) if granted else visible)


def _with_children(stmt: Select) -> Select:
    return stmt.options(selectinload(Person.phones), selectinload(Person.documents))


def get_person(*, db: Session, actor: Actor, person_id: int) -> Person | None:
    """A readable person with phones and documents (merged ones too: they carry their pointer)."""
    return db.scalars(_with_children(readable_persons(actor).where(Person.id == person_id))).one_or_none()


def get_person_revealed(*, db: Session, actor: Actor, person_id: int, purpose: str) -> Person | None:
    """A readable person for unmasked display: needs a purpose (查看事由), written to the audit log."""
    purpose = (purpose or "").strip()
    if len(purpose) < 2:
        raise ValidationFailed("请填写查看事由", "A purpose is required", field="purpose")
    person = get_person(db=db, actor=actor, person_id=person_id)
    if person is not None:
        record_read(db, entity=Person.__tablename__, entity_id=person.id,
                    fields=["name", "id_number", "birth_date", "phones", "documents"], purpose=purpose[:200])
    return person


def get_person_by_id_number(*, db: Session, actor: Actor, id_number: str) -> Person | None:
    return db.scalars(_with_children(readable_persons(actor).where(Person.id_number == id_number))).one_or_none()


def id_number_taken_unscoped(*, db: Session, id_number: str, other_than: int | None = None) -> int | None:
    """The id of the person holding ``id_number`` anywhere (uniqueness is bureau-wide), or None."""
    stmt = select(Person.id).where(Person.id_number == id_number)
    if other_than is not None:
        stmt = stmt.where(Person.id != other_than)
    return db.scalar(stmt)


def search_persons(*, db: Session, actor: Actor, id_number: str | None = None, name: str | None = None,
                   phone: str | None = None, limit: int = LIST_LIMIT) -> list[Person]:
    """Readable persons that have not been merged away, newest first: by citizen id (exact), by
    name (exact), by phone (exact), or by several of them together."""
    stmt = readable_persons(actor).where(Person.merged_into_id.is_(None))
    if id_number:
        stmt = stmt.where(Person.id_number == id_number)
    if name:
        stmt = stmt.where(Person.name == name)
    if phone:
        stmt = stmt.where(exists().where(PersonPhone.person_id == Person.id, PersonPhone.phone == phone))
    return list(db.scalars(_with_children(stmt.order_by(Person.id.desc()).limit(limit))))


def add_person_unscoped(*, db: Session, person: Person, phones: list[str], documents: list[tuple]) -> Person:
    """Insert a person the service has checked (its unit is in the actor's subtree)."""
    db.add(person)
    db.flush()
    replace_children_unscoped(db=db, person=person, phones=phones, documents=documents, before=([], []))
    return person


def replace_children_unscoped(*, db: Session, person: Person, phones: list[str], documents: list[tuple],
                              before: tuple[list[PersonPhone], list[PersonDocument]]) -> None:
    """For a person the service has read through :func:`get_person`: make its phones and
    documents these (rows no longer named are deleted, new ones added; each an audited change)."""
    old_phones, old_documents = before
    keep_phones = {p.phone for p in old_phones} & set(phones)
    for row in old_phones:
        if row.phone not in keep_phones:
            db.delete(row)
    for phone in phones:
        if phone not in keep_phones:
            db.add(PersonPhone(person_id=person.id, phone=phone))
            keep_phones.add(phone)
    wanted = set(documents)
    kept = set()
    for row in old_documents:
        key = (row.kind, row.number)
        if key in wanted:
            kept.add(key)
        else:
            db.delete(row)
    for kind, number in documents:
        if (kind, number) not in kept:
            db.add(PersonDocument(person_id=person.id, kind=kind, number=number))
            kept.add((kind, number))
    db.flush()
    db.expire(person, ["phones", "documents"])


def reload(*, db: Session, actor: Actor, person_id: int) -> Person | None:
    db.expire_all()
    return get_person(db=db, actor=actor, person_id=person_id)


def duplicate_pairs(*, db: Session, actor: Actor, limit: int = LIST_LIMIT) -> list[tuple[Person, Person, str]]:
    """Possible duplicates in the actor's jurisdiction, proposed for merging (疑似重复): two
    unmerged persons of the same name sharing a phone, or born the same day at the same address
    (the same standard address, or the same address text). Two different citizen ids are two
    people and never proposed. (older, newer, reason) with reason "phone" or "birth_address"."""
    a, b = aliased(Person), aliased(Person)
    pa, pb = aliased(PersonPhone), aliased(PersonPhone)
    readable = readable_persons(actor).with_only_columns(Person.id)
    same_phone = exists().where(pa.person_id == a.id, pb.person_id == b.id, pa.phone == pb.phone)
    same_place = and_(a.birth_date.is_not(None), a.birth_date == b.birth_date,
                      or_(and_(a.address_id.is_not(None), a.address_id == b.address_id),
                          and_(a.address_text != "", a.address_text == b.address_text)))
    stmt = (select(a.id, b.id, same_phone)
            .where(a.id < b.id, a.name == b.name, a.merged_into_id.is_(None), b.merged_into_id.is_(None),
                   a.id.in_(readable), b.id.in_(readable),
                   or_(a.id_number.is_(None), b.id_number.is_(None), a.id_number == b.id_number),
                   or_(same_phone, same_place))
            .order_by(b.id.desc()).limit(limit))
    found = db.execute(stmt).all()
    ids = {i for row in found for i in row[:2]}
    persons = {p.id: p for p in db.scalars(_with_children(select(Person).where(Person.id.in_(ids))))} if ids else {}
    return [(persons[x], persons[y], "phone" if by_phone else "birth_address") for x, y, by_phone in found]

