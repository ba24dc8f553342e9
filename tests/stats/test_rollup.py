"""The daily roll-up (stats.rollup): the figures it gives are those the facts give, it follows
every sync, and the engine reads the facts where the roll-up cannot answer."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest

from pingan.incident.models import Satisfaction
from pingan.stats import engine, rollup
from pingan.incident.stats import INCIDENTS
from pingan.stats.metrics import METRICS
from pingan.stats.period import parse_period
from tests.stats.conftest import actor_of, make_incident

ALL = list(METRICS.values())


@pytest.fixture
def records(db, world):
    """Incidents on both sides over July 2025 and July 2026, several a day, some late at night
    (a local day is not a UTC day), with every stage, disposition and callback the KPIs count."""
    made = []
    for year in (2025, 2026):
        for day in (1, 5, 12, 12, 20, 31):
            for side, hour, accept, arrive in (("a", "00:30", 20, 150), ("b", "09:15", 75, 700),
                                               ("a", "23:50", 200, None), ("b", "12:00", None, None)):
                made.append(make_incident(
                    db, world, at=f"{year}-07-{day:02d} {hour}:00", side=side, priority=1 if side == "a" else 2,
                    category="1001" if day == 12 else "2001", accept=accept, depart=None if arrive is None else 60,
                    arrive=arrive, escalated=accept == 200,
                    satisfaction=Satisfaction.SATISFIED if arrive == 150 else None))
    make_incident(db, world, at="2026-06-30 23:59:00", side="b", accept=10)  # June: the 环比 of July
    for at in ("2025-03-03 08:00:00", "2025-05-20 15:00:00", "2026-03-09 10:00:00", "2026-05-31 23:30:00",
               "2026-08-01 00:10:00"):  # other months, for the monthly roll-up
        made.append(make_incident(db, world, at=at, side="a", accept=40, depart=50, arrive=170))
        made.append(make_incident(db, world, at=at, side="b", accept=25))
    made[-1].grid_id = None  # a record with no grid
    db.flush()
    return made


class Recording:
    """A store whose statements are kept, to see which tables a computation read."""

    def __init__(self, store):
        self.store, self.timezone, self.statements = store, store.timezone, []

    @contextmanager
    def reader(self):
        with self.store.reader() as cur:
            outer = self

            class Cursor:
                def execute(self, sql, parameters=None):
                    outer.statements.append(sql)
                    cur.execute(sql, parameters)
                    return self

                def fetchone(self):
                    return cur.fetchone()

                def fetchall(self):
                    return cur.fetchall()

            yield Cursor()

    def read(self) -> str | None:
        """Which roll-up the statements read: day, month or None."""
        found = {grain for s in self.statements for grain in ("day", "month") if f"rollup_incident_{grain} " in s}
        assert len(found) <= 1
        return found.pop() if found else None


def figures(store, actor, period, by, now):
    results = engine.compute(store=store, actor=actor, metrics=ALL, period=period, by=by, now=now)
    out = {}
    for result in results:
        for cell in result.cells:
            out[(result.metric.slug, tuple(cell.key.items()))] = (
                cell.value, cell.numerator, cell.denominator,
                cell.last_year.baseline if cell.last_year else None, cell.previous.baseline if cell.previous else None)
    return out


def assert_same(mine: dict, theirs: dict) -> None:
    assert mine.keys() == theirs.keys()
    for key, values in mine.items():
        for a, b in zip(values, theirs[key], strict=True):  # a mean's sum may differ in its last bits
            assert (a is None and b is None) or a == pytest.approx(b, rel=1e-12), key


QUESTIONS = [
    # (period, by, now, the roll-up read): whole periods, and periods counted to a minute inside a day
    ("2026-07", (), datetime(2026, 8, 15), "day"),
    ("2026-07", ("station",), datetime(2026, 7, 12, 10, 30), "day"),
    ("2026-07", ("day",), datetime(2026, 7, 12, 23, 55), "day"),
    ("2026-07", ("week",), datetime(2026, 8, 15), "day"),
    ("2026-07", ("branch", "month"), datetime(2026, 8, 15), "day"),
    ("2026-07", ("child",), datetime(2026, 7, 31, 0, 10), "day"),
    ("2026", ("month",), datetime(2026, 7, 20, 9, 0), "day"),
    ("2026-Q3", ("quarter", "station"), datetime(2026, 7, 5, 12, 0), "day"),
    ("2026-07-05..2026-07-25", ("day",), datetime(2026, 8, 1), "day"),
    ("2026-07-12", (), datetime(2026, 7, 12, 10, 0), None),  # no whole day: the facts rolled up on the fly
    ("2026", ("grid",), datetime(2026, 7, 20, 9, 0), "month"),
    ("2026", ("grid", "branch"), datetime(2026, 12, 31, 23, 0), "month"),
    ("2026-Q3", ("grid",), datetime(2026, 8, 2, 0, 30), "month"),
    ("2026-07", ("grid",), datetime(2026, 8, 15), "month"),
    ("2026-07", ("grid",), datetime(2026, 7, 12, 10, 30), None),  # no whole month
    ("2026-05-15..2026-07-10", ("station", "grid"), datetime(2026, 8, 1), "month"),
]


@pytest.mark.parametrize(("period", "by", "now", "reads"), QUESTIONS)
def test_figures_from_the_rollup_are_those_from_the_facts(db, world, records, store, admin, period, by, now, reads):
    store.sync(db=db)
    recording = Recording(store)
    rolled = figures(recording, admin, parse_period(period), by, now)
    assert recording.read() == reads
    with rollup.set_aside(store, INCIDENTS):
        recording.statements.clear()
        from_facts = figures(recording, admin, parse_period(period), by, now)
        assert recording.read() is None
    assert_same(rolled, from_facts)
    assert any(v[0] for v in rolled.values())  # something was counted


def rollup_rows(cur) -> dict[str, list[tuple]]:
    return {roll.grain.name: cur.execute(f"SELECT * FROM {roll.table} ORDER BY ALL").fetchall()
            for roll in rollup.layouts(INCIDENTS)}


def test_the_rollups_follow_an_incremental_sync(db, world, records, store, admin):
    store.sync(db=db)
    first, second, third, fourth = records[0], records[5], records[9], records[13]
    first.received_at -= timedelta(days=3)  # to another day, and another month
    first.accepted_at -= timedelta(days=3)
    second.org_unit_id = world.org["station_b"].id  # to another station
    third.accepted_at = third.received_at + timedelta(seconds=5)  # a count changes, same day and unit
    fourth.grid_id = world.grids["b"].id  # to another grid
    records[-1].accepted_at = records[-1].received_at + timedelta(seconds=7)  # the one with no grid
    db.flush()
    make_incident(db, world, at="2026-07-28 08:00:00", side="a", accept=30)  # a day with no record yet
    assert store.sync(db=db).mode == {"incident": "incremental"}
    with store.reader() as cur:
        kept = rollup_rows(cur)
        cur.execute("BEGIN")
        rollup.rebuild(cur, INCIDENTS)
        rebuilt = rollup_rows(cur)
        cur.execute("ROLLBACK")
    assert kept == rebuilt and all(kept.values())
    now = datetime(2026, 8, 15)
    for by in (("day",), ("grid",)):
        rolled = figures(store, admin, parse_period("2026"), by, now)
        with rollup.set_aside(store, INCIDENTS):
            assert_same(rolled, figures(store, admin, parse_period("2026"), by, now))


def test_a_rollup_of_another_layout_is_not_read_and_the_next_sync_rebuilds_it(db, world, records, store, admin):
    """A KPI declared since the last sync changes the layout: until the next sync the figures come
    from the facts, then from the rebuilt roll-up."""
    store.sync(db=db)
    with store.reader() as cur:
        cur.execute("UPDATE rollup_state SET layout = 'declared-before'")
    recording = Recording(store)
    now = datetime(2026, 8, 15)
    before = figures(recording, admin, parse_period("2026-07"), ("station",), now)
    assert recording.read() is None
    assert store.sync(db=db).mode == {"incident": "incremental"}
    with store.reader() as cur:
        assert dict(cur.execute("SELECT rollup, layout FROM rollup_state").fetchall()) == {
            roll.table: roll.hash for roll in rollup.layouts(INCIDENTS)}
    recording.statements.clear()
    assert_same(figures(recording, admin, parse_period("2026-07"), ("station",), now), before)
    assert recording.read() == "day"


def test_below_a_station_the_figures_come_from_the_facts(db, world, records, store):
    """The roll-ups count a community office's records under its station: a community officer's
    figures, and a station chief's cut by the units below the station, are read from the facts."""
    store.sync(db=db)
    now = datetime(2026, 8, 15)
    community, chief = actor_of(db, world, "community_a"), actor_of(db, world, "chief_a")
    for actor, by, reads in ((community, (), None), (community, ("grid",), None), (chief, ("child",), None),
                             (chief, (), "day"), (chief, ("grid",), "month")):
        recording = Recording(store)
        mine = figures(recording, actor, parse_period("2026-07"), by, now)
        assert recording.read() == reads, (actor.username, by)
        with rollup.set_aside(store, INCIDENTS):
            assert_same(mine, figures(store, actor, parse_period("2026-07"), by, now))
    # side a (the community office) only: 6 days × 2 incidents
    office = figures(store, community, parse_period("2026-07"), (), now)
    assert office[("incidents_received", ())][0] == 12


