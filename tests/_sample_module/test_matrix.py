"""The sample module's part of the permission matrix (tests/matrix.py): it installs the module,
and its route and page are checked like every other module's."""

from tests.matrix import AUDIT_READ, V, Case, cases, get, matrix_test

INSTALL = ("tests._sample_module",)

CASES = cases(
    Case("GET", f"{V}/sample/items", AUDIT_READ, get(f"{V}/sample/items")),
    Case("GET", "/sample", AUDIT_READ, get("/sample")),
)

test_matrix = matrix_test(CASES)
