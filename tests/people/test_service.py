"""Registering, de-duplicating and merging people; jurisdiction; the audit of every change."""

from datetime import date

import pytest
from sqlalchemy import select

from pingan.audit.models import AuditAction, AuditLog
from pingan.errors import Conflict, NotFound, ValidationFailed
from pingan.people import grants, repository, service, system
from pingan.people.idnumber import Sex
from pingan.people.models import DocumentKind, Person
from pingan.people.service import PersonData
from tests.people.conftest import citizen_id


def audit_rows(db, entity, entity_id, action=None):
    stmt = select(AuditLog).where(AuditLog.entity == entity, AuditLog.entity_id == str(entity_id))
    if action is not None:
        stmt = stmt.where(AuditLog.action == action)
    return list(db.scalars(stmt.order_by(AuditLog.id)))


def test_a_person_is_registered_with_what_the_id_says(db, make_person, world):
    person = make_person(id_number=citizen_id(born="19850312", sequence="131").lower(),
                         phones=["13812345678", "0373-1234567"],
                         documents=[(DocumentKind.PASSPORT, "E12345678")], residence_text="河南省新乡市红旗区",
                         address_id=world.addresses[0].id)
    assert person.birth_date == date(1985, 3, 12) and person.sex is Sex.MALE
    assert person.residence_division_code == "410702"  # the id's division when none is given
    assert [p.phone for p in person.phones] == ["13812345678", "0373-1234567"]
    assert [(d.kind, d.number) for d in person.documents] == [(DocumentKind.PASSPORT, "E12345678")]
    created = audit_rows(db, "person", person.id, AuditAction.CREATE)
    assert created and created[0].changes["after"]["name"] == "张*丰"  # masked in the log
    assert created[0].changes["after"]["id_number"] == person.id_number[:4] + "*" * 10 + person.id_number[-4:]
    assert "E12345678" not in str(audit_rows(db, "person_document", person.documents[0].id))
    assert "13812345678" not in str(audit_rows(db, "person_phone", person.phones[0].id))


def test_one_citizen_id_is_one_person_bureau_wide(make_person):
    number = citizen_id()
    make_person("a", id_number=number)
    with pytest.raises(Conflict) as refused:
        make_person("b", id_number=number[:17] + number[17].lower(), name="张三")
    assert refused.value.field == "id_number"


def test_a_person_is_registered_only_in_the_actors_subtree(make_person):
    with pytest.raises(NotFound):
        make_person("b", by="chief_a")


def test_jurisdiction_reads_the_subtree_and_the_grants(db, make_person, actors):
    a, b = make_person("a"), make_person("b")
    chief = actors["chief_a"]
    assert repository.get_person(db=db, actor=chief, person_id=a.id) is not None
    assert repository.get_person(db=db, actor=chief, person_id=b.id) is None
    assert repository.get_person(db=db, actor=actors["community_a"], person_id=a.id) is None  # below the station
    assert {p.id for p in repository.search_persons(db=db, actor=actors["dispatcher"], name="张三丰")} >= {a.id, b.id}

    def grant(actor):  # what a later module grants: here, person b to station A's chief
        return select(Person.id).where(Person.id == b.id)

    grants.grant_read(grant)
    try:
        assert repository.get_person(db=db, actor=chief, person_id=b.id) is not None
    finally:
        grants.READ_GRANTS.remove(grant)


def test_search_by_id_number_and_by_name_and_phone(db, make_person, actors):
    number = citizen_id()
    target = make_person(id_number=number, name="李四", phones=["13900001111"])
    make_person(name="李四", phones=["13900002222"])
    admin = actors["admin"]
    assert [p.id for p in repository.search_persons(db=db, actor=admin, id_number=number)] == [target.id]
    assert [p.id for p in repository.search_persons(db=db, actor=admin, name="李四", phone="13900001111")] == [target.id]


def test_an_update_replaces_phones_and_documents_and_is_audited(db, make_person, actors):
    person = make_person(phones=["13812345678"], documents=[(DocumentKind.PASSPORT, "E12345678")])
    updated = service.update(db=db, actor=actors["chief_a"], person_id=person.id, data=PersonData(
        name="张三丰", id_number=citizen_id(), phones=["13812345678", "13700000000"],
        documents=[(DocumentKind.TAIWAN_PERMIT, "12345678")]))
    assert [p.phone for p in updated.phones] == ["13812345678", "13700000000"]
    assert [d.kind for d in updated.documents] == [DocumentKind.TAIWAN_PERMIT]
    change = audit_rows(db, "person", person.id, AuditAction.UPDATE)[-1].changes
    assert change["after"]["id_number"] != citizen_id() and change["after"]["id_number"].endswith(citizen_id()[-4:])


def test_an_unknown_residence_division_or_address_names_the_field(make_person):
    with pytest.raises(ValidationFailed) as refused:
        make_person(residence_division_code="999999")
    assert refused.value.field == "residence_division_code"
    with pytest.raises(ValidationFailed) as refused:
        make_person(address_id=2**31 - 1)
    assert refused.value.field == "address_id"


