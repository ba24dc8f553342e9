"""The clocks' part of the permission matrix (tests/matrix.py): the holiday table (bureau-wide,
the admin edits it), and a clock of each side's station, made inside the request's savepoint."""

from datetime import datetime

from tests.matrix import V, Case, cases, form, get, matrix_test

CLOCK_READ = frozenset({"admin", "dispatcher", "chief_a", "chief_b", "auditor"})
CLOCK_MANAGE = frozenset({"admin", "chief_a", "chief_b"})
CALENDAR_MANAGE = frozenset({"admin"})


def _clock(m, side: str, *, paused: bool = False) -> int:
    """A clock of the side's station, started in the request's savepoint (undone with it). The
    matrix's world has no clock, so a request makes its own: the query-count baselines of the
    clock reads include the 5 statements of starting it."""
    from pingan.auth.actor import Actor
    from pingan.clocks import service
    from tests.factories import actor_of

    clock = service.start_clock(db=m.db, owner_module="case", entity="case", entity_id=1,
                                org_unit_id=m.records.ids[side]["station"], clock_type_name="service_limit",
                                started_at=service.instant(datetime(2026, 10, 8, 9)))
    if paused:
        admin: Actor = actor_of(m.db, m.world, "admin")
        service.pause(db=m.db, actor=admin, clock=clock, reason="鉴定")
    m.db.flush()
    clock_id = clock.id
    m.db.expunge_all()
    return clock_id


def on_clock(suffix: str = "", body=None, *, paused: bool = False, method: str = "json"):
    def request(m, side, role):
        url = f"{V}/clocks/{_clock(m, side, paused=paused)}{suffix}" if method == "json" else \
            f"/clocks/{_clock(m, side, paused=paused)}{suffix}"
        return {"url": url, "json": body} if method == "json" else {"url": url}
    return request


CASES = cases(
    # --- API
    Case("GET", f"{V}/clocks/holidays", CLOCK_READ, get(f"{V}/clocks/holidays", year=2026)),
    Case("PUT", f"{V}/clocks/holidays/{{day}}", CALENDAR_MANAGE,
         lambda m, side, role: {"url": f"{V}/clocks/holidays/2026-10-13", "json": {"kind": "holiday", "name": "特别假日"}}),
    Case("DELETE", f"{V}/clocks/holidays/{{day}}", CALENDAR_MANAGE,
         lambda m, side, role: {"url": f"{V}/clocks/holidays/2026-10-01"}, 204),
    Case("GET", f"{V}/clocks", CLOCK_READ, get(f"{V}/clocks")),
    Case("GET", f"{V}/clocks/{{clock_id}}", CLOCK_READ, on_clock(), scope="station"),
    Case("POST", f"{V}/clocks/{{clock_id}}/pause", CLOCK_MANAGE, on_clock("/pause", {"reason": "鉴定"}),
         scope="station"),
    Case("POST", f"{V}/clocks/{{clock_id}}/resume", CLOCK_MANAGE, on_clock("/resume", paused=True), scope="station"),
    Case("POST", f"{V}/clocks/{{clock_id}}/extend", CLOCK_MANAGE,
         on_clock("/extend", {"amount": 10, "unit": "working_days", "reason": "补正", "basis": "办事指南"}),
         scope="station"),
    # --- pages
    Case("GET", "/clocks/holidays", CALENDAR_MANAGE, get("/clocks/holidays", year=2026)),
    Case("POST", "/clocks/holidays", CALENDAR_MANAGE,
         form("/clocks/holidays", {"day": "2026-10-13", "kind": "holiday", "name": "特别假日"}), 303),
    Case("POST", "/clocks/holidays/{day}/delete", CALENDAR_MANAGE, form("/clocks/holidays/2026-10-01/delete"), 303),
    Case("GET", "/clocks/{clock_id}/explanation", CLOCK_READ, on_clock("/explanation", method="page"),
         scope="station"),
)

test_matrix = matrix_test(CASES)
