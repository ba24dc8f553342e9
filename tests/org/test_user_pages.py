"""User management pages (/org/users …) and the change-password page, used as a browser uses them."""

from __future__ import annotations

import re

from sqlalchemy import select

from pingan.org.models import User
from tests.factories import PASSWORD


def test_an_admin_creates_resets_and_disables_a_user_through_the_pages(client, world, sign_in, db):
    csrf = sign_in("admin")
    page = client.get("/org/users")
    assert page.status_code == 200 and "patrol_a" in page.text
    made = client.post("/org/users/new", data={"csrf_token": csrf, "username": "page_user", "display_name": "页面",
                                               "role": "patrol", "org_unit_id": str(world.org["station_a"].id)})
    assert made.status_code == 200 and 'id="one-time-password"' in made.text
    user = db.scalar(select(User).where(User.username == "page_user"))
    assert user.must_change_password
    again = client.get(f"/org/users/{user.id}")
    assert 'id="one-time-password"' not in again.text  # shown once
    reset = client.post(f"/org/users/{user.id}/reset-password", data={"csrf_token": csrf})
    assert re.search(r"<code class=\"big\">\w{5}-\w{5}-\w{5}</code>", reset.text)
    assert client.post(f"/org/users/{user.id}/disable", data={"csrf_token": csrf}).status_code == 200
    db.expire_all()
    assert db.get(User, user.id).is_active is False
    long = client.post("/org/users/new", data={"csrf_token": csrf, "username": "x" * 41, "display_name": "x",
                                               "role": "patrol", "org_unit_id": str(world.org["station_a"].id)})
    assert long.status_code == 422 and "username" in long.text


def test_users_pages_are_for_admins_only(client, world, sign_in):
    sign_in("chief_a")
    assert client.get("/org/users").status_code == 403


def test_a_reset_user_is_sent_to_change_the_password_and_can_do_nothing_else(client, world, sign_in, db):
    from pingan.auth import service as auth_service

    auth_service.set_password(db=db, user=world.users["patrol_a"], password="Temp-pass-1234", must_change=True)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    resp = client.post("/login", data={"username": "patrol_a", "password": "Temp-pass-1234", "csrf_token": token},
                       follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/account/password"
    assert client.get("/patrol").status_code == 403
    form = client.get("/account/password")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    done = client.post("/account/password", data={"csrf_token": csrf, "current_password": "Temp-pass-1234",
                                                  "new_password": "Brand-new-pass-5",
                                                  "confirm_password": "Brand-new-pass-5"})
    assert done.status_code == 200 and "密码已修改" in done.text
    assert client.get("/patrol").status_code == 200


def test_the_login_page_refuses_a_too_long_username_by_name(client, world):
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    resp = client.post("/login", data={"username": "a" * 41, "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 422 and "username" in resp.text


def test_page_logout_with_a_basic_header_revokes_the_cookie_session(client, world, sign_in):
    csrf = sign_in("dispatcher")
    token = client.cookies.get("pingan_session")
    resp = client.post("/logout", data={"csrf_token": csrf}, headers={"Authorization": "Basic Zm9vOmJhcg=="},
                       follow_redirects=False)
    assert resp.status_code == 303
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_refused_edit_is_shown_on_the_form_with_what_was_typed(client, world, sign_in, db):
    csrf = sign_in("admin")
    admin = world.users["admin"]
    resp = client.post(f"/org/users/{admin.id}/edit", data={
        "csrf_token": csrf, "display_name": "新的名字", "role": "patrol", "org_unit_id": str(admin.org_unit_id)})
    assert resp.status_code == 409 and "不能修改自己的角色" in resp.text and "You cannot change your own role" in resp.text
    assert 'value="新的名字"' in resp.text and '<option value="patrol" selected>' in resp.text
    db.expire_all()
    assert db.get(User, admin.id).role == "admin" and db.get(User, admin.id).display_name != "新的名字"
    # a user out of reach is a 404, not a message on someone else's page
    assert client.post("/org/users/999999/disable", data={"csrf_token": csrf}).status_code == 404
