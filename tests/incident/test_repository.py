"""incident.repository queries whose plan decides whether they stay fast at city scale.

SQLite's planner chooses by the statistics ``ANALYZE`` leaves in ``sqlite_stat1`` (or by its
guesses when there are none). The statistics below are what ``ANALYZE`` recorded for the
city-scale demo (1,000,858 incidents, 52 of them open); written into a small test database and
reloaded, they make the planner choose as it would there. PostgreSQL's planner keeps its own
statistics, with the distribution of values that SQLite's lack.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, text

from pingan.incident import repository
from pingan.incident.models import Stage

CITY_STATISTICS = [
    ("incident", "ix_incident_open", "52 1"),
    ("incident", "ix_incident_updated_at", "1000858 1"),
    ("incident", "ix_incident_stage_received", "1000858 166810 1"),
    ("incident", "ix_incident_received_at", "1000858 1"),
    ("incident", "ix_incident_org_unit_id", "1000858 662"),
    ("incident", "ix_incident_org_received", "1000858 662 1"),
    ("incident", "ix_incident_grid_id", "1000858 220"),
    ("incident", "ix_incident_category_code", "1000858 25664"),
]
# What reading the open incidents may look like: from the index of the stages or of the open ones.
OPEN_INDEXES = ("ix_incident_stage_received", "ix_incident_open")


@pytest.fixture
def sqlite_db(db):
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite's planner (PostgreSQL keeps its own statistics)")
    return db


def _board_plan(db, actor) -> list[str]:
    """The query plan of the dispatcher board's incident query, as SQLite would run it now."""
    seen: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, *_args):
        if "FROM incident" in statement and "stage IN" in statement:
            seen.append((statement, parameters))

    engine = db.get_bind().engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        repository.list_open_for_board(db=db, actor=actor)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    statement, parameters = seen[-1]
    rows = db.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return [row[-1] for row in rows]


def _reads_only_the_open(plan: list[str]) -> bool:
    incident = [step for step in plan if " incident " in f" {step} "]
    return bool(incident) and all(any(ix in step for ix in OPEN_INDEXES) for step in incident)


def test_the_board_reads_only_the_open_incidents_with_or_without_statistics(sqlite_db, actors, make_incident):
    db = sqlite_db
    opened, closed = make_incident(), make_incident()
    closed.stage = Stage.CLOSED
    db.flush()
    dispatcher = actors["dispatcher"]
    assert [i.id for i in repository.list_open_for_board(db=db, actor=dispatcher)] == [opened.id]
    without = _board_plan(db, dispatcher)
    assert _reads_only_the_open(without), without
    db.execute(text("ANALYZE"))  # creates sqlite_stat1 (rolled back with the test's transaction)
    db.execute(text("DELETE FROM sqlite_stat1"))
    for table, index, stat in CITY_STATISTICS:
        db.execute(text("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (:t, :i, :s)"),
                   {"t": table, "i": index, "s": stat})
    db.execute(text("ANALYZE sqlite_schema"))  # reload the statistics into the planner
    with_city_statistics = _board_plan(db, dispatcher)
    assert _reads_only_the_open(with_city_statistics), with_city_statistics
    assert any("ix_incident_open" in step for step in with_city_statistics), with_city_statistics
    assert [i.id for i in repository.list_open_for_board(db=db, actor=dispatcher)] == [opened.id]
