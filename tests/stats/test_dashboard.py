"""The dashboards' read model: baseline buckets, a cut-off carried by a link, the trend cut to
date, the figures kept for the minute, and rankings built from one computation."""

from __future__ import annotations

from datetime import datetime

import pytest

from pingan.errors import ValidationFailed
from pingan.stats import dashboard, engine
from pingan.stats.dashboard import Where
from pingan.stats.engine import LAST_YEAR, PREVIOUS
from pingan.stats.metrics import METRICS
from pingan.stats.period import parse_period
from pingan.stats.ranking import rank, ranked
from tests.stats.conftest import actor_of, make_incident


def test_a_bucket_moves_back_with_its_baseline():
    year = parse_period("2026").to_date(datetime(2026, 11, 23, 10, 0))
    assert engine.baseline_bucket(year, LAST_YEAR, "month", "2026-03") == "2025-03"
    assert engine.baseline_bucket(year, PREVIOUS, "month", "2026-01") == "2025-01"
    march = parse_period("2026-03")
    assert engine.baseline_bucket(march, LAST_YEAR, "day", "2026-03-15") == "2025-03-15"
    assert engine.baseline_bucket(march, PREVIOUS, "day", "2026-03-15") == "2026-02-15"
    assert engine.baseline_bucket(march, PREVIOUS, "day", "2026-03-31") is None  # no 31 February
    week = parse_period("2026-W10")  # 2 March 2026; week 10 of 2025 began on 3 March
    assert engine.baseline_bucket(week, LAST_YEAR, "day", "2026-03-02") == "2025-03-03"
    assert engine.baseline_bucket(parse_period("2026-07-15"), LAST_YEAR, "hour", 9) == 9


def test_a_link_carries_the_cut_off_of_a_period_to_date():
    period = parse_period("2026")
    cut = dashboard.parse_until("2026-11-23T10:00", period)
    assert cut.until == datetime(2026, 11, 23, 10, 0) and cut.span == "2026-01-01 至 2026-11-23 10:00"
    assert dashboard.parse_until("", period) is period
    assert dashboard.parse_until("2027-01-01T00:00", period).until is None  # the whole year
    assert dashboard.period_query(cut) == [("period", "2026"), ("until", "2026-11-23T10:00")]
    assert dashboard.records_href(METRICS["arrived_within_target"], cut, filters={"grid": None, "station": 4},
                                  part="denominator", org=2) == (
        "/stats/records?kpi=arrived_within_target&period=2026&until=2026-11-23T10%3A00&filter=grid%3Anull"
        "&filter=station%3A4&part=denominator&org=2")
    for bad in ("2025-12-31T23:00", "2026-11-23 10:00", "tomorrow"):
        with pytest.raises(ValidationFailed) as err:
            dashboard.parse_until(bad, period)
        assert err.value.field == "until"


def test_the_trend_is_cut_to_date_like_the_cards(db, world, store, admin):
    # 2026 counted on 15 March 10:00: last year's line is 1 January – 15 March 10:00 2025
    make_incident(db, world, at="2025-03-10 09:00:00", side="a")
    make_incident(db, world, at="2025-03-20 09:00:00", side="a")  # after the cut: not counted
    make_incident(db, world, at="2025-06-01 09:00:00", side="a")
    make_incident(db, world, at="2026-03-01 09:00:00", side="b")
    store.sync(db=db)
    where = Where(parse_period("2026").to_date(datetime(2026, 3, 15, 10, 0)))
    dashboard.clear_cache()
    series = dashboard.trend(store=store, actor=admin, where=where, metric=METRICS["incidents_received"], lang="zh")
    assert [f.key for f in series.figures] == ["2026-01", "2026-02", "2026-03"]  # no month after the cut
    march = series.figures[2]
    assert march.value == 1 and march.last_year.baseline == 1 and march.label == "2026-03（截至目前）"
    assert march.last_year_href == ("/stats/records?kpi=incidents_received&period=2025&until=2025-03-15T10%3A00"
                                    "&filter=month%3A2025-03")
    cards, _ = dashboard.cards(store=store, actor=admin, where=where)
    received = next(f for f in cards[0].figures if f.metric.slug == "incidents_received")
    assert received.last_year.baseline == sum(f.last_year.baseline for f in series.figures) == 1


