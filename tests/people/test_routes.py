"""The people API: masked answers, the audited reveal, bilingual errors naming the field."""

from sqlalchemy import select

from pingan.audit.models import AuditAction, AuditLog
from tests.people.conftest import citizen_id

V = "/api/v1/persons"


def body(world, side="a", **fields):
    data = {"name": "张三丰", "id_number": citizen_id(), "phones": ["13812345678"],
            "documents": [{"kind": "passport", "number": "e 1234 5678"}],
            "org_unit_id": world.org[f"station_{side}"].id, "address_text": "新华街1号"}
    data.update(fields)
    return data


def test_create_and_every_read_are_masked(client, world, login):
    headers = login("chief_a")
    created = client.post(V, json=body(world), headers=headers)
    assert created.status_code == 201, created.text
    person = created.json()
    assert person["name"] == "张*丰" and person["id_number"] == "4107**********" + citizen_id()[-4:]
    assert person["phones"] == ["138****5678"] and person["documents"] == [{"kind": "passport", "number": "E*****678"}]
    assert person["birth_year"] == 1985 and "birth_date" not in person and person["sex"] == "male"
    fetched = client.get(f"{V}/{person['id']}", headers=headers).json()
    assert fetched == person
    found = client.get(V, params={"id_number": citizen_id().lower()}, headers=headers).json()
    assert [p["id"] for p in found] == [person["id"]] and found[0]["name"] == "张*丰"
    found = client.get(V, params={"name": "张三丰", "phone": "13812345678"}, headers=headers).json()
    assert [p["id"] for p in found] == [person["id"]]
    everything = str([fetched, found])
    assert "13812345678" not in everything and citizen_id() not in everything and "张三丰" not in everything


def test_a_wrong_check_digit_is_a_bilingual_422_naming_the_field(client, world, login):
    number = citizen_id()
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    resp = client.post(V, json=body(world, id_number=wrong), headers=login("chief_a"))
    assert resp.status_code == 422
    error = resp.json()["error"]
    assert error["field"] == "id_number"
    assert error["message"] == "证件号码校验位错误" and error["message_en"] == "the citizen id's check digit is wrong"


def test_a_registered_id_is_a_409_and_a_bad_phone_a_422(client, world, login):
    headers = login("admin")
    assert client.post(V, json=body(world), headers=headers).status_code == 201
    again = client.post(V, json=body(world, side="b", name="张三"), headers=headers)
    assert again.status_code == 409 and again.json()["error"]["field"] == "id_number"
    bad = client.post(V, json=body(world, id_number=None, phones=["call me"]), headers=headers)
    assert bad.status_code == 422 and "phones" in bad.text


def test_reveal_needs_a_purpose_and_is_audited_with_the_actor(client, db, world, login):
    headers = login("chief_a")
    person = client.post(V, json=body(world), headers=headers).json()
    assert client.post(f"{V}/{person['id']}/reveal", json={"purpose": ""}, headers=headers).status_code == 422
    shown = client.post(f"{V}/{person['id']}/reveal", json={"purpose": "核查身份"}, headers=headers)
    assert shown.status_code == 200
    assert shown.json()["name"] == "张三丰" and shown.json()["id_number"] == citizen_id()
    assert shown.json()["phones"] == ["13812345678"] and shown.json()["birth_date"] == "1985-03-12"
    reads = list(db.scalars(select(AuditLog).where(AuditLog.entity == "person", AuditLog.action == AuditAction.READ,
                                                   AuditLog.entity_id == str(person["id"]))))
    assert [(r.purpose, r.actor_name) for r in reads] == [("核查身份", "chief_a")]
    assert client.post(f"{V}/{person['id']}/reveal", json={"purpose": "核查"},
                       headers=login("patrol_a")).status_code == 403


def test_update_duplicates_and_merge(client, db, world, login):
    headers = login("chief_a")
    one = client.post(V, json=body(world, id_number=None), headers=headers).json()
    two = client.post(V, json=body(world), headers=headers).json()
    changed = client.put(f"{V}/{one['id']}", json=body(world, id_number=None, phones=["13812345678", "13900000000"]),
                         headers=headers)
    assert changed.status_code == 200 and changed.json()["phones"] == ["138****5678", "139****0000"]
    pairs = client.get(f"{V}/duplicates", headers=headers).json()
    assert [(p["older"]["id"], p["newer"]["id"], p["reason"]) for p in pairs] == [(one["id"], two["id"], "phone")]
    assert "13812345678" not in str(pairs)
    merged = client.post(f"{V}/{one['id']}/merge", json={"merged_id": two["id"]}, headers=headers)
    assert merged.status_code == 200 and merged.json()["id_number"] == two["id_number"]
    assert client.get(f"{V}/{two['id']}", headers=headers).json()["merged_into_id"] == one["id"]
    assert client.get(f"{V}/duplicates", headers=headers).json() == []
    row = db.scalars(select(AuditLog).where(AuditLog.entity == "person", AuditLog.entity_id == str(two["id"]),
                                            AuditLog.action == AuditAction.UPDATE).order_by(AuditLog.id.desc())).first()
    assert row.changes["after"]["merged_into_id"] == one["id"] and row.actor_name == "chief_a"
