"""One dispatch, end to end, in headless Chromium against a real server.

A dispatcher takes a call (the noisy location is matched to a standard address and picked with the
keyboard), sees it appear on the board, opens it and sends the recommended unit while a second
dispatcher tries to send the same unit at the same moment and is refused. The patrol officer
operating that unit moves it to departed and arrived on the mobile page; the dispatcher's detail
page and board follow without a reload; the dispatcher closes with a disposition.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest
from sqlalchemy import text

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

BOARD_SCREENSHOT = "/tmp/pingan-board.png"
TIMEOUT_MS = 15_000


def new_context(browser, **kw):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **kw)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def watch_errors(page, errors: list):
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))


def log_in(page, base: str, username: str, lands_on: str) -> None:
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(re.compile(re.escape(base + lands_on)))


def wait_live(page) -> None:
    page.wait_for_selector('[data-live-status][data-state="open"]')


def mark(page) -> None:
    """A marker that survives only as long as the page is not reloaded."""
    page.evaluate("window.__noReload = 'still here'")


def not_reloaded(page) -> bool:
    return page.evaluate("window.__noReload") == "still here"


def seed_incidents(base: str) -> list[dict]:
    """A few open incidents for the board, taken over the API by the dispatcher."""
    token = httpx.post(timeout=60, url=base + "/api/v1/auth/login", json={"username": "dispatcher", "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    made = []
    for location, category, priority, description in [
        ("红旗区平原路125号", "6002", 3, "楼上噪音引发邻里争执"),
        ("卫滨区胜利路8号", "3001", 2, "两车追尾，无人受伤"),
        ("红旗区平原路123号门口", "5003", 4, "钥匙锁在屋里"),
    ]:
        resp = httpx.post(timeout=60, url=base + "/api/v1/incidents", headers=headers, json={
            "caller_phone": "13600001111", "caller_name": "刘女士", "location_text": location,
            "category_code": category, "priority": priority, "description": description})
        assert resp.status_code == 201, resp.text
        made.append(resp.json())
    return made


def test_take_dispatch_follow_and_close(browser, live_server):
    base = live_server.url
    errors: list[str] = []
    seeded = seed_incidents(base)

    # --- the dispatcher's board is open -------------------------------------------------------
    desk = new_context(browser, viewport={"width": 1440, "height": 900})
    board = desk.new_page()
    watch_errors(board, errors)
    log_in(board, base, "dispatcher", "/incidents/board")
    wait_live(board)
    assert board.locator(f'tr[data-number="{seeded[1]["number"]}"]').count() == 1
    mark(board)

    # --- take a call, keyboard first ------------------------------------------------------------
    call = desk.new_page()
    watch_errors(call, errors)
    call.goto(base + "/incidents/new")
    assert call.evaluate("document.activeElement.id") == "caller_phone"
    call.keyboard.type("139 1234 5678")
    call.keyboard.press("Tab")
    assert call.evaluate("document.activeElement.id") == "caller_name"
    call.keyboard.type("王先生")
    call.keyboard.press("Tab")
    assert call.evaluate("document.activeElement.id") == "location_text"
    call.keyboard.type("新乡市 红旗区，平原路 123号 门口")  # spaces, punctuation, levels missing
    first = call.locator("#address-candidates li[role=option]").first
    first.wait_for()
    assert "平原路123号" in first.inner_text() and re.search(r"\d\.\d\d", first.inner_text())
    call.keyboard.press("ArrowDown")
    assert first.get_attribute("aria-selected") == "true"
    call.keyboard.press("Enter")
    chosen = call.locator("#address-chosen")
    chosen.wait_for()
    assert "平原路123号" in chosen.inner_text()
    assert call.input_value("#address_id").isdigit()
    # open incidents at or near that address are offered for merging; a new incident is the default
    call.locator("#nearby .nearby").wait_for()
    assert seeded[0]["number"] in call.inner_text("#nearby")
    assert call.locator('#nearby input[name="merge_into"][value=""]').is_checked()
    call.select_option("#category_top", "20")
    subs = call.locator("#category_code option").all_inner_texts()
    assert any("2001 打架斗殴" in s for s in subs) and not any(s.startswith("1001") for s in subs)
    call.select_option("#category_code", "2001")
    call.focus("#description")
    call.keyboard.press("Alt+1")  # priority 1 from anywhere in the form
    assert call.locator('input[name="priority"][value="1"]').is_checked()
    call.keyboard.type("两名男子在超市门口持械斗殴")
    call.keyboard.press("Enter")  # Enter submits
    call.wait_for_url(re.compile(r"/incidents/new\?created=\d+"))
    banner = call.locator("#created-banner")
    number = banner.locator(".number").inner_text().strip()
    detail_href = banner.locator("#go-dispatch").get_attribute("href")
    assert number.startswith("JJ") and detail_href.startswith("/incidents/")

    # --- it appears on the board without a reload ---------------------------------------------
    row = board.locator(f'tr[data-number="{number}"]')
    row.wait_for()
    assert not_reloaded(board)
    assert "prio-row-1" in row.get_attribute("class") and row.get_attribute("data-stage") == "received"
    board.wait_for_timeout(600)  # let the map draw its grids, incidents and units
    board.screenshot(path=BOARD_SCREENSHOT, full_page=False)

    # --- open it from the board; a second dispatcher opens it too ------------------------------
    row.locator("td.loc").click()
    board.wait_for_url(base + detail_href)
    detail = board
    wait_live(detail)
    assert number in detail.inner_text(".incident-head") and "139****5678" in detail.inner_text("#caller-card")
    mark(detail)
    watch_board = desk.new_page()
    watch_errors(watch_board, errors)
    watch_board.goto(base + "/incidents/board")
    wait_live(watch_board)
    mark(watch_board)

    other = new_context(browser, viewport={"width": 1280, "height": 860})
    detail2 = other.new_page()
    watch_errors(detail2, errors)
    log_in(detail2, base, "dispatcher2", "/incidents/board")
    detail2.goto(base + detail_href)
    wait_live(detail2)

    # --- the patrol officer's phone ---------------------------------------------------------------
    phone = new_context(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                        geolocation={"latitude": 35.3032, "longitude": 113.9031}, permissions=["geolocation"])
    patrol = phone.new_page()
    watch_errors(patrol, errors)
    log_in(patrol, base, "patrol_a", "/patrol")
    assert "红旗巡1" in patrol.inner_text(".unit-card") and patrol.locator("#no-task").is_visible()
    wait_live(patrol)
    mark(patrol)

    # --- both dispatchers send 红旗巡1 at the same moment: exactly one wins ---------------------
    button = '.assign-button[data-unit="红旗巡1"]'
    detail.locator(button).wait_for()
    detail2.locator(button).wait_for()
    detail.locator(button).dispatch_event("click")
    detail2.locator(button).dispatch_event("click")
    refusal = "该警力已被其他调度员派出"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        assigned = [p.locator('#assignments tr[data-unit="红旗巡1"]').count() for p in (detail, detail2)]
        refused = [p.locator('[data-flash="assign"]').count() for p in (detail, detail2)]
        if all(assigned) and sum(refused) == 1:
            break
        time.sleep(0.1)
    assert all(assigned) and sum(refused) == 1, (assigned, refused)
    loser = detail if refused[0] else detail2
    assert refusal in loser.inner_text('[data-flash="assign"]') and "unit already taken" in loser.inner_text(
        '[data-flash="assign"]')
    with live_server.engine.connect() as conn:
        active = conn.execute(text("SELECT count(*) FROM assignment a JOIN duty_unit u ON u.id = a.unit_id "
                                   "WHERE u.call_sign = '红旗巡1' AND a.active")).scalar()
    assert active == 1
    detail.locator('#assignments tr[data-unit="红旗巡1"][data-status="dispatched"]').wait_for()
    assert "已派警" in detail.inner_text("#incident-stage")

    # --- the patrol page shows the task by itself; the officer reports position and moves on ---
    patrol.locator('#task button[data-next="departed"]').wait_for()
    assert not_reloaded(patrol)
    assert "两名男子在超市门口持械斗殴" in patrol.inner_text("#task") and number in patrol.inner_text("#task")
    patrol.click("[data-report-position]")
    patrol.locator("#position-result.good").wait_for()
    with live_server.engine.connect() as conn:
        lat = conn.execute(text("SELECT lat FROM duty_unit WHERE call_sign = '红旗巡1'")).scalar()
    assert abs(lat - 35.3032) < 1e-6

    patrol.click('button[data-next="departed"]')
    patrol.locator('#task[data-status="departed"]').wait_for()
    detail.locator('#assignments tr[data-unit="红旗巡1"][data-status="departed"]').wait_for()
    detail.locator("#incident-stage", has_text="已出警").wait_for()
    watch_board.locator(f'tr[data-number="{number}"][data-stage="departed"]').wait_for()
    assert not_reloaded(detail) and not_reloaded(watch_board)

    patrol.click('button[data-next="arrived"]')
    patrol.locator('#task[data-status="arrived"]').wait_for()
    detail.locator('#assignments tr[data-unit="红旗巡1"][data-status="arrived"]').wait_for()
    detail.locator("#incident-stage", has_text="已到场").wait_for()
    watch_board.locator(f'tr[data-number="{number}"][data-stage="arrived"]').wait_for()
    assert not_reloaded(detail) and not_reloaded(watch_board) and not_reloaded(patrol)
    durations = detail.inner_text(".spans")
    assert "出警→到场" in durations and "接警→到场" in durations

    # --- close with a disposition; the board and the patrol page follow ----------------------------
    detail.select_option("#disposition", "handled_on_scene")
    detail.fill("#close-note", "现场制止，双方已带回派出所调查")
    detail.click("#close-button")
    detail.locator("#incident-stage", has_text="已结警").wait_for()
    assert "现场处置" in detail.inner_text(".incident-head")
    assert detail.locator('#assignments tr[data-unit="红旗巡1"][data-status="cleared"]').count() == 1
    detail.locator('#callback-card input[value="satisfied"]').check()
    detail.click("#callback-card button[type=submit]")
    detail.locator("text=回访记录").wait_for()
    watch_board.locator(f'tr[data-number="{number}"]').wait_for(state="detached")
    patrol.locator("#no-task").wait_for()
    assert not_reloaded(detail) and not_reloaded(watch_board) and not_reloaded(patrol)
    timeline = detail.inner_text("#timeline")
    for step in ("已接警", "已派", "已出发", "已到场", "已结警", "回访"):
        assert step in timeline, step

    assert errors == [], errors
    for context in (desk, other, phone):
        context.close()
