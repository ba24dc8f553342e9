"""The incident domain's part of the permission matrix (tests/matrix.py): its API and its pages."""

from tests.matrix import (
    CALLBACK,
    CLOSE,
    CREATE,
    DISPATCH,
    EVERYONE,
    MOVE_ASSIGNMENT,
    OWN_ASSIGNMENT,
    PERSONAL,
    V,
    Case,
    cases,
    form,
    get,
    matrix_test,
    post,
    text_of,
)


def new_call(r, side):
    return {"caller_phone": "13812345678", "location_text": r.text[side]["address_text"],
            "address_id": r.ids[side]["address_id"], "category_code": "2001", "priority": 2}


CASES = cases(
    # --- API
    Case("POST", f"{V}/incidents", CREATE, post(f"{V}/incidents", new_call), 201),
    Case("GET", f"{V}/incidents", EVERYONE, get(f"{V}/incidents"), marker=text_of("number"), rows="grid"),
    Case("GET", f"{V}/incidents/categories", EVERYONE, get(f"{V}/incidents/categories")),
    Case("GET", f"{V}/incidents/stream", EVERYONE, get(f"{V}/incidents/stream", max_seconds=0)),
    Case("GET", f"{V}/incidents/{{incident_id}}", EVERYONE, get(f"{V}/incidents/{{received}}"), scope="grid"),
    Case("POST", f"{V}/incidents/{{incident_id}}/calls", CREATE,
         post(f"{V}/incidents/{{received}}/calls", {"caller_phone": "13900001111"}), 201, "grid"),
    Case("POST", f"{V}/incidents/{{incident_id}}/merge", DISPATCH,
         post(f"{V}/incidents/{{received}}/merge", lambda r, side: {"source_id": r.ids[side]["duplicate"]}),
         scope="grid"),
    Case("POST", f"{V}/incidents/{{incident_id}}/accept", DISPATCH, post(f"{V}/incidents/{{received}}/accept"),
         scope="grid"),
    Case("GET", f"{V}/incidents/{{incident_id}}/recommendations", DISPATCH,
         get(f"{V}/incidents/{{received}}/recommendations"), scope="grid"),
    Case("POST", f"{V}/incidents/{{incident_id}}/assignments", DISPATCH,
         post(f"{V}/incidents/{{received}}/assignments", lambda r, side: {"unit_id": r.ids[side]["free_unit"]}),
         201, "grid"),
    Case("POST", f"{V}/assignments/{{assignment_id}}/advance", MOVE_ASSIGNMENT,
         post(f"{V}/assignments/{{assignment}}/advance", {"to": "departed"}), scope="grid"),
    Case("POST", f"{V}/incidents/{{incident_id}}/resolve", CLOSE, post(f"{V}/incidents/{{accepted}}/resolve"),
         scope="grid"),
    Case("POST", f"{V}/incidents/{{incident_id}}/close", CLOSE,
         post(f"{V}/incidents/{{received}}/close", {"disposition": "invalid_call"}), scope="grid"),
    Case("POST", f"{V}/incidents/{{incident_id}}/callbacks", CALLBACK,
         post(f"{V}/incidents/{{closed}}/callbacks", {"satisfaction": "satisfied"}), 201, "grid"),
    Case("POST", f"{V}/incidents/{{incident_id}}/caller-contact", PERSONAL,
         post(f"{V}/incidents/{{received}}/caller-contact", {"purpose": "核实警情"}), scope="grid"),
    # --- pages: taking a call
    Case("GET", "/incidents/new", CREATE, get("/incidents/new")),
    Case("POST", "/incidents/new", CREATE, form("/incidents/new", lambda r, side: {
        **{k: str(v) for k, v in new_call(r, side).items()}, "category_top": "20"}), 303),
    Case("GET", "/incidents/new/nearby", CREATE,
         get("/incidents/new/nearby", address_id=lambda r, side: r.ids[side]["address_id"])),
    # the board and the list: a side's open incidents are listed to whoever sees its grid only
    Case("GET", "/incidents/board", EVERYONE, get("/incidents/board"), marker=text_of("open_number"), rows="grid"),
    Case("GET", "/incidents/board/rows", EVERYONE, get("/incidents/board/rows"), marker=text_of("open_number"),
         rows="grid"),
    Case("GET", "/incidents", EVERYONE, get("/incidents"), marker=text_of("number"), rows="grid"),
    # one incident
    Case("GET", "/incidents/{incident_id:int}", EVERYONE, get("/incidents/{received}"), scope="grid"),
    Case("GET", "/incidents/{incident_id:int}/panel", EVERYONE, get("/incidents/{received}/panel"), scope="grid"),
    Case("POST", "/incidents/{incident_id:int}/accept", DISPATCH, form("/incidents/{received}/accept"), 303, "grid"),
    Case("POST", "/incidents/{incident_id:int}/assign", DISPATCH,
         form("/incidents/{received}/assign", lambda r, side: {"unit_id": str(r.ids[side]["free_unit"])}), 303,
         "grid"),
    Case("POST", "/incidents/{incident_id:int}/assignments/{assignment_id:int}/advance", DISPATCH,
         form("/incidents/{dispatched}/assignments/{assignment}/advance", {"to": "departed"}), 303, "grid"),
    Case("POST", "/incidents/{incident_id:int}/resolve", CLOSE, form("/incidents/{accepted}/resolve"), 303, "grid"),
    Case("POST", "/incidents/{incident_id:int}/close", CLOSE,
         form("/incidents/{received}/close", {"disposition": "invalid_call"}), 303, "grid"),
    Case("POST", "/incidents/{incident_id:int}/callback", CALLBACK,
         form("/incidents/{closed}/callback", {"satisfaction": "satisfied"}), 303, "grid"),
    Case("POST", "/incidents/{incident_id:int}/caller", PERSONAL,
         form("/incidents/{received}/caller", {"purpose": "核实警情"}), scope="grid"),
    # the patrol officer's page: their own unit's task only
    Case("GET", "/patrol", OWN_ASSIGNMENT, get("/patrol"), marker=text_of("call_sign"), rows="station"),
    Case("GET", "/patrol/task", OWN_ASSIGNMENT, get("/patrol/task")),
    Case("POST", "/patrol/assignments/{assignment_id:int}/advance", OWN_ASSIGNMENT,
         form("/patrol/assignments/{assignment}/advance", {"to": "departed"}), 303, "grid"),
)

test_matrix = matrix_test(CASES)
