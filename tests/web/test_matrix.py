"""The web frame's own routes in the permission matrix (tests/matrix.py): health check, the
OpenAPI document answer anyone, the API docs page a signed-in user."""

from tests.matrix import EVERYONE, Case, cases, get, matrix_test

CASES = cases(
    Case("GET", "/healthz", EVERYONE, get("/healthz"), public=True),
    Case("GET", "/openapi.json", EVERYONE, get("/openapi.json"), public=True),
    Case("GET", "/api/docs", EVERYONE, get("/api/docs")),
)

test_matrix = matrix_test(CASES)
