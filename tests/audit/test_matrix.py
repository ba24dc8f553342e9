"""The audit domain's part of the permission matrix (tests/matrix.py)."""

from tests.matrix import AUDIT_READ, V, Case, cases, get, matrix_test

CASES = cases(
    Case("GET", f"{V}/audit", AUDIT_READ, get(f"{V}/audit")),
    Case("GET", "/audit", AUDIT_READ, get("/audit")),
)

test_matrix = matrix_test(CASES)
