"""The audit log page: auditors only, filters, and changes shown field by field."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from pingan.db.types import utcnow


@pytest.fixture
def activity(client, world, login):
    """An incident taken, its caller shown with a purpose, then closed: create, read and update rows."""
    headers = login("dispatcher")
    address = world.addresses[0]
    body = {"caller_phone": "13812345678", "caller_name": "赵六", "location_text": address.full_text,
            "address_id": address.id, "category_code": "6002", "priority": 3, "description": "邻居吵架"}
    resp = client.post("/api/v1/incidents", json=body, headers={**headers, "X-Request-ID": "req-create-1"})
    assert resp.status_code == 201, resp.text
    incident = {**resp.json(), "request_id": resp.headers["x-request-id"]}  # ours; the client's beside it
    resp = client.post(f"/api/v1/incidents/{incident['id']}/caller-contact", json={"purpose": "回访核实"},
                       headers=headers)
    assert resp.status_code == 200
    resp = client.post(f"/api/v1/incidents/{incident['id']}/close", json={"disposition": "mediated"},
                       headers=headers)
    assert resp.status_code == 200
    return incident


def entry_rows(html: str) -> list[str]:
    """Each audit entry's row (up to the next entry), with its nested change table."""
    body = html.split('<tbody>', 1)[1].split('</tbody>\n  </table>', 1)[0]
    return ['<tr class="action-' + chunk for chunk in body.split('<tr class="action-')[1:]]


def test_only_auditors_see_the_log(client, world, sign_in):
    for username in ("dispatcher", "chief_a", "patrol_a"):
        sign_in(username)
        assert client.get("/audit").status_code == 403
    sign_in("auditor")
    resp = client.get("/audit")
    assert resp.status_code == 200 and "审计日志" in resp.text


def test_filters_and_readable_changes(client, world, sign_in, activity):
    sign_in("auditor")
    iid = str(activity["id"])
    html = client.get("/audit", params={"entity": "incident", "entity_id": iid}).text
    rows = entry_rows(html)
    actions = [re.search(r'class="action-([a-z_]+)"', r).group(1) for r in rows]
    assert {"read", "update"} <= set(actions)
    read = rows[actions.index("read")]
    assert "回访核实" in read and "caller_phone" in read and "dispatcher" in read
    update = [r for r, a in zip(rows, actions) if a == "update" and "disposition" in r][0]
    assert re.search(r'<th scope="row">stage</th>\s*<td class="before">resolved|<th scope="row">stage</th>\s*'
                     r'<td class="before">received', update) or "closed" in update
    assert '<td class="after">mediated</td>' in update and '<td class="arrow"' in update
    # personal data never appears in the log itself beyond what the change recorded
    html = client.get("/audit", params={"action": "read"}).text
    assert all('class="action-read"' in r for r in entry_rows(html)) and entry_rows(html)
    html = client.get("/audit", params={"request_id": activity["request_id"]}).text
    rows = entry_rows(html)
    assert rows and all(activity["request_id"][:8] in r and "req-create-1" in r for r in rows)
    created = [r for r in rows if 'class="action-create"' in r and 'href="/audit?entity=incident' in r]
    assert created and '<td class="after">6002</td>' in created[0] and '<td class="after">邻居吵架</td>' in created[0]
    # caller names and phones recorded in a change stay masked on this page
    assert "13812345678" not in html and "138****5678" in html and "赵*" in html
    html = client.get("/audit", params={"actor_name": "nobody"}).text
    assert not entry_rows(html) and "没有符合条件的记录" in html
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    assert not entry_rows(client.get("/audit", params={"since": tomorrow}).text)
    html = client.get("/audit", params={"since": "yesterday"}).text
    assert "起始日期格式应为" in html and entry_rows(html)


def test_paging(client, world, sign_in, activity):
    from pingan.audit import pages

    sign_in("auditor")
    total = int(re.search(r'id="total">共 (\d+)', client.get("/audit").text).group(1))
    assert total > 5
    original = pages.PAGE_SIZE
    pages.PAGE_SIZE = 3
    try:
        first = client.get("/audit").text
        assert len(entry_rows(first)) == 3 and 'rel="next"' in first
        last_page = -(-total // 3)
        last = client.get("/audit", params={"page": last_page}).text
        assert 'rel="prev"' in last and len(entry_rows(last)) == total - 3 * (last_page - 1)
    finally:
        pages.PAGE_SIZE = original
