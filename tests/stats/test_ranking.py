"""Rankings of stations and branches, with the change in rank since the previous period."""

from __future__ import annotations

import pytest

from pingan.errors import ValidationFailed
from pingan.stats.metrics import METRICS
from pingan.stats.period import parse_period
from pingan.stats.ranking import competition_ranks, rank
from tests.stats.conftest import actor_of, make_incident


@pytest.fixture
def two_months(db, world):
    # June: station A on target (120 ≤ 180 s) → 100 %; station B late (700 > 600 s) → 0 %
    make_incident(db, world, at="2026-06-10 10:00:00", side="a", accept=10, arrive=120)
    make_incident(db, world, at="2026-06-11 10:00:00", side="b", accept=10, arrive=700)
    # July: A one on target (150) and one late (200) → 50 %; B on target (500) → 100 %
    make_incident(db, world, at="2026-07-10 10:00:00", side="a", accept=10, arrive=150)
    make_incident(db, world, at="2026-07-11 10:00:00", side="a", accept=10, arrive=200)
    make_incident(db, world, at="2026-07-12 10:00:00", side="b", accept=10, arrive=500)


def test_stations_ranked_with_change_since_the_previous_period(db, world, two_months, store, admin):
    store.sync(db=db)
    ranking = rank(store=store, actor=admin, metric=METRICS["arrived_within_target"], period=parse_period("2026-07"),
                   level="station", bottom=1)
    rows = {r.name: r for r in ranking.rows}
    b, a = rows["胜利路派出所"], rows["西街派出所"]
    assert (b.rank, b.value, b.previous_rank, b.rank_change) == (1, 100.0, 2, 1)  # up one
    assert (a.rank, a.value, a.previous_rank, a.rank_change) == (2, 50.0, 1, -1)  # down one
    assert [r.name for r in ranking.bottom] == ["西街派出所"]


def test_lower_is_better_and_units_without_records(db, world, two_months, store, admin):
    store.sync(db=db)
    # incidents received: fewer is better. July: branch A 2, branch B 1 → B first
    ranking = rank(store=store, actor=admin, metric=METRICS["incidents_received"], period=parse_period("2026-07"),
                   level="branch")
    assert [(r.name, r.value, r.rank) for r in ranking.rows] == [("卫滨分局", 1, 1), ("红旗分局", 2, 2)]
    # August has no records: counts are 0 and tie; rates do not exist and are not ranked
    august = rank(store=store, actor=admin, metric=METRICS["incidents_received"], period=parse_period("2026-08"),
                  level="station")
    assert [r.rank for r in august.rows] == [1, 1]
    rates = rank(store=store, actor=admin, metric=METRICS["satisfaction_rate"], period=parse_period("2026-08"),
                 level="station")
    assert [r.rank for r in rates.rows] == [None, None] and rates.bottom == []


def test_a_station_chief_ranks_only_inside_their_jurisdiction(db, world, two_months, store):
    store.sync(db=db)
    chief_a = actor_of(db, world, "chief_a")
    ranking = rank(store=store, actor=chief_a, metric=METRICS["arrived_within_target"],
                   period=parse_period("2026-07"), level="station")
    assert [r.name for r in ranking.rows] == ["西街派出所"]
    grids = rank(store=store, actor=chief_a, metric=METRICS["incidents_received"], period=parse_period("2026-07"),
                 level="grid")
    assert [(r.name, r.value) for r in grids.rows] == [("新华社区网格1", 2)]


def test_competition_ranks_and_an_unknown_level(store, admin):
    assert competition_ranks({1: 90.0, 2: 80.0, 3: 80.0, 4: 70.0, 5: None}, True) == {1: 1, 2: 2, 3: 2, 4: 4}
    assert competition_ranks({1: 90.0, 2: 80.0}, False) == {2: 1, 1: 2}
    with pytest.raises(ValidationFailed) as err:
        rank(store=store, actor=admin, metric=METRICS["incidents_received"], period=parse_period("2026"),
             level="province")
    assert err.value.field == "level"
