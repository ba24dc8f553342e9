"""A property-based run of the API against its own OpenAPI document (schemathesis).

Every operation under /api/v1 gets generated requests — valid ones and ones the schema says
are invalid — sent in-process by an authenticated bureau admin, in the test's rolled-back
transaction. No request may end in a server error (5xx); bad input must come back as 4xx.
The live stream is left out: it is a long-lived response, not a request/response operation.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from pingan.app import create_app
from pingan.auth import security
from pingan.auth.models import AuthSession
from pingan.auth.security import new_token, token_hash
from pingan.db.types import utcnow
from pingan.org import service as org_service


@lru_cache(maxsize=8)
def _cached_hash(password: str) -> str:
    return security.hash_password(password)


@pytest.fixture(autouse=True)
def _hash_each_password_once(monkeypatch):
    """argon2 is slow by design; each distinct password is hashed once (logins still verify)."""
    monkeypatch.setattr(org_service, "hash_password", _cached_hash)


@pytest.fixture
def admin_headers(db, world) -> dict[str, str]:
    token = new_token()
    db.add(AuthSession(token_hash=token_hash(token), user_id=world.users["admin"].id, csrf_token=new_token(),
                       expires_at=utcnow() + timedelta(hours=1)))
    db.flush()
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
    case.call_and_validate(headers=admin_headers, checks=[not_a_server_error])
