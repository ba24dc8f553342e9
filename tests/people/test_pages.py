"""The people pages: masked lists and details, the audited reveal, the forms, duplicates and merge."""

from sqlalchemy import select

from pingan.audit.models import AuditAction, AuditLog
from pingan.people.models import DocumentKind
from tests.people.conftest import citizen_id


def form(csrf, world, **fields):
    data = {"csrf_token": csrf, "name": "张三丰", "id_number": citizen_id(), "phones": "13812345678, 0373-1234567",
            "doc_kind_0": "passport", "doc_number_0": "E12345678", "residence_text": "河南省新乡市红旗区",
            "residence_division_code": "", "address_id": str(world.addresses[0].id), "address_text": "",
            "org_unit_id": str(world.org["station_a"].id)}
    data.update(fields)
    return data


def test_register_then_the_list_and_detail_are_masked(client, world, sign_in):
    csrf = sign_in("chief_a")
    resp = client.post("/people/new", data=form(csrf, world), follow_redirects=False)
    assert resp.status_code == 303, resp.text
    detail = client.get(resp.headers["location"]).text
    listing = client.get("/people").text
    for html in (detail, listing):
        assert "张*丰" in html and "4107**********" + citizen_id()[-4:] in html and "138****5678" in html
        assert "张三丰" not in html and citizen_id() not in html and "13812345678" not in html
    assert "E*****678" in detail and "E12345678" not in detail
    assert 'action="/people/' in detail and "/reveal" in detail  # a chief may reveal


def test_a_refused_form_keeps_what_was_typed_and_names_the_field(client, world, sign_in):
    csrf = sign_in("chief_a")
    number = citizen_id()
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    resp = client.post("/people/new", data=form(csrf, world, id_number=wrong, name="李四"), follow_redirects=False)
    assert resp.status_code == 422
    assert "证件号码校验位错误" in resp.text and "<code>id_number</code>" in resp.text and 'value="李四"' in resp.text
    resp = client.post("/people/new", data=form(csrf, world, phones="abc"), follow_redirects=False)
    assert resp.status_code == 422 and "<code>phones</code>" in resp.text


def test_reveal_on_the_page_needs_a_purpose_and_is_audited(client, db, world, sign_in, make_person):
    person = make_person(id_number=citizen_id())
    csrf = sign_in("dispatcher")
    refused = client.post(f"/people/{person.id}/reveal", data={"csrf_token": csrf, "purpose": ""})
    assert refused.status_code == 422 and "请填写查看事由" in refused.text and "张三丰" not in refused.text
    shown = client.post(f"/people/{person.id}/reveal", data={"csrf_token": csrf, "purpose": "回访核实"})
    assert shown.status_code == 200 and "张三丰" in shown.text and citizen_id() in shown.text
    reads = db.scalars(select(AuditLog.purpose).where(AuditLog.entity == "person", AuditLog.action == AuditAction.READ,
                                                      AuditLog.entity_id == str(person.id))).all()
    assert reads == ["回访核实"]
    sign_in("patrol_a")
    assert "/reveal" not in client.get(f"/people/{person.id}").text  # a patrol officer may not reveal


def test_the_edit_form_is_an_audited_read_and_saves(client, db, world, sign_in, make_person):
    person = make_person(documents=[(DocumentKind.PASSPORT, "E12345678")])
    csrf = sign_in("chief_a")
    page = client.get(f"/people/{person.id}/edit")
    assert page.status_code == 200 and 'value="张三丰"' in page.text and 'value="E12345678"' in page.text
    assert db.scalars(select(AuditLog.purpose).where(AuditLog.entity == "person", AuditLog.action == AuditAction.READ,
                                                     AuditLog.entity_id == str(person.id))).all()
    resp = client.post(f"/people/{person.id}/edit", data=form(csrf, world, name="张三"), follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == f"/people/{person.id}?done=updated"


def test_duplicates_and_the_merge_confirmation(client, world, sign_in, make_person):
    one, two = make_person(name="王五"), make_person(name="王五")
    csrf = sign_in("chief_a")
    listing = client.get("/people/duplicates").text
    assert f'data-pair="{one.id}-{two.id}"' in listing and "王*" in listing and "13812345678" not in listing
    confirm = client.get(f"/people/{one.id}/merge", params={"other": two.id}).text
    assert f'name="merged_id" value="{two.id}"' in confirm and "王五" not in confirm
    resp = client.post(f"/people/{one.id}/merge", data={"csrf_token": csrf, "merged_id": str(two.id)},
                       follow_redirects=False)
    assert resp.status_code == 303
    assert "该记录已合并至" in client.get(f"/people/{two.id}").text
    again = client.post(f"/people/{one.id}/merge", data={"csrf_token": csrf, "merged_id": str(two.id)})
    assert again.status_code == 409 and "该人员已被合并" in again.text


def test_the_list_and_duplicate_pages_send_as_many_statements_for_many_people_as_for_few(
        client, world, sign_in, make_person, recorded_statements):
    """No statement per row (phones and documents come in one statement each): the matrix's
    baselines (tests/query_counts.json) include writing each side's people, so this says it alone."""
    sign_in("chief_a")

    def counts():
        client.get("/people"), client.get("/people/duplicates")  # warm: the session is remembered
        return [len(recorded_statements(lambda url=url: client.get(url))) for url in ("/people", "/people/duplicates")]

    for _ in range(2):
        make_person(name="周九", documents=[(DocumentKind.PASSPORT, "E0000001")])
    few = counts()
    for i in range(8):
        make_person(name="周九", documents=[(DocumentKind.PASSPORT, f"E100000{i}")])
    assert counts() == few
