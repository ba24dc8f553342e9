"""The work-summary pages: the list and the issue form (cookie session and CSRF, as a browser
uses them), one report with its downloads and its amendments view."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from pingan.stats import routes
from tests.stats.conftest import make_incident


@pytest.fixture
def pages(app, store, db, world):
    app.dependency_overrides[routes.current_store] = lambda: store
    incidents = [make_incident(db, world, at="2026-07-10 09:00:00", side="a", accept=20, arrive=150),
                 make_incident(db, world, at="2026-07-11 09:00:00", side="b", accept=40, arrive=700),
                 make_incident(db, world, at="2025-07-11 09:00:00", side="b", accept=40, arrive=300)]
    store.sync(db=db)
    yield incidents
    app.dependency_overrides.pop(routes.current_store, None)


def issue(client, csrf: str, **fields):
    return client.post("/stats/reports", data={"csrf_token": csrf, "period": "2026-07", "org": "", **fields},
                       follow_redirects=False)


def test_the_nav_link_and_who_may_open_the_page(pages, client, sign_in):
    for username in ("admin", "dispatcher", "chief_a", "auditor"):
        sign_in(username)
        resp = client.get("/stats/reports")
        assert resp.status_code == 200, username
        assert 'href="/stats/reports"' in resp.text
        assert ('id="issue-form"' in resp.text) == (username in ("admin", "chief_a"))
    sign_in("patrol_a")
    assert client.get("/stats/reports").status_code == 403
    assert 'href="/stats/reports"' not in client.get("/incidents").text


def test_issuing_from_the_form_opens_the_report(pages, client, sign_in, world):
    csrf = sign_in("admin")
    form = client.get("/stats/reports").text
    assert f'name="csrf_token" value="{csrf}"' in form
    # the org choices: the bureau, branches and stations of the jurisdiction, not community offices
    assert re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', form) == [
        "新乡市公安局", "红旗分局", "西街派出所", "卫滨分局", "胜利路派出所"]
    resp = issue(client, csrf, org=str(world.org["branch_b"].id))
    assert resp.status_code == 303
    page = client.get(resp.headers["location"])
    assert page.status_code == 200
    assert "卫滨分局2026年7月工作综述" in page.text and "2026年7月1日至7月31日" in page.text
    report_id = int(resp.headers["location"].rsplit("/", 1)[1])
    assert f'href="/api/v1/stats/reports/{report_id}/docx"' in page.text
    # the amendments are checked after the page has loaded (at city scale it takes seconds)
    assert f'hx-get="/stats/reports/{report_id}/amendments"' in page.text
    fragment = client.get(f"/stats/reports/{report_id}/amendments", headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith('<section class="card" id="amendments">') and 'id="not-amended"' in fragment
    listed = client.get("/stats/reports").text
    assert f'data-report="{report_id}"' in listed and "卫滨分局2026年7月工作综述" in listed


def test_a_form_without_its_csrf_token_is_refused(pages, client, sign_in):
    sign_in("admin")
    resp = client.post("/stats/reports", data={"period": "2026-07"}, follow_redirects=False)
    assert resp.status_code == 403 and "CSRF" in resp.text


def test_a_bad_period_or_an_org_outside_the_jurisdiction_is_shown_on_the_form(pages, client, sign_in, world):
    csrf = sign_in("chief_a")
    resp = issue(client, csrf, period="2026-13")
    assert resp.status_code == 422 and "统计周期格式无效" in resp.text and 'value="2026-13"' in resp.text
    resp = issue(client, csrf, org=str(world.org["station_b"].id))
    assert resp.status_code == 404 and "机构不存在或不在辖区内" in resp.text
    assert "No such org unit in your jurisdiction" in resp.text
    resp = issue(client, csrf, org="abc")
    assert resp.status_code == 422 and 'data-field="org"' in resp.text
    sign_in("auditor")  # reads, does not issue
    assert issue(client, "whatever").status_code == 403


def test_the_amendments_view_names_the_records_and_the_figures(pages, client, sign_in, db, store):
    csrf = sign_in("admin")
    report_url = issue(client, csrf).headers["location"]
    late = pages[1]
    late.arrived_at = late.received_at + timedelta(seconds=300)  # 700 s was late for suburban 600 s
    db.flush()
    store.sync(db=db)
    page = client.get(report_url + "/amendments").text  # without htmx: a whole page
    assert "<html" in page and 'id="amended"' in page
    assert f'href="/incidents/{late.id}"' in page and 'data-change="changed"' in page
    rows = re.findall(r"<tr><td>按时到场率</td><td>([^<]+)</td>\s*<td class=\"num\">([^<]+)</td>"
                      r"<td class=\"num\">([^<]+)</td><td class=\"num\">([^<]+)</td>", page)
    # bureau: 1 of 2 on target → 2 of 2; 卫滨分局: 0 of 1 → 1 of 1
    assert ("全部", "50.0%", "100.0%", "+50.0个百分点") in rows
    assert ("下级单位 · 卫滨分局", "0.0%", "100.0%", "+100.0个百分点") in rows


def test_another_stations_report_is_not_found(pages, client, sign_in, world):
    csrf = sign_in("admin")
    url = issue(client, csrf, org=str(world.org["station_b"].id)).headers["location"]
    sign_in("chief_a")
    assert client.get(url).status_code == 404 and client.get(url + "/amendments").status_code == 404
    assert "胜利路派出所" not in client.get("/stats/reports").text
