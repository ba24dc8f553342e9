"""Comparisons beyond 同比 and 环比 (stats.comparisons) on hand-built incidents over four years,
with KPIs declared here on the incident fact source; every expected figure is worked out in the
comments.

side a = 新华社区警务室 (红旗分局), grid A, city centre: arrival target 180 s
side b = 胜利路派出所 (卫滨分局), grid B, suburban: arrival target 600 s

            received  thefts (1001)  arrived on target
    2023    4         2 (Mar, Nov)   2 of 3 (66.7 %)   the first record: 2023-03-10
    2024    4         1 (May)        4 of 4 (100 %)    side b: Mar
    2025    2         0              2 of 2 (100 %)
    2026    10        0              10 of 10 (100 %)  side b: Mar
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from pingan.errors import ValidationFailed
from pingan.stats import comparisons, engine, report, wording
from pingan.stats.comparisons import Ask, Comparison, Finding
from pingan.stats.engine import OrgNode, change
from pingan.stats import contribution
from pingan.stats.facts import SOURCES
from pingan.stats.metrics import COMMON_DIMENSIONS, Kind, Metric
from pingan.stats.period import Period, PeriodKind, parse_period
from tests.stats.conftest import actor_of, local, make_incident

INCIDENT = SOURCES["incident"]


def _kpi(slug: str, zh: str, kind: Kind, claims: tuple[str, ...] = (), **kw) -> Metric:
    unit = "%" if kind is Kind.RATE else "起"
    return Metric(slug=slug, zh=zh, en=zh, unit=unit, unit_en=unit, source=INCIDENT, kind=kind,
                  definition_zh=f"{zh}（测试口径）", definition_en="test", dimensions=COMMON_DIMENSIONS,
                  claims=claims, **kw)


RECEIVED = _kpi("test_received", "接警总数", Kind.COUNT, ("multiple", "extreme"), higher_is_better=False)
RECEIVED_PLAIN = _kpi("test_received_plain", "接警总数", Kind.COUNT)  # claims nothing
THEFTS = _kpi("test_thefts", "盗窃警情", Kind.COUNT, ("zero", "zero_streak", "extreme"),
              numerator="f.category_code = '1001'", higher_is_better=False)
ON_TARGET = _kpi("test_on_target", "按时到场率", Kind.RATE, ("full_streak", "relative"),
                 numerator="f.arrive_s <= f.zone_target_s",
                 denominator="f.arrive_s IS NOT NULL AND f.zone_class IS NOT NULL")
KPIS = [RECEIVED, RECEIVED_PLAIN, THEFTS, ON_TARGET]
AFTER_2026 = local("2027-01-05 09:00:00").replace(tzinfo=None)


@pytest.fixture
def years(db, world):
    at = [("2023-03-10", "a", "1001", 100), ("2023-06-10", "a", "2001", 300), ("2023-09-10", "a", "2001", 100),
          ("2023-11-10", "a", "1001", None),
          ("2024-02-10", "a", "2001", 100), ("2024-03-10", "b", "2001", 400), ("2024-05-10", "a", "1001", 150),
          ("2024-08-10", "a", "2001", 120),
          ("2025-04-10", "a", "2001", 90), ("2025-10-10", "a", "2001", 100),
          *((f"2026-{m:02d}-10", "a", "2001", 100) for m in range(1, 10)), ("2026-03-10", "b", "2001", 500)]
    return [make_incident(db, world, at=f"{day} 10:00:00", side=side, category=category, arrive=arrive)
            for day, side, category, arrive in at]


def found(store, actor, asks, period="2026", now=AFTER_2026, **kw) -> dict[Ask, Finding]:
    p = parse_period(period) if isinstance(period, str) else period
    return comparisons.evaluate(store=store, actor=actor, metrics=KPIS, asks=asks, period=p, now=now, **kw)


def test_a_baseline_year_is_the_same_span_of_that_year(db, world, years, store, admin):
    store.sync(db=db)
    asks = [Ask(Comparison.BASELINE_YEAR, k.slug, year=2023) for k in KPIS] + [
        Ask(Comparison.BASELINE_YEAR, "test_received", year=2024), Ask(Comparison.BASELINE_YEAR, "test_received",
                                                                     year=2022)]
    f = found(store, admin, asks)
    # received 10 against 2023's 4: +150 %, 2.5 times; against 2024's 4 the same
    assert (f[asks[0]].value, f[asks[0]].change.baseline, f[asks[0]].change.percent) == (10, 4, 150.0)
    assert f[asks[4]].change.baseline == 4
    # thefts 0 against 2; on target 100 % against 2 of 3: +33.3 points, +50 % of itself
    assert (f[asks[2]].value, f[asks[2]].change.baseline) == (0, 2)
    assert f[asks[3]].change.absolute == pytest.approx(100 / 3) and f[asks[3]].change.percent == pytest.approx(50.0)
    # 2022 ends before the first record (2023-03-10): no baseline, nothing claimed
    assert f[asks[5]].change.note == "baseline_missing" and not f[asks[5]].claimed
    # counted to date (20 July 2026, noon): 2026's 8 by then (Jan–Jul on side a, Mar on side b)
    # against 2023's 2 by 20 July (Mar, Jun)
    to_date = found(store, admin, asks[:1], now=datetime(2026, 7, 20, 12, 0))[asks[0]]
    assert (to_date.value, to_date.change.baseline) == (8, 2)


def test_a_baseline_year_in_words(db, world, years, store, admin):
    store.sync(db=db)
    asks = [Ask(Comparison.BASELINE_YEAR, k.slug, year=2023) for k in KPIS]
    f = found(store, admin, asks)
    period = parse_period("2026")
    said = [wording.year_statement(k, f[a], period=period) for k, a in zip(KPIS, asks)]
    assert said == ["接警总数 10 起，是2023年的 2.5 倍", "接警总数 10 起，较2023年上升 150.0%",
                    "盗窃警情零发生，2023年为 2 起", "按时到场率 100.0%，较2023年上升 33.3 个百分点，相对上升 50.0%"]
    basis = wording.year_basis(period, 2023)
    assert [wording.year_change_words(k, f[a].change, basis=basis, lang="en") for k, a in zip(KPIS, asks)] == [
        "2.5 times 2023", "up 150.0% on 2023", "down 100.0% on 2023",
        "up 33.3 points on 2023, a relative rise of 50.0%"]
    assert wording.year_basis(parse_period("2026-07"), 2023) == ("2023年同期", "the same span of 2023")


def test_streaks_are_counted_back_from_the_periods_end(db, world, years, store, admin):
    store.sync(db=db)
    zero, full = Ask(Comparison.ZERO_STREAK, "test_thefts", unit="month"), Ask(Comparison.FULL_STREAK,
                                                                              "test_on_target", unit="year")
    f = found(store, admin, [zero, full])
    # the last theft in May 2024: June 2024 – December 2026 = 7 + 12 + 12 months
    assert (f[zero].length, f[zero].since) == (31, "2024-06") and f[zero].claimed
    # all on target in 2024, 2025 and 2026; 2023 was 2 of 3
    assert (f[full].length, f[full].since) == (3, "2024")
    # to date (20 July 2025, noon): June 2024 – July 2025, the running month counts as it holds so far
    f = found(store, admin, [zero], period="2025", now=datetime(2025, 7, 20, 12, 0))
    assert (f[zero].length, f[zero].since) == (14, "2024-06")
    # a month with a theft ends it: in May 2024 the streak is none, in June 2024 one month (not a claim)
    assert found(store, admin, [zero], period="2024-05")[zero].length == 0
    assert not found(store, admin, [zero], period="2024-06")[zero].claimed
    # a unit before the first record is not a zero: side b never had a theft, its streak begins
    # with the source's first month (March 2023 – December 2026: 10 + 36 months)
    station_b = actor_of(db, world, "chief_b")
    assert (found(store, station_b, [zero])[zero].length, found(store, station_b, [zero])[zero].since) == (
        46, "2023-03")
    # on side b a year with nothing to measure (2025) ends a rate's streak: no "全破" of nothing
    assert found(store, station_b, [full])[full].length == 1


def test_streaks_in_words(db, world, years, store, admin):
    store.sync(db=db)
    zero, full = Ask(Comparison.ZERO_STREAK, "test_thefts", unit="month"), Ask(Comparison.FULL_STREAK,
                                                                              "test_on_target", unit="year")
    f = found(store, admin, [zero, full])
    assert wording.streak_words(f[zero]) == "连续 31 个月零发生（2024年6月以来）"
    assert wording.streak_words(f[zero], lang="en") == "zero for 31 months in a row (since June 2024)"
    assert wording.streak_words(f[full]) == "连续 3 年保持 100%"
    assert wording.streak_words(f[full], lang="en") == "100% for 3 years in a row"
    # months that make whole years are said in years
    assert wording.streak_words(Finding(zero, length=36, since="2024-01")) == "连续 3 年零发生"
    # the streak says the value it stands for; a zero the KPI claims is said, not left out
    assert wording.claimed_statement(THEFTS, 0, last_year=change(0, 0), findings=[f[zero]]) == (
        "盗窃警情连续 31 个月零发生（2024年6月以来）")
    assert wording.claimed_statement(ON_TARGET, 100.0, last_year=change(100.0, 100.0), findings=[f[full]]) == (
        "按时到场率连续 3 年保持 100%，同比持平")


def test_historical_extremes(db, world, years, store, admin):
    store.sync(db=db)
    received, thefts = Ask(Comparison.EXTREME, "test_received"), Ask(Comparison.EXTREME, "test_thefts")
    # 2026's 10 against 4, 4, 2: the highest; its thefts 0 tie 2025's: no claim
    f = found(store, admin, [received, thefts])
    assert (f[received].extreme, f[received].value, f[received].compared) == ("highest", 10, 3)
    assert f[thefts].extreme is None and f[thefts].compared == 3
    # 2025's 2 against 4, 4: the lowest; its thefts 0 against 2, 1: the lowest
    f = found(store, admin, [received, thefts], period="2025")
    assert (f[received].extreme, f[thefts].extreme) == ("lowest", "lowest")
    # 2024 against 2023 alone: too little history to call anything an extreme
    assert found(store, admin, [received], period="2024")[received].extreme is None
    # counted to date (20 July 2025, noon): 1 (April) against the same span of 2024 (3: Feb, Mar,
    # May) and of 2023 (2: Mar, Jun) — the lowest for the same span
    f = found(store, admin, [received], period="2025", now=datetime(2025, 7, 20, 12, 0))[received]
    assert (f.extreme, f.value, f.compared, f.to_date) == ("lowest", 1, 2, True)
    # a month: March 2026 (2) against the 36 months since March 2023 (at most 1 each): the highest
    f = found(store, admin, [received], period="2026-03")[received]
    assert (f.extreme, f.value, f.compared) == ("highest", 2, 36)
    assert wording.extreme_words(f) == "为历史最高" and wording.extreme_words(f, lang="en") == "the highest on record"
    assert wording.extreme_words(Finding(received, extreme="lowest", to_date=True)) == "为历史同期最低"
    # a week has no history of its kind to compare with here
    assert found(store, admin, [received], period="2026-W10")[received].extreme is None


def test_comparisons_stay_inside_the_jurisdiction(db, world, years, store):
    store.sync(db=db)
    # station b: received 1 in 2024, 0 in 2023, 1 in 2026 — 1.0 times is no multiple, and no figure
    # of side a is counted
    ask = Ask(Comparison.BASELINE_YEAR, "test_received", year=2024)
    f = found(store, actor_of(db, world, "chief_b"), [ask])[ask]
    assert (f.value, f.change.baseline) == (1, 1)
    assert wording.year_statement(RECEIVED, f, period=parse_period("2026")) == "接警总数 1 起，与2024年持平"


def test_wrong_asks_and_claims_are_refused(db, world, years, store, admin):
    store.sync(db=db)
    with pytest.raises(ValidationFailed) as err:
        found(store, admin, [Ask(Comparison.BASELINE_YEAR, "test_received", year=2026)])
    assert err.value.field == "year"
    with pytest.raises(ValidationFailed) as err:
        found(store, admin, [Ask(Comparison.MULTIPLE, "test_received")])  # words, not a query
    assert err.value.field == "kind"
    with pytest.raises(ValidationFailed) as err:
        found(store, admin, [Ask(Comparison.EXTREME, "no_such_kpi")])
    assert err.value.field == "kpi"
    with pytest.raises(ValueError, match="unknown claim"):
        _kpi("x", "x", Kind.COUNT, ("lowest_ever",))
    with pytest.raises(ValueError, match="cannot claim"):
        _kpi("x", "x", Kind.RATE, ("zero",), numerator="TRUE", denominator="TRUE")


def test_same_span_in_an_earlier_year():
    to_date = Period(PeriodKind.YEAR, date(2026, 1, 1), date(2027, 1, 1), until=datetime(2026, 11, 23, 10, 30))
    assert comparisons.same_span_in(to_date, 2017) == Period(PeriodKind.YEAR, date(2017, 1, 1), date(2018, 1, 1),
                                                             until=datetime(2017, 11, 23, 10, 30))
    leap = comparisons.same_span_in(parse_period("2024-02-29"), 2021)
    assert (leap.start, leap.end) == (date(2021, 2, 28), date(2021, 3, 1))
    custom = comparisons.same_span_in(parse_period("2025-12-01..2026-02-28"), 2020)
    assert (custom.start, custom.end) == (date(2020, 12, 1), date(2021, 3, 1))
    assert comparisons.same_span_in(parse_period("2026-W05"), 2020) == parse_period("2020-W05")
    # a month counted to its 31st, two months back: 31 January, not 28 January by way of February
    march = Period(PeriodKind.MONTH, date(2024, 3, 1), date(2024, 4, 1), until=datetime(2024, 3, 31, 10))
    assert comparisons.months_back(march, 2).until == datetime(2024, 1, 31, 10)


# --- the work summary ------------------------------------------------------------------------------


@pytest.fixture
def declared(monkeypatch):
    """The test KPIs declared for the duration of a test, as a module declares its own."""
    declarations = contribution.loaded().metrics  # what METRICS shows
    for k in KPIS:
        monkeypatch.setitem(declarations, k.slug, k)


def _gather(store, actor, world, sections, period="2026"):
    bureau = OrgNode(world.org["bureau"].id, "新乡市公安局", "bureau")
    return report.gather(store=store, actor=actor, org=bureau, org_code="410700000000",
                         period=parse_period(period), issued_at=local("2027-01-05 09:00:00"), sections=sections)


def test_a_section_writes_a_streak_and_a_baseline_year(db, world, years, store, admin, declared):
    store.sync(db=db)
    section = report.ReportSection("test_compare", "治安形势", 10, parts=(
        report.Claims(("test_received", "test_thefts", "test_on_target"), intro="{scope}"),
        report.Against(("test_received", "test_thefts", "test_on_target"), years_back=3),
    ))
    snapshot = _gather(store, admin, world, [section])
    document = report.compose(snapshot, sections=[section])
    claims, against = (b.text for b in document.sections[0].blocks)
    # 2026: received 10 against 2025's 2 — five times, and the highest on record; thefts none,
    # 31 months in a row; on target 100 % as in 2025, three years in a row
    assert claims == ("全局接警总数 10 起，是去年同期的 5 倍，为历史最高；盗窃警情连续 31 个月零发生（2024年6月以来）；"
                      "按时到场率连续 3 年保持 100%，同比持平。")
    assert against == ("全局接警总数 10 起，是2023年的 2.5 倍；盗窃警情零发生，2023年为 2 起；按时到场率 100.0%，"
                       "较2023年上升 33.3 个百分点，相对上升 50.0%。")
    assert [d.name for d in document.definitions] == ["接警总数", "盗窃警情", "按时到场率"]
    # the findings are frozen with the figures: the same snapshot read back composes the same words
    again = report.Snapshot.from_json(snapshot.to_json())
    assert again.to_json() == snapshot.to_json()
    assert [b.text for b in report.compose(again, sections=[section]).sections[0].blocks] == [claims, against]


def test_a_baseline_year_with_no_records_is_left_out(db, world, years, store, admin, declared):
    store.sync(db=db)
    section = report.ReportSection("test_compare", "治安形势", 10, parts=(
        report.Against(("test_received",), year=2020),))
    assert report.compose(_gather(store, admin, world, [section]), sections=[section]).sections == []
    with pytest.raises(ValueError):
        report.Against(("test_received",), year=2020, years_back=2)


def test_a_snapshot_issued_before_comparisons_still_reads_and_composes_the_same(db, world, years, store, admin,
                                                                                 declared):
    store.sync(db=db)
    section = report.ReportSection("test_plain", "接处警", 10, parts=(report.Sentences(("test_received_plain",)),))
    snapshot = _gather(store, admin, world, [section])
    old = snapshot.to_json()
    old["version"] = 1  # as issued before: no claims on the KPIs, no findings
    del old["findings"]
    for k in old["kpis"].values():
        del k["claims"]
    read = report.Snapshot.from_json(old)
    assert read.findings == [] and read.kpis["test_received_plain"].claims == ()
    assert report.compose(read, sections=[section]) == report.compose(snapshot, sections=[section])
    with pytest.raises(ValueError, match="version"):
        report.Snapshot.from_json({**old, "version": 99})


def test_each_kind_of_comparison_is_one_grouped_query(db, world, years, store, admin):
    from tests.stats.test_rollup import Recording

    store.sync(db=db)

    def grouped(fn) -> int:
        recording = Recording(store)
        fn(recording)
        return sum("GROUP BY f.part" in s for s in recording.statements)

    # as many grouped statements as the engine's figures of one month (one per source, or two where
    # a roll-up answers part of them): two baseline years with the period; a streak of months over
    # 46 months of history; the extremes of a year to date over its four same spans
    kpis = [RECEIVED, THEFTS]
    one_month = grouped(lambda s: engine.compute(store=s, actor=admin, metrics=kpis, period=parse_period("2026-12"),
                                                 compare=False, now=AFTER_2026))
    assert one_month == 2  # received from the roll-up, thefts (no roll-up holds them) from the facts
    for asks, now in (([Ask(Comparison.BASELINE_YEAR, k.slug, year=y) for k in kpis for y in (2023, 2024)], AFTER_2026),
                      ([Ask(Comparison.ZERO_STREAK, k.slug, unit="month") for k in kpis], AFTER_2026),
                      ([Ask(Comparison.EXTREME, k.slug) for k in kpis], datetime(2026, 7, 20, 12, 0))):
        assert grouped(lambda s: found(s, admin, asks, now=now)) == one_month
