"""The issued-report API: issue 201, list and read within the jurisdiction, amendments, the issued
bytes, PDF (or a bilingual 503), and 401 / 403 / 404 / 422."""

from __future__ import annotations

import hashlib
import io
import shutil
from datetime import timedelta

import docx
import pytest

from pingan.incident.models import Satisfaction
from pingan.stats import routes
from tests.stats.conftest import local, make_incident

V = "/api/v1/stats/reports"


@pytest.fixture
def api(app, store, db, world):
    """July 2026: two incidents on side a (one late), one on side b; July 2025: one on side a."""
    app.dependency_overrides[routes.current_store] = lambda: store
    incidents = [
        make_incident(db, world, at="2026-07-10 09:00:00", side="a", priority=1, accept=20, arrive=150,
                      satisfaction=Satisfaction.SATISFIED),
        make_incident(db, world, at="2026-07-11 09:00:00", side="a", accept=45, arrive=200),
        make_incident(db, world, at="2026-07-12 09:00:00", side="b", accept=10, arrive=500),
        make_incident(db, world, at="2025-07-12 09:00:00", side="a", accept=30, arrive=100),
    ]
    store.sync(db=db)
    yield incidents
    app.dependency_overrides.pop(routes.current_store, None)


def test_issue_read_and_download_the_issued_bytes(api, client, login, world, db, store):
    headers = login("admin")
    resp = client.post(V, json={"period": "2026-07"}, headers=headers)
    assert resp.status_code == 201, resp.text
    issued = resp.json()
    assert issued["title"] == "新乡市公安局2026年7月工作综述" and issued["org_unit_id"] == world.org["bureau"].id
    assert issued["span"] == "2026年7月1日至7月31日" and issued["period"] == "2026-07" and not issued["to_date"]
    assert issued["issued_by"] == "admin" and issued["amendments"] is None
    total = {f["kpi"]: f for f in issued["figures"] if f["by"] == ""}
    assert total["incidents_received"]["value"] == 3 and total["incidents_received"]["last_year"]["baseline"] == 1
    assert total["incidents_received"]["last_year"]["percent"] == 200.0
    assert [d["number"] for d in issued["definitions"]] == list(range(1, len(issued["definitions"]) + 1))

    got = client.get(f"{V}/{issued['id']}/docx", headers=headers)
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert hashlib.sha256(got.content).hexdigest() == issued["sha256"] == got.headers["x-content-sha256"]
    assert len(got.content) == issued["size"] and "filename*=UTF-8''" in got.headers["content-disposition"]
    texts = [p.text for p in docx.Document(io.BytesIO(got.content)).paragraphs]
    assert texts[0] == issued["title"]

    read = client.get(f"{V}/{issued['id']}", headers=headers).json()
    assert read["figures"] == issued["figures"]
    assert read["amendments"]["amended"] is False and read["amendments"]["record_total"] == 0
    listed = client.get(V, headers=headers).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == issued["id"]


def test_amended_after_issue_the_figures_stay_and_the_amendment_is_named(api, client, login, db, store):
    headers = login("admin")
    issued = client.post(V, json={"period": "2026-07"}, headers=headers).json()
    late = api[1]
    late.arrived_at = late.received_at + timedelta(seconds=90)  # was 200 s, now on target
    db.flush()
    store.sync(db=db)
    read = client.get(f"{V}/{issued['id']}", headers=headers).json()
    assert read["figures"] == issued["figures"] and read["sha256"] == issued["sha256"]
    amendments = read["amendments"]
    assert amendments["amended"] and amendments["record_total"] == 1
    assert amendments["records"][0]["changed_ids"] == [late.id] and amendments["records"][0]["added"] == 0
    bureau = next(f for f in amendments["figures"] if f["kpi"] == "arrived_within_target" and f["by"] == "")
    # 2 of 3 on target (150 s and 500 s) → 3 of 3
    assert bureau["then"]["value"] == pytest.approx(66.6667) and bureau["now"]["value"] == 100.0
    assert bureau["change"] == pytest.approx(33.3333) and bureau["name"] == "按时到场率"
    records = client.get(amendments["records"][0]["records_url"] + "&change=changed", headers=headers).json()
    assert records["total"] == 1 and [r["id"] for r in records["items"]] == [late.id]
    assert all("caller_phone" in r for r in records["items"])  # the incident schema, which masks
    # the download is still the issued bytes
    got = client.get(f"{V}/{issued['id']}/docx", headers=headers)
    assert hashlib.sha256(got.content).hexdigest() == issued["sha256"]


