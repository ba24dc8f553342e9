"""The org domain's part of the permission matrix (tests/matrix.py): org units, duty units and
users, API and pages. The user a case acts on is the side's patrol officer."""

from tests.matrix import (
    ORG_READ,
    UNIT_POSITION,
    UNIT_READ,
    USER_MANAGE,
    V,
    Case,
    cases,
    form,
    get,
    matrix_test,
    post,
    text_of,
)


def new_user(r, side):
    return {"username": f"new_{side}", "display_name": "新人", "role": "patrol", "org_unit_id": r.ids[side]["station"]}


CASES = cases(
    # --- API: users
    Case("GET", f"{V}/users", USER_MANAGE, get(f"{V}/users"), marker=text_of("username"), rows="station"),
    Case("POST", f"{V}/users", USER_MANAGE, post(f"{V}/users", new_user), 201, "station"),
    Case("GET", f"{V}/users/{{user_id}}", USER_MANAGE, get(f"{V}/users/{{patrol}}"), scope="station"),
    Case("PATCH", f"{V}/users/{{user_id}}", USER_MANAGE,
         lambda m, side, role: {"url": f"{V}/users/{m.records.ids[side]['patrol']}", "json": {"display_name": "改名"}},
         scope="station"),
    Case("POST", f"{V}/users/{{user_id}}/disable", USER_MANAGE, post(f"{V}/users/{{patrol}}/disable"),
         scope="station"),
    Case("POST", f"{V}/users/{{user_id}}/enable", USER_MANAGE, post(f"{V}/users/{{patrol}}/enable"), scope="station"),
    Case("POST", f"{V}/users/{{user_id}}/reset-password", USER_MANAGE, post(f"{V}/users/{{patrol}}/reset-password"),
         scope="station"),
    Case("POST", f"{V}/users/{{user_id}}/end-sessions", USER_MANAGE, post(f"{V}/users/{{patrol}}/end-sessions"),
         scope="station"),
    Case("GET", f"{V}/login-locks", USER_MANAGE, get(f"{V}/login-locks")),
    Case("POST", f"{V}/login-locks/lift", USER_MANAGE,
         post(f"{V}/login-locks/lift", lambda r, side: {"username": f"locked_{side}"}), 204),
    # --- API: org units and duty units
    Case("GET", f"{V}/org-units", ORG_READ, get(f"{V}/org-units"), marker=text_of("station_name"), rows="station"),
    Case("GET", f"{V}/org-units/{{org_unit_id}}", ORG_READ, get(f"{V}/org-units/{{station}}"), scope="station"),
    Case("GET", f"{V}/units", UNIT_READ, get(f"{V}/units"), marker=text_of("call_sign"), rows="station"),
    Case("GET", f"{V}/units/{{unit_id}}", UNIT_READ, get(f"{V}/units/{{own_unit}}"), scope="station"),
    Case("POST", f"{V}/units/{{unit_id}}/position", UNIT_POSITION,
         post(f"{V}/units/{{own_unit}}/position", {"lat": 35.31, "lon": 113.91}), scope="station"),
    # --- pages
    Case("GET", "/units", UNIT_READ, get("/units"), marker=text_of("call_sign"), rows="station"),
    Case("GET", "/org", ORG_READ, get("/org"), marker=text_of("station_name"), rows="station"),
    Case("GET", "/org/users", USER_MANAGE, get("/org/users"), marker=text_of("username"), rows="station"),
    Case("POST", "/org/users/locks/lift", USER_MANAGE,
         form("/org/users/locks/lift", lambda r, side: {"username": f"locked_{side}"}), 303),
    Case("GET", "/org/users/new", USER_MANAGE, get("/org/users/new")),
    Case("POST", "/org/users/new", USER_MANAGE,
         form("/org/users/new", lambda r, side: {k: str(v) for k, v in new_user(r, side).items()}),
         scope="station"),  # the new user's page, with the one-time password
    Case("GET", "/org/users/{user_id:int}", USER_MANAGE, get("/org/users/{patrol}"), scope="station"),
    Case("POST", "/org/users/{user_id:int}/disable", USER_MANAGE, form("/org/users/{patrol}/disable"), 303,
         "station"),
    Case("POST", "/org/users/{user_id:int}/enable", USER_MANAGE, form("/org/users/{patrol}/enable"), 303, "station"),
    Case("POST", "/org/users/{user_id:int}/reset-password", USER_MANAGE, form("/org/users/{patrol}/reset-password"),
         scope="station"),
    Case("POST", "/org/users/{user_id:int}/end-sessions", USER_MANAGE, form("/org/users/{patrol}/end-sessions"),
         303, "station"),
    Case("POST", "/org/users/{user_id:int}/edit", USER_MANAGE,
         form("/org/users/{patrol}/edit", lambda r, side: {"display_name": "改名", "role": "patrol",
                                                            "org_unit_id": str(r.ids[side]["station"])}), 303,
         "station"),
)

test_matrix = matrix_test(CASES)
