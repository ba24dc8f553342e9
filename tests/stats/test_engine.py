"""The engine on hand-built incidents; every expected figure is worked out in the comments."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from pingan.errors import NotFound, ValidationFailed
from pingan.incident.models import Satisfaction
from pingan.stats import engine
from pingan.stats.metrics import METRICS
from pingan.stats.period import parse_period
from tests.stats.conftest import actor_of, make_incident

JULY = parse_period("2026-07")


@pytest.fixture
def july(db, world):
    """Five incidents in July 2026 and one in January 2025 (the first record).

    side a = 新华社区警务室 under 西街派出所 / 红旗分局, grid A, city centre: target 180 s
    side b = 胜利路派出所 / 卫滨分局, grid B, suburban: target 600 s
    """
    return {
        # P1, accepted in 20 s, departed 60 s, arrived 150 s (≤ 180 on target), caller satisfied
        "i1": make_incident(db, world, at="2026-07-10 09:00:00", side="a", priority=1, accept=20, dispatch=30,
                            depart=60, arrive=150, satisfaction=Satisfaction.SATISFIED),
        # P2, accepted in 45 s, departed 100 s, arrived 200 s (> 180 late), caller unsatisfied
        "i2": make_incident(db, world, at="2026-07-11 10:00:00", side="a", accept=45, depart=100, arrive=200,
                            satisfaction=Satisfaction.UNSATISFIED),
        # P1, accepted only after 200 s (escalated), never arrived, caller unreachable
        "i3": make_incident(db, world, at="2026-07-12 11:00:00", side="a", priority=1, accept=200, escalated=True,
                            satisfaction=Satisfaction.UNREACHABLE),
        # P1, accepted in 10 s, departed 120 s, arrived 500 s (≤ 600 on target), basically satisfied
        "i4": make_incident(db, world, at="2026-07-13 12:00:00", side="b", priority=1, accept=10, depart=120,
                            arrive=500, satisfaction=Satisfaction.BASICALLY),
        # a theft (1001, criminal), priority 3, not accepted yet
        "i5": make_incident(db, world, at="2026-07-14 13:00:00", side="b", category="1001", priority=3),
        "first": make_incident(db, world, at="2025-01-05 08:00:00", side="a"),
    }


def values(store, actor, period=JULY, by=(), **kw) -> dict[str, list[engine.Cell]]:
    results = engine.compute(store=store, actor=actor, metrics=list(METRICS.values()), period=period, by=by, **kw)
    return {r.metric.slug: r.cells for r in results}


def test_every_incident_kpi_for_the_bureau(db, world, july, store, admin):
    store.sync(db=db)
    v = {slug: cells[0] for slug, cells in values(store, admin).items()}
    assert v["incidents_received"].value == 5
    assert v["incidents_criminal"].value == 1  # i5
    assert v["incidents_valid"].value == 5  # no incident closed as invalid
    assert v["escalations"].value == 1  # i3
    # accepted: i1 20 s, i2 45 s, i3 200 s, i4 10 s → 4 accepted
    assert (v["accepted_within_30s"].numerator, v["accepted_within_30s"].denominator) == (2, 4)  # i1, i4
    assert v["accepted_within_30s"].value == 50.0
    assert v["accepted_within_60s"].value == 75.0  # + i2
    assert v["accepted_within_120s"].value == 75.0
    assert v["accepted_within_180s"].value == 75.0  # i3 at 200 s is over
    # the distribution: 0–30 {i1, i4}, 30–60 {i2}, 1–2 min {}, 2–3 min {}, > 3 min {i3}; sums to 100 %
    distribution = [v[s].value for s in ("accept_0_30s", "accept_30_60s", "accept_60_120s", "accept_120_180s",
                                         "accept_over_180s")]
    assert distribution == [50.0, 25.0, 0.0, 0.0, 25.0]
    # departed: i1 60 ≤ 180, i2 100 ≤ 180, i4 120 ≤ 600 → 3 / 3
    assert v["departed_within_target"].value == 100.0
    # arrived: i1 150 ≤ 180 yes, i2 200 > 180 no, i4 500 ≤ 600 yes → 2 / 3
    assert (v["arrived_within_target"].numerator, v["arrived_within_target"].denominator) == (2, 3)
    assert v["arrived_within_target"].value == pytest.approx(200 / 3)
    # priority 1 with an arrival: i1 yes, i4 yes (i3 never arrived: not in the denominator) → 2 / 2
    assert v["priority1_on_target"].value == 100.0
    # reached on callback: i1 satisfied, i2 unsatisfied, i4 basically (i3 unreachable: left out) → 2 / 3
    assert (v["satisfaction_rate"].numerator, v["satisfaction_rate"].denominator) == (2, 3)
    assert v["mean_accept_seconds"].value == pytest.approx((20 + 45 + 200 + 10) / 4)  # 68.75
    # 90th percentile, linear: sorted 10, 20, 45, 200; position 0.9 × 3 = 2.7 → 45 + 0.7 × 155 = 153.5
    assert v["p90_accept_seconds"].value == pytest.approx(153.5)
    assert v["mean_arrive_seconds"].value == pytest.approx((150 + 200 + 500) / 3)
    # sorted 150, 200, 500; position 0.9 × 2 = 1.8 → 200 + 0.8 × 300 = 440
    assert v["p90_arrive_seconds"].value == pytest.approx(440.0)


def test_comparisons_with_a_zero_and_a_missing_baseline(db, world, july, store, admin):
    store.sync(db=db)
    v = {slug: cells[0] for slug, cells in values(store, admin).items()}
    received = v["incidents_received"]
    # July 2025 and June 2026 lie after the first record (January 2025) and hold no incident:
    # the baseline is a real zero — the absolute change is +5, a percentage does not exist.
    assert received.last_year.baseline == 0 and received.last_year.absolute == 5
    assert received.last_year.percent is None and received.last_year.note == "baseline_zero"
    assert received.previous.note == "baseline_zero"
    # a rate with no denominator in the baseline has no baseline at all
    assert v["satisfaction_rate"].last_year.baseline is None
    assert v["satisfaction_rate"].last_year.note == "baseline_missing"
    # July 2024 against July 2023 / June 2024: before the first record, nothing to compare with
    early = values(store, admin, period=parse_period("2024-07"))["incidents_received"][0]
    assert early.value == 0 and early.last_year.note == "baseline_missing" and early.previous.note == "baseline_missing"
    # a rate with a zero denominator in the current period has no value, and no change
    empty = values(store, admin, period=parse_period("2026-06"))["arrived_within_target"][0]
    assert empty.value is None and empty.denominator == 0


def test_percentage_change_against_a_real_baseline(db, world, july, store, admin):
    # July 2025: two incidents → July 2026's five are +3, +150 %
    make_incident(db, world, at="2025-07-01 08:00:00", side="a")
    make_incident(db, world, at="2025-07-31 23:00:00", side="b")
    store.sync(db=db)
    cell = values(store, admin)["incidents_received"][0]
    assert (cell.last_year.baseline, cell.last_year.absolute, cell.last_year.percent) == (2, 3, 150.0)
    assert cell.last_year.note == "ok"


def test_a_period_not_yet_ended_is_compared_to_date(db, world, july, store, admin):
    """On 12 July 2026 at 10:30, July 2026 holds i1 (10 July) and i2 (11 July) — i3..i5 come
    later. Its 同比 is 1–12 July 2025 10:30, which holds one of July 2025's two incidents; its
    环比 is 1–12 June 2026 10:30 (none). The whole of July 2025 is never the baseline."""
    make_incident(db, world, at="2025-07-11 08:00:00", side="a")
    make_incident(db, world, at="2025-07-20 08:00:00", side="b")
    store.sync(db=db)
    now = datetime(2026, 7, 12, 10, 30)
    result = engine.compute(store=store, actor=admin, metrics=[METRICS["incidents_received"]], period=JULY,
                            now=now)[0]
    assert result.period.until == now and result.period.span == "2026-07-01 至 2026-07-12 10:30"
    cell = result.cells[0]
    assert cell.value == 2
    assert (cell.last_year.baseline, cell.last_year.percent) == (1, 100.0)
    assert (cell.previous.baseline, cell.previous.note) == (0, "baseline_zero")
    by_day = engine.compute(store=store, actor=admin, metrics=[METRICS["incidents_received"]], period=JULY,
                            by=("day",), now=now)[0].cells
    assert [c.key["day"] for c in by_day][-1] == "2026-07-12"  # no bucket after today
    found = engine.drill_down(store=store, actor=admin, metric=METRICS["incidents_received"], period=JULY, now=now)
    assert found.total == 2 and set(found.ids) == {july["i1"].id, july["i2"].id}


def test_an_incident_is_counted_in_the_period_it_was_received(db, world, store, admin):
    """Received 23:59:50 on 31 December 2025 (local), accepted 30 s later in 2026: it belongs to
    2025 — its count and its acceptance time — and 2026 knows nothing of it."""
    make_incident(db, world, at="2025-12-31 23:59:50", side="a", accept=30)
    store.sync(db=db)
    old = values(store, admin, period=parse_period("2025"))
    new = values(store, admin, period=parse_period("2026"))
    assert old["incidents_received"][0].value == 1
    assert old["accepted_within_30s"][0].value == 100.0  # 30 s counts as within 30 s
    assert new["incidents_received"][0].value == 0
    assert new["accepted_within_30s"][0].value is None  # no incident accepted: no rate
    by_day = values(store, admin, period=parse_period("2025-12-31..2026-01-01"), by=("day",))["incidents_received"]
    assert [(c.key["day"], c.value) for c in by_day] == [("2025-12-31", 1), ("2026-01-01", 0)]


def test_roll_up_along_the_org_tree_is_the_sum_of_its_parts(db, world, july, store, admin):
    store.sync(db=db)
    total = values(store, admin)
    for by, expected in ((("station",), {world.org["station_a"].id: 3, world.org["station_b"].id: 2}),
                         (("branch",), {world.org["branch_a"].id: 3, world.org["branch_b"].id: 2}),
                         (("child",), {world.org["branch_a"].id: 3, world.org["branch_b"].id: 2}),
                         (("org_unit",), {world.org["office_a"].id: 3, world.org["station_b"].id: 2})):
        cut = values(store, admin, by=by)
        assert {c.key[by[0]]: c.value for c in cut["incidents_received"]} == expected
        for slug, cells in cut.items():
            if METRICS[slug].kind.value in ("count", "rate"):
                assert sum(c.numerator for c in cells) == total[slug][0].numerator, (slug, by)
            if METRICS[slug].kind.value == "rate":
                assert sum(c.denominator for c in cells) == total[slug][0].denominator, (slug, by)
    stations = values(store, admin, by=("station",))["incidents_received"]
    assert [c.labels["station"] for c in stations] == ["西街派出所", "胜利路派出所"]


def test_cuts_by_category_priority_zone_and_hour(db, world, july, store, admin):
    store.sync(db=db)
    by_top = values(store, admin, by=("top_category",))["incidents_received"]
    assert {c.key["top_category"]: (c.value, c.labels["top_category"]) for c in by_top} == {
        "10": (1, "刑事警情"), "20": (4, "治安警情")}
    unnamed = values(store, admin, by=("top_category",), named=False)["incidents_received"]  # keys as labels
    assert {c.key["top_category"]: (c.value, c.labels["top_category"]) for c in unnamed} == {
        "10": (1, "10"), "20": (4, "20")}
    by_priority = values(store, admin, by=("priority",))["incidents_received"]
    assert {c.key["priority"]: c.value for c in by_priority} == {1: 3, 2: 1, 3: 1}
    zone = values(store, admin, by=("zone_class",))["arrived_within_target"]
    # centre: i1 yes, i2 no → 50 %; suburban: i4 yes → 100 %
    assert {c.key["zone_class"]: c.value for c in zone} == {"centre": 50.0, "suburban": 100.0}
    hours = values(store, admin, by=("hour",))["incidents_received"]
    assert {c.key["hour"]: c.value for c in hours} == {9: 1, 10: 1, 11: 1, 12: 1, 13: 1}  # local hours
    two = values(store, admin, by=("station", "priority"))["incidents_received"]
    assert sum(c.value for c in two) == 5 and len(two) == 4  # a: P1, P2; b: P1, P3


def test_a_user_sees_only_their_own_subtree(db, world, july, store):
    store.sync(db=db)
    chief_a, chief_b = actor_of(db, world, "chief_a"), actor_of(db, world, "chief_b")
    assert values(store, chief_a)["incidents_received"][0].value == 3
    assert values(store, chief_b)["incidents_received"][0].value == 2
    stations = values(store, chief_a, by=("station",))["incidents_received"]
    assert [c.key["station"] for c in stations] == [world.org["station_a"].id]
    with pytest.raises(NotFound):
        values(store, chief_a, org_unit_id=world.org["station_b"].id)
    # the community office sees its own records too, and the bureau can narrow to one branch
    assert values(store, actor_of(db, world, "community_a"))["incidents_received"][0].value == 3
    admin = actor_of(db, world, "admin")
    assert values(store, admin, org_unit_id=world.org["branch_b"].id)["incidents_received"][0].value == 2


def test_incremental_sync_picks_up_a_changed_incident_and_a_new_callback(db, world, july, store, admin):
    assert store.sync(db=db).mode == {"incident": "full"}
    before = values(store, admin)
    assert before["accepted_within_30s"][0].denominator == 4
    i5 = july["i5"]
    i5.accepted_at = i5.received_at.replace(second=5)  # accepted in 5 s
    db.flush()  # updated_at moves on
    make_incident(db, world, at="2026-07-20 08:00:00", side="b")  # a new one
    report = store.sync(db=db)
    assert report.mode == {"incident": "incremental"}
    after = values(store, admin)
    assert (after["accepted_within_30s"][0].numerator, after["accepted_within_30s"][0].denominator) == (3, 5)
    assert after["incidents_received"][0].value == 6
    # a callback does not touch the incident row; its id watermark brings the incident back
    from pingan.incident.models import Callback

    # a second callback to i3, after the unreachable one: the latest counts
    db.add(Callback(incident_id=july["i3"].id, at=july["i3"].received_at + timedelta(hours=3),
                    satisfaction=Satisfaction.SATISFIED))
    db.flush()
    store.sync(db=db)
    assert values(store, admin)["satisfaction_rate"][0].denominator == 4  # i3 reached now


def test_a_call_taken_while_a_sync_runs_waits_for_the_next_sync(db, world, july, store, admin, monkeypatch):
    """Calls keep coming while a sync reads: one committed right after the sync read its marks
    is not loaded by it (it is past the marks), so the sync stays incremental — it does not find
    one row too many and reload everything — and the next sync brings the call in."""
    from dataclasses import replace

    from pingan.incident import system
    from pingan.incident.stats import INCIDENTS
    from pingan.stats.contribution import loaded

    sources = loaded().sources

    store.sync(db=db)
    taken = []

    def marks_then_a_call(session):
        marks = system.incident_marks(session)
        if not taken:
            taken.append(make_incident(db, world, at="2026-07-21 08:00:00", side="a"))
        return marks

    monkeypatch.setitem(sources, "incident", replace(INCIDENTS, marks=marks_then_a_call))
    report = store.sync(db=db)
    assert report.mode == {"incident": "incremental"}
    assert values(store, admin)["incidents_received"][0].value == 5  # the new call is not in yet
    monkeypatch.setitem(sources, "incident", INCIDENTS)
    assert store.sync(db=db).mode == {"incident": "incremental"}
    assert values(store, admin)["incidents_received"][0].value == 6


def test_a_deleted_incident_makes_the_next_sync_reload(db, world, july, store, admin):
    store.sync(db=db)
    db.delete(july["i5"])
    db.flush()
    assert store.sync(db=db).mode == {"incident": "full"}
    assert values(store, admin)["incidents_received"][0].value == 4


def test_the_records_behind_a_figure_are_exactly_those_counted(db, world, july, store, admin):
    store.sync(db=db)
    a = world.org["station_a"].id
    within = METRICS["accepted_within_30s"]
    down = engine.drill_down(store=store, actor=admin, metric=within, period=JULY, filters={"station": str(a)})
    assert down.total == 1 and down.ids == [july["i1"].id]
    whole = engine.drill_down(store=store, actor=admin, metric=within, period=JULY, filters={"station": str(a)},
                              part="denominator")
    assert sorted(whole.ids) == sorted(july[k].id for k in ("i1", "i2", "i3"))
    # for every KPI and every station: the drill-down's count is the figure
    for slug, cells in values(store, admin, by=("station",)).items():
        metric = METRICS[slug]
        for cell in cells:
            filters = {"station": str(cell.key["station"])}
            n = engine.drill_down(store=store, actor=admin, metric=metric, period=JULY, filters=filters).total
            assert n == cell.numerator, slug
            if metric.denominator:
                d = engine.drill_down(store=store, actor=admin, metric=metric, period=JULY, filters=filters,
                                      part="denominator").total
                assert d == cell.denominator, slug
    # outside the jurisdiction there is nothing behind a figure
    chief_b = actor_of(db, world, "chief_b")
    assert engine.drill_down(store=store, actor=chief_b, metric=within, period=JULY,
                             filters={"station": str(a)}).total == 0


def test_unknown_or_refused_dimensions_are_422(db, world, store, admin):
    store.sync(db=db)
    with pytest.raises(ValidationFailed) as err:
        values(store, admin, by=("planet",))
    assert err.value.field == "by"
    with pytest.raises(ValidationFailed) as err:
        engine.compute(store=store, actor=admin, metrics=[METRICS["satisfaction_rate"]], period=JULY,
                       by=("disposition",))
    assert err.value.field == "by" and "satisfaction_rate" in err.value.en
    with pytest.raises(ValidationFailed):
        engine.get_metric("no_such_kpi")