def test_a_station_chief_issues_and_reads_their_own_subtree_only(api, client, login, world):
    admin = login("admin")
    bureau = client.post(V, json={"period": "2026-07"}, headers=admin).json()
    station_b = client.post(V, json={"period": "2026-07", "org": world.org["station_b"].id}, headers=admin).json()
    chief_a = login("chief_a")
    own = client.post(V, json={"period": "2026-07"}, headers=chief_a)
    assert own.status_code == 201 and own.json()["org_unit_id"] == world.org["station_a"].id
    for org in ("branch_b", "station_b", "bureau"):
        refused = client.post(V, json={"period": "2026-07", "org": world.org[org].id}, headers=chief_a)
        assert refused.status_code == 404, org
        assert refused.json()["error"]["message"] == "机构不存在或不在辖区内"
        assert refused.json()["error"]["message_en"] == "No such org unit in your jurisdiction"
    assert [r["id"] for r in client.get(V, headers=chief_a).json()["items"]] == [own.json()["id"]]
    for report in (bureau, station_b):
        for suffix in ("", "/docx", "/pdf", "/records"):
            assert client.get(f"{V}/{report['id']}{suffix}", headers=chief_a).status_code == 404, suffix
    listed = client.get(V, headers=login("dispatcher")).json()  # the command centre sees the bureau's
    assert listed["total"] == 3


def test_permissions_401_403(api, client, login):
    assert client.get(V).status_code == 401
    assert client.post(V, json={"period": "2026-07"}).status_code == 401
    for role in ("dispatcher", "auditor"):  # may read statistics, may not issue
        resp = client.post(V, json={"period": "2026-07"}, headers=login(role))
        assert resp.status_code == 403 and "stats.report" in resp.json()["error"]["message_en"]
    assert client.get(V, headers=login("patrol_a")).status_code == 403


@pytest.mark.parametrize("body,field,zh", [
    ({"period": "2026-13"}, "period", "统计周期"),
    ({"period": "2027"}, "period", "尚未开始"),
    ({"period": "x"}, "period", "period"),
    ({"period": "2026", "org": 0}, "org", "org"),
    ({"period": "2026", "org": 2**31}, "org", "org"),
    ({}, "period", "period"),
])
def test_422_names_the_field_in_both_languages(api, client, login, body, field, zh):
    resp = client.post(V, json=body, headers=login("admin"))
    assert resp.status_code == 422, resp.text
    err = resp.json()["error"]
    assert err.get("field") == field or err.get("fields", [{}])[0].get("field") == field
    assert zh in err["message"] and field in err["message_en"]


def test_404_for_a_missing_org_or_report_and_422_for_a_bad_id(api, client, login):
    headers = login("admin")
    assert client.post(V, json={"period": "2026-07", "org": 999_999}, headers=headers).status_code == 404
    assert client.get(f"{V}/999999", headers=headers).status_code == 404
    assert client.get(f"{V}/{2**31}", headers=headers).status_code == 422
    issued = client.post(V, json={"period": "2026-07"}, headers=headers).json()
    resp = client.get(f"{V}/{issued['id']}/records", params={"change": "moved"}, headers=headers)
    assert resp.status_code == 422
    resp = client.get(f"{V}/{issued['id']}/records", params={"source": "cases"}, headers=headers)
    assert resp.status_code == 422 and resp.json()["error"]["field"] == "source"


def test_pdf_where_libreoffice_is_and_a_bilingual_503_where_it_is_not(api, client, login, monkeypatch):
    headers = login("admin")
    issued = client.post(V, json={"period": "2026-07"}, headers=headers).json()
    if shutil.which("soffice") or shutil.which("libreoffice"):
        got = client.get(f"{V}/{issued['id']}/pdf", headers=headers)
        assert got.status_code == 200 and got.content.startswith(b"%PDF")
        assert b"NotoSerifCJK" in got.content  # the official fonts drawn in the open ones
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    resp = client.get(f"{V}/{issued['id']}/pdf", headers=headers)
    assert resp.status_code == 503
    err = resp.json()["error"]
    assert err["code"] == "unavailable" and "LibreOffice" in err["message"] and "LibreOffice" in err["message_en"]


def test_a_period_not_yet_ended_is_issued_to_date(api, client, login, monkeypatch):
    from pingan.stats import service

    real = service.issue
    monkeypatch.setattr(service, "issue", lambda **kw: real(**kw, now=local("2026-07-11 12:00:00")))
    issued = client.post(V, json={"period": "2026-07"}, headers=login("admin")).json()
    assert issued["to_date"] and issued["span"] == "2026年7月1日至7月11日12时"
    assert issued["title"] == "新乡市公安局2026年7月工作综述（截至7月11日）"
    total = {f["kpi"]: f for f in issued["figures"] if f["by"] == ""}
    assert total["incidents_received"]["value"] == 2  # 10 and 11 July, not the 12th
