"""The auth domain's part of the permission matrix (tests/matrix.py): logging in and out, one's
own password, the language switch."""

import re

from tests.factories import PASSWORD
from tests.matrix import EVERYONE, V, Case, cases, form, get, matrix_test, post

NEW_PASSWORD = {"current_password": PASSWORD, "new_password": "Matrix-new-pass-2"}


def login_form(m, side, role):
    """The login page's form as a browser posts it: the login CSRF cookie and token come from the page."""
    page = m.client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return {"url": "/login", "data": {"username": role, "password": PASSWORD, "csrf_token": token}}


CASES = cases(
    # --- API
    Case("POST", f"{V}/auth/login", EVERYONE, lambda m, side, role: {
        "url": f"{V}/auth/login", "json": {"username": role, "password": PASSWORD}}, public=True, credentials=False),
    Case("POST", f"{V}/auth/logout", EVERYONE, post(f"{V}/auth/logout"), 204),
    Case("GET", f"{V}/auth/me", EVERYONE, get(f"{V}/auth/me")),
    Case("POST", f"{V}/auth/password", EVERYONE, post(f"{V}/auth/password", NEW_PASSWORD), 204),
    # --- pages
    Case("GET", "/", EVERYONE, get("/"), 303),  # to the role's home page; without a session to the login
    Case("GET", "/login", EVERYONE, get("/login"), public=True),
    Case("POST", "/login", EVERYONE, login_form, 303, public=True, credentials=False),
    Case("POST", "/logout", EVERYONE, form("/logout"), 303),
    Case("GET", "/account/password", EVERYONE, get("/account/password")),
    Case("POST", "/account/password", EVERYONE,
         form("/account/password", {**NEW_PASSWORD, "confirm_password": NEW_PASSWORD["new_password"]})),
    Case("GET", "/lang/{lang}", EVERYONE, get("/lang/en"), 303, public=True),
)

test_matrix = matrix_test(CASES)
