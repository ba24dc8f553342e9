"""A property-based run of the API against its own OpenAPI document (schemathesis).

Every operation under /api/v1 gets generated requests — valid ones and ones the schema says
are invalid — sent in-process by an authenticated bureau admin, in the test's rolled-back
transaction. No request may end in a server error (5xx); bad input must come back as 4xx.
The live stream is left out: it is a long-lived response, not a request/response operation.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from pingan.app import create_app
from tests.factories import open_session


@pytest.fixture
def admin_headers(db, world) -> dict[str, str]:
    token, _csrf = open_session(db, world.users["admin"])
    return {"Authorization": f"Bearer {token}"}


# The schema is read from an app built at import (no database is touched to build it); its
# requests run through the `db` fixture's rolled-back transaction like every other test's.
# (schemathesis.pytest.from_fixture would build it per test, but its lazy loader does not run
# under pytest 9.)
APP = create_app(background_jobs=False)
schema = (schemathesis.openapi.from_asgi("/openapi.json", APP)
          .include(path_regex=r"^/api/v1/")
          .exclude(path="/api/v1/incidents/stream")
          .exclude(path="/api/v1/auth/logout"))  # would end the admin's session for the rest of the run


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
def test_no_server_errors(case, admin_headers):
    # No client timeout of a few seconds (schemathesis' default is 10 s): the first request to use
    # an in-process index builds it, which on a loaded machine may take longer.
    case.call_and_validate(headers=admin_headers, checks=[not_a_server_error], timeout=300)


# --- The pages --------------------------------------------------------------------------------
# The HTML pages are left out of the OpenAPI document (include_in_schema=False), so their
# parameters are read from the routes themselves: every page route's path parameters and the
# query parameters its handler (and its dependencies) declare get generated values — any text,
# numbers of any size, dates and times of any year, and the cases that once ended in a 500
# (Unicode digits, ids past the database's integer, NUL, days past the calendar, times without
# a zone). Sent by a signed-in admin (bearer token: the forms' CSRF check does not apply), in
# the test's rolled-back transaction; any 5xx fails.

NASTY = ["²", "1²", "٣", "１２", "0", "-1", str(2**31 - 1), str(2**31), str(2**63), "9" * 25, "1e400", "nan",
         "a\x00b", "\x00", "", " ", "true", "0001-01-01", "1899-12-31", "9999-12-31", "2026-02-30",
         "2026-07-15T08:00:00", "2026-07-15T08:00", "2026-W53", "2026-Q5", "2026-13", "9999-12-30..9999-12-31",
         "<script>", "'\"", "../..", "%", "null"]


def _values():
    from hypothesis import strategies as st

    return st.one_of(
        st.sampled_from(NASTY),
        st.text(max_size=16),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.dates().map(lambda d: d.isoformat()),
        st.datetimes().map(lambda d: d.isoformat()),
    )


def _query_params(dependant) -> list[str]:
    names = [p.alias for p in dependant.query_params]
    for sub in dependant.dependencies:
        names += _query_params(sub)
    return names


def _page_routes(app) -> list[tuple[str, str, list[str], list[str]]]:
    """(method, path format, path parameters, query parameters) of every page route."""
    from fastapi.routing import APIRoute

    found = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            routes = [route] if not route.include_in_schema else []
        elif hasattr(route, "original_router"):  # FastAPI ≥ 0.13x keeps an included router whole
            context = route.include_context
            routes = [] if context.include_in_schema else [r for r in route.original_router.routes
                                                           if isinstance(r, APIRoute)]
        else:
            continue
        for r in routes:
            for method in sorted(r.methods - {"HEAD"}):
                if r.path in ("/logout", "/login"):  # would end the admin's session / is the login form
                    continue
                found.append((method, r.path_format, [p.alias for p in r.dependant.path_params],
                              sorted(set(_query_params(r.dependant)))))
    return found


PAGE_ROUTES = _page_routes(APP)


def test_every_page_route_is_fuzzed():
    paths = {path for _, path, _, _ in PAGE_ROUTES}
    assert {"/incidents", "/incidents/{incident_id}", "/audit", "/units", "/stats", "/stats/records",
            "/stats/stations/{station_id}", "/addresses"} <= paths
    assert len(PAGE_ROUTES) >= 30


@pytest.mark.parametrize("method,path,path_params,query_params", PAGE_ROUTES,
                         ids=[f"{m} {p}" for m, p, _, _ in PAGE_ROUTES])
def test_no_server_errors_on_pages(method, path, path_params, query_params, admin_headers, app):
    from urllib.parse import quote

    from fastapi.testclient import TestClient
    from hypothesis import given
    from hypothesis import strategies as st

    client = TestClient(app, raise_server_exceptions=False)
    values = _values()

    @given(path_values=st.fixed_dictionaries({name: values for name in path_params}),
           query=st.fixed_dictionaries({}, optional={name: values for name in query_params}))
    @settings(max_examples=12 if query_params or path_params else 1, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                     HealthCheck.data_too_large])
    def run(path_values, query):
        url = path
        for name, value in path_values.items():
            url = url.replace("{%s}" % name, quote(value, safe="") or "0")
        resp = client.request(method, url, params=query, headers=admin_headers)
        assert resp.status_code < 500, (method, url, query, resp.status_code, resp.text[:300])

    run()
