"""The geo domain's part of the permission matrix (tests/matrix.py): addresses, grids, divisions."""

from tests.matrix import EVERYONE, V, Case, cases, get, matrix_test, text_of

CASES = cases(
    # --- API
    Case("GET", f"{V}/geo/parse", EVERYONE, get(f"{V}/geo/parse", text="新乡市红旗区平原路123号")),
    Case("GET", f"{V}/addresses/match", EVERYONE, get(f"{V}/addresses/match", q=lambda r, side: r.text[side]["address_query"]),
         marker=text_of("address_text"), rows="grid"),
    Case("GET", f"{V}/addresses", EVERYONE, get(f"{V}/addresses"), marker=text_of("address_text"), rows="grid"),
    Case("GET", f"{V}/addresses/{{address_id}}", EVERYONE, get(f"{V}/addresses/{{address_id}}"), scope="grid"),
    Case("GET", f"{V}/grids", EVERYONE, get(f"{V}/grids"), marker=text_of("grid_code"), rows="grid"),
    Case("GET", f"{V}/grids/at", EVERYONE, lambda m, side, role: {"url": f"{V}/grids/at",
                                                                   "params": m.records.point[side]}, scope="grid"),
    Case("GET", f"{V}/grids/{{grid_id}}", EVERYONE, get(f"{V}/grids/{{grid}}"), scope="grid"),
    Case("GET", f"{V}/divisions", EVERYONE, get(f"{V}/divisions", parent="410702001")),
    # --- pages
    Case("GET", "/addresses", EVERYONE, get("/addresses", q=lambda r, side: r.text[side]["address_query"]), marker=text_of("address_text"), rows="grid"),
    Case("GET", "/addresses/candidates", EVERYONE, get("/addresses/candidates", q=lambda r, side: r.text[side]["address_query"]),
         marker=text_of("address_text"), rows="grid"),
    Case("GET", "/grids", EVERYONE, get("/grids")),
)

test_matrix = matrix_test(CASES)