def test_an_hour_zone_or_category_cut_is_read_from_the_facts(db, world, records, store, admin):
    store.sync(db=db)
    for by in (("hour",), ("zone_class",), ("station", "category"), ("grid", "month"), ("org_unit",)):
        recording = Recording(store)
        engine.compute(store=recording, actor=admin, metrics=ALL, period=parse_period("2026-07"), by=by)
        assert recording.read() is None, by


def test_a_period_split_into_whole_buckets_and_the_rest():
    day_grain, month_grain = rollup.GRAINS
    day = datetime(2026, 7, 12)
    assert day_grain.split(day, day + timedelta(days=3)) == ((day, day + timedelta(days=3)), [])
    assert day_grain.split(day, day + timedelta(days=3, hours=10)) == (
        (day, day + timedelta(days=3)), [(day + timedelta(days=3), day + timedelta(days=3, hours=10))])
    assert day_grain.split(day, day + timedelta(hours=10)) == (None, [(day, day + timedelta(hours=10))])
    # 12 July to 3 December 10:00: August to November whole, the rest at either end from the facts
    assert month_grain.split(day, datetime(2026, 12, 3, 10)) == (
        (datetime(2026, 8, 1), datetime(2026, 12, 1)),
        [(day, datetime(2026, 8, 1)), (datetime(2026, 12, 1), datetime(2026, 12, 3, 10))])
    assert month_grain.split(datetime(2026, 12, 1), datetime(2027, 1, 1)) == (
        (datetime(2026, 12, 1), datetime(2027, 1, 1)), [])


def test_a_community_office_moved_to_another_station_counts_there_after_the_next_sync(db, world, records, store,
                                                                                      admin):
    """The roll-ups count records under their station: when the org tree changes, the next sync
    rebuilds them, so the figures by station follow the office to its new station."""
    store.sync(db=db)
    office, station_b = world.org["office_a"], world.org["station_b"]
    now = datetime(2026, 8, 15)
    before = figures(store, admin, parse_period("2026-07"), ("station",), now)
    office.parent_id, office.path = station_b.id, f"{station_b.path}{office.id}/"
    db.flush()  # updated_at moves on: the dimensions' fingerprint changes
    assert store.sync(db=db).mode == {"incident": "incremental"}
    after = figures(store, admin, parse_period("2026-07"), ("station",), now)
    with rollup.set_aside(store, INCIDENTS):
        assert_same(after, figures(store, admin, parse_period("2026-07"), ("station",), now))
    received = ("incidents_received", (("station", world.org["station_a"].id),))
    assert before[received][0] == 12 and after.get(received, (0,))[0] == 0