def test_figures_are_kept_for_the_minute_while_the_data_is_the_same(db, world, store, admin, monkeypatch):
    make_incident(db, world, at="2026-07-10 09:00:00", side="a")
    store.sync(db=db)
    dashboard.clear_cache()
    calls = []
    real = engine.compute
    monkeypatch.setattr(engine, "compute", lambda **kw: calls.append(1) or real(**kw))
    where = Where(parse_period("2026-07"))
    metrics = [METRICS["incidents_received"]]
    first = dashboard.compute(store=store, actor=admin, metrics=metrics, where=where)
    again = dashboard.compute(store=store, actor=admin, metrics=metrics, where=where)
    assert len(calls) == 1 and first["incidents_received"].cells[0].value == 1
    assert again["incidents_received"] is first["incidents_received"]
    chief = actor_of(db, world, "chief_b")  # another jurisdiction is another question
    assert dashboard.compute(store=store, actor=chief, metrics=metrics, where=where)[
        "incidents_received"].cells[0].value == 0
    assert len(calls) == 2
    make_incident(db, world, at="2026-07-11 09:00:00", side="a")
    store.sync(db=db)  # new data: asked again
    assert dashboard.compute(store=store, actor=admin, metrics=metrics, where=where)[
        "incidents_received"].cells[0].value == 2
    assert len(calls) == 3


def test_answers_of_an_earlier_minute_and_cuts_into_many_keys_are_not_kept(db, world, store, admin, monkeypatch):
    make_incident(db, world, at="2026-07-10 09:00:00", side="a")
    store.sync(db=db)
    dashboard.clear_cache()
    where = Where(parse_period("2026-07"))
    metrics = [METRICS["incidents_received"]]
    clock = [1_800_000_000.0]
    monkeypatch.setattr(dashboard.time, "time", lambda: clock[0])
    dashboard.compute(store=store, actor=admin, metrics=metrics, where=where)
    dashboard.compute(store=store, actor=admin, metrics=metrics, where=where, by=["day"])
    assert len(dashboard._cache) == 2
    clock[0] += 60  # the next minute: the first minute's answers go as soon as another is kept
    dashboard.compute(store=store, actor=admin, metrics=metrics, where=where)
    assert len(dashboard._cache) == 1
    monkeypatch.setattr(dashboard, "CACHE_KEYS", 0)  # a cut into more keys than that …
    dashboard.compute(store=store, actor=admin, metrics=metrics, where=where, by=["day"])  # 31 days
    assert len(dashboard._cache) == 1
    values = dashboard.grid_values(store=store, actor=admin, where=where, metric=METRICS["incidents_received"])
    assert values.values == {world.grids["a"].id: (1.0, None)}  # … kept as the map's pairs
    assert len(dashboard._cache) == 2
    assert dashboard.grid_values(store=store, actor=admin, where=where, metric=METRICS["incidents_received"]) is values


def test_a_ranking_from_one_computation_equals_the_ranking(db, world, store, admin):
    make_incident(db, world, at="2026-06-10 10:00:00", side="a", accept=10, arrive=120)
    make_incident(db, world, at="2026-06-11 10:00:00", side="b", accept=10, arrive=700)
    make_incident(db, world, at="2026-07-10 10:00:00", side="a", accept=10, arrive=200)
    make_incident(db, world, at="2026-07-12 10:00:00", side="b", accept=10, arrive=500)
    store.sync(db=db)
    metric, period = METRICS["arrived_within_target"], parse_period("2026-07")
    alone = rank(store=store, actor=admin, metric=metric, period=period, level="station")
    result = engine.compute(store=store, actor=admin, metrics=[METRICS["incidents_received"], metric], period=period,
                            by=["station"])[1]
    members = engine.members(store=store, scope=engine.scope_for(store=store, actor=admin), level="station")
    together = ranked(result, level="station", members=members)
    assert together.rows == alone.rows
    assert [(r.name, r.rank, r.previous_rank, r.rank_change) for r in together.rows] == [
        ("胜利路派出所", 1, 2, 1), ("西街派出所", 2, 1, -1)]