def test_possible_duplicates_same_name_and_phone_or_birth_date_and_address(db, world, make_person, actors):
    first = make_person(name="王五", phones=["13811112222"])
    by_phone = make_person(name="王五", phones=["13811112222", "13500000000"])
    make_person(name="王六", phones=["13811112222"])  # another name
    born = make_person(name="赵七", id_number=citizen_id(born="19900101"), phones=[], address_text="新华街1号")
    twin = make_person(name="赵七", phones=["13600000000"], address_text="新华街1号")
    service.update(db=db, actor=actors["admin"], person_id=twin.id, data=PersonData(
        name="赵七", phones=["13600000000"], address_text="新华街1号"))
    twin.birth_date = date(1990, 1, 1)  # known without an id (e.g. from a passport), the same day
    db.flush()
    two_ids = make_person(name="王五", id_number=citizen_id(sequence="555"), phones=["13811112222"])
    other_id = make_person(name="王五", id_number=citizen_id(sequence="557"), phones=["13811112222"])
    pairs = {(a.id, b.id): reason for a, b, reason in repository.duplicate_pairs(db=db, actor=actors["admin"])}
    assert pairs[(first.id, by_phone.id)] == "phone"
    assert pairs[(born.id, twin.id)] == "birth_address"
    assert (two_ids.id, other_id.id) not in pairs  # two different citizen ids: two people
    assert (first.id, two_ids.id) in pairs  # one without an id may be the one with it
    chief_b = {(a.id, b.id) for a, b, _ in repository.duplicate_pairs(db=db, actor=actors["chief_b"])}
    assert (first.id, by_phone.id) not in chief_b  # outside station B


def test_a_merge_keeps_both_histories_moves_what_the_survivor_lacks_and_links_follow(db, make_person, actors):
    survivor = make_person(name="王五", phones=["13811112222"])
    number = citizen_id()
    merged = make_person(name="王五", id_number=number, phones=["13811112222", "13500000000"],
                         documents=[(DocumentKind.PASSPORT, "E7654321")], address_text="新华街2号")
    kept = service.merge(db=db, actor=actors["chief_a"], survivor_id=survivor.id, merged_id=merged.id)
    assert kept.id_number == number and kept.birth_date is not None and kept.address_text == "新华街2号"
    assert [p.phone for p in kept.phones] == ["13811112222", "13500000000"]
    assert [d.number for d in kept.documents] == ["E7654321"]
    gone = repository.get_person(db=db, actor=actors["chief_a"], person_id=merged.id)
    assert gone.merged_into_id == survivor.id and gone.merged_at is not None
    assert [p.phone for p in gone.phones] == ["13811112222", "13500000000"]  # its own record stays
    assert audit_rows(db, "person", merged.id, AuditAction.CREATE)  # its history stays
    merge_row = audit_rows(db, "person", merged.id, AuditAction.UPDATE)[-1]
    assert merge_row.changes["after"]["merged_into_id"] == survivor.id
    assert system.current_person_ids(db=db, person_ids=[merged.id, survivor.id]) == {
        merged.id: survivor.id, survivor.id: survivor.id}
    assert merged.id not in {p.id for p in repository.search_persons(db=db, actor=actors["chief_a"], name="王五")}
    with pytest.raises(Conflict):
        service.update(db=db, actor=actors["chief_a"], person_id=merged.id, data=PersonData(name="王五"))


def test_a_merge_of_a_merge_is_followed(db, make_person, actors):
    a, b, c = (make_person(name="孙八") for _ in range(3))
    service.merge(db=db, actor=actors["admin"], survivor_id=b.id, merged_id=a.id)
    service.merge(db=db, actor=actors["admin"], survivor_id=c.id, merged_id=b.id)
    assert system.current_person_ids(db=db, person_ids=[a.id]) == {a.id: c.id}


def test_a_merge_is_refused_for_two_citizen_ids_itself_or_outside_the_jurisdiction(db, make_person, actors):
    one = make_person(id_number=citizen_id(sequence="111"))
    two = make_person(id_number=citizen_id(sequence="113"))
    other_side = make_person("b")
    with pytest.raises(Conflict):
        service.merge(db=db, actor=actors["admin"], survivor_id=one.id, merged_id=two.id)
    with pytest.raises(ValidationFailed):
        service.merge(db=db, actor=actors["admin"], survivor_id=one.id, merged_id=one.id)
    with pytest.raises(NotFound):
        service.merge(db=db, actor=actors["chief_a"], survivor_id=one.id, merged_id=other_side.id)
    service.merge(db=db, actor=actors["admin"], survivor_id=one.id, merged_id=other_side.id)
    with pytest.raises(Conflict):
        service.merge(db=db, actor=actors["admin"], survivor_id=two.id, merged_id=other_side.id)


def test_revealing_needs_a_purpose_and_writes_a_read_row(db, make_person, actors):
    person = make_person()
    with pytest.raises(ValidationFailed) as refused:
        repository.get_person_revealed(db=db, actor=actors["chief_a"], person_id=person.id, purpose=" ")
    assert refused.value.field == "purpose"
    shown = repository.get_person_revealed(db=db, actor=actors["chief_a"], person_id=person.id, purpose="核查身份")
    assert shown.name == "张三丰"
    (read,) = audit_rows(db, "person", person.id, AuditAction.READ)
    assert read.purpose == "核查身份" and set(read.changes["fields"]) >= {"name", "id_number", "phones"}
