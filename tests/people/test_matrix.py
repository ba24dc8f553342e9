"""The people module's part of the permission matrix (tests/matrix.py): its API and pages against
every role and both sides. Each side's people (a person and a possible duplicate of them,
registered at the side's station) are written by the request itself, inside the savepoint the
matrix rolls back after it, as the matrix's world has no people yet (so the baselines of
tests/query_counts.json for these pages include those writes; tests/people/test_pages.py checks
that a list sends no statement per row)."""

from sqlalchemy.orm import Session

from pingan.people import service
from pingan.people.service import PersonData
from tests.factories import actor_of
from tests.matrix import SIDES, V, Case, cases, matrix_test
from tests.people.conftest import citizen_id

READ = frozenset({"admin", "dispatcher", "chief_a", "chief_b", "patrol_a", "community_a"})
WRITE = READ
REVEAL = frozenset({"admin", "dispatcher", "chief_a", "chief_b"})
MERGE = frozenset({"admin", "chief_a", "chief_b"})
NAME = {"a": "矩阵甲", "b": "矩阵乙"}  # masked: 矩*甲, 矩*乙
PHONE = {"a": "13800000001", "b": "13800000002"}


def people(m) -> dict[str, tuple[int, int]]:
    """{side: (person, its possible duplicate)}, written in the request's savepoint."""
    db = Session(bind=m.connection, join_transaction_mode="create_savepoint")
    try:
        admin = actor_of(db, m.world, "admin")
        made = {}
        for side in SIDES:
            station = m.world.org[f"station_{side}"].id
            first = service.create(db=db, actor=admin, data=PersonData(
                name=NAME[side], id_number=citizen_id(born="19800101", sequence=f"10{'12'[SIDES.index(side)]}"),
                phones=[PHONE[side]], org_unit_id=station))
            twin = service.create(db=db, actor=admin, data=PersonData(
                name=NAME[side], phones=[PHONE[side]], org_unit_id=station))
            made[side] = (first.id, twin.id)
        db.commit()  # releases its savepoint: the rows stay in the request's
        return made
    finally:
        db.close()


def with_people(url: str, payload=None, kind: str = "json", **params):
    """A request on the side's person ({person}, {twin} in ``url``), after writing everyone's people."""

    def request(m, side, role):
        person, twin = people(m)[side]
        filled = url.format(person=person, twin=twin)
        spec = {"url": filled}
        if params:
            spec["params"] = {k: str(v).format(person=person, twin=twin) for k, v in params.items()}
        if payload is not None:
            value = payload(m, side, person, twin) if callable(payload) else payload
            spec["data" if kind == "form" else "json"] = value
        return spec

    return request


def masked(r, side):
    return NAME[side][0] + "*" + NAME[side][-1]


def new_person(m, side, *_):
    return {"name": "新登记", "id_number": citizen_id(sequence="901"), "phones": ["13900000009"],
            "org_unit_id": m.world.org[f"station_{side}"].id}


def new_form(m, side, *_):
    return {"name": "新登记", "id_number": citizen_id(sequence="901"), "phones": "13900000009",
            "residence_text": "", "residence_division_code": "", "address_id": "", "address_text": "",
            "org_unit_id": str(m.world.org[f"station_{side}"].id)}


def edit_form(m, side, *_):
    return {**new_form(m, side), "id_number": ""}


CASES = cases(
    # --- API
    Case("POST", f"{V}/persons", WRITE, with_people(f"{V}/persons", new_person), 201, "station"),
    Case("GET", f"{V}/persons", READ, with_people(f"{V}/persons"), marker=masked, rows="station"),
    Case("GET", f"{V}/persons/duplicates", MERGE, with_people(f"{V}/persons/duplicates"),
         marker=masked, rows="station"),
    Case("GET", f"{V}/persons/{{person_id}}", READ, with_people(f"{V}/persons/{{person}}"), scope="station"),
    Case("PUT", f"{V}/persons/{{person_id}}", WRITE,
         with_people(f"{V}/persons/{{person}}", lambda m, side, p, t: {"name": NAME[side], "phones": []}),
         scope="station"),
    Case("POST", f"{V}/persons/{{person_id}}/reveal", REVEAL,
         with_people(f"{V}/persons/{{person}}/reveal", {"purpose": "核查身份"}), scope="station"),
    Case("POST", f"{V}/persons/{{person_id}}/merge", MERGE,
         with_people(f"{V}/persons/{{person}}/merge", lambda m, side, p, t: {"merged_id": t}),
         scope="station"),
    # --- pages
    Case("GET", "/people", READ, with_people("/people"), marker=masked, rows="station"),
    Case("GET", "/people/new", WRITE, with_people("/people/new")),
    Case("POST", "/people/new", WRITE, with_people("/people/new", new_form, kind="form"), 303, "station"),
    Case("GET", "/people/duplicates", MERGE, with_people("/people/duplicates"), marker=masked,
         rows="station"),
    Case("GET", "/people/{person_id:int}", READ, with_people("/people/{person}"), scope="station"),
    Case("POST", "/people/{person_id:int}/reveal", REVEAL,
         with_people("/people/{person}/reveal", {"purpose": "核查身份"}, kind="form"), scope="station"),
    Case("GET", "/people/{person_id:int}/edit", WRITE, with_people("/people/{person}/edit"), scope="station"),
    Case("POST", "/people/{person_id:int}/edit", WRITE,
         with_people("/people/{person}/edit", edit_form, kind="form"), 303, "station"),
    Case("GET", "/people/{person_id:int}/merge", MERGE, with_people("/people/{person}/merge", other="{twin}"),
         scope="station"),
    Case("POST", "/people/{person_id:int}/merge", MERGE,
         with_people("/people/{person}/merge", lambda m, side, p, t: {"merged_id": str(t)}, kind="form"),
         303, "station"),
)

test_matrix = matrix_test(CASES)
